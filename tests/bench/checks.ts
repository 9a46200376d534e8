/**
 * What the database says after the load: authorization outcomes per scenario and server counters.
 * The money invariants themselves are in tests/helpers/invariants.ts.
 */
import pg from "pg";
import type { Queryable } from "../../src/platform/db.ts";

// Counts and sums here stay far below 2^53.
const toNumber = (value: string) => Number(value);
const types = {
  getTypeParser: (oid: number, format?: "text" | "binary") =>
    oid === 20 || oid === 1700 ? toNumber : pg.types.getTypeParser(oid, format),
};

export async function withClient<T>(
  databaseUrl: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, types });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface Outcome {
  status: string;
  declineReason: string | null;
  count: number;
  amount: number;
}

/** Authorizations a scenario created (its own merchant name, on the given cards), by outcome. */
export async function outcomes(client: Queryable, cardIds: string[], merchant: string): Promise<Outcome[]> {
  const { rows } = await client.query<{
    status: string;
    decline_reason: string | null;
    n: number;
    amount: number;
  }>(
    `SELECT status, decline_reason, count(*)::bigint AS n, coalesce(sum(amount), 0)::bigint AS amount
       FROM authorizations WHERE card_id = ANY($1::uuid[]) AND merchant_name = $2
      GROUP BY status, decline_reason ORDER BY count(*) DESC`,
    [cardIds, merchant],
  );
  return rows.map((row) => ({
    status: row.status,
    declineReason: row.decline_reason,
    count: row.n,
    amount: row.amount,
  }));
}

export async function serverInfo(client: Queryable): Promise<{ version: string; maxConnections: string }> {
  const version = await client.query<{ server_version: string }>("SHOW server_version");
  const max = await client.query<{ max_connections: string }>("SHOW max_connections");
  return {
    version: version.rows[0]?.server_version ?? "?",
    maxConnections: max.rows[0]?.max_connections ?? "?",
  };
}

export interface DatabaseCounters {
  commits: number;
  rollbacks: number;
  deadlocks: number;
}

/**
 * Transaction counters of the database from pg_stat_database. Backends report them when idle, up to
 * ten seconds late, so a difference of two readings is approximate.
 */
export async function databaseCounters(client: pg.Client): Promise<DatabaseCounters> {
  await client.query("SELECT pg_stat_clear_snapshot()");
  const { rows } = await client.query<{ xact_commit: number; xact_rollback: number; deadlocks: number }>(
    "SELECT xact_commit, xact_rollback, deadlocks FROM pg_stat_database WHERE datname = current_database()",
  );
  const row = rows[0];
  return {
    commits: row?.xact_commit ?? 0,
    rollbacks: row?.xact_rollback ?? 0,
    deadlocks: row?.deadlocks ?? 0,
  };
}

/** Process ids of the other backends connected to this database (the service's pool). */
export async function backendPids(client: pg.Client): Promise<number[]> {
  const { rows } = await client.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
  );
  return rows.map((row) => row.pid);
}
