/**
 * Migration 003 erases the request hashes stored before they were keyed (a bare SHA-256 of a card
 * request is a hash of its number and CVV). The key itself stays: a retry of such a request is
 * refused, never run twice.
 */
import { describe, expect, test } from "bun:test";
import { createApp, loadVerifiedSecrets } from "../../src/app.ts";
import { loadConfig } from "../../src/platform/config.ts";
import { openDatabase } from "../../src/platform/db.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { applyMigrations } from "../../src/platform/migrate.ts";
import { migrateUpTo } from "../helpers/migrations.ts";
import { expectProblem } from "../helpers/problem-details.ts";
import { rowCount } from "../helpers/rows.ts";
import { createScratchDatabase } from "../helpers/server.ts";
import { randomCardKey } from "../helpers/values.ts";

const serverUrl = process.env.DATABASE_URL;
const ADMIN_KEY = "keyed-hashes-test-admin-key";

describe("migration 003", () => {
  test("a request hash stored unkeyed is erased, and a retry with its key is 409 idempotency_key_reused", async () => {
    const scratch = serverUrl === undefined ? undefined : await createScratchDatabase(serverUrl);
    const config = loadConfig({
      DATA_DIR: "memory://",
      LOG_LEVEL: "silent",
      ADMIN_API_KEY: ADMIN_KEY,
      CARD_ENCRYPTION_KEY: randomCardKey(),
      ...(scratch === undefined ? {} : { DATABASE_URL: scratch.url }),
    });
    const logger = createLogger(config);
    const db = await openDatabase(config, logger);
    try {
      // The schema as it was before 003, with a key stored the old way.
      await migrateUpTo(db, 2);
      const body = { name: "Before the upgrade" };
      const oldHash = new Bun.CryptoHasher("sha256")
        .update(`POST /v1/teams\n${JSON.stringify(body)}`)
        .digest("hex");
      await db.query(
        `INSERT INTO idempotency_keys (api_key_id, key, request_hash, response_status, response_body)
         VALUES ('admin', 'retried-after-upgrade', $1, 201, '{}')`,
        [oldHash],
      );

      await applyMigrations(db, logger);
      const stored = await db.query<{ request_hash: string }>("SELECT request_hash FROM idempotency_keys");
      expect(stored.rows.map((row) => row.request_hash)).not.toContain(oldHash);

      const app = await createApp({
        config,
        logger,
        db,
        secrets: await loadVerifiedSecrets(config, logger, db),
      });
      const retry = await app.handle(
        new Request("http://localhost/v1/teams", {
          method: "POST",
          headers: {
            authorization: `Bearer ${ADMIN_KEY}`,
            "content-type": "application/json",
            "idempotency-key": "retried-after-upgrade",
          },
          body: JSON.stringify(body),
        }),
      );
      await expectProblem(retry, 409, "idempotency_key_reused");
      expect(await rowCount(db, "teams")).toBe(0);
    } finally {
      await db.close();
      await scratch?.drop();
    }
  });
});
