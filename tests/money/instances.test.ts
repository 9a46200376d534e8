/**
 * Several instances on one PostgreSQL keep every money rule: the decisions lock rows in the
 * database, not in a process. 200 card spends at once, spread over three instances, on one wallet
 * that can afford exactly N of them: exactly N are approved, and the books balance.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import pg from "pg";
import { type Instances, startInstances } from "../helpers/instances.ts";
import { brokenInvariants } from "../helpers/invariants.ts";
import { spendOnAWalletThatAffordsExactly } from "./exactly-affordable.ts";

const serverUrl = process.env.DATABASE_URL;
const ADMIN_KEY = "instances-test-admin-key-0123456789";
const HOOK_TIMEOUT_MS = 90_000;

const SPENDS = 200;
const AMOUNT = 1_000;
const AFFORDABLE = 73;

let started: Instances | undefined;

describe("three instances on one PostgreSQL", () => {
  beforeAll(async () => {
    if (serverUrl === undefined) return;
    started = await startInstances(serverUrl, 3, { ADMIN_API_KEY: ADMIN_KEY, DB_POOL_MAX: "8" });
  }, HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await started?.stop();
  }, HOOK_TIMEOUT_MS);

  test.skipIf(serverUrl === undefined)(
    `${SPENDS} spends at once over the instances, on a wallet that affords exactly ${AFFORDABLE}: exactly ${AFFORDABLE} are approved`,
    async () => {
      const run = await spendOnAWalletThatAffordsExactly(
        (started?.running ?? []).map((instance) => instance.baseUrl),
        ADMIN_KEY,
        { spends: SPENDS, amount: AMOUNT, affordable: AFFORDABLE },
      );
      expect(run.approved).toBe(AFFORDABLE);
      expect(run.declineReasons).toEqual(new Set(["insufficient_funds"]));
      expect(run.balanceAfter).toBe(AMOUNT / 2);
      const pool = new pg.Pool({ connectionString: started?.databaseUrl, max: 1 });
      try {
        expect(await brokenInvariants(pool)).toEqual([]);
      } finally {
        await pool.end();
      }
    },
    HOOK_TIMEOUT_MS,
  );
});
