/**
 * Spend controls and the authorization lifecycle (contract §8): merchant categories, limits per
 * interval with and without categories, decline detail, the preview with its headroom and reset times
 * (across a daylight-saving change), increments and partial voids.
 *
 * The wallets live in Europe/Berlin, and the clock starts on Saturday 29 March 2031, the day before
 * the clocks go forward (Sunday 30 March, 02:00 CET → 03:00 CEST).
 */
import { beforeEach, describe, expect, test } from "bun:test";
import pg from "pg";
import {
  authorize,
  expectLedgerConsistent,
  fundedWalletWithCard,
  getCard,
  getWallet,
  walletTransactions,
} from "../helpers/fixtures.ts";
import { brokenInvariants } from "../helpers/invariants.ts";
import { expectProblem } from "../helpers/problem-details.ts";
import { type Schemas, TestClock, useServer } from "../helpers/server.ts";

const SATURDAY_NOON = "2031-03-29T12:00:00.000Z";
const clock = new TestClock(new Date(SATURDAY_NOON));
const server = useServer({}, { clock });
const BERLIN = { timezone: "Europe/Berlin" };

beforeEach(() => clock.set(SATURDAY_NOON));

type ControlsInput = NonNullable<NonNullable<Parameters<typeof fundedWalletWithCard>[2]>["spendingControls"]>;

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

const patchCard = (id: string, body: Record<string, unknown>) =>
  server.request(`/v1/cards/${id}`, { method: "PATCH", json: body });

const spend = (amount: number, category?: string) => ({
  amount,
  merchant: { name: "Shop", ...(category === undefined ? {} : { category }) },
});

async function preview(cardId: string, amount: number, category?: string) {
  return json<Schemas["AuthorizationPreview"]>(
    await server.request(`/v1/cards/${cardId}/authorizations/preview`, {
      method: "POST",
      json: spend(amount, category),
    }),
    200,
  );
}

const increment = (id: string, amount: number, key?: string) =>
  server.request(`/v1/authorizations/${id}/increment`, {
    method: "POST",
    json: { amount },
    headers: key === undefined ? {} : { "Idempotency-Key": key },
  });

const voidPart = (id: string, amount?: number) =>
  server.request(`/v1/authorizations/${id}/void`, {
    method: "POST",
    json: amount === undefined ? {} : { amount },
  });

/** A Berlin wallet holding `funds` and a card with `limits` (besides the defaults) and category rules. */
async function cardWith(funds: number, spendingControls: ControlsInput = {}) {
  return fundedWalletWithCard(server.api, funds, { spendingControls }, BERLIN);
}

describe("setting spending controls", () => {
  test("a card lists its daily and monthly limits with the others; the named ones set dailyLimit and monthlyLimit", async () => {
    const { card } = await cardWith(0, {
      blockedCategories: ["7995"],
      limits: [
        { amount: 30_000, interval: "weekly", categories: ["5814", "5812"] },
        { amount: 120_000, interval: "daily" },
      ],
    });
    expect(card.dailyLimit).toBe(120_000);
    expect(card.spendingControls).toEqual({
      allowedCategories: null,
      blockedCategories: ["7995"],
      limits: [
        { amount: 120_000, interval: "daily", categories: null },
        { amount: 500_000, interval: "monthly", categories: null },
        { amount: 30_000, interval: "weekly", categories: ["5812", "5814"] },
      ],
    });
    const patched = await json<Schemas["Card"]>(await patchCard(card.id, { monthlyLimit: 600_000 }), 200);
    expect(patched.spendingControls.limits[1]).toEqual({
      amount: 600_000,
      interval: "monthly",
      categories: null,
    });
    expect(patched.spendingControls.limits).toHaveLength(3);
  });

  test("contradicting, duplicate or too many limits are 400 and change nothing", async () => {
    const { card } = await cardWith(0);
    await expectProblem(
      await patchCard(card.id, {
        dailyLimit: 20_000,
        spendingControls: { limits: [{ amount: 30_000, interval: "daily" }] },
      }),
      400,
      "conflicting_limits",
    );
    await expectProblem(
      await patchCard(card.id, {
        spendingControls: {
          limits: [
            { amount: 1, interval: "weekly", categories: ["a", "b"] },
            { amount: 2, interval: "weekly", categories: ["b", "a"] },
          ],
        },
      }),
      400,
      "duplicate_spending_limit",
    );
    const nineteen = Array.from({ length: 19 }, (_, i) => ({
      amount: 1000 + i,
      interval: "weekly",
      categories: [`c${i}`],
    }));
    await expectProblem(
      await patchCard(card.id, { spendingControls: { limits: nineteen } }),
      400,
      "too_many_spending_limits",
    );
    await expectProblem(
      await patchCard(card.id, { spendingControls: { limits: [{ amount: 5000, interval: "daily" }] } }),
      400,
      "invalid_limit",
    );
    await expectProblem(
      await patchCard(card.id, { spendingControls: { limits: [{ amount: 1, interval: "hourly" }] } }),
      400,
      "validation_failed",
    );
    expect((await getCard(server.api, card.id)).spendingControls).toEqual({
      allowedCategories: null,
      blockedCategories: [],
      limits: [
        { amount: 500_000, interval: "daily", categories: null },
        { amount: 500_000, interval: "monthly", categories: null },
      ],
    });
  });
});

