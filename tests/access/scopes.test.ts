/**
 * Each scope allows exactly its routes (contract §6), driven by the served OpenAPI document so that
 * no route is forgotten: every /v1 operation declares one scope, the one the contract gives it, and a
 * key with any other scope (but admin) is refused with 403 insufficient_scope naming that scope,
 * before anything of the request is read and without changing anything.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { SCOPES, type Scope } from "../../src/platform/auth.ts";
import { createKey, type KeyClient } from "../helpers/fixtures.ts";
import { expectProblem } from "../helpers/problem-details.ts";
import { rowCount } from "../helpers/rows.ts";
import { SERVER_HOOK_TIMEOUT_MS, useServer } from "../helpers/server.ts";
import { UNKNOWN_ID } from "../helpers/values.ts";

const server = useServer();

interface Operation {
  description?: string;
  security?: Record<string, string[]>[];
}

/** The scope contract §6 gives an operation, written independently of the service's declarations. */
function contractScope(method: string, path: string): Scope {
  const administration = [
    "/v1/api-keys",
    "/v1/audit-events",
    "/v1/webhook-endpoints",
    "/v1/authorization-hook",
  ];
  if (administration.some((prefix) => path.startsWith(prefix))) return "admin";
  if (method === "get") return path.endsWith("/sensitive") ? "cards:reveal" : "read";
  if (/\/(topups|withdrawals|refunds)$/.test(path) || path === "/v1/transfers") return "money";
  if (path.startsWith("/v1/authorizations/") || /\/authorizations(\/preview)?$/.test(path))
    return "authorize";
  return "write";
}

let operations: { method: string; path: string; operation: Operation }[] = [];
const keys = new Map<Scope, KeyClient>();

beforeAll(async () => {
  const document = (await (await fetch(`${server.baseUrl}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, Operation>>;
  };
  operations = Object.entries(document.paths)
    .filter(([path]) => path.startsWith("/v1/"))
    .flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({ method, path, operation })),
    );
  for (const scope of SCOPES)
    keys.set(scope, await createKey(server, { name: `only ${scope}`, scopes: [scope] }));
}, SERVER_HOOK_TIMEOUT_MS);

describe("scopes", () => {
  test("every /v1 operation requires the one scope the contract gives it, in security and in its description", () => {
    expect(operations.length).toBeGreaterThan(45);
    for (const { method, path, operation } of operations) {
      const expected = contractScope(method, path);
      expect(operation.security, `${method} ${path}`).toEqual([{ bearerAuth: [expected] }]);
      expect(operation.description, `${method} ${path}`).toContain(`scope \`${expected}\``);
    }
  });

  test("a key with one scope reaches exactly that scope's operations; every other is 403 insufficient_scope naming the scope", async () => {
    const before = await Promise.all(
      (["users", "teams", "wallets", "cards", "api_keys"] as const).map((table) =>
        rowCount(server.db, table),
      ),
    );
    for (const { method, path } of operations) {
      const needed = contractScope(method, path);
      const target = path.replaceAll(/\{\w+\}/g, UNKNOWN_ID);
      for (const [scope, key] of keys) {
        const response = await key.request(target, {
          method: method.toUpperCase(),
          ...(method === "get" || method === "delete" ? {} : { json: {} }),
        });
        const where = `${scope} key, ${method.toUpperCase()} ${path}`;
        if (scope === needed || scope === "admin") {
          expect(response.status, where).not.toBe(403);
          await response.body?.cancel();
        } else {
          const problem = await expectProblem(response, 403, "insufficient_scope");
          expect(problem.detail, where).toContain(needed);
        }
      }
    }
    const after = await Promise.all(
      (["users", "teams", "wallets", "cards", "api_keys"] as const).map((table) =>
        rowCount(server.db, table),
      ),
    );
    expect(after).toEqual(before);
  }, 120_000);

  test("the scope is checked before the body is read: a malformed body to a route out of scope is 403, not 400", async () => {
    const reader = keys.get("read");
    if (reader === undefined) throw new Error("no read key");
    const response = await reader.request("/v1/users", {
      method: "POST",
      body: "{not json",
      headers: { "content-type": "application/json" },
    });
    await expectProblem(response, 403, "insufficient_scope");
  });

  test("a key with several scopes has each of them", async () => {
    const both = await createKey(server, { name: "read and money", scopes: ["read", "money"] });
    const user = (
      await server.api.POST("/v1/users", {
        body: { email: `s.${crypto.randomUUID().slice(0, 8)}@example.com`, name: "S" },
      })
    ).data;
    const wallet = (await server.api.POST("/v1/wallets", { body: { userId: user?.id ?? "" } })).data;
    const topUp = await both.api.POST("/v1/wallets/{id}/topups", {
      params: { path: { id: wallet?.id ?? "" } },
      body: { amount: 500 },
    });
    expect(topUp.response.status).toBe(201);
    expect(
      (await both.api.GET("/v1/wallets/{id}", { params: { path: { id: wallet?.id ?? "" } } })).data?.balance,
    ).toBe(500);
    const refused = await both.api.PATCH("/v1/wallets/{id}", {
      params: { path: { id: wallet?.id ?? "" } },
      body: { name: "x" },
    });
    expect(refused.response.status).toBe(403);
  });
});
