/**
 * Reach (contract §6): a team-bound key reaches only its team and what hangs off it; a user-bound key
 * reaches its user, the user's teams and wallets, and on a team what the user's role allows. Out of
 * reach is 404, as if it did not exist: for reads by id, for creates under a parent, for money moves
 * and authorizations; lists hold only what is in reach, page by page.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import {
  addMember,
  authorize,
  createCard,
  createKey,
  createTeam,
  createUser,
  createWallet,
  type KeyClient,
  topUp,
} from "../helpers/fixtures.ts";
import { expectProblem } from "../helpers/problem-details.ts";
import { rowCount } from "../helpers/rows.ts";
import { type Schemas, SERVER_HOOK_TIMEOUT_MS, useServer } from "../helpers/server.ts";

const server = useServer();

const EVERY_SCOPE_BUT_ADMIN = ["read", "write", "money", "authorize", "cards:reveal"] as const;

interface World {
  teamA: Schemas["Team"];
  teamB: Schemas["Team"];
  alice: Schemas["User"]; // admin of A
  bob: Schemas["User"]; // member of A
  carol: Schemas["User"]; // member of B
  walletA: Schemas["Wallet"];
  walletB: Schemas["Wallet"];
  aliceWallet: Schemas["Wallet"];
  bobCard: Schemas["Card"]; // on walletA, held by bob
  aliceCard: Schemas["Card"]; // on walletA, held by alice
  cardB: Schemas["Card"];
  spendA: Schemas["Authorization"];
  spendB: Schemas["Authorization"];
  topUpB: Schemas["Transaction"];
}

let world: World;

async function build(): Promise<World> {
  const { api } = server;
  const [teamA, teamB] = [await createTeam(api), await createTeam(api)];
  const [alice, bob, carol] = [
    await createUser(api, "Alice"),
    await createUser(api, "Bob"),
    await createUser(api, "Carol"),
  ];
  await addMember(api, teamA.id, alice.id, "admin");
  await addMember(api, teamA.id, bob.id, "member");
  await addMember(api, teamB.id, carol.id, "member");
  const walletA = await createWallet(api, { teamId: teamA.id });
  const walletB = await createWallet(api, { teamId: teamB.id });
  const aliceWallet = await createWallet(api, { userId: alice.id });
  await topUp(api, walletA.id, 100_000);
  const topUpB = await topUp(api, walletB.id, 100_000);
  const bobCard = await createCard(api, { walletId: walletA.id, cardholderId: bob.id });
  const aliceCard = await createCard(api, { walletId: walletA.id, cardholderId: alice.id });
  const cardB = await createCard(api, { walletId: walletB.id, cardholderId: carol.id });
  const spendA = await authorize(api, bobCard.id, 1_000, { capture: false });
  await authorize(api, aliceCard.id, 2_000);
  const spendB = await authorize(api, cardB.id, 1_000, { capture: false });
  return {
    teamA,
    teamB,
    alice,
    bob,
    carol,
    walletA,
    walletB,
    aliceWallet,
    bobCard,
    aliceCard,
    cardB,
    spendA,
    spendB,
    topUpB,
  };
}

const TABLES = [
  "users",
  "teams",
  "team_members",
  "wallets",
  "cards",
  "transactions",
  "authorizations",
] as const;
const counts = () => Promise.all(TABLES.map((table) => rowCount(server.db, table)));

/** Every item of a list, read page by page with `limit` 2, as the key sees it. */
async function everyPage(
  key: KeyClient,
  path: string,
): Promise<{ id?: string; teamId?: string; userId?: string }[]> {
  const all: { id?: string; teamId?: string; userId?: string }[] = [];
  for (let skip = 0; ; skip += 2) {
    const response = await key.request(
      `${path}${path.includes("?") ? "&" : "?"}limit=2&skip=${skip}&sort=asc`,
    );
    expect(response.status, path).toBe(200);
    const page = (await response.json()) as { data: { id?: string }[]; hasMore: boolean };
    expect(page.data.length).toBeLessThanOrEqual(2);
    all.push(...page.data);
    if (!page.hasMore) return all;
    expect(page.data.length).toBe(2);
  }
}

beforeAll(async () => {
  world = await build();
}, SERVER_HOOK_TIMEOUT_MS);

