/**
 * Rate limiting per client: a burst over the limit is refused with 429 and the RateLimit headers,
 * and spending one client's bucket leaves every other client's untouched, in both directions
 * (the API key's bucket, and the per-IP bucket of requests without a valid key).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectProblem } from "../helpers/problem-details.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const STARTUP_TIMEOUT_MS = 60_000;
/** A burst of 3, refilled so slowly (one token per 100 s) that nothing comes back during a test. */
const LIMITED = { RATE_LIMIT_PER_SECOND: "0.01", RATE_LIMIT_BURST: "3" };

const remainingOf = (response: Response): number => {
  const match = /(?:^|[;,\s])r=(\d+)/.exec(response.headers.get("ratelimit") ?? "");
  return match?.[1] === undefined ? Number.NaN : Number(match[1]);
};

/** Another client: same machine, no valid key, so it is counted by IP. */
const withWrongKey = (server: TestServer) =>
  fetch(`${server.baseUrl}/v1/teams`, { headers: { authorization: "Bearer not-the-key-0000000000" } });

function expectRateLimitHeaders(response: Response): void {
  expect(response.headers.get("ratelimit-policy") ?? "").toContain("q=3");
  expect(response.headers.get("ratelimit") ?? "").toMatch(/r=\d+/);
}

describe("a burst over the limit of the API key", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(LIMITED);
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => server.stop(), STARTUP_TIMEOUT_MS);

  test("is refused with 429 and RateLimit-Policy, RateLimit and Retry-After headers", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await server.request("/v1/teams");
      statuses.push(response.status);
      expectRateLimitHeaders(response);
      if (response.status === 429) {
        await expectProblem(response, 429, "rate_limited");
        expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        expect(remainingOf(response)).toBe(0);
      } else {
        await response.arrayBuffer();
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
  });

  test("leaves other clients unaffected: requests counted by IP still have their whole burst", async () => {
    // A client without the key is judged on its key (401), not refused for the admin key's burst.
    for (let i = 0; i < 3; i++) await expectProblem(await withWrongKey(server), 401, "unauthorized");
    // And it has spent its own bucket only now: the fourth is its own 429.
    await expectProblem(await withWrongKey(server), 429, "rate_limited");
    // The admin key is still limited by its own bucket, not reset by anyone else.
    await expectProblem(await server.request("/v1/teams"), 429, "rate_limited");
  });
});

describe("a client without a valid key spending its IP's burst", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(LIMITED);
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => server.stop(), STARTUP_TIMEOUT_MS);

  test("does not touch the API key's bucket, even from the same IP", async () => {
    for (let i = 0; i < 3; i++) await expectProblem(await withWrongKey(server), 401, "unauthorized");
    const limited = await withWrongKey(server);
    await expectProblem(limited, 429, "rate_limited");
    expectRateLimitHeaders(limited);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

    // The key's bucket is whole: its first request leaves 2 of 3, and all three of its burst pass.
    for (const expected of [2, 1, 0]) {
      const response = await server.request("/v1/teams");
      expect(response.status).toBe(200);
      expect(remainingOf(response)).toBe(expected);
      await response.arrayBuffer();
    }
    await expectProblem(await server.request("/v1/teams"), 429, "rate_limited");
  });
});
