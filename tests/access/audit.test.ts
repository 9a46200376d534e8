/**
 * The audit trail (contract §6): each audited action appends exactly one event, in the transaction of
 * its change (a refused change appends none), naming the key and the request; events are never
 * altered; no event holds a card number, a CVV or a key's secret; GET /v1/audit-events filters them.
 */
import { describe, expect, test } from "bun:test";
import {
  addMember,
  createCard,
  createKey,
  createTeam,
  createUser,
  createWallet,
  futureExpiry,
  topUp,
  uniqueCardNumber,
} from "../helpers/fixtures.ts";
import { expectProblem } from "../helpers/problem-details.ts";
import { rowCount } from "../helpers/rows.ts";
import { type Schemas, useServer } from "../helpers/server.ts";

const server = useServer();

type AuditEvent = Schemas["AuditEvent"];

/** Runs `act` and gives back the audit events it appended (oldest first). */
async function appended(act: () => Promise<void>): Promise<AuditEvent[]> {
  const before = await rowCount(server.db, "audit_events");
  await act();
  const after = await rowCount(server.db, "audit_events");
  if (after === before) return [];
  const page = await server.request(`/v1/audit-events?limit=${after - before}`);
  const events = ((await page.json()) as { data: AuditEvent[] }).data;
  return events.reverse();
}

/** Sends a request as the admin key with a known request id and expects `status`. */
async function call(
  status: number,
  method: string,
  path: string,
  json?: unknown,
  requestId: string = crypto.randomUUID(),
) {
  const response = await server.request(path, { method, json, headers: { "x-request-id": requestId } });
  const text = await response.text();
  expect(response.status, `${method} ${path}: ${text}`).toBe(status);
  return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
}

