/**
 * API keys (contract §6): made with a secret shown once, stored only as a hash, listed and read
 * without it, revoked and expired keys refused with 401, lastUsedAt written at most once a minute.
 */
import { describe, expect, test } from "bun:test";
import { createKey, createTeam, createUser } from "../helpers/fixtures.ts";
import { expectProblem } from "../helpers/problem-details.ts";
import { rowCount } from "../helpers/rows.ts";
import { TestClock, useServer } from "../helpers/server.ts";
import { UNKNOWN_ID } from "../helpers/values.ts";

const clock = new TestClock();
const server = useServer({}, { clock });

describe("API keys", () => {
  test("a new key's secret is wak_ and 64 hex digits, shown once; prefix is its first 8 characters", async () => {
    const { key, secret } = await createKey(server, { name: "  Back office  ", scopes: ["read", "money"] });
    expect(secret).toMatch(/^wak_[0-9a-f]{64}$/);
    expect(key.prefix).toBe(secret.slice(0, 8));
    expect(key).toMatchObject({
      name: "Back office",
      scopes: ["read", "money"],
      teamId: null,
      userId: null,
      expiresAt: null,
      lastUsedAt: null,
      revokedAt: null,
    });
    const read = await server.request(`/v1/api-keys/${key.id}`);
    const body = (await read.json()) as Record<string, unknown>;
    expect(body.secret).toBeUndefined();
    expect(body.prefix).toBe(key.prefix);
    const list = (await (await server.request("/v1/api-keys?limit=100")).json()) as {
      data: Record<string, unknown>[];
    };
    expect(list.data.some((listed) => listed.id === key.id)).toBe(true);
    expect(list.data.every((listed) => listed.secret === undefined)).toBe(true);
  });

  test("the key works as a bearer key; a key of the right form that was never made is 401", async () => {
    const { request } = await createKey(server, { name: "reader", scopes: ["read"] });
    expect((await request("/v1/users")).status).toBe(200);
    const forged = `wak_${"0".repeat(64)}`;
    await expectProblem(
      await fetch(`${server.baseUrl}/v1/users`, { headers: { authorization: `Bearer ${forged}` } }),
      401,
      "unauthorized",
    );
  });

  test("a replay of an Idempotency-Key answers the key without its secret, and makes no second key", async () => {
    const idempotencyKey = crypto.randomUUID();
    const body = { name: "retried", scopes: ["read"] };
    const first = await server.request("/v1/api-keys", {
      method: "POST",
      json: body,
      headers: { "idempotency-key": idempotencyKey },
    });
    expect(first.status).toBe(201);
    const created = (await first.json()) as Record<string, unknown>;
    expect(typeof created.secret).toBe("string");
    const keys = await rowCount(server.db, "api_keys");
    const replay = await server.request("/v1/api-keys", {
      method: "POST",
      json: body,
      headers: { "idempotency-key": idempotencyKey },
    });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const replayed = (await replay.json()) as Record<string, unknown>;
    expect(replayed.id).toBe(created.id);
    expect(replayed.secret).toBeUndefined();
    expect(await rowCount(server.db, "api_keys")).toBe(keys);
  });

  test("bad bindings, scopes and expiries are 400 or 404, and make no key", async () => {
    const team = await createTeam(server.api);
    const user = await createUser(server.api);
    const keys = await rowCount(server.db, "api_keys");
    const post = (json: unknown) => server.request("/v1/api-keys", { method: "POST", json });
    await expectProblem(
      await post({ name: "x", scopes: ["read"], teamId: team.id, userId: user.id }),
      400,
      "invalid_key_binding",
    );
    await expectProblem(
      await post({ name: "x", scopes: ["admin"], teamId: team.id }),
      400,
      "bound_key_admin_scope",
    );
    await expectProblem(
      await post({ name: "x", scopes: ["read", "admin"], userId: user.id }),
      400,
      "bound_key_admin_scope",
    );
    await expectProblem(
      await post({ name: "x", scopes: ["read"], teamId: UNKNOWN_ID }),
      404,
      "team_not_found",
    );
    await expectProblem(
      await post({ name: "x", scopes: ["read"], userId: UNKNOWN_ID }),
      404,
      "user_not_found",
    );
    await expectProblem(
      await post({
        name: "x",
        scopes: ["read"],
        expiresAt: new Date(clock.now().getTime() - 1000).toISOString(),
      }),
      400,
      "invalid_expiry",
    );
    await expectProblem(await post({ name: "x", scopes: [] }), 400);
    await expectProblem(await post({ name: "x", scopes: ["read", "read"] }), 400);
    await expectProblem(await post({ name: "x", scopes: ["superuser"] }), 400);
    await expectProblem(await post({ name: "", scopes: ["read"] }), 400);
    expect(await rowCount(server.db, "api_keys")).toBe(keys);
  });

  test("a revoked key is 401 at once on the instance that revoked it; it stays listed with revokedAt; revoking again is 409", async () => {
    const { key, request } = await createKey(server, { name: "to revoke", scopes: ["read"] });
    expect((await request("/v1/users")).status).toBe(200);
    const revoked = await server.request(`/v1/api-keys/${key.id}`, { method: "DELETE" });
    expect(revoked.status).toBe(200);
    const body = (await revoked.json()) as { revokedAt: string | null };
    expect(body.revokedAt).not.toBeNull();
    await expectProblem(await request("/v1/users"), 401, "unauthorized");
    await expectProblem(
      await server.request(`/v1/api-keys/${key.id}`, { method: "DELETE" }),
      409,
      "api_key_revoked",
    );
    await expectProblem(
      await server.request(`/v1/api-keys/${UNKNOWN_ID}`, { method: "DELETE" }),
      404,
      "api_key_not_found",
    );
    expect(
      ((await (await server.request(`/v1/api-keys/${key.id}`)).json()) as { revokedAt: string | null })
        .revokedAt,
    ).toBe(body.revokedAt);
  });

  test("an expired key is 401 from its expiresAt on", async () => {
    const expiresAt = new Date(clock.now().getTime() + 60 * 60 * 1000).toISOString();
    const { key, request } = await createKey(server, { name: "short-lived", scopes: ["read"], expiresAt });
    expect(key.expiresAt).toBe(expiresAt);
    expect((await request("/v1/users")).status).toBe(200);
    clock.advance(60 * 60 * 1000);
    await expectProblem(await request("/v1/users"), 401, "unauthorized");
  });

  test("lastUsedAt is written on use, at most once a minute", async () => {
    const { key, request } = await createKey(server, { name: "used", scopes: ["read"] });
    const lastUsed = async () => {
      // Written after the request, off its path: wait for it to land.
      for (let attempt = 0; attempt < 50; attempt++) {
        const read = (await (await server.request(`/v1/api-keys/${key.id}`)).json()) as {
          lastUsedAt: string | null;
        };
        if (read.lastUsedAt !== null) return read.lastUsedAt;
        await Bun.sleep(20);
      }
      return null;
    };
    const firstUse = clock.now().toISOString();
    expect((await request("/v1/users")).status).toBe(200);
    expect(await lastUsed()).toBe(firstUse);
    clock.advance(30_000);
    expect((await request("/v1/users")).status).toBe(200);
    await Bun.sleep(100);
    expect(await lastUsed()).toBe(firstUse);
    clock.advance(31_000);
    expect((await request("/v1/users")).status).toBe(200);
    const later = clock.now().toISOString();
    for (let attempt = 0; attempt < 50 && (await lastUsed()) !== later; attempt++) await Bun.sleep(20);
    expect(await lastUsed()).toBe(later);
  });
});