describe("category rules", () => {
  test("allowed and blocked categories decline with merchant_category_not_allowed, the card's before the wallet's", async () => {
    const { wallet, card } = await cardWith(100_000, { allowedCategories: ["5812", "5814"] });
    const before = await walletTransactions(server.api, wallet.id);
    const noCategory = await authorize(server.api, card.id, 1000);
    expect(noCategory).toMatchObject({
      status: "declined",
      declineReason: "merchant_category_not_allowed",
      declineDetail: {
        scope: "card",
        interval: null,
        limit: null,
        spent: null,
        categories: ["5812", "5814"],
      },
    });
    expect((await authorize(server.api, card.id, 1000, { category: "7995" })).declineReason).toBe(
      "merchant_category_not_allowed",
    );
    expect((await authorize(server.api, card.id, 1000, { category: "5812" })).status).toBe("captured");

    await server.request(`/v1/wallets/${wallet.id}`, {
      method: "PATCH",
      json: { spendingControls: { blockedCategories: ["5812"] } },
    });
    const walletBlocked = await authorize(server.api, card.id, 1000, { category: "5812" });
    expect(walletBlocked.declineDetail).toEqual({
      scope: "wallet",
      interval: null,
      limit: null,
      spent: null,
      categories: ["5812"],
    });
    // Frozen wallets come first: the category rule is checked right after wallet_frozen.
    await server.request(`/v1/wallets/${wallet.id}`, { method: "PATCH", json: { status: "frozen" } });
    expect((await authorize(server.api, card.id, 1000, { category: "7995" })).declineReason).toBe(
      "wallet_frozen",
    );
    expect(await walletTransactions(server.api, wallet.id)).toHaveLength(before.length + 1);
    await expectLedgerConsistent(server.api, wallet.id);
  });
});

