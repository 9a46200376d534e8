import { describe, expect, test } from "bun:test";
import {
  authorize,
  createCard,
  createTeam,
  createUser,
  createUserWallet,
  createWallet,
  fundedWalletWithCard,
  getWallet,
} from "../helpers/fixtures.ts";
import { expectEachFound, expectProblem, expectSdkProblem } from "../helpers/problem-details.ts";
import { rowCount } from "../helpers/rows.ts";
import { type Schemas, useServer } from "../helpers/server.ts";
import { UNKNOWN_ID, UUID_PATTERN } from "../helpers/values.ts";

const server = useServer();

async function walletIdsOf(filter: { userId?: string; teamId?: string; status?: "active" | "frozen" }) {
  const { data } = await server.api.GET("/v1/wallets", { params: { query: { ...filter, limit: 100 } } });
  return (data?.data ?? []).map((wallet) => wallet.id);
}

describe("wallets: create", () => {
  test("a user's wallet starts empty with the contract's defaults", async () => {
    const user = await createUser(server.api);
    const { data, response } = await server.api.POST("/v1/wallets", { body: { userId: user.id } });
    expect(response.status).toBe(201);
    expect(data?.id ?? "").toMatch(UUID_PATTERN);
    expect(data).toMatchObject({
      ownerType: "user",
      userId: user.id,
      teamId: null,
      currency: "SGD",
      timezone: "UTC",
      status: "active",
      balance: 0,
      availableBalance: 0,
      dailyLimit: 500000,
      monthlyLimit: 500000,
      spentToday: 0,
      spentThisMonth: 0,
      deletedAt: null,
    });
    expect(typeof data?.name).toBe("string");
    expect(new Date(data?.createdAt ?? "").toISOString()).toBe(data?.createdAt ?? "");
    expect(new Date(data?.updatedAt ?? "").toISOString()).toBe(data?.updatedAt ?? "");
    expect(await getWallet(server.api, data?.id ?? "")).toEqual(data as Schemas["Wallet"]);
  });

  test("a team's wallet has ownerType team and no user", async () => {
    const team = await createTeam(server.api);
    const { data, response } = await server.api.POST("/v1/wallets", { body: { teamId: team.id } });
    expect(response.status).toBe(201);
    expect(data).toMatchObject({ ownerType: "team", teamId: team.id, userId: null, balance: 0 });
  });

  test("name, currency, timezone and limits are kept as given, the time zone in its canonical spelling", async () => {
    const user = await createUser(server.api);
    const { data, response } = await server.api.POST("/v1/wallets", {
      body: {
        userId: user.id,
        name: "Travel",
        currency: "USD",
        timezone: "asia/singapore",
        dailyLimit: 20000,
        monthlyLimit: 100000,
      },
    });
    expect(response.status).toBe(201);
    expect(data).toMatchObject({
      name: "Travel",
      currency: "USD",
      timezone: "Asia/Singapore",
      dailyLimit: 20000,
      monthlyLimit: 100000,
    });
    expect(await getWallet(server.api, data?.id ?? "")).toMatchObject({
      timezone: "Asia/Singapore",
      currency: "USD",
    });
  });

  test("limits of exactly 10000 and a daily limit equal to the monthly one are accepted", async () => {
    const user = await createUser(server.api);
    const { data, response } = await server.api.POST("/v1/wallets", {
      body: { userId: user.id, dailyLimit: 10000, monthlyLimit: 10000 },
    });
    expect(response.status).toBe(201);
    expect(data).toMatchObject({ dailyLimit: 10000, monthlyLimit: 10000 });
    const highest = await server.api.POST("/v1/wallets", {
      body: { userId: user.id, dailyLimit: 1_000_000_000_000_000, monthlyLimit: 1_000_000_000_000_000 },
    });
    expect(highest.response.status).toBe(201);
    expect(highest.data).toMatchObject({
      dailyLimit: 1_000_000_000_000_000,
      monthlyLimit: 1_000_000_000_000_000,
    });
  });

  test("time zone names are canonicalised whatever their case", async () => {
    const user = await createUser(server.api);
    for (const [given, stored] of [
      ["utc", "UTC"],
      ["EUROPE/LONDON", "Europe/London"],
      ["america/new_york", "America/New_York"],
    ]) {
      const { data, response } = await server.api.POST("/v1/wallets", {
        body: { userId: user.id, timezone: given },
      });
      expect(response.status).toBe(201);
      expect(data?.timezone).toBe(stored);
    }
  });

  test("a blank or over-long name is 400 and creates nothing", async () => {
    const user = await createUser(server.api);
    for (const name of ["", "   ", "x".repeat(201)]) {
      const result = await server.api.POST("/v1/wallets", { body: { userId: user.id, name } });
      expect(result.response.status).toBe(400);
      expect(result.error?.errors?.map((error) => error.path)).toContain("body.name");
    }
    expect(await walletIdsOf({ userId: user.id })).toEqual([]);
  });

  test("both userId and teamId is 400 invalid_wallet_owner and creates nothing", async () => {
    const user = await createUser(server.api);
    const team = await createTeam(server.api);
    const before = await rowCount(server.db, "wallets", { liveOnly: true });
    const result = await server.api.POST("/v1/wallets", { body: { userId: user.id, teamId: team.id } });
    expectSdkProblem(result, 400, "invalid_wallet_owner");
    expect(await rowCount(server.db, "wallets", { liveOnly: true })).toBe(before);
    expect(await walletIdsOf({ userId: user.id })).toEqual([]);
    expect(await walletIdsOf({ teamId: team.id })).toEqual([]);
  });

  test("neither userId nor teamId is 400 invalid_wallet_owner and creates nothing", async () => {
    const before = await rowCount(server.db, "wallets", { liveOnly: true });
    const result = await server.api.POST("/v1/wallets", { body: { name: "Orphan" } });
    expectSdkProblem(result, 400, "invalid_wallet_owner");
    expect(await rowCount(server.db, "wallets", { liveOnly: true })).toBe(before);
  });

  test("an unknown or deleted owner is 404 and creates nothing", async () => {
    const before = await rowCount(server.db, "wallets", { liveOnly: true });
    expectSdkProblem(
      await server.api.POST("/v1/wallets", { body: { userId: UNKNOWN_ID } }),
      404,
      "user_not_found",
    );
    expectSdkProblem(
      await server.api.POST("/v1/wallets", { body: { teamId: UNKNOWN_ID } }),
      404,
      "team_not_found",
    );
    const gone = await createUser(server.api);
    await server.api.DELETE("/v1/users/{id}", { params: { path: { id: gone.id } } });
    expectSdkProblem(
      await server.api.POST("/v1/wallets", { body: { userId: gone.id } }),
      404,
      "user_not_found",
    );
    const goneTeam = await createTeam(server.api);
    await server.api.DELETE("/v1/teams/{id}", { params: { path: { id: goneTeam.id } } });
    expectSdkProblem(
      await server.api.POST("/v1/wallets", { body: { teamId: goneTeam.id } }),
      404,
      "team_not_found",
    );
    expect(await rowCount(server.db, "wallets", { liveOnly: true })).toBe(before);
  });

  test("a malformed owner id is 400 and creates nothing", async () => {
    const before = await rowCount(server.db, "wallets", { liveOnly: true });
    const result = await server.api.POST("/v1/wallets", { body: { userId: "not-a-uuid" } });
    expect(result.response.status).toBe(400);
    expect(result.error?.errors?.map((error) => error.path)).toContain("body.userId");
    expect(await rowCount(server.db, "wallets", { liveOnly: true })).toBe(before);
  });

  test("a limit below 10000 or above 10^15 is 400 invalid_limit and creates nothing", async () => {
    const user = await createUser(server.api);
    for (const body of [
      { dailyLimit: 9999 },
      { monthlyLimit: 9999 },
      { dailyLimit: 0 },
      { dailyLimit: -10000 },
      { monthlyLimit: 1_000_000_000_000_001 },
    ]) {
      const result = await server.api.POST("/v1/wallets", { body: { userId: user.id, ...body } });
      expectSdkProblem(result, 400, "invalid_limit");
    }
    expect(await walletIdsOf({ userId: user.id })).toEqual([]);
  });

  test("a limit that is not an integer number of minor units is 400 and creates nothing", async () => {
    const user = await createUser(server.api);
    expect(
      (await server.api.POST("/v1/wallets", { body: { userId: user.id, dailyLimit: 10000.5 } })).response
        .status,
    ).toBe(400);
    const asString = await server.request("/v1/wallets", {
      method: "POST",
      json: { userId: user.id, dailyLimit: "20000" },
    });
    await expectProblem(asString, 400);
    expect(await walletIdsOf({ userId: user.id })).toEqual([]);
  });

  test("a daily limit above the monthly one is 400 daily_limit_exceeds_monthly and creates nothing", async () => {
    const user = await createUser(server.api);
    expectSdkProblem(
      await server.api.POST("/v1/wallets", {
        body: { userId: user.id, dailyLimit: 200000, monthlyLimit: 100000 },
      }),
      400,
      "daily_limit_exceeds_monthly",
    );
    expect(await walletIdsOf({ userId: user.id })).toEqual([]);
  });

  test("a single limit given moves the other's default so they agree", async () => {
    const user = await createUser(server.api);
    const highDaily = await createWallet(server.api, { userId: user.id, dailyLimit: 600000 });
    expect([highDaily.dailyLimit, highDaily.monthlyLimit]).toEqual([600000, 600000]);
    const lowMonthly = await createWallet(server.api, { userId: user.id, monthlyLimit: 400000 });
    expect([lowMonthly.dailyLimit, lowMonthly.monthlyLimit]).toEqual([400000, 400000]);
  });

  test("a currency that is not an upper-case ISO 4217 code is 400 invalid_currency and creates nothing", async () => {
    const user = await createUser(server.api);
    for (const currency of ["sgd", "QQQ", "SG", "SGDX", ""]) {
      const result = await server.api.POST("/v1/wallets", { body: { userId: user.id, currency } });
      expectSdkProblem(result, 400, "invalid_currency");
    }
    expect(await walletIdsOf({ userId: user.id })).toEqual([]);
  });

  test("a time zone that is not an IANA name is 400 invalid_timezone and creates nothing", async () => {
    const user = await createUser(server.api);
    for (const timezone of ["Mars/Phobos", "Not a zone", ""]) {
      const result = await server.api.POST("/v1/wallets", { body: { userId: user.id, timezone } });
      expectSdkProblem(result, 400, "invalid_timezone");
    }
    expect(await walletIdsOf({ userId: user.id })).toEqual([]);
  });

  test("a UTC offset is not an IANA time zone name: 400 invalid_timezone", async () => {
    const user = await createUser(server.api);
    const result = await server.api.POST("/v1/wallets", { body: { userId: user.id, timezone: "+05:00" } });
    expectSdkProblem(result, 400, "invalid_timezone");
    expect(await walletIdsOf({ userId: user.id })).toEqual([]);
  });

  test("a balance or another unknown field in the body is 400 and creates nothing", async () => {
    const user = await createUser(server.api);
    for (const extra of [{ balance: 100000 }, { status: "frozen" }, { ownerType: "user" }]) {
      const response = await server.request("/v1/wallets", {
        method: "POST",
        json: { userId: user.id, ...extra },
      });
      const problem = await expectProblem(response, 400);
      expect(problem.errors?.map((error) => error.path)).toContain(`body.${Object.keys(extra)[0]}`);
    }
    expect(await walletIdsOf({ userId: user.id })).toEqual([]);
  });
});

