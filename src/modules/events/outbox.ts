/**
 * The transactional outbox: every change appends its event in the transaction that makes it, so an
 * event exists exactly when its change committed. The same statement queues one delivery per enabled
 * webhook endpoint subscribed to the type.
 */
import type { Queryable } from "../../platform/db.ts";
import { type Writes, writeTogether } from "../../platform/sql.ts";
import { currentRequest, currentTraceparent } from "../../platform/telemetry.ts";
import type { EventType } from "./model.ts";

/** The request an event comes from: its id and trace context, which deliveries carry on. */
export interface EventOrigin {
  requestId: string | null;
  traceparent: string | null;
}

/** The request this call chain serves, if any. */
export const currentOrigin = (): EventOrigin => ({
  requestId: currentRequest()?.id ?? null,
  traceparent: currentTraceparent() ?? null,
});

export interface NewEvent {
  type: EventType;
  /** The resource as the API shows it after the change. */
  object: object;
  /** The request the change was made for, when it is not the current one (a batch of spends). */
  origin?: EventOrigin;
}

/**
 * Appends `events`, in order, as parts of one statement (see writeTogether), with one delivery queued
 * per enabled webhook endpoint subscribed to each event's type.
 */
export function eventWrites(events: readonly NewEvent[]): Writes {
  return (parameters) => {
    if (events.length === 0) return [];
    const current = currentOrigin();
    const rows = events.map((event) => ({
      id: Bun.randomUUIDv7(),
      type: event.type,
      object: event.object,
      ...(event.origin ?? current),
    }));
    return [
      `events_appended AS (
         INSERT INTO events (id, type, request_id, traceparent, object)
         SELECT (item->>'id')::uuid, item->>'type', item->>'requestId', item->>'traceparent', item->'object'
         FROM jsonb_array_elements(${parameters.bind(JSON.stringify(rows))}::jsonb) WITH ORDINALITY AS list (item, position)
         ORDER BY position
         RETURNING id, type)`,
      `events_deliveries AS (
         INSERT INTO webhook_deliveries (event_id, endpoint_id)
         SELECT appended.id, endpoint.id
         FROM events_appended appended
         JOIN webhook_endpoints endpoint
           ON endpoint.deleted_at IS NULL AND endpoint.status = 'enabled'
          AND (endpoint.event_types @> ARRAY['*'] OR endpoint.event_types @> ARRAY[appended.type]))`,
    ];
  };
}

/** Appends `events`, in order, in the caller's transaction `tx`: one statement whatever their number. */
export async function appendEvents(tx: Queryable, events: NewEvent[]): Promise<void> {
  await writeTogether(tx, [eventWrites(events)]);
}

/** Appends one event in the caller's transaction `tx`. */
export const appendEvent = (tx: Queryable, type: EventType, object: object): Promise<void> =>
  appendEvents(tx, [{ type, object }]);
