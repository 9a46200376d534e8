import type { Queryable } from "../../platform/db.ts";
import type { ListOptions } from "../../platform/pagination.ts";
import { iso } from "../../platform/sql.ts";
import type { Event, EventType } from "./model.ts";

interface EventRow {
  id: string;
  type: EventType;
  request_id: string | null;
  object: Record<string, unknown>;
  created_at: Date;
}

const COLUMNS = "id, type, request_id, object, created_at";

/** The smallest UUIDv7 of `instant`'s millisecond. */
export function firstUuidv7Of(instant: Date): string {
  const time = instant.getTime().toString(16).padStart(12, "0");
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7000-8000-000000000000`;
}

export const toEvent = (row: EventRow): Event => ({
  id: row.id,
  type: row.type,
  createdAt: iso(row.created_at),
  requestId: row.request_id,
  data: { object: row.object },
});

/**
 * Events in the order their transactions began to write, (xid, seq); only those whose transaction is
 * older than every transaction still running, so that no event can later appear before one already
 * listed: a consumer resuming after the last one it saw never misses one.
 */
const SETTLED = "xid < pg_snapshot_xmin(pg_current_snapshot())";

export const eventsRepository = {
  async find(db: Queryable, id: string): Promise<Event | undefined> {
    const result = await db.query<EventRow>(`SELECT ${COLUMNS} FROM events WHERE id = $1`, [id]);
    const row = result.rows[0];
    return row === undefined ? undefined : toEvent(row);
  },

  /** Whether the event exists (a resuming consumer's `after`). */
  async exists(db: Queryable, id: string): Promise<boolean> {
    const result = await db.query("SELECT 1 FROM events WHERE id = $1", [id]);
    return result.rows.length > 0;
  },

  /** A page of settled events of `type` (any when undefined); after `after` oldest first, else in `options`' direction. */
  async list(
    db: Queryable,
    filter: { type: EventType | undefined; after: string | undefined },
    options: ListOptions<string>,
  ): Promise<Event[]> {
    const direction = filter.after === undefined ? options.direction : "ASC";
    const result = await db.query<EventRow>(
      `SELECT ${COLUMNS} FROM events
       WHERE ${SETTLED}
         AND ($1::text IS NULL OR type = $1)
         AND ($2::uuid IS NULL OR (xid, seq) > (SELECT xid, seq FROM events WHERE id = $2))
       ORDER BY xid ${direction}, seq ${direction} LIMIT $3 OFFSET $4`,
      [filter.type ?? null, filter.after ?? null, options.limit + 1, options.skip],
    );
    return result.rows.map(toEvent);
  },

  /**
   * Deletes up to `batchSize` events made before `cutoff` (with their deliveries); returns how many.
   * Event ids are UUIDv7, which begin with their time: every id below the first of `cutoff`'s
   * millisecond is older, so the primary key finds them.
   */
  async purgeBefore(db: Queryable, cutoff: Date, batchSize: number): Promise<number> {
    const result = await db.query(
      "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE id < $1 ORDER BY id LIMIT $2)",
      [firstUuidv7Of(cutoff), batchSize],
    );
    return result.rowCount ?? 0;
  },
};