describe("limits per interval", () => {
  test("a per-authorization limit caps one spend and never fills up", async () => {
    const { card } = await cardWith(100_000, { limits: [{ amount: 5000, interval: "per_authorization" }] });
    for (let i = 0; i < 3; i++) expect((await authorize(server.api, card.id, 5000)).status).toBe("captured");
    expect(await authorize(server.api, card.id, 5001)).toMatchObject({
      declineReason: "spending_limit_exceeded",
      declineDetail: {
        scope: "card",
        interval: "per_authorization",
        limit: 5000,
        spent: null,
        categories: null,
      },
    });
  });

  test("a weekly categorised limit counts only its categories and resets at Monday midnight in the wallet's zone, across the DST change", async () => {
    const { card } = await cardWith(1_000_000, {
      limits: [{ amount: 10_000, interval: "weekly", categories: ["5812"] }],
    });
    expect((await authorize(server.api, card.id, 8000, { category: "5812" })).status).toBe("captured");
    expect((await authorize(server.api, card.id, 8000, { category: "4111" })).status).toBe("captured");
    const over = await authorize(server.api, card.id, 2001, { category: "5812" });
    expect(over).toMatchObject({
      declineReason: "spending_limit_exceeded",
      declineDetail: { scope: "card", interval: "weekly", limit: 10_000, spent: 8000, categories: ["5812"] },
    });
    // Monday 00:00 CEST is Sunday 22:00 UTC, one hour earlier than it would have been a week ago.
    clock.set("2031-03-30T21:59:59.999Z");
    expect((await authorize(server.api, card.id, 2001, { category: "5812" })).declineReason).toBe(
      "spending_limit_exceeded",
    );
    clock.set("2031-03-30T22:00:00.000Z");
    expect((await authorize(server.api, card.id, 10_000, { category: "5812" })).status).toBe("captured");
  });

  test("a yearly limit resets on 1 January local time; an all-time limit never does", async () => {
    clock.set("2031-12-31T12:00:00.000Z");
    const { wallet, card } = await cardWith(1_000_000, {
      limits: [
        { amount: 50_000, interval: "yearly" },
        { amount: 70_000, interval: "all_time" },
      ],
    });
    expect((await authorize(server.api, card.id, 40_000)).status).toBe("captured");
    expect((await authorize(server.api, card.id, 10_001)).declineDetail).toMatchObject({
      interval: "yearly",
      spent: 40_000,
    });
    clock.set("2031-12-31T22:59:59.999Z");
    expect((await authorize(server.api, card.id, 10_001)).declineDetail?.interval).toBe("yearly");
    clock.set("2031-12-31T23:00:00.000Z"); // midnight in Berlin (CET)
    expect((await authorize(server.api, card.id, 30_000)).status).toBe("captured");
    expect((await authorize(server.api, card.id, 1)).declineDetail).toMatchObject({
      scope: "card",
      interval: "all_time",
      limit: 70_000,
      spent: 70_000,
    });
    // A refund gives the spend back to every window it counted in.
    const [spendRow] = (await walletTransactions(server.api, wallet.id)).filter(
      (t) => t.type === "card_spend",
    );
    await server.request(`/v1/transactions/${spendRow?.id}/refunds`, {
      method: "POST",
      json: { amount: 5000 },
    });
    expect((await authorize(server.api, card.id, 5000)).status).toBe("captured");
    expect(await brokenInvariants(server.db)).toEqual([]);
  });

  test("a limit without categories set later counts the spend already made in its window; removed and set again, it counts it again", async () => {
    clock.set("2031-03-23T12:00:00.000Z"); // Sunday, the week before
    const { wallet, card } = await cardWith(1_000_000);
    expect((await authorize(server.api, card.id, 1000)).status).toBe("captured");
    clock.set("2031-03-24T08:00:00.000Z"); // Monday
    const held = await authorize(server.api, card.id, 3000, { capture: false });
    expect(held.status).toBe("pending");
    clock.set(SATURDAY_NOON);
    expect((await authorize(server.api, card.id, 2000)).status).toBe("captured");

    const weekly = (amount: number) => ({ spendingControls: { limits: [{ amount, interval: "weekly" }] } });
    expect((await patchCard(card.id, weekly(6000))).status).toBe(200);
    expect(await authorize(server.api, card.id, 1001)).toMatchObject({
      declineReason: "spending_limit_exceeded",
      declineDetail: { scope: "card", interval: "weekly", limit: 6000, spent: 5000 },
    });
    // A partial void gives its amount back to the window the limit filled.
    expect((await voidPart(held.id, 1000)).status).toBe(200);
    expect((await authorize(server.api, card.id, 2000)).status).toBe("captured");
    expect((await authorize(server.api, card.id, 1)).declineDetail).toMatchObject({ spent: 6000 });

    // Without the limit nothing caps the week; set again, the limit counts the whole week again.
    expect((await patchCard(card.id, { spendingControls: { limits: [] } })).status).toBe(200);
    expect((await authorize(server.api, card.id, 9000)).status).toBe("captured");
    expect((await patchCard(card.id, weekly(16_000))).status).toBe(200);
    const weekHeadroom = (await preview(card.id, 1)).headroom.find((h) => h.interval === "weekly");
    expect(weekHeadroom).toMatchObject({ scope: "card", limit: 16_000, spent: 15_000 });

    // The wallet's all-time limit, set now, counts every spend of its cards since the first.
    const walletPatch = await server.request(`/v1/wallets/${wallet.id}`, {
      method: "PATCH",
      json: { spendingControls: { limits: [{ amount: 100_000, interval: "all_time" }] } },
    });
    expect(walletPatch.status).toBe(200);
    const allTime = (await preview(card.id, 1)).headroom.find((h) => h.interval === "all_time");
    expect(allTime).toMatchObject({ scope: "wallet", limit: 100_000, spent: 16_000 });
    expect(await brokenInvariants(server.db)).toEqual([]);
  });

  test("wallet limits with categories cap the spend of all its cards", async () => {
    const { wallet, card } = await cardWith(1_000_000);
    await server.request(`/v1/wallets/${wallet.id}`, {
      method: "PATCH",
      json: { spendingControls: { limits: [{ amount: 9000, interval: "monthly", categories: ["5411"] }] } },
    });
    const other = await json<Schemas["Card"]>(
      await server.request("/v1/cards", { method: "POST", json: { walletId: wallet.id } }),
      201,
    );
    expect((await authorize(server.api, card.id, 5000, { category: "5411" })).status).toBe("captured");
    expect((await authorize(server.api, other.id, 5000, { category: "5411" })).declineDetail).toEqual({
      scope: "wallet",
      interval: "monthly",
      limit: 9000,
      spent: 5000,
      categories: ["5411"],
    });
  });
});