describe("wallets: read and list", () => {
  test("an unknown id is 404 wallet_not_found, a malformed one 400", async () => {
    expectSdkProblem(
      await server.api.GET("/v1/wallets/{id}", { params: { path: { id: UNKNOWN_ID } } }),
      404,
      "wallet_not_found",
    );
    const malformed = await server.api.GET("/v1/wallets/{id}", { params: { path: { id: "nope" } } });
    expect(malformed.response.status).toBe(400);
  });

  test("many GETs at once (read together) each answer their own wallet; unknown and deleted ones are 404 among them", async () => {
    const funded = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((n) => fundedWalletWithCard(server.api, n * 10000)),
    );
    // A spend on every other wallet, so that their spentToday differ too.
    for (const [index, { card }] of funded.entries()) {
      if (index % 2 === 0) await authorize(server.api, card.id, 1000 * (index + 1));
    }
    const expected = await Promise.all(funded.map(({ wallet }) => getWallet(server.api, wallet.id)));
    const { wallet: deleted } = await createUserWallet(server.api);
    await server.api.DELETE("/v1/wallets/{id}", { params: { path: { id: deleted.id } } });
    const ids = [UNKNOWN_ID, ...expected.map((wallet) => wallet.id), deleted.id].flatMap((id) => [
      id,
      id,
      id,
    ]);
    const answers = await Promise.all(
      ids.map((id) => server.api.GET("/v1/wallets/{id}", { params: { path: { id } } })),
    );
    expectEachFound(ids, answers, expected, "wallet_not_found");
    expect(new Set(expected.map((wallet) => `${wallet.balance}/${wallet.spentToday}`)).size).toBe(6);
  });

  test("filters by userId, teamId and status", async () => {
    const user = await createUser(server.api);
    const team = await createTeam(server.api);
    const first = await createWallet(server.api, { userId: user.id, name: "First" });
    const second = await createWallet(server.api, { userId: user.id, name: "Second" });
    const teamWallet = await createWallet(server.api, { teamId: team.id });
    await server.api.PATCH("/v1/wallets/{id}", {
      params: { path: { id: second.id } },
      body: { status: "frozen" },
    });

    expect((await walletIdsOf({ userId: user.id })).sort()).toEqual([first.id, second.id].sort());
    expect(await walletIdsOf({ teamId: team.id })).toEqual([teamWallet.id]);
    expect(await walletIdsOf({ userId: user.id, status: "frozen" })).toEqual([second.id]);
    expect(await walletIdsOf({ userId: user.id, status: "active" })).toEqual([first.id]);
    expect(await walletIdsOf({ teamId: team.id, status: "frozen" })).toEqual([]);
    const frozen = await server.api.GET("/v1/wallets", {
      params: { query: { status: "frozen", limit: 100 } },
    });
    expect(frozen.data?.data.every((wallet) => wallet.status === "frozen")).toBe(true);
  });

  test("pages with limit and skip, newest first by default", async () => {
    const user = await createUser(server.api);
    const a = await createWallet(server.api, { userId: user.id, name: "a" });
    const b = await createWallet(server.api, { userId: user.id, name: "b" });
    const c = await createWallet(server.api, { userId: user.id, name: "c" });

    const first = await server.api.GET("/v1/wallets", { params: { query: { userId: user.id, limit: 2 } } });
    expect(first.response.status).toBe(200);
    expect(first.data?.data.map((wallet) => wallet.id)).toEqual([c.id, b.id]);
    expect(first.data).toMatchObject({ skip: 0, limit: 2, hasMore: true });

    const second = await server.api.GET("/v1/wallets", {
      params: { query: { userId: user.id, limit: 2, skip: 2 } },
    });
    expect(second.data?.data.map((wallet) => wallet.id)).toEqual([a.id]);
    expect(second.data).toMatchObject({ skip: 2, limit: 2, hasMore: false });

    const defaults = await server.api.GET("/v1/wallets", { params: { query: { userId: user.id } } });
    expect(defaults.data).toMatchObject({ skip: 0, limit: 20, hasMore: false });
  });

  test("sorts by a whitelisted field in either direction, case-insensitively", async () => {
    const user = await createUser(server.api);
    for (const name of ["mango", "apple", "kiwi"]) await createWallet(server.api, { userId: user.id, name });
    const names = async (sort: string) => {
      const { data } = await server.api.GET("/v1/wallets", {
        params: { query: { userId: user.id, sortBy: "name", sort } },
      });
      return data?.data.map((wallet) => wallet.name);
    };
    expect(await names("asc")).toEqual(["apple", "kiwi", "mango"]);
    expect(await names("ASC")).toEqual(["apple", "kiwi", "mango"]);
    expect(await names("Desc")).toEqual(["mango", "kiwi", "apple"]);
    const oldestFirst = await server.api.GET("/v1/wallets", {
      params: { query: { userId: user.id, sortBy: "createdAt", sort: "asc" } },
    });
    expect(oldestFirst.data?.data.map((wallet) => wallet.name)).toEqual(["mango", "apple", "kiwi"]);
  });

  test("an unknown sortBy, a bad sort or an out-of-range limit is 400", async () => {
    await expectProblem(await server.request("/v1/wallets?sortBy=balance;DROP%20TABLE%20wallets"), 400);
    await expectProblem(await server.request("/v1/wallets?sortBy=currency"), 400);
    await expectProblem(await server.request("/v1/wallets?sort=sideways"), 400);
    await expectProblem(await server.request("/v1/wallets?limit=0"), 400);
    await expectProblem(await server.request("/v1/wallets?limit=101"), 400);
    await expectProblem(await server.request("/v1/wallets?skip=-1"), 400);
    await expectProblem(await server.request("/v1/wallets?status=closed"), 400);
    await expectProblem(await server.request("/v1/wallets?userId=not-a-uuid"), 400);
    expect((await server.api.GET("/v1/wallets")).response.status).toBe(200);
  });
});

