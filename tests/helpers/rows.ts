/** Row counts read straight from the database, for asserting that a refused request stored nothing. */
import type { Queryable } from "../../src/platform/db.ts";

/** The tables a test may count: the name is written into the SQL, so only these are accepted. */
const COUNTED_TABLES = [
  "users",
  "teams",
  "team_members",
  "wallets",
  "cards",
  "transfers",
  "authorizations",
  "transactions",
  "api_keys",
  "audit_events",
] as const;
export type CountedTable = (typeof COUNTED_TABLES)[number];

/** The tables whose rows are soft-deleted (`deleted_at`), the only ones `liveOnly` applies to. */
const SOFT_DELETED: ReadonlySet<CountedTable> = new Set([
  "users",
  "teams",
  "team_members",
  "wallets",
  "cards",
]);

/** The answer of a `SELECT count(*) AS count …` query, as a number. */
export async function countOf(db: Queryable, sql: string, values: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ count: number | string }>(sql, values);
  return Number(rows[0]?.count);
}

/** How many rows `table` holds: soft-deleted ones included, unless `liveOnly`. */
export async function rowCount(
  db: Queryable,
  table: CountedTable,
  options: { liveOnly?: boolean } = {},
): Promise<number> {
  if (!(COUNTED_TABLES as readonly string[]).includes(table)) {
    throw new Error(`rowCount: ${table} is not one of ${COUNTED_TABLES.join(", ")}`);
  }
  if (options.liveOnly && !SOFT_DELETED.has(table)) {
    throw new Error(`rowCount: ${table} has no soft-deleted rows`);
  }
  return countOf(
    db,
    `SELECT count(*) AS count FROM ${table}${options.liveOnly ? " WHERE deleted_at IS NULL" : ""}`,
  );
}
