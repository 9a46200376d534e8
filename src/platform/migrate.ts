import { createHash } from "node:crypto";
import createMigrationsTable from "postgres-migrations/dist/migrations/0_create-migrations-table.sql" with {
  type: "text",
};
import { runMigration } from "postgres-migrations/dist/run-migration";
import type { BasicPgClient, Migration } from "postgres-migrations/dist/types";
import { validateMigrationHashes, validateMigrationOrdering } from "postgres-migrations/dist/validation";
import { withAdvisoryLock } from "postgres-migrations/dist/with-lock";
import type { Database } from "./db.ts";
import type { Logger } from "./logger.ts";
import { MIGRATIONS } from "./migrations.ts";

const TABLE = "migrations";

/**
 * A migration as postgres-migrations loads it from a file: the id and name come from the file name,
 * and the hash of file name and SQL is what it keeps in its table and checks at every start.
 */
function migration(fileName: string, sql: string): Migration {
  const match = /^(\d+)[-_](.+)\.sql$/.exec(fileName);
  if (match?.[1] === undefined || match[2] === undefined)
    throw new Error(`invalid migration file name ${fileName}`);
  const hash = createHash("sha1")
    .update(fileName + sql, "utf8")
    .digest("hex");
  return { id: Number(match[1]), name: match[2], contents: sql, fileName, hash, sql };
}

/**
 * Applies every pending migration, as postgres-migrations' `migrate` does (its table, its hashes, its
 * advisory lock, one transaction per migration), so instances starting together apply each migration
 * exactly once, and databases migrated before keep matching.
 *
 * Its `migrate` is not called: it reads its own first migration from `__dirname`, which `bun build
 * --compile` freezes to the build machine's path, so the binary failed wherever that path was gone (a
 * container, another host). Here every migration, that one included, is text in the program.
 */
export async function applyMigrations(db: Database, logger: Logger): Promise<number> {
  const log = (message: string) => logger.debug({ component: "migrations" }, message);
  const intended = [
    migration("0_create-migrations-table.sql", createMigrationsTable),
    ...MIGRATIONS.map((file) => migration(file.fileName, file.sql)),
  ];
  validateMigrationOrdering(intended);
  const client = await db.pool.connect();
  try {
    const applied = await withAdvisoryLock(log, async (locked: BasicPgClient) => {
      const exists = await locked.query(
        `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE relname = '${TABLE}' AND relkind = 'r')`,
      );
      const rows: Migration[] =
        exists.rows[0]?.exists === true
          ? (await locked.query(`SELECT * FROM ${TABLE} ORDER BY id`)).rows
          : [];
      // Indexed by id (ids are consecutive from 0), as postgres-migrations compares them.
      const done: Record<number, Migration | undefined> = Object.fromEntries(
        rows.map((row) => [row.id, row]),
      );
      validateMigrationHashes(intended, done);
      const ran: Migration[] = [];
      for (const pending of intended.filter((candidate) => done[candidate.id] === undefined)) {
        log(`Starting migration: ${pending.id} ${pending.name}`);
        ran.push(await runMigration(TABLE, locked, log)(pending));
      }
      return ran;
    })(client);
    const names = applied.map((done) => done.name).filter((name) => name !== "create-migrations-table");
    if (names.length > 0) logger.info({ migrations: names }, "applied database migrations");
    return names.length;
  } finally {
    client.release();
  }
}