describe("preview", () => {
  test("tells the decision and the headroom of every limit, with resets in the wallet's zone across DST, and changes nothing", async () => {
    const { wallet, card } = await cardWith(50_000, {
      limits: [
        { amount: 20_000, interval: "weekly", categories: ["5812"] },
        { amount: 5000, interval: "per_authorization" },
        { amount: 100_000, interval: "yearly" },
        { amount: 200_000, interval: "all_time" },
      ],
    });
    await authorize(server.api, card.id, 3000, { category: "5812", capture: false });
    const walletBefore = await getWallet(server.api, wallet.id);
    const cardBefore = await getCard(server.api, card.id);
    const transactionsBefore = await walletTransactions(server.api, wallet.id);

    const approved = await preview(card.id, 4000, "5812");
    expect(approved.approved).toBe(true);
    expect(approved.declineReason).toBeNull();
    const cardHeadroom = approved.headroom.filter((h) => h.scope === "card");
    expect(cardHeadroom).toEqual([
      {
        scope: "card",
        interval: "per_authorization",
        categories: null,
        limit: 5000,
        spent: 0,
        remaining: 5000,
        resetsAt: null,
      },
      // Saturday in CET: the day ends at 23:00 UTC, the week (Monday, now CEST) at 22:00 UTC on Sunday.
      {
        scope: "card",
        interval: "daily",
        categories: null,
        limit: 500_000,
        spent: 3000,
        remaining: 497_000,
        resetsAt: "2031-03-29T23:00:00.000Z",
      },
      {
        scope: "card",
        interval: "weekly",
        categories: ["5812"],
        limit: 20_000,
        spent: 3000,
        remaining: 17_000,
        resetsAt: "2031-03-30T22:00:00.000Z",
      },
      {
        scope: "card",
        interval: "monthly",
        categories: null,
        limit: 500_000,
        spent: 3000,
        remaining: 497_000,
        resetsAt: "2031-03-31T22:00:00.000Z",
      },
      {
        scope: "card",
        interval: "yearly",
        categories: null,
        limit: 100_000,
        spent: 3000,
        remaining: 97_000,
        resetsAt: "2031-12-31T23:00:00.000Z",
      },
      {
        scope: "card",
        interval: "all_time",
        categories: null,
        limit: 200_000,
        spent: 3000,
        remaining: 197_000,
        resetsAt: null,
      },
    ]);
    expect(approved.headroom.filter((h) => h.scope === "wallet").map((h) => h.interval)).toEqual([
      "daily",
      "monthly",
    ]);

    const declined = await preview(card.id, 5001, "5812");
    expect(declined).toMatchObject({
      approved: false,
      declineReason: "spending_limit_exceeded",
      declineDetail: { scope: "card", interval: "per_authorization", limit: 5000 },
    });
    expect((await preview(card.id, 4999, "7995")).approved).toBe(true);

    expect(await getWallet(server.api, wallet.id)).toEqual(walletBefore);
    expect(await getCard(server.api, card.id)).toEqual(cardBefore);
    expect(await walletTransactions(server.api, wallet.id)).toEqual(transactionsBefore);
    const listed = await server.api.GET("/v1/cards/{id}/authorizations", {
      params: { path: { id: card.id } },
    });
    expect(listed.data?.data).toHaveLength(1);

    // On Sunday (CEST from 02:00) the day ends at 22:00 UTC.
    clock.set("2031-03-30T10:00:00.000Z");
    const sunday = await preview(card.id, 1000);
    expect(sunday.headroom.find((h) => h.scope === "card" && h.interval === "daily")?.resetsAt).toBe(
      "2031-03-30T22:00:00.000Z",
    );
  });

  test("an unknown card is 404, a bad body 400", async () => {
    await expectProblem(
      await server.request("/v1/cards/01890f6e-0000-7000-8000-000000000000/authorizations/preview", {
        method: "POST",
        json: spend(100),
      }),
      404,
      "card_not_found",
    );
    const { card } = await cardWith(0);
    await expectProblem(
      await server.request(`/v1/cards/${card.id}/authorizations/preview`, {
        method: "POST",
        json: { amount: 0 },
      }),
      400,
    );
  });
});