describe("a team-bound key", () => {
  let key: KeyClient;
  beforeAll(async () => {
    key = await createKey(server, {
      name: "team A tooling",
      scopes: [...EVERY_SCOPE_BUT_ADMIN],
      teamId: world.teamA.id,
    });
  });

  test("reads its team and what hangs off it", async () => {
    const w = world;
    for (const path of [
      `/v1/teams/${w.teamA.id}`,
      `/v1/teams/${w.teamA.id}/members`,
      `/v1/teams/${w.teamA.id}/members/${w.bob.id}`,
      `/v1/users/${w.bob.id}`,
      `/v1/wallets/${w.walletA.id}`,
      `/v1/wallets/${w.walletA.id}/transactions`,
      `/v1/cards/${w.bobCard.id}`,
      `/v1/cards/${w.bobCard.id}/authorizations`,
      `/v1/cards/${w.bobCard.id}/sensitive`,
      `/v1/authorizations/${w.spendA.id}`,
    ]) {
      const response = await key.request(path);
      expect(response.status, path).toBe(200);
    }
  });

  test("reads nothing of another team: 404 as if it did not exist", async () => {
    const w = world;
    const cases: [string, string][] = [
      [`/v1/teams/${w.teamB.id}`, "team_not_found"],
      [`/v1/teams/${w.teamB.id}/members`, "team_not_found"],
      [`/v1/teams/${w.teamB.id}/members/${w.carol.id}`, "team_not_found"],
      [`/v1/users/${w.carol.id}`, "user_not_found"],
      [`/v1/users/${w.carol.id}/teams`, "user_not_found"],
      [`/v1/users/${w.alice.id}/wallets`, "route_not_found"],
      [`/v1/wallets/${w.walletB.id}`, "wallet_not_found"],
      [`/v1/wallets/${w.aliceWallet.id}`, "wallet_not_found"],
      [`/v1/wallets/${w.walletB.id}/transactions`, "wallet_not_found"],
      [`/v1/transactions/${w.topUpB.id}`, "transaction_not_found"],
      [`/v1/cards/${w.cardB.id}`, "card_not_found"],
      [`/v1/cards/${w.cardB.id}/sensitive`, "card_not_found"],
      [`/v1/cards/${w.cardB.id}/authorizations`, "card_not_found"],
      [`/v1/authorizations/${w.spendB.id}`, "authorization_not_found"],
    ];
    for (const [path, code] of cases) {
      const response = await key.request(path);
      if (code === "route_not_found") {
        expect(response.status, path).not.toBe(200);
        await response.body?.cancel();
      } else await expectProblem(response, 404, code);
    }
  });

  test("reaches no event, even of its own team: an empty list, and 404 by id, where an unbound read key sees them", async () => {
    const unbound = await createKey(server, { name: "unbound reader", scopes: ["read"] });
    const all = await unbound.request("/v1/events?limit=1");
    expect(all.status).toBe(200);
    const [event] = ((await all.json()) as { data: { id: string }[] }).data;
    if (event === undefined) throw new Error("the world's changes made no event");
    const listed = await key.request("/v1/events");
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { data: unknown[] }).data).toEqual([]);
    await expectProblem(await key.request(`/v1/events/${event.id}`), 404, "event_not_found");
    await expectProblem(await key.request(`/v1/events?after=${event.id}`), 404, "event_not_found");
  });

  test("lists hold only its team's things, and paging stays right", async () => {
    const w = world;
    // More of both teams' wallets than one page holds.
    for (let i = 0; i < 3; i++) {
      await createWallet(server.api, { teamId: w.teamA.id, name: `A ${i}` });
      await createWallet(server.api, { teamId: w.teamB.id, name: `B ${i}` });
    }
    const wallets = await everyPage(key, "/v1/wallets");
    expect(wallets.length).toBe(4);
    expect(wallets.every((wallet) => wallet.teamId === w.teamA.id)).toBe(true);
    const cards = await everyPage(key, "/v1/cards");
    expect(cards.map((card) => card.id).sort()).toEqual([w.bobCard.id, w.aliceCard.id].sort());
    expect((await everyPage(key, "/v1/teams")).map((team) => team.id)).toEqual([w.teamA.id]);
    expect((await everyPage(key, "/v1/users")).map((user) => user.id).sort()).toEqual(
      [w.alice.id, w.bob.id].sort(),
    );
    const memberships = await everyPage(key, "/v1/memberships");
    expect(memberships.length).toBe(2);
    expect(memberships.every((membership) => membership.teamId === w.teamA.id)).toBe(true);
    expect(await everyPage(key, `/v1/memberships?teamId=${w.teamB.id}`)).toEqual([]);
    expect(await everyPage(key, `/v1/wallets?teamId=${w.teamB.id}`)).toEqual([]);
    expect(await everyPage(key, `/v1/cards?walletId=${w.walletB.id}`)).toEqual([]);
    // Carol is in team B only; Bob's teams, seen from team A's key, are team A's.
    expect((await everyPage(key, `/v1/users/${w.bob.id}/teams`)).map((team) => team.id)).toEqual([
      w.teamA.id,
    ]);
  });

  test("creates nothing under another team, moves no money of it, and changes nothing there", async () => {
    const w = world;
    const before = await counts();
    const balanceB = (await server.api.GET("/v1/wallets/{id}", { params: { path: { id: w.walletB.id } } }))
      .data?.balance;
    const cases: [string, string, unknown, string][] = [
      ["POST", "/v1/wallets", { teamId: w.teamB.id }, "team_not_found"],
      ["POST", "/v1/wallets", { userId: w.bob.id }, "user_not_found"],
      ["POST", "/v1/cards", { walletId: w.walletB.id }, "wallet_not_found"],
      ["POST", `/v1/teams/${w.teamB.id}/members`, { userId: w.bob.id }, "team_not_found"],
      ["POST", `/v1/wallets/${w.walletB.id}/topups`, { amount: 100 }, "wallet_not_found"],
      ["POST", `/v1/wallets/${w.walletB.id}/withdrawals`, { amount: 100 }, "wallet_not_found"],
      [
        "POST",
        "/v1/transfers",
        { fromWalletId: w.walletA.id, toWalletId: w.walletB.id, amount: 100 },
        "wallet_not_found",
      ],
      [
        "POST",
        "/v1/transfers",
        { fromWalletId: w.walletB.id, toWalletId: w.walletA.id, amount: 100 },
        "wallet_not_found",
      ],
      [
        "POST",
        `/v1/cards/${w.cardB.id}/authorizations`,
        { amount: 100, merchant: { name: "M" } },
        "card_not_found",
      ],
      ["POST", `/v1/authorizations/${w.spendB.id}/capture`, {}, "authorization_not_found"],
      ["POST", `/v1/authorizations/${w.spendB.id}/void`, {}, "authorization_not_found"],
      ["POST", `/v1/transactions/${w.topUpB.id}/refunds`, {}, "transaction_not_found"],
      ["PATCH", `/v1/wallets/${w.walletB.id}`, { status: "frozen" }, "wallet_not_found"],
      ["PATCH", `/v1/cards/${w.cardB.id}`, { status: "frozen" }, "card_not_found"],
      ["PATCH", `/v1/teams/${w.teamB.id}`, { name: "Taken over" }, "team_not_found"],
      ["PATCH", `/v1/users/${w.bob.id}`, { name: "Renamed" }, "user_not_found"],
      ["DELETE", `/v1/teams/${w.teamB.id}`, undefined, "team_not_found"],
      ["DELETE", `/v1/cards/${w.cardB.id}`, undefined, "card_not_found"],
      ["DELETE", `/v1/teams/${w.teamB.id}/members/${w.carol.id}`, undefined, "team_not_found"],
      ["DELETE", `/v1/users/${w.carol.id}`, undefined, "user_not_found"],
    ];
    for (const [method, path, json, code] of cases) {
      const problem = await expectProblem(await key.request(path, { method, json }), 404, code);
      expect(problem.code, `${method} ${path}`).toBe(code);
    }
    expect(await counts()).toEqual(before);
    const after = (await server.api.GET("/v1/wallets/{id}", { params: { path: { id: w.walletB.id } } })).data
      ?.balance;
    expect(after).toBe(balanceB);
  });

  test("creates and moves money within its team", async () => {
    const w = world;
    const card = await key.api.POST("/v1/cards", { body: { walletId: w.walletA.id } });
    expect(card.response.status).toBe(201);
    const spend = await key.api.POST("/v1/cards/{id}/authorizations", {
      params: { path: { id: card.data?.id ?? "" } },
      body: { amount: 100, merchant: { name: "Team lunch" } },
    });
    expect(spend.data?.status).toBe("captured");
  });
});

