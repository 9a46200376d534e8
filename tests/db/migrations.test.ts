import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/platform/config.ts";
import { openDatabase } from "../../src/platform/db.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { applyMigrations } from "../../src/platform/migrate.ts";
import { createScratchDatabase } from "../helpers/server.ts";
import { randomCardKey } from "../helpers/values.ts";

const serverUrl = process.env.DATABASE_URL;

describe("migrations", () => {
  // Several instances only share a database on PostgreSQL; embedded PGlite has one owner.
  test.skipIf(serverUrl === undefined)(
    "instances starting at the same moment apply each migration once",
    async () => {
      const scratch = await createScratchDatabase(serverUrl ?? "");
      const config = loadConfig({
        DATABASE_URL: scratch.url,
        ADMIN_API_KEY: "migration-test-admin-key",
        CARD_ENCRYPTION_KEY: randomCardKey(),
        LOG_LEVEL: "silent",
      });
      const logger = createLogger(config);
      const instances = await Promise.all([1, 2, 3].map(() => openDatabase(config, logger)));
      try {
        const applied = await Promise.all(instances.map((db) => applyMigrations(db, logger)));
        const [first] = instances;
        const rows = await first?.query<{ name: string }>("SELECT name FROM migrations ORDER BY id");
        const names = rows?.rows.map((row) => row.name) ?? [];
        expect(new Set(names).size).toBe(names.length);
        // Exactly one instance did the work; the others found it done.
        expect(applied.filter((count) => count > 0)).toHaveLength(1);
        expect(applied.reduce((sum, count) => sum + count, 0)).toBe(names.length - 1);
      } finally {
        await Promise.all(instances.map((db) => db.close()));
        await scratch.drop();
      }
    },
  );

  test("applying again changes nothing", async () => {
    const config = loadConfig({ DATA_DIR: "memory://", LOG_LEVEL: "silent" });
    const logger = createLogger(config);
    const db = await openDatabase(config, logger);
    try {
      expect(await applyMigrations(db, logger)).toBeGreaterThan(0);
      expect(await applyMigrations(db, logger)).toBe(0);
    } finally {
      await db.close();
    }
  });
});
