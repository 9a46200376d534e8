/** A database with only the first migrations applied, as a deployment of an older version left it. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate } from "postgres-migrations";
import type { Database } from "../../src/platform/db.ts";
import { MIGRATIONS } from "../../src/platform/migrations.ts";

/** Applies the first `count` migrations (in file order) to `db`, and nothing after them. */
export async function migrateUpTo(db: Database, count: number): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), "wallet-migrations-partial-"));
  const client = await db.pool.connect();
  try {
    for (const migration of MIGRATIONS.slice(0, count)) {
      await writeFile(join(directory, migration.fileName), migration.sql);
    }
    await migrate({ client }, directory);
  } finally {
    client.release();
    await rm(directory, { recursive: true, force: true });
  }
}
