/**
 * The order of the request pipeline (src/platform/http.ts), pinned by what a client sees when a
 * request breaks two rules at once: the earlier check answers. The order, first to last:
 * the request target (Host), the body's declared size, [routing], the key, the rate limit, the body
 * (read and parsed), the query, then the schema.
 */
import { describe, expect, test } from "bun:test";
import { rawRequest, requestText } from "../helpers/raw-http.ts";
import { TEST_ADMIN_KEY, useServer } from "../helpers/server.ts";

const server = useServer({ RATE_LIMIT_PER_SECOND: "0.001", RATE_LIMIT_BURST: "1000" });

const key = { Authorization: `Bearer ${TEST_ADMIN_KEY}` };

async function codeOf(request: string): Promise<[number, string]> {
  const answer = await rawRequest(server.baseUrl, request);
  return [answer.status, (JSON.parse(answer.body) as { code: string }).code];
}

describe("when a request breaks two rules, the earlier check answers", () => {
  test("a bad Host before everything: no key, too large a body", async () => {
    const request = requestText("POST", "/v1/users", {
      host: "a/b",
      headers: { "Content-Length": String(2 * 1024 * 1024) },
    });
    expect(await codeOf(request)).toEqual([400, "malformed_request"]);
  });

  test("the declared body size before the key", async () => {
    const request = requestText("POST", "/v1/users", {
      host: "localhost",
      headers: { "Content-Length": String(2 * 1024 * 1024) },
    });
    expect(await codeOf(request)).toEqual([413, "payload_too_large"]);
  });

  test("routing before the key: an unknown path is 404 without one", async () => {
    expect(await codeOf(requestText("GET", "/v1/nothing", { host: "localhost" }))).toEqual([
      404,
      "route_not_found",
    ]);
  });

  test("the key before the body and the query", async () => {
    const request = requestText("POST", "/v1/users?limit=1&limit=2", {
      host: "localhost",
      body: "{not json",
    });
    expect(await codeOf(request)).toEqual([401, "unauthorized"]);
  });

  test("the body before the query, and the query before the schema", async () => {
    const badBody = requestText("POST", "/v1/users?x=1&x=2", {
      host: "localhost",
      headers: key,
      body: "{not json",
    });
    expect(await codeOf(badBody)).toEqual([400, "malformed_json"]);
    const badQuery = requestText("GET", "/v1/users?limit=1&limit=2&sortBy=nope", {
      host: "localhost",
      headers: key,
    });
    const [status, code] = await codeOf(badQuery);
    expect([status, code]).toEqual([400, "validation_failed"]);
    const answer = await rawRequest(server.baseUrl, badQuery);
    expect(answer.body).toContain("query.limit");
    expect(answer.body).not.toContain("sortBy");
  });

  test("the rate limit after the key and before the body", async () => {
    // A bucket of 1000 that refills once in ~17 minutes: spend it, then a bad body is 429, not 400.
    const spend = Array.from({ length: 1000 }, () =>
      fetch(`${server.baseUrl}/v1/users?limit=1`, {
        headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
      }).then((response) => response.arrayBuffer()),
    );
    await Promise.all(spend);
    const request = requestText("POST", "/v1/users", { host: "localhost", headers: key, body: "{not json" });
    expect(await codeOf(request)).toEqual([429, "rate_limited"]);
    // Without a key the same request is still 401: the key comes first.
    const anonymous = requestText("POST", "/v1/users", { host: "localhost", body: "{not json" });
    expect((await codeOf(anonymous))[0]).toBe(401);
  });
});