describe("increments and partial voids", () => {
  test("an increment raises the hold, checked like a new spend; a refused one is 422 with the reason and changes nothing", async () => {
    const { wallet, card } = await cardWith(20_000, {
      limits: [{ amount: 25_000, interval: "weekly", categories: ["7011"] }],
    });
    const hold = await authorize(server.api, card.id, 10_000, { capture: false, category: "7011" });
    const raised = await json<Schemas["Authorization"]>(await increment(hold.id, 4000, "inc-1"), 200);
    expect(raised).toMatchObject({ status: "pending", amount: 14_000 });
    // A retry with the same key raises nothing more.
    const replay = await increment(hold.id, 4000, "inc-1");
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect((await getWallet(server.api, wallet.id)).availableBalance).toBe(6000);

    await expectProblem(await increment(hold.id, 11_001), 422, "spending_limit_exceeded");
    await expectProblem(await increment(hold.id, 6001), 422, "insufficient_funds");
    await patchCard(card.id, { status: "frozen" });
    await expectProblem(await increment(hold.id, 1), 422, "card_inactive");
    await patchCard(card.id, { status: "active" });
    expect((await getWallet(server.api, wallet.id)).availableBalance).toBe(6000);

    const captured = await json<Schemas["Authorization"]>(
      await server.request(`/v1/authorizations/${hold.id}/capture`, {
        method: "POST",
        json: { amount: 14_000 },
      }),
      200,
    );
    expect(captured).toMatchObject({ status: "captured", capturedAmount: 14_000 });
    await expectProblem(await increment(hold.id, 1), 409, "authorization_not_pending");
    expect(await brokenInvariants(server.db)).toEqual([]);
    await expectLedgerConsistent(server.api, wallet.id);
  });

  test("a void with an amount releases that much and leaves the rest pending; more than held is 422", async () => {
    const { wallet, card } = await cardWith(20_000);
    const hold = await authorize(server.api, card.id, 10_000, { capture: false });
    const lowered = await json<Schemas["Authorization"]>(await voidPart(hold.id, 3000), 200);
    expect(lowered).toMatchObject({ status: "pending", amount: 7000 });
    expect(await getWallet(server.api, wallet.id)).toMatchObject({
      availableBalance: 13_000,
      spentToday: 7000,
    });
    await expectProblem(await voidPart(hold.id, 7001), 422, "void_exceeds_authorization");
    expect((await json<Schemas["Authorization"]>(await voidPart(hold.id, 7000), 200)).status).toBe("voided");
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ availableBalance: 20_000, spentToday: 0 });
    expect(await brokenInvariants(server.db)).toEqual([]);
  });

  test("a hold raised and partly released expires whole: held, windows and ledger exact", async () => {
    const { wallet, card } = await cardWith(20_000, {
      limits: [{ amount: 50_000, interval: "weekly", categories: ["5812"] }],
    });
    const hold = await authorize(server.api, card.id, 5000, { capture: false, category: "5812" });
    await json<Schemas["Authorization"]>(await increment(hold.id, 2000), 200);
    await json<Schemas["Authorization"]>(await voidPart(hold.id, 1000), 200);
    expect((await preview(card.id, 1, "5812")).headroom.find((h) => h.categories !== null)?.spent).toBe(6000);
    clock.set(new Date(Date.parse(SATURDAY_NOON) + server.config.AUTH_HOLD_TTL * 1000));
    // The next money decision on the wallet expires the hold first.
    expect((await authorize(server.api, card.id, 100, { category: "5812" })).status).toBe("captured");
    expect(
      (await json<Schemas["Authorization"]>(await server.request(`/v1/authorizations/${hold.id}`), 200))
        .status,
    ).toBe("expired");
    expect((await preview(card.id, 1, "5812")).headroom.find((h) => h.categories !== null)?.spent).toBe(100);
    expect(await getWallet(server.api, wallet.id)).toMatchObject({
      balance: 19_900,
      availableBalance: 19_900,
    });
    expect(await brokenInvariants(server.db)).toEqual([]);
  });

  test("an increment of a hold made before a weekly limit was set counts only in the windows kept", async () => {
    clock.set("2031-03-30T21:00:00.000Z"); // Sunday 23:00 in Berlin: the last hour of the week
    const { card } = await cardWith(1_000_000);
    const hold = await authorize(server.api, card.id, 3000, { capture: false });
    clock.set("2031-03-31T10:00:00.000Z"); // the next week
    const weekly = { spendingControls: { limits: [{ amount: 10_000, interval: "weekly" }] } };
    expect((await patchCard(card.id, weekly)).status).toBe(200);
    expect((await increment(hold.id, 500)).status).toBe(200);
    expect((await authorize(server.api, card.id, 10_000)).status).toBe("captured");
    expect(await brokenInvariants(server.db)).toEqual([]);
  });

  test("an increment past the hold's expiry is 409 authorization_expired", async () => {
    const { card } = await cardWith(20_000);
    const hold = await authorize(server.api, card.id, 1000, { capture: false });
    clock.set(new Date(Date.parse(SATURDAY_NOON) + server.config.AUTH_HOLD_TTL * 1000));
    await expectProblem(await increment(hold.id, 1), 409, "authorization_expired");
  });
});

