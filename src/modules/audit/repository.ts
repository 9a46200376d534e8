import type { Queryable } from "../../platform/db.ts";
import { type ListOptions, pageClause, pageValues } from "../../platform/pagination.ts";
import { filterConditions, iso } from "../../platform/sql.ts";
import { currentRequest } from "../../platform/telemetry.ts";
import type { AuditEvent, AuditSortField, ListAuditEventsQuery } from "./model.ts";

interface AuditEventRow {
  id: string;
  action: string;
  api_key_id: string;
  request_id: string | null;
  resource_type: string;
  resource_id: string;
  changes: Record<string, unknown> | null;
  created_at: Date;
}

const COLUMNS = "id, action, api_key_id, request_id, resource_type, resource_id, changes, created_at";

const SORT_COLUMNS: Record<AuditSortField, string> = { createdAt: "created_at" };

const toAuditEvent = (row: AuditEventRow): AuditEvent => ({
  id: row.id,
  action: row.action,
  apiKeyId: row.api_key_id,
  requestId: row.request_id,
  resourceType: row.resource_type,
  resourceId: row.resource_id,
  changes: row.changes,
  createdAt: iso(row.created_at),
});

/** What an audited change says about itself; who made it, and in which request, the request tells. */
export interface AuditedChange {
  action: string;
  resourceType: string;
  resourceId: string;
  /** `{ field: { from, to } }`, or what a delete took with it; never a secret, card number or CVV. */
  changes?: Record<string, unknown>;
}

/**
 * Appends one audit event, in `tx`: the transaction of the change it records, so the event exists
 * exactly when the change committed. The key and request are the current request's.
 */
export async function recordAudit(tx: Queryable, now: Date, change: AuditedChange): Promise<void> {
  const request = currentRequest();
  await tx.query(
    `INSERT INTO audit_events (id, action, api_key_id, request_id, resource_type, resource_id, changes, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      Bun.randomUUIDv7(),
      change.action,
      request?.apiKeyId ?? "system",
      request?.id ?? null,
      change.resourceType,
      change.resourceId,
      change.changes === undefined ? null : JSON.stringify(change.changes),
      now,
    ],
  );
}

/** `{ field: { from, to } }` for each field of `after` whose value differs from `before`'s. */
export function changedFields<Fields extends string>(
  before: Record<Fields, unknown>,
  after: Record<Fields, unknown>,
): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of Object.keys(after) as Fields[]) {
    if (before[field] !== after[field]) changes[field] = { from: before[field], to: after[field] };
  }
  return changes;
}

export const auditRepository = {
  async list(
    db: Queryable,
    filter: Omit<ListAuditEventsQuery, "limit" | "skip" | "sortBy" | "sort">,
    options: ListOptions<AuditSortField>,
  ): Promise<AuditEvent[]> {
    const values: unknown[] = [];
    const conditions = [
      "TRUE",
      ...filterConditions(
        [
          ["resource_type =", filter.resourceType],
          ["resource_id =", filter.resourceId],
          ["action =", filter.action],
          ["api_key_id =", filter.apiKeyId],
          ["created_at >=", filter.from],
          ["created_at <", filter.to],
        ],
        values,
      ),
    ];
    const result = await db.query<AuditEventRow>(
      `SELECT ${COLUMNS} FROM audit_events WHERE ${conditions.join(" AND ")}
       ${pageClause(options, SORT_COLUMNS, values.length + 1)}`,
      [...values, ...pageValues(options)],
    );
    return result.rows.map(toAuditEvent);
  },
};
