/**
 * Several instances on one PostgreSQL keep every money rule: the decisions lock rows in the
 * database, not in a process. 200 card spends at once, spread over three instances, on one wallet
 * that can afford exactly N of them: exactly N are approved, and the books balance.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import pg from "pg";
import { brokenInvariants } from "../helpers/invariants.ts";
import { type Running, startServiceProcess, stopProcess } from "../helpers/process.ts";
import { createScratchDatabase } from "../helpers/server.ts";
import { spendOnAWalletThatAffordsExactly } from "./exactly-affordable.ts";

const serverUrl = process.env.DATABASE_URL;
const ADMIN_KEY = "instances-test-admin-key-0123456789";
const HOOK_TIMEOUT_MS = 90_000;

const SPENDS = 200;
const AMOUNT = 1_000;
const AFFORDABLE = 73;

let instances: Running[] = [];
let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;

describe("three instances on one PostgreSQL", () => {
  beforeAll(async () => {
    if (serverUrl === undefined) return;
    scratch = await createScratchDatabase(serverUrl);
    const env = {
      DATABASE_URL: scratch.url,
      ADMIN_API_KEY: ADMIN_KEY,
      CARD_ENCRYPTION_KEY: crypto.getRandomValues(new Uint8Array(32)).toBase64(),
      DB_POOL_MAX: "8",
    };
    // One after the other: the first applies the migrations, the others find them applied.
    for (let index = 0; index < 3; index++) instances.push(await startServiceProcess(env, 60_000));
  }, HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(instances.map((instance) => stopProcess(instance.process)));
    instances = [];
    await scratch?.drop();
  }, HOOK_TIMEOUT_MS);

  test.skipIf(serverUrl === undefined)(
    `${SPENDS} spends at once over the instances, on a wallet that affords exactly ${AFFORDABLE}: exactly ${AFFORDABLE} are approved`,
    async () => {
      const run = await spendOnAWalletThatAffordsExactly(
        instances.map((instance) => instance.baseUrl),
        ADMIN_KEY,
        { spends: SPENDS, amount: AMOUNT, affordable: AFFORDABLE },
      );
      expect(run.approved).toBe(AFFORDABLE);
      expect(run.declineReasons).toEqual(new Set(["insufficient_funds"]));
      expect(run.balanceAfter).toBe(AMOUNT / 2);
      const pool = new pg.Pool({ connectionString: scratch?.url, max: 1 });
      try {
        expect(await brokenInvariants(pool)).toEqual([]);
      } finally {
        await pool.end();
      }
    },
    HOOK_TIMEOUT_MS,
  );
});