describe("200 mixed lifecycle operations at once", () => {
  test("held = Σ pending, every window = Σ approved spend, the ledger exact, with limits set and removed meanwhile", async () => {
    const categorised: NonNullable<ControlsInput["limits"]> = [
      { amount: 400_000, interval: "weekly", categories: ["5812"] },
      { amount: 900_000, interval: "yearly", categories: ["5812", "7011"] },
    ];
    const { wallet, card } = await cardWith(1_000_000, { limits: categorised });
    // Limits without categories come and go while the spends are decided: each fills its window or drops it.
    const cardLimits = (i: number) =>
      patchCard(card.id, {
        spendingControls: {
          limits: i % 40 < 20 ? [...categorised, { amount: 900_000, interval: "weekly" }] : categorised,
        },
      });
    const walletLimits = (i: number) =>
      server.request(`/v1/wallets/${wallet.id}`, {
        method: "PATCH",
        json: {
          spendingControls: { limits: i % 40 < 20 ? [{ amount: 5_000_000, interval: "all_time" }] : [] },
        },
      });
    const holds: Schemas["Authorization"][] = [];
    for (let i = 0; i < 40; i++)
      holds.push(
        await authorize(server.api, card.id, 5000, { capture: false, category: i % 2 ? "5812" : "7011" }),
      );
    const operations = Array.from({ length: 200 }, (_, i) => {
      const hold = holds[i % holds.length];
      const id = hold?.id ?? "";
      if (i % 10 === 7) return i % 20 === 7 ? cardLimits(i) : walletLimits(i);
      switch (i % 5) {
        case 0:
          return increment(id, 700);
        case 1:
          return voidPart(id, 300);
        case 2:
          return server.request(`/v1/cards/${card.id}/authorizations`, {
            method: "POST",
            json: { ...spend(1500, "5812"), capture: i % 2 === 0 },
          });
        case 3:
          return server.request(`/v1/authorizations/${id}/capture`, { method: "POST", json: {} });
        default:
          return i % 10 === 4 ? voidPart(id) : preview(card.id, 100, "5812");
      }
    });
    const results = await Promise.all(operations);
    for (const result of results) {
      if (result instanceof Response) expect([200, 201, 409, 422]).toContain(result.status);
    }
    expect(await brokenInvariants(server.db)).toEqual([]);
    await expectLedgerConsistent(server.api, wallet.id);
  });
});

