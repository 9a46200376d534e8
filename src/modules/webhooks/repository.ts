import type { Queryable } from "../../platform/db.ts";
import type { ListOptions } from "../../platform/pagination.ts";
import { iso, isoOrNull, onlyRow } from "../../platform/sql.ts";
import type { EventType } from "../events/model.ts";
import type { EventTypes, WebhookDelivery, WebhookEndpoint } from "./model.ts";

export interface EndpointRow {
  id: string;
  url: string;
  event_types: string[];
  description: string | null;
  status: "enabled" | "disabled";
  secret: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = "id, url, event_types, description, status, secret, created_at, updated_at";

/** The stored form of EventTypes: '{*}' for every type. */
const storedTypes = (types: EventTypes): string[] => (types === "*" ? ["*"] : types);

export const toEndpoint = (row: EndpointRow): WebhookEndpoint => ({
  id: row.id,
  url: row.url,
  eventTypes: row.event_types.includes("*") ? "*" : (row.event_types as EventType[]),
  description: row.description,
  status: row.status,
  createdAt: iso(row.created_at),
  updatedAt: iso(row.updated_at),
});

/** A delivery claimed for one attempt, with what the attempt sends and where. */
export interface ClaimedDelivery {
  id: string;
  attempt: number;
  endpoint_id: string;
  url: string;
  secret: string;
  event_id: string;
  type: EventType;
  request_id: string | null;
  traceparent: string | null;
  object: Record<string, unknown>;
  created_at: Date;
}

interface AttemptRow {
  id: string;
  event_id: string;
  attempt: number;
  status: "succeeded" | "failed" | "pending";
  response_status: number | null;
  error: string | null;
  next_attempt_at: Date | null;
  created_at: Date;
}

const toDelivery = (row: AttemptRow): WebhookDelivery => ({
  id: row.id,
  eventId: row.event_id,
  attempt: row.attempt,
  status: row.status,
  responseStatus: row.response_status,
  error: row.error,
  nextAttemptAt: isoOrNull(row.next_attempt_at),
  createdAt: iso(row.created_at),
});

/** What one attempt came to: `nextAttemptAt` null after a success or the last attempt. */
export interface AttemptOutcome {
  succeeded: boolean;
  responseStatus: number | null;
  error: string | null;
  /** Seconds until the next attempt; undefined when there is none. */
  retryInSeconds: number | undefined;
}

export const webhooksRepository = {
  async insert(
    db: Queryable,
    endpoint: { id: string; url: string; eventTypes: EventTypes; description: string | null; secret: string },
    now: Date,
  ): Promise<EndpointRow> {
    const result = await db.query<EndpointRow>(
      `INSERT INTO webhook_endpoints (id, url, event_types, description, status, secret, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 'enabled', $5, $6, $6) RETURNING ${COLUMNS}`,
      [
        endpoint.id,
        endpoint.url,
        storedTypes(endpoint.eventTypes),
        endpoint.description,
        endpoint.secret,
        now,
      ],
    );
    return onlyRow(result);
  },

  async find(db: Queryable, id: string): Promise<EndpointRow | undefined> {
    const result = await db.query<EndpointRow>(
      `SELECT ${COLUMNS} FROM webhook_endpoints WHERE id = $1 AND deleted_at IS NULL`,
      [id],
    );
    return result.rows[0];
  },

  async list(db: Queryable, options: ListOptions<string>): Promise<EndpointRow[]> {
    const result = await db.query<EndpointRow>(
      `SELECT ${COLUMNS} FROM webhook_endpoints WHERE deleted_at IS NULL
       ORDER BY created_at ${options.direction}, id ${options.direction} LIMIT $1 OFFSET $2`,
      [options.limit + 1, options.skip],
    );
    return result.rows;
  },

  async update(
    db: Queryable,
    id: string,
    changes: { url?: string; eventTypes?: EventTypes; description?: string | null; status?: string },
    now: Date,
  ): Promise<EndpointRow | undefined> {
    const result = await db.query<EndpointRow>(
      `UPDATE webhook_endpoints SET
         url = COALESCE($2, url),
         event_types = COALESCE($3, event_types),
         description = CASE WHEN $4 THEN $5 ELSE description END,
         status = COALESCE($6, status),
         updated_at = $7
       WHERE id = $1 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
      [
        id,
        changes.url ?? null,
        changes.eventTypes === undefined ? null : storedTypes(changes.eventTypes),
        changes.description !== undefined,
        changes.description ?? null,
        changes.status ?? null,
        now,
      ],
    );
    return result.rows[0];
  },

  /** Soft-deletes the endpoint; its deliveries not yet made are given up. */
  async softDelete(db: Queryable, id: string, now: Date): Promise<EndpointRow | undefined> {
    const result = await db.query<EndpointRow>(
      `UPDATE webhook_endpoints SET deleted_at = $2, updated_at = $2
       WHERE id = $1 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
      [id, now],
    );
    await db.query(
      "UPDATE webhook_deliveries SET status = 'failed' WHERE endpoint_id = $1 AND status = 'pending'",
      [id],
    );
    return result.rows[0];
  },

  /** The attempts made to an endpoint, and its deliveries whose first attempt is still to come; newest first. */
  async attempts(
    db: Queryable,
    endpointId: string,
    eventId: string | undefined,
    options: ListOptions<string>,
  ): Promise<WebhookDelivery[]> {
    const result = await db.query<AttemptRow>(
      `SELECT id, event_id, attempt, status, response_status, error, next_attempt_at, created_at
       FROM webhook_attempts WHERE endpoint_id = $1 AND ($2::uuid IS NULL OR event_id = $2)
       UNION ALL
       SELECT id, event_id, 1, 'pending', NULL, NULL, next_attempt_at, created_at
       FROM webhook_deliveries
       WHERE endpoint_id = $1 AND ($2::uuid IS NULL OR event_id = $2) AND status = 'pending' AND attempts = 0
       ORDER BY created_at ${options.direction}, attempt ${options.direction} LIMIT $3 OFFSET $4`,
      [endpointId, eventId ?? null, options.limit + 1, options.skip],
    );
    return result.rows.map(toDelivery);
  },

  /**
   * Whether any delivery is due: a read (no transaction, no commit), so that an idle worker polling
   * four times a second in every instance writes nothing.
   */
  async anyDue(db: Queryable): Promise<boolean> {
    const result = await db.query<{ due: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM webhook_deliveries
                       WHERE status = 'pending' AND next_attempt_at <= now()) AS due`,
    );
    return result.rows[0]?.due === true;
  },

  /**
   * Claims up to `limit` due deliveries to enabled endpoints for one attempt each: rows other
   * instances hold are skipped, and a claimed row's next attempt moves `leaseSeconds` ahead, so no
   * other instance takes it while this attempt runs (and one does, should this instance die).
   */
  async claimDue(db: Queryable, limit: number, leaseSeconds: number): Promise<ClaimedDelivery[]> {
    const result = await db.query<ClaimedDelivery>(
      `WITH due AS (
         SELECT delivery.id FROM webhook_deliveries delivery
         JOIN webhook_endpoints endpoint ON endpoint.id = delivery.endpoint_id
         WHERE delivery.status = 'pending' AND delivery.next_attempt_at <= now()
           AND endpoint.status = 'enabled' AND endpoint.deleted_at IS NULL
         ORDER BY delivery.next_attempt_at LIMIT $1
         FOR UPDATE OF delivery SKIP LOCKED)
       UPDATE webhook_deliveries delivery
       SET attempts = delivery.attempts + 1, next_attempt_at = now() + make_interval(secs => $2::float8)
       FROM due, events event, webhook_endpoints endpoint
       WHERE delivery.id = due.id AND event.id = delivery.event_id AND endpoint.id = delivery.endpoint_id
       RETURNING delivery.id, delivery.attempts AS attempt, endpoint.id AS endpoint_id, endpoint.url,
         endpoint.secret, event.id AS event_id, event.type, event.request_id, event.traceparent,
         event.object, event.created_at`,
      [limit, leaseSeconds],
    );
    return result.rows;
  },

  /** Records an attempt in the log and schedules the delivery's next one, or ends it. */
  async recordAttempt(db: Queryable, delivery: ClaimedDelivery, outcome: AttemptOutcome): Promise<void> {
    const status = outcome.succeeded
      ? "succeeded"
      : outcome.retryInSeconds === undefined
        ? "failed"
        : "pending";
    await db.query(
      `WITH updated AS (
         UPDATE webhook_deliveries
         SET status = $2,
             next_attempt_at = CASE WHEN $3::float8 IS NULL THEN next_attempt_at ELSE now() + make_interval(secs => $3::float8) END
         WHERE id = $1 AND attempts = $7 RETURNING id, next_attempt_at)
       INSERT INTO webhook_attempts (id, delivery_id, endpoint_id, event_id, attempt, status, response_status, error, next_attempt_at)
       SELECT $4, updated.id, $5, $6, $7, $8, $9, $10, CASE WHEN $3::float8 IS NULL THEN NULL ELSE updated.next_attempt_at END
       FROM updated`,
      [
        delivery.id,
        status,
        outcome.retryInSeconds ?? null,
        Bun.randomUUIDv7(),
        delivery.endpoint_id,
        delivery.event_id,
        delivery.attempt,
        outcome.succeeded ? "succeeded" : "failed",
        outcome.responseStatus,
        outcome.error,
      ],
    );
  },

  /** Seconds since the oldest event still waiting for delivery to an enabled endpoint was made; 0 when none. */
  async oldestUndeliveredAgeSeconds(db: Queryable): Promise<number> {
    const result = await db.query<{ age: number }>(
      `SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(delivery.created_at)), 0)::float8 AS age
       FROM webhook_deliveries delivery
       JOIN webhook_endpoints endpoint ON endpoint.id = delivery.endpoint_id
       WHERE delivery.status = 'pending' AND endpoint.status = 'enabled' AND endpoint.deleted_at IS NULL`,
    );
    return result.rows[0]?.age ?? 0;
  },
};
