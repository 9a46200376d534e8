import { fileURLToPath } from "node:url";
import { migrate } from "postgres-migrations";
import type { Database } from "./db.ts";
import type { Logger } from "./logger.ts";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations", import.meta.url));

/**
 * Applies every pending migration in `migrations/`. postgres-migrations holds a PostgreSQL advisory
 * lock while it works, so instances starting together apply each migration exactly once.
 */
export async function applyMigrations(db: Database, logger: Logger): Promise<number> {
  const client = await db.pool.connect();
  try {
    const applied = await migrate({ client }, MIGRATIONS_DIR, {
      logger: (message) => logger.debug({ component: "migrations" }, message),
    });
    const names = applied
      .map((migration) => migration.name)
      .filter((name) => name !== "create-migrations-table");
    if (names.length > 0) logger.info({ migrations: names }, "applied database migrations");
    return names.length;
  } finally {
    client.release();
  }
}
