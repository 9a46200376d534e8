/**
 * Migration 005 makes team names unique among live teams in any letter case. Teams that already
 * shared a name keep their data: the oldest keeps the name, each later one gets " (2)", " (3)", …
 */
import { expect, test } from "bun:test";
import { loadConfig } from "../../src/platform/config.ts";
import { openDatabase } from "../../src/platform/db.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { applyMigrations } from "../../src/platform/migrate.ts";
import { migrateUpTo } from "../helpers/migrations.ts";
import { createScratchDatabase } from "../helpers/server.ts";
import { randomCardKey } from "../helpers/values.ts";

const serverUrl = process.env.DATABASE_URL;

test("live teams sharing a name in any case are renamed, oldest first; deleted teams are left as they were", async () => {
  const scratch = serverUrl === undefined ? undefined : await createScratchDatabase(serverUrl);
  const config = loadConfig({
    DATA_DIR: "memory://",
    LOG_LEVEL: "silent",
    ADMIN_API_KEY: "team-names-test-admin-key",
    CARD_ENCRYPTION_KEY: randomCardKey(),
    ...(scratch === undefined ? {} : { DATABASE_URL: scratch.url }),
  });
  const logger = createLogger(config);
  const db = await openDatabase(config, logger);
  try {
    await migrateUpTo(db, 4);
    const teams: [string, string, string, boolean][] = [
      ["01000000-0000-7000-8000-000000000001", "Ops", "2026-01-01T00:00:00Z", false],
      ["01000000-0000-7000-8000-000000000002", "ops", "2026-01-02T00:00:00Z", false],
      ["01000000-0000-7000-8000-000000000003", "OPS", "2026-01-03T00:00:00Z", false],
      ["01000000-0000-7000-8000-000000000004", "Ops", "2025-12-01T00:00:00Z", true],
      ["01000000-0000-7000-8000-000000000005", `${"L".repeat(199)}x`, "2026-01-01T00:00:00Z", false],
      ["01000000-0000-7000-8000-000000000006", `${"l".repeat(199)}X`, "2026-01-02T00:00:00Z", false],
      ["01000000-0000-7000-8000-000000000007", "Finance", "2026-01-01T00:00:00Z", false],
    ];
    for (const [id, name, createdAt, deleted] of teams) {
      await db.query(
        "INSERT INTO teams (id, name, created_at, deleted_at) VALUES ($1, $2, $3, CASE WHEN $4 THEN now() END)",
        [id, name, createdAt, deleted],
      );
    }
    await applyMigrations(db, logger);
    const { rows } = await db.query<{ id: string; name: string }>("SELECT id, name FROM teams ORDER BY id");
    expect(rows.map((row) => row.name)).toEqual([
      "Ops",
      "ops (2)",
      "OPS (3)",
      "Ops",
      `${"L".repeat(199)}x`,
      `${"l".repeat(196)} (2)`,
      "Finance",
    ]);
    await expect(
      db.query("INSERT INTO teams (id, name) VALUES ('01000000-0000-7000-8000-000000000008', 'oPs')"),
    ).rejects.toThrow();
  } finally {
    await db.close();
    await scratch?.drop();
  }
});
