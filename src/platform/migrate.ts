import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate } from "postgres-migrations";
import type { Database } from "./db.ts";
import type { Logger } from "./logger.ts";
import { MIGRATIONS } from "./migrations.ts";

/**
 * Applies every pending migration. postgres-migrations holds a PostgreSQL advisory lock while it
 * works, so instances starting together apply each migration exactly once. It reads a directory, so
 * the embedded migrations are written to a private temporary one first.
 */
export async function applyMigrations(db: Database, logger: Logger): Promise<number> {
  const directory = await mkdtemp(join(tmpdir(), "wallet-migrations-"));
  const client = await db.pool.connect();
  try {
    for (const migration of MIGRATIONS) await writeFile(join(directory, migration.fileName), migration.sql);
    const applied = await migrate({ client }, directory, {
      logger: (message) => logger.debug({ component: "migrations" }, message),
    });
    const names = applied
      .map((migration) => migration.name)
      .filter((name) => name !== "create-migrations-table");
    if (names.length > 0) logger.info({ migrations: names }, "applied database migrations");
    return names.length;
  } finally {
    client.release();
    await rm(directory, { recursive: true, force: true });
  }
}
