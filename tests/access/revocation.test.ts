/**
 * A revocation reaches every instance within 2 seconds (contract §6), with no database round trip per
 * request: two service processes on one PostgreSQL, a key warm in the second one's cache, revoked
 * through the first; the second answers 401 within the bound. The measured delay is printed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Instances, startInstances } from "../helpers/instances.ts";
import { call, expectCall, idOf } from "../ship/support.ts";

const serverUrl = process.env.DATABASE_URL;
const ADMIN_KEY = "revocation-test-admin-key-0123456789";
const HOOK_TIMEOUT_MS = 90_000;
const REVOCATION_BOUND_MS = 2_000;

let started: Instances | undefined;

describe("revocation across instances", () => {
  beforeAll(async () => {
    if (serverUrl === undefined) return;
    started = await startInstances(serverUrl, 2, { ADMIN_API_KEY: ADMIN_KEY, DB_POOL_MAX: "4" });
  }, HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await started?.stop();
  }, HOOK_TIMEOUT_MS);

  test.skipIf(serverUrl === undefined)(
    `a key revoked on one instance is 401 on the other within ${REVOCATION_BOUND_MS} ms`,
    async () => {
      const [first, second] = started?.running ?? [];
      if (first === undefined || second === undefined) throw new Error("the instances did not start");
      const delays: number[] = [];
      for (let round = 0; round < 3; round++) {
        const created = await expectCall(201, first.baseUrl, ADMIN_KEY, "POST", "/v1/api-keys", {
          name: `revoked ${round}`,
          scopes: ["read"],
        });
        const secret = String(created.secret);
        // Made on the first, used at once on the second: an unknown key is never remembered as such.
        expect((await call(second.baseUrl, secret, "GET", "/v1/users")).status).toBe(200);
        // Keep it in use on the second instance, so it is in its cache when the revocation lands.
        for (let i = 0; i < 5; i++)
          expect((await call(second.baseUrl, secret, "GET", "/v1/users")).status).toBe(200);
        await expectCall(200, first.baseUrl, ADMIN_KEY, "DELETE", `/v1/api-keys/${idOf(created)}`);
        const revokedAt = performance.now();
        expect((await call(first.baseUrl, secret, "GET", "/v1/users")).status).toBe(401);
        let status = 200;
        while (status !== 401 && performance.now() - revokedAt < REVOCATION_BOUND_MS * 2) {
          status = (await call(second.baseUrl, secret, "GET", "/v1/users")).status;
          if (status !== 401) await Bun.sleep(10);
        }
        const delay = performance.now() - revokedAt;
        delays.push(Math.round(delay));
        expect(status).toBe(401);
        expect(delay).toBeLessThan(REVOCATION_BOUND_MS);
      }
      console.log(`revocation seen by the other instance after ${delays.join(", ")} ms`);
    },
    HOOK_TIMEOUT_MS,
  );
});