/**
 * Sends `send` while another connection holds the row lock of `walletId`, runs `meanwhile` once the
 * request waits for it, then lets the lock go; the request's answer.
 */
async function whileWalletLocked<T>(walletId: string, send: () => Promise<T>, meanwhile: () => void) {
  const locker = new pg.Client({ connectionString: server.config.DATABASE_URL });
  await locker.connect();
  try {
    await locker.query("BEGIN");
    await locker.query("SELECT 1 FROM wallets WHERE id = $1 FOR UPDATE", [walletId]);
    const waiting = send();
    await Bun.sleep(300);
    meanwhile();
    await locker.query("COMMIT");
    return await waiting;
  } finally {
    await locker.query("ROLLBACK").catch(() => undefined);
    await locker.end();
  }
}

describe.skipIf(process.env.DATABASE_URL === undefined)("a spend that waits for its wallet's lock", () => {
  test("across local midnight it is decided on the new day: the day's limit is fresh, spentToday counts it", async () => {
    clock.set("2031-03-29T22:59:59.000Z"); // Saturday 23:59:59 in Berlin (CET)
    const { wallet, card } = await fundedWalletWithCard(
      server.api,
      20_000,
      { dailyLimit: 10_000, monthlyLimit: 100_000 },
      BERLIN,
    );
    expect((await authorize(server.api, card.id, 10_000)).status).toBe("captured");
    const waited = await whileWalletLocked(
      wallet.id,
      () => authorize(server.api, card.id, 500),
      () => clock.set("2031-03-29T23:00:00.000Z"), // Sunday 00:00 in Berlin, while the spend waits
    );
    expect(waited).toMatchObject({
      status: "captured",
      declineReason: null,
      createdAt: "2031-03-29T23:00:00.000Z",
    });
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ balance: 9500, spentToday: 500 });
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 500 });
    expect(await brokenInvariants(server.db)).toEqual([]);
  });

  test("a hold that runs out while it waits is expired first, and its money is spendable", async () => {
    const { wallet, card } = await cardWith(10_000);
    const hold = await authorize(server.api, card.id, 6000, { capture: false });
    clock.set(new Date(Date.parse(SATURDAY_NOON) + server.config.AUTH_HOLD_TTL * 1000 - 1));
    const waited = await whileWalletLocked(
      wallet.id,
      () => authorize(server.api, card.id, 8000),
      () => clock.advance(1), // the hold's expiry, while the spend waits
    );
    expect(waited).toMatchObject({ status: "captured", declineReason: null });
    expect(
      (await json<Schemas["Authorization"]>(await server.request(`/v1/authorizations/${hold.id}`), 200))
        .status,
    ).toBe("expired");
    expect(await getWallet(server.api, wallet.id)).toMatchObject({
      balance: 2000,
      availableBalance: 2000,
      spentToday: 8000,
    });
    expect(await brokenInvariants(server.db)).toEqual([]);
  });
});