describe("a user-bound key", () => {
  test("of a team admin: changes the team's wallets and cards, and reveals only the cards the user holds", async () => {
    const w = world;
    const alice = await createKey(server, {
      name: "alice",
      scopes: [...EVERY_SCOPE_BUT_ADMIN],
      userId: w.alice.id,
    });
    const patched = await alice.request(`/v1/wallets/${w.walletA.id}`, {
      method: "PATCH",
      json: { name: "Renamed by Alice" },
    });
    expect(patched.status).toBe(200);
    expect(
      (await alice.request(`/v1/cards/${w.bobCard.id}`, { method: "PATCH", json: { dailyLimit: 20_000 } }))
        .status,
    ).toBe(200);
    expect((await alice.request(`/v1/cards/${w.aliceCard.id}/sensitive`)).status).toBe(200);
    await expectProblem(await alice.request(`/v1/cards/${w.bobCard.id}/sensitive`), 404, "card_not_found");
    expect((await alice.request(`/v1/wallets/${w.aliceWallet.id}`)).status).toBe(200);
    await expectProblem(await alice.request(`/v1/wallets/${w.walletB.id}`), 404, "wallet_not_found");
    await expectProblem(await alice.request(`/v1/users/${w.bob.id}`), 404, "user_not_found");
    const wallets = await everyPage(alice, "/v1/wallets");
    expect(wallets.some((wallet) => wallet.id === w.aliceWallet.id)).toBe(true);
    expect(wallets.every((wallet) => wallet.userId === w.alice.id || wallet.teamId === w.teamA.id)).toBe(
      true,
    );
    expect((await everyPage(alice, "/v1/teams")).map((team) => team.id)).toEqual([w.teamA.id]);
  });

  test("of a team member: reads the team's wallets and the cards the user holds, and changes nothing of the team", async () => {
    const w = world;
    const bob = await createKey(server, {
      name: "bob",
      scopes: [...EVERY_SCOPE_BUT_ADMIN],
      userId: w.bob.id,
    });
    expect((await bob.request(`/v1/wallets/${w.walletA.id}`)).status).toBe(200);
    expect((await bob.request(`/v1/teams/${w.teamA.id}`)).status).toBe(200);
    expect((await bob.request(`/v1/cards/${w.bobCard.id}`)).status).toBe(200);
    expect((await bob.request(`/v1/cards/${w.bobCard.id}/sensitive`)).status).toBe(200);
    expect((await bob.request(`/v1/authorizations/${w.spendA.id}`)).status).toBe(200);
    await expectProblem(await bob.request(`/v1/cards/${w.aliceCard.id}`), 404, "card_not_found");
    const cards = await everyPage(bob, "/v1/cards");
    expect(cards.map((card) => card.id)).toEqual([w.bobCard.id]);
    // The team wallet's ledger, as Bob sees it: the spends of his card only.
    const transactions = (await everyPage(bob, `/v1/wallets/${w.walletA.id}/transactions`)) as {
      cardId?: string;
    }[];
    expect(transactions.every((transaction) => transaction.cardId === w.bobCard.id)).toBe(true);
    const before = await counts();
    const refused: [string, string, unknown, string][] = [
      ["PATCH", `/v1/wallets/${w.walletA.id}`, { status: "frozen" }, "wallet_not_found"],
      ["PATCH", `/v1/cards/${w.bobCard.id}`, { status: "frozen" }, "card_not_found"],
      ["POST", "/v1/cards", { walletId: w.walletA.id }, "wallet_not_found"],
      ["POST", `/v1/wallets/${w.walletA.id}/withdrawals`, { amount: 100 }, "wallet_not_found"],
      [
        "POST",
        `/v1/cards/${w.bobCard.id}/authorizations`,
        { amount: 100, merchant: { name: "M" } },
        "card_not_found",
      ],
      ["POST", `/v1/authorizations/${w.spendA.id}/void`, {}, "authorization_not_found"],
      ["POST", `/v1/teams/${w.teamA.id}/members`, { userId: w.carol.id }, "team_not_found"],
      ["PATCH", `/v1/teams/${w.teamA.id}/members/${w.bob.id}`, { role: "admin" }, "team_not_found"],
    ];
    for (const [method, path, json, code] of refused) {
      await expectProblem(await bob.request(path, { method, json }), 404, code);
    }
    expect(await counts()).toEqual(before);
    // What is Bob's own: his user and a wallet of his.
    expect(
      (await bob.request(`/v1/users/${w.bob.id}`, { method: "PATCH", json: { name: "Robert" } })).status,
    ).toBe(200);
    expect((await bob.request("/v1/wallets", { method: "POST", json: { userId: w.bob.id } })).status).toBe(
      201,
    );
    await expectProblem(
      await bob.request("/v1/wallets", { method: "POST", json: { userId: w.alice.id } }),
      404,
      "user_not_found",
    );
  });

  test("follows a role change at once: promoted to admin, the member's key changes the team's wallets", async () => {
    const w = world;
    const carol = await createKey(server, { name: "carol", scopes: ["read", "write"], userId: w.carol.id });
    await expectProblem(
      await carol.request(`/v1/wallets/${w.walletB.id}`, { method: "PATCH", json: { name: "Carol's" } }),
      404,
      "wallet_not_found",
    );
    const promoted = await server.request(`/v1/teams/${w.teamB.id}/members/${w.carol.id}`, {
      method: "PATCH",
      json: { role: "admin" },
    });
    expect(promoted.status).toBe(200);
    expect(
      (await carol.request(`/v1/wallets/${w.walletB.id}`, { method: "PATCH", json: { name: "Carol's" } }))
        .status,
    ).toBe(200);
  });
});