describe("the audit trail", () => {
  test("each audited action appends exactly one event naming the action, resource, key and request", async () => {
    const team = await createTeam(server.api);
    const user = await createUser(server.api);
    await addMember(server.api, team.id, user.id);
    const wallet = await createWallet(server.api, { teamId: team.id });
    const card = await createCard(server.api, { walletId: wallet.id, cardholderId: user.id });
    const spare = await createCard(server.api, { walletId: wallet.id });
    const other = await createWallet(server.api, { userId: user.id });
    const key = await createKey(server, { name: "audited", scopes: ["read"] });

    const cases: {
      method: string;
      path: string;
      json?: unknown;
      action: string;
      type: string;
      id: string;
    }[] = [
      {
        method: "GET",
        path: `/v1/cards/${card.id}/sensitive`,
        action: "card.revealed",
        type: "card",
        id: card.id,
      },
      {
        method: "PATCH",
        path: `/v1/cards/${card.id}`,
        json: { status: "frozen", dailyLimit: 20_000 },
        action: "card.updated",
        type: "card",
        id: card.id,
      },
      {
        method: "PATCH",
        path: `/v1/wallets/${wallet.id}`,
        json: { status: "frozen" },
        action: "wallet.updated",
        type: "wallet",
        id: wallet.id,
      },
      {
        method: "PATCH",
        path: `/v1/teams/${team.id}/members/${user.id}`,
        json: { role: "admin" },
        action: "member.role_changed",
        type: "membership",
        id: `${team.id}:${user.id}`,
      },
      { method: "DELETE", path: `/v1/cards/${spare.id}`, action: "card.deleted", type: "card", id: spare.id },
      {
        method: "DELETE",
        path: `/v1/wallets/${wallet.id}/cards`,
        action: "wallet.cards_deleted",
        type: "wallet",
        id: wallet.id,
      },
      {
        method: "DELETE",
        path: `/v1/wallets/${other.id}`,
        action: "wallet.deleted",
        type: "wallet",
        id: other.id,
      },
      {
        method: "DELETE",
        path: `/v1/teams/${team.id}/members/${user.id}`,
        action: "member.removed",
        type: "membership",
        id: `${team.id}:${user.id}`,
      },
      {
        method: "DELETE",
        path: `/v1/teams/${team.id}/members`,
        action: "team.members_removed",
        type: "team",
        id: team.id,
      },
      {
        method: "DELETE",
        path: `/v1/users/${user.id}/memberships`,
        action: "user.memberships_removed",
        type: "user",
        id: user.id,
      },
      {
        method: "DELETE",
        path: `/v1/teams/${team.id}/wallets`,
        action: "team.wallets_deleted",
        type: "team",
        id: team.id,
      },
      {
        method: "DELETE",
        path: `/v1/users/${user.id}/wallets`,
        action: "user.wallets_deleted",
        type: "user",
        id: user.id,
      },
      { method: "DELETE", path: `/v1/teams/${team.id}`, action: "team.deleted", type: "team", id: team.id },
      { method: "DELETE", path: `/v1/users/${user.id}`, action: "user.deleted", type: "user", id: user.id },
      {
        method: "DELETE",
        path: `/v1/api-keys/${key.key.id}`,
        action: "api_key.revoked",
        type: "api_key",
        id: key.key.id,
      },
    ];
    for (const { method, path, json, action, type, id } of cases) {
      const requestId = `audit-${crypto.randomUUID()}`;
      const events = await appended(async () => {
        await call(200, method, path, json, requestId);
      });
      expect(events.length, `${method} ${path}`).toBe(1);
      expect(events[0]).toMatchObject({
        action,
        resourceType: type,
        resourceId: id,
        apiKeyId: "admin",
        requestId,
      });
    }
    const created = await appended(async () => {
      await call(201, "POST", "/v1/api-keys", { name: "new", scopes: ["read"] });
    });
    expect(created.map((event) => event.action)).toEqual(["api_key.created"]);
  });

  test("an event is in its change's transaction: it carries the change's own time", async () => {
    const wallet = await createWallet(server.api, { userId: (await createUser(server.api)).id });
    const card = await createCard(server.api, { walletId: wallet.id });
    let deletedAt: unknown;
    const events = await appended(async () => {
      deletedAt = (await call(200, "DELETE", `/v1/cards/${card.id}`)).deletedAt;
    });
    expect(typeof deletedAt).toBe("string");
    expect(events.map((event): unknown => event.createdAt)).toEqual([deletedAt]);
  });

  test("a refused change appends no event", async () => {
    const user = await createUser(server.api);
    const wallet = await createWallet(server.api, { userId: user.id });
    await topUp(server.api, wallet.id, 5_000);
    const card = await createCard(server.api, { walletId: wallet.id });
    await call(200, "PATCH", `/v1/cards/${card.id}`, { status: "cancelled" });
    const key = await createKey(server, { name: "revoked", scopes: ["read"] });
    await call(200, "DELETE", `/v1/api-keys/${key.key.id}`);
    const reader = await createKey(server, { name: "reader", scopes: ["read"] });
    const events = await appended(async () => {
      await expectProblem(
        await server.request(`/v1/wallets/${wallet.id}`, { method: "DELETE" }),
        409,
        "wallet_not_empty",
      );
      await expectProblem(
        await server.request(`/v1/users/${user.id}`, { method: "DELETE" }),
        409,
        "wallet_not_empty",
      );
      await expectProblem(
        await server.request(`/v1/cards/${card.id}`, { method: "PATCH", json: { status: "active" } }),
        409,
        "card_cancelled",
      );
      await expectProblem(
        await server.request(`/v1/wallets/${wallet.id}`, { method: "PATCH", json: { dailyLimit: 10 } }),
        400,
      );
      await expectProblem(
        await server.request(`/v1/api-keys/${key.key.id}`, { method: "DELETE" }),
        409,
        "api_key_revoked",
      );
      await expectProblem(
        await server.request("/v1/api-keys", {
          method: "POST",
          json: { name: "x", scopes: ["admin"], userId: user.id },
        }),
        400,
        "bound_key_admin_scope",
      );
      await expectProblem(
        await reader.request(`/v1/wallets/${wallet.id}`, { method: "PATCH", json: { status: "frozen" } }),
        403,
        "insufficient_scope",
      );
      await expectProblem(await reader.request(`/v1/cards/${card.id}/sensitive`), 403, "insufficient_scope");
    });
    expect(events).toEqual([]);
  });

  test("events are never altered: UPDATE and DELETE on audit_events are refused by the database", async () => {
    const count = await rowCount(server.db, "audit_events");
    expect(count).toBeGreaterThan(0);
    await expect(server.db.query("UPDATE audit_events SET action = 'forged'")).rejects.toThrow(/append-only/);
    await expect(server.db.query("DELETE FROM audit_events")).rejects.toThrow(/append-only/);
    expect(await rowCount(server.db, "audit_events")).toBe(count);
  });

  test("no event holds a card number, a CVV or a key's secret; the reveal names the key that made it", async () => {
    const wallet = await createWallet(server.api, { userId: (await createUser(server.api)).id });
    const card = await createCard(server.api, { walletId: wallet.id });
    const revealer = await createKey(server, { name: "revealer", scopes: ["cards:reveal"] });
    const revealed = (await (await revealer.request(`/v1/cards/${card.id}/sensitive`)).json()) as {
      number: string;
      cvv: string;
    };
    const number = uniqueCardNumber();
    await call(200, "PATCH", `/v1/cards/${card.id}`, { cardNo: number, cvv: "731", ...futureExpiry(3) });
    const { rows } = await server.db.query<{ text: string }>(
      "SELECT row_to_json(a)::text AS text FROM audit_events a",
    );
    for (const { text } of rows) {
      expect(text).not.toContain(revealed.number);
      expect(text).not.toContain(number);
      expect(text).not.toContain(revealer.secret);
      expect(text).not.toContain(revealer.secret.slice(8));
    }
    const forCard = await call(
      200,
      "GET",
      `/v1/audit-events?resourceType=card&resourceId=${card.id}&sort=asc`,
    );
    const events = forCard.data as AuditEvent[];
    expect(events.map((event) => event.action)).toEqual(["card.revealed", "card.updated"]);
    expect(events[0]?.apiKeyId).toBe(revealer.key.id);
    const changes = events[1]?.changes as Record<string, unknown>;
    expect(changes.last4).toEqual({ from: card.last4, to: number.slice(-4) });
    expect(changes.cvv).toBe("replaced");
  });

  test("GET /v1/audit-events filters by action, key and time window; only the admin scope reads it", async () => {
    const byAction = await call(200, "GET", "/v1/audit-events?action=api_key.created&limit=100");
    const created = byAction.data as AuditEvent[];
    expect(created.length).toBeGreaterThan(0);
    expect(created.every((event) => event.action === "api_key.created")).toBe(true);
    const admin = await createKey(server, { name: "auditor", scopes: ["admin"] });
    const before = new Date(Date.now() - 1).toISOString();
    await admin
      .request(`/v1/api-keys/${admin.key.id}`, { method: "DELETE" })
      .then((response) => response.text());
    const byKey = await call(
      200,
      "GET",
      `/v1/audit-events?apiKeyId=${admin.key.id}&from=${encodeURIComponent(before)}`,
    );
    expect((byKey.data as AuditEvent[]).map((event) => event.action)).toEqual(["api_key.revoked"]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await call(200, "GET", `/v1/audit-events?from=${encodeURIComponent(future)}`)).data).toEqual([]);
    const reader = await createKey(server, { name: "reader", scopes: ["read"] });
    await expectProblem(await reader.request("/v1/audit-events"), 403, "insufficient_scope");
  });
});