describe("wallets: update", () => {
  test("renames, changes limits and freezes and unfreezes", async () => {
    const user = await createUser(server.api);
    const wallet = await createWallet(server.api, { userId: user.id, name: "Old" });
    const renamed = await server.api.PATCH("/v1/wallets/{id}", {
      params: { path: { id: wallet.id } },
      body: { name: "New", dailyLimit: 50000, monthlyLimit: 200000 },
    });
    expect(renamed.response.status).toBe(200);
    expect(renamed.data).toMatchObject({
      id: wallet.id,
      name: "New",
      dailyLimit: 50000,
      monthlyLimit: 200000,
      status: "active",
      balance: 0,
      userId: user.id,
      createdAt: wallet.createdAt,
    });
    expect(Date.parse(renamed.data?.updatedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(wallet.updatedAt));

    const frozen = await server.api.PATCH("/v1/wallets/{id}", {
      params: { path: { id: wallet.id } },
      body: { status: "frozen" },
    });
    expect(frozen.data).toMatchObject({ status: "frozen", name: "New", dailyLimit: 50000 });
    expect((await getWallet(server.api, wallet.id)).status).toBe("frozen");

    const thawed = await server.api.PATCH("/v1/wallets/{id}", {
      params: { path: { id: wallet.id } },
      body: { status: "active" },
    });
    expect(thawed.data?.status).toBe("active");
    expect(await getWallet(server.api, wallet.id)).toMatchObject({
      name: "New",
      status: "active",
      dailyLimit: 50000,
      monthlyLimit: 200000,
    });
  });

  test("a limit change is checked against the stored other limit: 400 daily_limit_exceeds_monthly, nothing changes", async () => {
    const user = await createUser(server.api);
    const wallet = await createWallet(server.api, {
      userId: user.id,
      dailyLimit: 100000,
      monthlyLimit: 200000,
    });
    const path = { params: { path: { id: wallet.id } } };
    expectSdkProblem(
      await server.api.PATCH("/v1/wallets/{id}", { ...path, body: { dailyLimit: 300000 } }),
      400,
      "daily_limit_exceeds_monthly",
    );
    expectSdkProblem(
      await server.api.PATCH("/v1/wallets/{id}", { ...path, body: { monthlyLimit: 50000, name: "Renamed" } }),
      400,
      "daily_limit_exceeds_monthly",
    );
    expect(await getWallet(server.api, wallet.id)).toMatchObject({
      dailyLimit: 100000,
      monthlyLimit: 200000,
      name: wallet.name,
    });
    // Both at once, consistent with each other, is fine.
    const both = await server.api.PATCH("/v1/wallets/{id}", {
      ...path,
      body: { dailyLimit: 300000, monthlyLimit: 300000 },
    });
    expect(both.response.status).toBe(200);
    expect(both.data).toMatchObject({ dailyLimit: 300000, monthlyLimit: 300000 });
  });

  test("a limit below 10000 is 400 invalid_limit and changes nothing", async () => {
    const user = await createUser(server.api);
    const wallet = await createWallet(server.api, { userId: user.id });
    expectSdkProblem(
      await server.api.PATCH("/v1/wallets/{id}", {
        params: { path: { id: wallet.id } },
        body: { dailyLimit: 9999, name: "Should not stick" },
      }),
      400,
      "invalid_limit",
    );
    expect(await getWallet(server.api, wallet.id)).toEqual(wallet);
  });

  test("another userId or teamId is 400 wallet_owner_immutable and changes nothing", async () => {
    const user = await createUser(server.api);
    const other = await createUser(server.api);
    const team = await createTeam(server.api);
    const otherTeam = await createTeam(server.api);
    const userWallet = await createWallet(server.api, { userId: user.id });
    const teamWallet = await createWallet(server.api, { teamId: team.id });

    for (const [wallet, body] of [
      [userWallet, { userId: other.id, name: "Moved" }],
      [userWallet, { teamId: team.id }],
      [teamWallet, { teamId: otherTeam.id }],
      [teamWallet, { userId: user.id }],
    ] as const) {
      expectSdkProblem(
        await server.api.PATCH("/v1/wallets/{id}", { params: { path: { id: wallet.id } }, body }),
        400,
        "wallet_owner_immutable",
      );
      expect(await getWallet(server.api, wallet.id)).toEqual(wallet);
    }
    expect(await walletIdsOf({ userId: other.id })).toEqual([]);
    expect(await walletIdsOf({ teamId: otherTeam.id })).toEqual([]);

    // Repeating the current owner is not a change.
    const same = await server.api.PATCH("/v1/wallets/{id}", {
      params: { path: { id: userWallet.id } },
      body: { userId: user.id, name: "Same owner" },
    });
    expect(same.response.status).toBe(200);
    expect(same.data).toMatchObject({ userId: user.id, teamId: null, name: "Same owner" });
  });

  test("a balance in the body is 400 (unknown field) and the balance stays as it was", async () => {
    const user = await createUser(server.api);
    const wallet = await createWallet(server.api, { userId: user.id, name: "Savings" });
    for (const body of [
      { balance: 1_000_000 },
      { availableBalance: 1_000_000 },
      { name: "Rich", balance: 1_000_000 },
      { currency: "USD" },
      { timezone: "Asia/Tokyo" },
    ]) {
      const response = await server.request(`/v1/wallets/${wallet.id}`, { method: "PATCH", json: body });
      await expectProblem(response, 400);
    }
    const after = await getWallet(server.api, wallet.id);
    expect(after).toEqual(wallet);
    expect(after.balance).toBe(0);
    expect(after.availableBalance).toBe(0);
  });

  test("an invalid status or name is 400 and changes nothing", async () => {
    const user = await createUser(server.api);
    const wallet = await createWallet(server.api, { userId: user.id });
    await expectProblem(
      await server.request(`/v1/wallets/${wallet.id}`, { method: "PATCH", json: { status: "closed" } }),
      400,
    );
    for (const name of ["", "  ", "x".repeat(201)]) {
      expect(
        (await server.api.PATCH("/v1/wallets/{id}", { params: { path: { id: wallet.id } }, body: { name } }))
          .response.status,
      ).toBe(400);
    }
    await expectProblem(
      await server.request(`/v1/wallets/${wallet.id}`, { method: "PATCH", body: "{not json" }),
      400,
    );
    expect(await getWallet(server.api, wallet.id)).toEqual(wallet);
  });

  test("concurrent limit changes never leave a daily limit above the monthly one", async () => {
    const user = await createUser(server.api);
    const wallet = await createWallet(server.api, {
      userId: user.id,
      dailyLimit: 100000,
      monthlyLimit: 500000,
    });
    const path = { params: { path: { id: wallet.id } } };
    const [raiseDaily, lowerMonthly] = await Promise.all([
      server.api.PATCH("/v1/wallets/{id}", { ...path, body: { dailyLimit: 400000 } }),
      server.api.PATCH("/v1/wallets/{id}", { ...path, body: { monthlyLimit: 300000 } }),
    ]);
    const statuses = [raiseDaily.response.status, lowerMonthly.response.status].sort();
    expect(statuses).toEqual([200, 400]);
    const after = await getWallet(server.api, wallet.id);
    expect(after.dailyLimit).toBeLessThanOrEqual(after.monthlyLimit);
    expect([
      { dailyLimit: 400000, monthlyLimit: 500000 },
      { dailyLimit: 100000, monthlyLimit: 300000 },
    ]).toContainEqual({ dailyLimit: after.dailyLimit, monthlyLimit: after.monthlyLimit });
  });

  test("an unknown wallet is 404 wallet_not_found", async () => {
    expectSdkProblem(
      await server.api.PATCH("/v1/wallets/{id}", {
        params: { path: { id: UNKNOWN_ID } },
        body: { name: "Ghost" },
      }),
      404,
      "wallet_not_found",
    );
  });
});

describe("wallets: delete", () => {
  test("soft-deletes the wallet and its cards: 200 with deletedAt, then 404 and gone from lists", async () => {
    const user = await createUser(server.api);
    const wallet = await createWallet(server.api, { userId: user.id });
    const keep = await createWallet(server.api, { userId: user.id });
    const card = await createCard(server.api, { walletId: wallet.id });
    const keptCard = await createCard(server.api, { walletId: keep.id });

    const deleted = await server.api.DELETE("/v1/wallets/{id}", { params: { path: { id: wallet.id } } });
    expect(deleted.response.status).toBe(200);
    expect(deleted.data?.id).toBe(wallet.id);
    expect(deleted.data?.deletedAt).not.toBeNull();
    expect(new Date(deleted.data?.deletedAt ?? "").toISOString()).toBe(deleted.data?.deletedAt ?? "");

    expectSdkProblem(
      await server.api.GET("/v1/wallets/{id}", { params: { path: { id: wallet.id } } }),
      404,
      "wallet_not_found",
    );
    expect(await walletIdsOf({ userId: user.id })).toEqual([keep.id]);
    expectSdkProblem(
      await server.api.GET("/v1/cards/{id}", { params: { path: { id: card.id } } }),
      404,
      "card_not_found",
    );
    const cards = await server.api.GET("/v1/cards", { params: { query: { walletId: wallet.id } } });
    expect(cards.data?.data).toEqual([]);
    // The other wallet and its card are untouched.
    expect((await getWallet(server.api, keep.id)).deletedAt).toBeNull();
    const kept = await server.api.GET("/v1/cards/{id}", { params: { path: { id: keptCard.id } } });
    expect(kept.data?.deletedAt).toBeNull();

    expectSdkProblem(
      await server.api.DELETE("/v1/wallets/{id}", { params: { path: { id: wallet.id } } }),
      404,
      "wallet_not_found",
    );
    expectSdkProblem(
      await server.api.PATCH("/v1/wallets/{id}", {
        params: { path: { id: wallet.id } },
        body: { name: "x" },
      }),
      404,
      "wallet_not_found",
    );
  });

  test("a deleted wallet takes no new cards", async () => {
    const user = await createUser(server.api);
    const wallet = await createWallet(server.api, { userId: user.id });
    await server.api.DELETE("/v1/wallets/{id}", { params: { path: { id: wallet.id } } });
    expectSdkProblem(
      await server.api.POST("/v1/cards", { body: { walletId: wallet.id } }),
      404,
      "wallet_not_found",
    );
  });

  test("DELETE /v1/users/{id}/wallets deletes every wallet of that user with their cards", async () => {
    const user = await createUser(server.api);
    const other = await createUser(server.api);
    const one = await createWallet(server.api, { userId: user.id });
    const two = await createWallet(server.api, { userId: user.id });
    const others = await createWallet(server.api, { userId: other.id });
    const card = await createCard(server.api, { walletId: two.id });

    const result = await server.api.DELETE("/v1/users/{id}/wallets", { params: { path: { id: user.id } } });
    expect(result.response.status).toBe(200);
    expect(result.data?.data.map((wallet) => wallet.id).sort()).toEqual([one.id, two.id].sort());
    expect(result.data?.data.every((wallet) => wallet.deletedAt !== null)).toBe(true);

    expect(await walletIdsOf({ userId: user.id })).toEqual([]);
    expect(await walletIdsOf({ userId: other.id })).toEqual([others.id]);
    expect(
      (await server.api.GET("/v1/cards/{id}", { params: { path: { id: card.id } } })).response.status,
    ).toBe(404);
    // The user remains.
    expect(
      (await server.api.GET("/v1/users/{id}", { params: { path: { id: user.id } } })).response.status,
    ).toBe(200);

    const again = await server.api.DELETE("/v1/users/{id}/wallets", { params: { path: { id: user.id } } });
    expect(again.response.status).toBe(200);
    expect(again.data?.data).toEqual([]);
  });

  test("DELETE /v1/teams/{id}/wallets deletes every wallet of that team with their cards", async () => {
    const team = await createTeam(server.api);
    const otherTeam = await createTeam(server.api);
    const one = await createWallet(server.api, { teamId: team.id });
    const two = await createWallet(server.api, { teamId: team.id });
    const others = await createWallet(server.api, { teamId: otherTeam.id });
    const card = await createCard(server.api, { walletId: one.id });

    const result = await server.api.DELETE("/v1/teams/{id}/wallets", { params: { path: { id: team.id } } });
    expect(result.response.status).toBe(200);
    expect(result.data?.data.map((wallet) => wallet.id).sort()).toEqual([one.id, two.id].sort());
    expect(result.data?.data.every((wallet) => wallet.deletedAt !== null)).toBe(true);

    expect(await walletIdsOf({ teamId: team.id })).toEqual([]);
    expect(await walletIdsOf({ teamId: otherTeam.id })).toEqual([others.id]);
    expect(
      (await server.api.GET("/v1/cards/{id}", { params: { path: { id: card.id } } })).response.status,
    ).toBe(404);
    expect(
      (await server.api.GET("/v1/teams/{id}", { params: { path: { id: team.id } } })).response.status,
    ).toBe(200);
  });

  test("bulk deletes of an unknown owner are 404 and a malformed id 400", async () => {
    const before = await rowCount(server.db, "wallets", { liveOnly: true });
    expectSdkProblem(
      await server.api.DELETE("/v1/users/{id}/wallets", { params: { path: { id: UNKNOWN_ID } } }),
      404,
      "user_not_found",
    );
    expectSdkProblem(
      await server.api.DELETE("/v1/teams/{id}/wallets", { params: { path: { id: UNKNOWN_ID } } }),
      404,
      "team_not_found",
    );
    expect(
      (await server.api.DELETE("/v1/users/{id}/wallets", { params: { path: { id: "123" } } })).response
        .status,
    ).toBe(400);
    expect(await rowCount(server.db, "wallets", { liveOnly: true })).toBe(before);
  });
});
