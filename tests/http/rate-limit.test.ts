import { describe, expect, test } from "bun:test";
import { expectProblem } from "../helpers/problem-details.ts";
import { rowCount } from "../helpers/rows.ts";
import { TEST_ADMIN_KEY, uniqueEmail, useServer } from "../helpers/server.ts";

/**
 * A burst of 3 and a refill so slow (one token per 100 s) that no token comes back during a test:
 * the fourth request of a client is always the first one refused.
 */
const LIMITED = { RATE_LIMIT_PER_SECOND: "0.01", RATE_LIMIT_BURST: "3" };

const remainingOf = (response: Response): number => {
  const match = /(?:^|[;,\s])r=(\d+)/.exec(response.headers.get("ratelimit") ?? "");
  return match?.[1] === undefined ? Number.NaN : Number(match[1]);
};

describe("rate limiting per API key", () => {
  const server = useServer(LIMITED);

  test("requests within the burst succeed with RateLimit headers; the next is 429 rate_limited with Retry-After", async () => {
    const created = await server.request("/v1/users", {
      method: "POST",
      json: { email: uniqueEmail("rl"), name: "Limited" },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("ratelimit-policy") ?? "").toContain("q=3");
    expect(remainingOf(created)).toBe(2);
    await created.arrayBuffer();

    for (const expected of [1, 0]) {
      const response = await server.request("/v1/users");
      expect(response.status).toBe(200);
      expect(response.headers.get("ratelimit-policy") ?? "").toContain("q=3");
      expect(remainingOf(response)).toBe(expected);
      await response.arrayBuffer();
    }

    const limited = await server.request("/v1/users", { headers: { "x-request-id": "too-many-1" } });
    const problem = await expectProblem(limited, 429, "rate_limited");
    expect(problem.requestId).toBe("too-many-1");
    const retryAfter = limited.headers.get("retry-after") ?? "";
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get("ratelimit-policy") ?? "").toContain("q=3");
    expect(remainingOf(limited)).toBe(0);
  });

  test("a refused write changes nothing", async () => {
    const before = await rowCount(server.db, "users");
    const response = await server.request("/v1/users", {
      method: "POST",
      json: { email: uniqueEmail("rl"), name: "Refused" },
    });
    await expectProblem(response, 429, "rate_limited");
    expect(await rowCount(server.db, "users")).toBe(before);
  });

  test("every /v1 route shares the key's bucket", async () => {
    for (const path of ["/v1/teams", "/v1/wallets", "/v1/cards", `/v1/users/${crypto.randomUUID()}`]) {
      await expectProblem(await server.request(path), 429, "rate_limited");
    }
  });

  test("/health, /ready and /metrics are never rate limited", async () => {
    for (let i = 0; i < 5; i++) {
      for (const path of ["/health", "/ready", "/metrics"]) {
        const response = await fetch(`${server.baseUrl}${path}`);
        expect(response.status, path).toBe(200);
        await response.arrayBuffer();
      }
    }
  });
});

describe("rate limiting of unauthenticated attempts", () => {
  const server = useServer(LIMITED);

  const attempt = (authorization?: string) =>
    fetch(`${server.baseUrl}/v1/users`, { headers: authorization ? { authorization } : {} });

  test("wrong keys are 401 until the IP's burst is spent, then 429 with Retry-After", async () => {
    for (let i = 0; i < 3; i++) {
      await expectProblem(await attempt(`Bearer guess-${i}-0000000000000`), 401, "unauthorized");
    }
    const limited = await attempt("Bearer guess-4-0000000000000");
    await expectProblem(limited, 429, "rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get("ratelimit-policy")).not.toBeNull();
    expect(limited.headers.get("ratelimit")).not.toBeNull();
  });

  test("requests without any key count against the same IP", async () => {
    await expectProblem(await attempt(), 429, "rate_limited");
  });

  test("guessing from the same IP does not lock out the real key", async () => {
    const response = await server.request("/v1/users");
    expect(response.status).toBe(200);
    expect(response.headers.get("ratelimit")).not.toBeNull();
    await response.arrayBuffer();
  });
});

describe("rate limiting turned off", () => {
  const server = useServer({ RATE_LIMIT_PER_SECOND: "0", RATE_LIMIT_BURST: "1" });

  test("RATE_LIMIT_PER_SECOND=0 never answers 429, with or without a valid key", async () => {
    for (let i = 0; i < 25; i++) {
      const ok = await server.request("/v1/users");
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
      const wrong = await fetch(`${server.baseUrl}/v1/users`, { headers: { authorization: "Bearer nope" } });
      expect(wrong.status).toBe(401);
      await wrong.arrayBuffer();
    }
    expect(TEST_ADMIN_KEY.length).toBeGreaterThan(0);
  });
});
