/**
 * Card authorizations through the HTTP API (contract §3 "Card authorizations"): the decision and its
 * order of decline reasons, holds, capture, void, hold expiry and the limit windows in the wallet's
 * time zone.
 *
 * The server runs with AUTH_HOLD_TTL=60 and a clock the tests set, so a hold expires when a test moves
 * the clock a minute on.
 */
import { describe, expect, test } from "bun:test";
import { createServices } from "../../src/app.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { loadSecrets } from "../../src/platform/secrets.ts";
import {
  authorize,
  createCard,
  expectLedgerConsistent,
  fundedWallet,
  fundedWalletWithCard,
  getCard,
  getWallet,
  topUp,
  uniqueCardNumber,
  walletTransactions,
} from "../helpers/fixtures.ts";
import { expectProblem, expectSdkProblem } from "../helpers/problem-details.ts";
import { countOf } from "../helpers/rows.ts";
import { type Schemas, TestClock, useServer } from "../helpers/server.ts";
import { UNKNOWN_ID, UUID_PATTERN } from "../helpers/values.ts";

const HOLD_TTL_SECONDS = 60;

const clock = new TestClock();
const server = useServer({ AUTH_HOLD_TTL: String(HOLD_TTL_SECONDS) }, { clock });

/** The money a client can see on a wallet and a card: none of it may move on a decline or a refusal. */
async function money(walletId: string, cardId: string) {
  const wallet = await getWallet(server.api, walletId);
  const card = await getCard(server.api, cardId);
  return {
    balance: wallet.balance,
    availableBalance: wallet.availableBalance,
    walletSpentToday: wallet.spentToday,
    walletSpentThisMonth: wallet.spentThisMonth,
    cardSpentToday: card.spentToday,
    cardSpentThisMonth: card.spentThisMonth,
    transactions: await walletTransactions(server.api, walletId),
  };
}

async function authorizationsOf(
  cardId: string,
  query: { status?: Schemas["Authorization"]["status"]; sort?: string; limit?: number } = {},
): Promise<Schemas["Authorization"][]> {
  const { data, response, error } = await server.api.GET("/v1/cards/{id}/authorizations", {
    params: { path: { id: cardId }, query: { limit: 100, ...query } },
  });
  if (data === undefined)
    throw new Error(`listing authorizations: ${response.status} ${JSON.stringify(error)}`);
  return data.data;
}

async function getAuthorization(id: string): Promise<Schemas["Authorization"]> {
  const { data, response } = await server.api.GET("/v1/authorizations/{id}", { params: { path: { id } } });
  if (data === undefined) throw new Error(`GET authorization ${id} answered ${response.status}`);
  return data;
}

const capture = (id: string, amount?: number) =>
  server.api.POST("/v1/authorizations/{id}/capture", {
    params: { path: { id } },
    body: amount === undefined ? {} : { amount },
  });

const voidHold = (id: string) =>
  server.api.POST("/v1/authorizations/{id}/void", { params: { path: { id } } });

const patchCard = (
  id: string,
  body: { status?: "active" | "frozen" | "cancelled"; dailyLimit?: number; monthlyLimit?: number },
) => server.api.PATCH("/v1/cards/{id}", { params: { path: { id } }, body });

const patchWallet = (
  id: string,
  body: { status?: "active" | "frozen"; dailyLimit?: number; monthlyLimit?: number },
) => server.api.PATCH("/v1/wallets/{id}", { params: { path: { id } }, body });

/** Runs the hold-expiry job once, as the service's background timer does. */
async function expireHolds(): Promise<number> {
  const logger = createLogger(server.config);
  const services = await createServices({
    config: server.config,
    logger,
    db: server.db,
    secrets: await loadSecrets(server.config, logger, server.db),
    clock: clock.now,
  });
  return services.authorizations.expireHolds();
}

/** Authorizes and asserts the spend was declined with `reason`, moving no money. */
async function expectDeclined(
  walletId: string,
  cardId: string,
  amount: number,
  reason: NonNullable<Schemas["Authorization"]["declineReason"]>,
): Promise<Schemas["Authorization"]> {
  const before = await money(walletId, cardId);
  const declined = await authorize(server.api, cardId, amount);
  expect(declined, `expected ${reason}`).toMatchObject({
    status: "declined",
    declineReason: reason,
    amount,
    capturedAmount: 0,
    cardId,
    walletId,
  });
  expect(await money(walletId, cardId)).toEqual(before);
  return declined;
}

describe("authorize: approved", () => {
  test("captured by default: 201 captured, one card_spend transaction, balance and limits move", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 20000);
    clock.advance(1000);
    const result = await server.api.POST("/v1/cards/{id}/authorizations", {
      params: { path: { id: card.id } },
      body: { amount: 4500, merchant: { name: "Book Shop", category: "5942" } },
    });
    expect(result.response.status).toBe(201);
    const authorization = result.data;
    if (authorization === undefined) throw new Error("no authorization");
    expect(authorization.id).toMatch(UUID_PATTERN);
    expect(authorization).toMatchObject({
      cardId: card.id,
      walletId: wallet.id,
      amount: 4500,
      currency: "SGD",
      merchant: { name: "Book Shop", category: "5942" },
      status: "captured",
      declineReason: null,
      capturedAmount: 4500,
      createdAt: clock.now().toISOString(),
    });
    expect(await getAuthorization(authorization.id)).toEqual(authorization);

    const spends = await walletTransactions(server.api, wallet.id);
    const spend = spends.filter((transaction) => transaction.type === "card_spend");
    expect(spend.length).toBe(1);
    expect(spend[0]).toMatchObject({
      walletId: wallet.id,
      cardId: card.id,
      authorizationId: authorization.id,
      transferId: null,
      amount: 4500,
      currency: "SGD",
      balanceAfter: 15500,
    });
    expect(await getWallet(server.api, wallet.id)).toMatchObject({
      balance: 15500,
      availableBalance: 15500,
      spentToday: 4500,
      spentThisMonth: 4500,
    });
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 4500, spentThisMonth: 4500 });
    await expectLedgerConsistent(server.api, wallet.id);
  });

  test("capture: false holds the money: pending, availableBalance down, balance unchanged, counts toward limits", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 20000, { dailyLimit: 10000 });
    const hold = await authorize(server.api, card.id, 6000, { capture: false, merchant: "Hotel" });
    expect(hold).toMatchObject({
      status: "pending",
      declineReason: null,
      capturedAmount: 0,
      amount: 6000,
      merchant: { name: "Hotel", category: null },
    });
    expect(Date.parse(hold.expiresAt) - Date.parse(hold.createdAt)).toBe(HOLD_TTL_SECONDS * 1000);
    expect(await getWallet(server.api, wallet.id)).toMatchObject({
      balance: 20000,
      availableBalance: 14000,
      spentToday: 6000,
      spentThisMonth: 6000,
    });
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 6000, spentThisMonth: 6000 });
    expect((await walletTransactions(server.api, wallet.id)).map((transaction) => transaction.type)).toEqual([
      "topup",
    ]);
    // The hold counts toward the card's daily limit: 6000 + 6000 > 10000.
    await expectDeclined(wallet.id, card.id, 6000, "card_daily_limit_exceeded");
    expect((await authorize(server.api, card.id, 4000)).status).toBe("captured");
    await expectLedgerConsistent(server.api, wallet.id);
  });

  test("a spend of exactly the available balance and the limit is approved", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 10000, {
      dailyLimit: 10000,
      monthlyLimit: 10000,
    });
    expect((await authorize(server.api, card.id, 10000)).status).toBe("captured");
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ balance: 0, availableBalance: 0 });
  });

  test("the authorization carries the wallet's currency", async () => {
    const { card } = await fundedWalletWithCard(server.api, 5000, {}, { currency: "EUR" });
    expect((await authorize(server.api, card.id, 100)).currency).toBe("EUR");
  });

  test("concurrent spends never pass the card's daily limit", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 100000, { dailyLimit: 10000 });
    const results = await Promise.all(Array.from({ length: 20 }, () => authorize(server.api, card.id, 1000)));
    expect(results.filter((result) => result.status === "captured").length).toBe(10);
    const declined = results.filter((result) => result.status === "declined");
    expect(declined.length).toBe(10);
    expect(new Set(declined.map((result) => result.declineReason))).toEqual(
      new Set(["card_daily_limit_exceeded"]),
    );
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 10000 });
    expect(await expectLedgerConsistent(server.api, wallet.id)).toMatchObject({ balance: 90000 });
  });

  test("concurrent holds never pass the available balance", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 5000);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => authorize(server.api, card.id, 1000, { capture: false })),
    );
    expect(results.filter((result) => result.status === "pending").length).toBe(5);
    expect(results.filter((result) => result.declineReason === "insufficient_funds").length).toBe(5);
    expect(await expectLedgerConsistent(server.api, wallet.id)).toMatchObject({
      balance: 5000,
      availableBalance: 0,
    });
  });
});

describe("authorize: refused requests", () => {
  test("an unknown, malformed or deleted card is 404 / 400 and records nothing", async () => {
    expectSdkProblem(
      await server.api.POST("/v1/cards/{id}/authorizations", {
        params: { path: { id: UNKNOWN_ID } },
        body: { amount: 100, merchant: { name: "Shop" } },
      }),
      404,
      "card_not_found",
    );
    await expectProblem(
      await server.request("/v1/cards/1234/authorizations", {
        method: "POST",
        json: { amount: 100, merchant: { name: "Shop" } },
      }),
      400,
      "invalid_id",
    );
    const { wallet, card } = await fundedWalletWithCard(server.api, 5000);
    await server.api.DELETE("/v1/cards/{id}", { params: { path: { id: card.id } } });
    expectSdkProblem(
      await server.api.POST("/v1/cards/{id}/authorizations", {
        params: { path: { id: card.id } },
        body: { amount: 100, merchant: { name: "Shop" } },
      }),
      404,
      "card_not_found",
    );
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ balance: 5000, spentToday: 0 });
    expect(
      await countOf(
        server.db,
        "SELECT count(*) AS count FROM authorizations WHERE card_id = ANY($1::uuid[])",
        [[UNKNOWN_ID, card.id]],
      ),
    ).toBe(0);
  });

  test("an invalid body is 400 and records nothing", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 5000);
    const before = await money(wallet.id, card.id);
    for (const json of [
      { amount: 0, merchant: { name: "Shop" } },
      { amount: -100, merchant: { name: "Shop" } },
      { amount: 10.5, merchant: { name: "Shop" } },
      { amount: 1_000_000_000_001, merchant: { name: "Shop" } },
      { amount: "100", merchant: { name: "Shop" } },
      { amount: 100 },
      { amount: 100, merchant: {} },
      { amount: 100, merchant: { name: "" } },
      { amount: 100, merchant: { name: "   " } },
      { amount: 100, merchant: { name: "x".repeat(201) } },
      { amount: 100, merchant: { name: "Shop", mcc: "5942" } },
      { amount: 100, merchant: "Shop" },
      { amount: 100, merchant: { name: "Shop" }, capture: "yes" },
      { amount: 100, merchant: { name: "Shop" }, currency: "USD" },
    ]) {
      await expectProblem(
        await server.request(`/v1/cards/${card.id}/authorizations`, { method: "POST", json }),
        400,
      );
    }
    expect(await money(wallet.id, card.id)).toEqual(before);
    expect(await authorizationsOf(card.id)).toEqual([]);
  });
});

describe("authorize: decline reasons in the contract's order", () => {
  test("with every rule broken, fixing them one by one reports each reason in order; none moves money", async () => {
    // The card expires at the end of the current (real) month, so it can be issued today; the clock
    // then moves inside that month, and past it for card_expired.
    const real = new Date();
    const year = real.getUTCFullYear();
    const month = real.getUTCMonth();
    const dayOne = new Date(Date.UTC(year, month, 10, 12));
    const dayTwo = new Date(Date.UTC(year, month, 11, 12));
    const afterExpiry = new Date(Date.UTC(year, month + 1, 1, 12));
    clock.set(dayOne);

    const wallet = await fundedWallet(server.api, 40000, { dailyLimit: 20000, monthlyLimit: 30000 });
    const card = await createCard(server.api, {
      walletId: wallet.id,
      cardNo: uniqueCardNumber(),
      expiryMonth: String(month + 1),
      expiryYear: String(year),
      cvv: "123",
      dailyLimit: 10000,
      monthlyLimit: 15000,
    });
    const otherCard = await createCard(server.api, { walletId: wallet.id });
    // Earlier spend this month: 9000 on the card, 18000 on the wallet; 22000 left.
    expect((await authorize(server.api, card.id, 9000)).status).toBe("captured");
    expect((await authorize(server.api, otherCard.id, 9000)).status).toBe("captured");

    const amount = 25000; // over every limit and over the available balance
    const declined: Schemas["Authorization"][] = [];
    clock.set(afterExpiry);
    expect((await patchCard(card.id, { status: "frozen" })).response.status).toBe(200);
    expect((await patchWallet(wallet.id, { status: "frozen" })).response.status).toBe(200);
    declined.push(await expectDeclined(wallet.id, card.id, amount, "card_inactive"));

    await patchCard(card.id, { status: "active" });
    declined.push(await expectDeclined(wallet.id, card.id, amount, "card_expired"));

    clock.set(dayTwo);
    declined.push(await expectDeclined(wallet.id, card.id, amount, "wallet_frozen"));

    await patchWallet(wallet.id, { status: "active" });
    declined.push(await expectDeclined(wallet.id, card.id, amount, "card_daily_limit_exceeded"));

    // Daily now allows 25000; the month (9000 + 25000) is still over 30000.
    expect((await patchCard(card.id, { dailyLimit: 30000, monthlyLimit: 30000 })).response.status).toBe(200);
    declined.push(await expectDeclined(wallet.id, card.id, amount, "card_monthly_limit_exceeded"));

    await patchCard(card.id, { monthlyLimit: 40000 });
    declined.push(await expectDeclined(wallet.id, card.id, amount, "wallet_daily_limit_exceeded"));

    // The wallet's day allows 25000; its month (18000 + 25000) is over 30000.
    expect((await patchWallet(wallet.id, { dailyLimit: 30000, monthlyLimit: 30000 })).response.status).toBe(
      200,
    );
    declined.push(await expectDeclined(wallet.id, card.id, amount, "wallet_monthly_limit_exceeded"));

    await patchWallet(wallet.id, { monthlyLimit: 50000 });
    declined.push(await expectDeclined(wallet.id, card.id, amount, "insufficient_funds"));

    await topUp(server.api, wallet.id, 3000);
    const approved = await authorize(server.api, card.id, amount);
    expect(approved).toMatchObject({ status: "captured", declineReason: null, capturedAmount: amount });
    expect(await expectLedgerConsistent(server.api, wallet.id)).toMatchObject({
      balance: 0,
      availableBalance: 0,
    });

    // Every declined one is listed with its reason.
    const listed = await authorizationsOf(card.id, { status: "declined" });
    expect(new Map(listed.map((authorization) => [authorization.id, authorization.declineReason]))).toEqual(
      new Map(declined.map((authorization) => [authorization.id, authorization.declineReason])),
    );
    for (const authorization of declined)
      expect(await getAuthorization(authorization.id)).toEqual(authorization);
    const spends = (await walletTransactions(server.api, wallet.id)).filter(
      (row) => row.type === "card_spend",
    );
    expect(spends.map((row) => row.authorizationId).sort()).not.toContain(declined[0]?.id);
    expect(spends.length).toBe(3);
  });

  test("a cancelled card is card_inactive even when every other rule fails too", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 1000, {
      dailyLimit: 10000,
      monthlyLimit: 10000,
    });
    await patchWallet(wallet.id, { status: "frozen" });
    expect((await patchCard(card.id, { status: "cancelled" })).response.status).toBe(200);
    await expectDeclined(wallet.id, card.id, 50000, "card_inactive");
    await expectDeclined(wallet.id, card.id, 10, "card_inactive");
  });

  test("a frozen card is card_inactive; thawed, the same spend is approved", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 1000);
    await patchCard(card.id, { status: "frozen" });
    await expectDeclined(wallet.id, card.id, 500, "card_inactive");
    await patchCard(card.id, { status: "active" });
    expect((await authorize(server.api, card.id, 500)).status).toBe("captured");
  });

  test("a frozen wallet is wallet_frozen before limits and funds", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 1000, { dailyLimit: 10000 });
    await patchWallet(wallet.id, { status: "frozen" });
    await expectDeclined(wallet.id, card.id, 20000, "wallet_frozen");
    await expectDeclined(wallet.id, card.id, 100, "wallet_frozen");
  });

  test("the wallet's daily limit caps the spend of all its cards together (before insufficient_funds)", async () => {
    const wallet = await fundedWallet(server.api, 12000, { dailyLimit: 10000 });
    const cardA = await createCard(server.api, { walletId: wallet.id });
    const cardB = await createCard(server.api, { walletId: wallet.id });
    expect((await authorize(server.api, cardA.id, 6000)).status).toBe("captured");
    // Card B has spent nothing, but the wallet has: 6000 + 7000 > 10000 (and 7000 > the 6000 left).
    await expectDeclined(wallet.id, cardB.id, 7000, "wallet_daily_limit_exceeded");
    expect(await getCard(server.api, cardB.id)).toMatchObject({ spentToday: 0 });
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ spentToday: 6000 });
    expect((await authorize(server.api, cardB.id, 4000)).status).toBe("captured");
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ spentToday: 10000, balance: 2000 });
    await expectDeclined(wallet.id, cardA.id, 1, "wallet_daily_limit_exceeded");
  });

  test("the wallet's monthly limit caps the spend of all its cards across days", async () => {
    clock.set("2026-11-10T12:00:00Z");
    const wallet = await fundedWallet(server.api, 12000, { dailyLimit: 10000, monthlyLimit: 15000 });
    const cardA = await createCard(server.api, { walletId: wallet.id });
    const cardB = await createCard(server.api, { walletId: wallet.id });
    expect((await authorize(server.api, cardA.id, 9000)).status).toBe("captured");
    clock.set("2026-11-11T12:00:00Z");
    // The wallet's day is fresh, its month holds 9000: 9000 + 9000 > 15000 (and 9000 > the 3000 left).
    await expectDeclined(wallet.id, cardB.id, 9000, "wallet_monthly_limit_exceeded");
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ spentToday: 0, spentThisMonth: 9000 });
    expect((await authorize(server.api, cardB.id, 3000)).status).toBe("captured");
  });

  test("insufficient_funds compares with the available balance: pending holds count", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 5000);
    await expectDeclined(wallet.id, card.id, 5001, "insufficient_funds");
    expect((await authorize(server.api, card.id, 3000, { capture: false })).status).toBe("pending");
    await expectDeclined(wallet.id, card.id, 2001, "insufficient_funds");
    expect((await authorize(server.api, card.id, 2000)).status).toBe("captured");
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ balance: 3000, availableBalance: 0 });
  });

  test("a declined spend is listed with its reason; the list is newest first and filters by status", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 1000);
    clock.advance(1000);
    const approved = await authorize(server.api, card.id, 400);
    clock.advance(1000);
    const declined = await expectDeclined(wallet.id, card.id, 5000, "insufficient_funds");
    clock.advance(1000);
    const hold = await authorize(server.api, card.id, 100, { capture: false });
    expect((await authorizationsOf(card.id)).map((row) => row.id)).toEqual([
      hold.id,
      declined.id,
      approved.id,
    ]);
    expect((await authorizationsOf(card.id, { sort: "asc" })).map((row) => row.id)).toEqual([
      approved.id,
      declined.id,
      hold.id,
    ]);
    expect(await authorizationsOf(card.id, { status: "declined" })).toEqual([declined]);
    expect((await authorizationsOf(card.id, { status: "pending" })).map((row) => row.id)).toEqual([hold.id]);
    expect((await authorizationsOf(card.id, { status: "captured" })).map((row) => row.id)).toEqual([
      approved.id,
    ]);
    expect(await authorizationsOf(card.id, { status: "voided" })).toEqual([]);
    await expectProblem(await server.request(`/v1/cards/${card.id}/authorizations?status=approved`), 400);
    expectSdkProblem(
      await server.api.GET("/v1/cards/{id}/authorizations", { params: { path: { id: UNKNOWN_ID } } }),
      404,
      "card_not_found",
    );
    expectSdkProblem(
      await server.api.GET("/v1/authorizations/{id}", { params: { path: { id: UNKNOWN_ID } } }),
      404,
      "authorization_not_found",
    );
  });
});

describe("capture and void", () => {
  test("a full capture: captured, one card_spend of the whole amount, the hold becomes the spend", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 10000);
    const hold = await authorize(server.api, card.id, 4000, { capture: false });
    clock.advance(1000);
    const result = await capture(hold.id);
    expect(result.response.status).toBe(200);
    expect(result.data).toMatchObject({
      id: hold.id,
      status: "captured",
      capturedAmount: 4000,
      amount: 4000,
      declineReason: null,
      updatedAt: clock.now().toISOString(),
    });
    expect(await getAuthorization(hold.id)).toEqual(result.data as Schemas["Authorization"]);
    const spends = (await walletTransactions(server.api, wallet.id)).filter(
      (row) => row.type === "card_spend",
    );
    expect(spends.map((row) => [row.amount, row.authorizationId, row.cardId, row.balanceAfter])).toEqual([
      [4000, hold.id, card.id, 6000],
    ]);
    expect(await getWallet(server.api, wallet.id)).toMatchObject({
      balance: 6000,
      availableBalance: 6000,
      spentToday: 4000,
    });
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 4000 });
    await expectLedgerConsistent(server.api, wallet.id);
  });

  test("a partial capture takes that much and releases the rest (available and spentToday come back)", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 10000, { dailyLimit: 10000 });
    const hold = await authorize(server.api, card.id, 8000, { capture: false });
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 8000 });
    const result = await capture(hold.id, 3000);
    expect(result.response.status).toBe(200);
    expect(result.data).toMatchObject({ status: "captured", amount: 8000, capturedAmount: 3000 });
    expect(await getWallet(server.api, wallet.id)).toMatchObject({
      balance: 7000,
      availableBalance: 7000,
      spentToday: 3000,
      spentThisMonth: 3000,
    });
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 3000, spentThisMonth: 3000 });
    const spends = (await walletTransactions(server.api, wallet.id)).filter(
      (row) => row.type === "card_spend",
    );
    expect(spends.map((row) => row.amount)).toEqual([3000]);
    // The released 5000 is spendable again, within the limit.
    expect((await authorize(server.api, card.id, 7000)).status).toBe("captured");
    await expectLedgerConsistent(server.api, wallet.id);
  });

  test("capturing more than is held is 422 capture_exceeds_authorization; the hold stays as it was", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 10000);
    const hold = await authorize(server.api, card.id, 5000, { capture: false });
    const before = await money(wallet.id, card.id);
    expectSdkProblem(await capture(hold.id, 5001), 422, "capture_exceeds_authorization");
    expect(await money(wallet.id, card.id)).toEqual(before);
    expect(await getAuthorization(hold.id)).toEqual(hold);
    expect((await capture(hold.id, 5000)).data?.status).toBe("captured");
  });

  test("a bad capture amount is 400 and changes nothing", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 10000);
    const hold = await authorize(server.api, card.id, 5000, { capture: false });
    const before = await money(wallet.id, card.id);
    for (const json of [
      { amount: 0 },
      { amount: -1 },
      { amount: 2.5 },
      { amount: "100" },
      { amount: 100, x: 1 },
    ]) {
      await expectProblem(
        await server.request(`/v1/authorizations/${hold.id}/capture`, { method: "POST", json }),
        400,
      );
    }
    expect(await money(wallet.id, card.id)).toEqual(before);
    expect(await getAuthorization(hold.id)).toEqual(hold);
  });

  test("void: voided, nothing captured, the hold and its limit are released", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 10000, { dailyLimit: 10000 });
    const hold = await authorize(server.api, card.id, 8000, { capture: false });
    await expectDeclined(wallet.id, card.id, 5000, "card_daily_limit_exceeded");
    const result = await voidHold(hold.id);
    expect(result.response.status).toBe(200);
    expect(result.data).toMatchObject({ id: hold.id, status: "voided", capturedAmount: 0, amount: 8000 });
    expect(await getAuthorization(hold.id)).toEqual(result.data as Schemas["Authorization"]);
    expect(await getWallet(server.api, wallet.id)).toMatchObject({
      balance: 10000,
      availableBalance: 10000,
      spentToday: 0,
      spentThisMonth: 0,
    });
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 0, spentThisMonth: 0 });
    expect((await walletTransactions(server.api, wallet.id)).map((row) => row.type)).toEqual(["topup"]);
    // The voided amount no longer counts toward the limit.
    expect((await authorize(server.api, card.id, 5000)).status).toBe("captured");
    await expectLedgerConsistent(server.api, wallet.id);
  });

  test("void with a body it does not know (a reason) is 400 naming the field, and the hold stays whole", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 10000);
    const hold = await authorize(server.api, card.id, 8000, { capture: false });
    const response = await server.request(`/v1/authorizations/${hold.id}/void`, {
      method: "POST",
      json: { reason: "fraud" },
    });
    const problem = await expectProblem(response, 400, "validation_failed");
    expect(problem.errors?.map((error) => error.path)).toContain("body.reason");
    expect(await getAuthorization(hold.id)).toMatchObject({ status: "pending", amount: 8000 });
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ balance: 10000, availableBalance: 2000 });
    // With no body at all (or {}), the void goes through.
    const voided = await server.request(`/v1/authorizations/${hold.id}/void`, { method: "POST" });
    expect(voided.status).toBe(200);
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ availableBalance: 10000 });
  });

  test("only a pending authorization can be captured or voided: otherwise 409 authorization_not_pending", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 10000);
    const captured = await authorize(server.api, card.id, 1000);
    const declined = await authorize(server.api, card.id, 50000);
    const voided = await authorize(server.api, card.id, 1000, { capture: false });
    await voidHold(voided.id);
    const capturedLater = await authorize(server.api, card.id, 1000, { capture: false });
    await capture(capturedLater.id);
    expect(declined.status).toBe("declined");

    const before = await money(wallet.id, card.id);
    for (const authorization of [captured, declined, voided, capturedLater]) {
      const stored = await getAuthorization(authorization.id);
      expectSdkProblem(await capture(authorization.id), 409, "authorization_not_pending");
      expectSdkProblem(await capture(authorization.id, 1), 409, "authorization_not_pending");
      expectSdkProblem(await voidHold(authorization.id), 409, "authorization_not_pending");
      expect(await getAuthorization(authorization.id)).toEqual(stored);
    }
    expect(await money(wallet.id, card.id)).toEqual(before);
    expect(before.balance).toBe(8000);
  });

  test("concurrent captures and voids of one hold: exactly one wins, the rest are 409", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 10000);
    const hold = await authorize(server.api, card.id, 4000, { capture: false });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? capture(hold.id) : voidHold(hold.id))),
    );
    const winners = results.filter((result) => result.response.status === 200);
    expect(winners.length).toBe(1);
    for (const result of results.filter((result) => result.response.status !== 200)) {
      expectSdkProblem(result, 409, "authorization_not_pending");
    }
    const final = await getAuthorization(hold.id);
    expect(final).toEqual(winners[0]?.data as Schemas["Authorization"]);
    const spends = (await walletTransactions(server.api, wallet.id)).filter(
      (row) => row.type === "card_spend",
    );
    expect(spends.length).toBe(final.status === "captured" ? 1 : 0);
    expect(await expectLedgerConsistent(server.api, wallet.id)).toMatchObject({
      balance: final.status === "captured" ? 6000 : 10000,
      availableBalance: final.status === "captured" ? 6000 : 10000,
    });
  });

  test("an unknown authorization is 404 authorization_not_found; a malformed id 400", async () => {
    expectSdkProblem(await capture(UNKNOWN_ID), 404, "authorization_not_found");
    expectSdkProblem(await voidHold(UNKNOWN_ID), 404, "authorization_not_found");
    await expectProblem(
      await server.request("/v1/authorizations/xyz/capture", { method: "POST", json: {} }),
      400,
      "invalid_id",
    );
    await expectProblem(
      await server.request("/v1/authorizations/xyz/void", { method: "POST" }),
      400,
      "invalid_id",
    );
  });
});

describe("hold expiry (AUTH_HOLD_TTL = 60 s)", () => {
  test("just before it expires a hold can still be captured", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 10000);
    const hold = await authorize(server.api, card.id, 3000, { capture: false });
    clock.advance(HOLD_TTL_SECONDS * 1000 - 1000);
    const result = await capture(hold.id);
    expect(result.response.status).toBe(200);
    expect(result.data?.status).toBe("captured");
    expect((await getWallet(server.api, wallet.id)).balance).toBe(7000);
  });

  test("after the TTL, capture and void are 409 authorization_expired; no money is taken and the wallet stays consistent", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 10000);
    const hold = await authorize(server.api, card.id, 3000, { capture: false });
    clock.advance(HOLD_TTL_SECONDS * 1000 + 1000);
    expectSdkProblem(await capture(hold.id), 409, "authorization_expired");
    expectSdkProblem(await capture(hold.id, 100), 409, "authorization_expired");
    expectSdkProblem(await voidHold(hold.id), 409, "authorization_expired");

    const stored = await getAuthorization(hold.id);
    expect(stored.capturedAmount).toBe(0);
    expect(["pending", "expired"]).toContain(stored.status);
    const after = await expectLedgerConsistent(server.api, wallet.id);
    expect(after.balance).toBe(10000);
    // Until the expiry job has run, the hold may still be shown; it is released then, never captured.
    expect(after.availableBalance).toBe(stored.status === "expired" ? 10000 : 7000);
    expect((await walletTransactions(server.api, wallet.id)).map((row) => row.type)).toEqual(["topup"]);
  });

  test("the expiry job marks it expired and releases the hold and its limit; capture is then 409 authorization_not_pending", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 10000, { dailyLimit: 10000 });
    const hold = await authorize(server.api, card.id, 8000, { capture: false });
    const untouched = await authorize(server.api, card.id, 1000, { capture: false });
    clock.advance(HOLD_TTL_SECONDS * 1000 + 1000);
    const fresh = await authorize(server.api, card.id, 1000, { capture: false });
    expect(fresh.status).toBe("pending");

    // The job the service runs in the background (src/main.ts), wired the same way, on the same
    // database and clock: HTTP has no route for it.
    expect(await expireHolds()).toBeGreaterThanOrEqual(2);

    expect(await getAuthorization(hold.id)).toMatchObject({ status: "expired", capturedAmount: 0 });
    expect((await getAuthorization(untouched.id)).status).toBe("expired");
    expect((await getAuthorization(fresh.id)).status).toBe("pending");
    expect(await expectLedgerConsistent(server.api, wallet.id)).toMatchObject({
      balance: 10000,
      availableBalance: 9000,
      spentToday: 1000,
    });
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 1000 });
    expectSdkProblem(await capture(hold.id), 409, "authorization_not_pending");
    expectSdkProblem(await voidHold(hold.id), 409, "authorization_not_pending");
    expect(await authorizationsOf(card.id, { status: "expired" })).toHaveLength(2);
    // The expired amount no longer counts: 1000 pending + 9000 fits the 10000 limit.
    expect((await authorize(server.api, card.id, 9000)).status).toBe("captured");
  });
});

describe("limit windows", () => {
  test("a refunded amount no longer counts toward the limits", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 50000, { dailyLimit: 10000 });
    await authorize(server.api, card.id, 8000);
    await expectDeclined(wallet.id, card.id, 5000, "card_daily_limit_exceeded");
    const [spend] = (await walletTransactions(server.api, wallet.id)).filter(
      (row) => row.type === "card_spend",
    );
    const refund = await server.api.POST("/v1/transactions/{id}/refunds", {
      params: { path: { id: spend?.id ?? "" } },
      body: { amount: 4000 },
    });
    expect(refund.response.status).toBe(201);
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 4000, spentThisMonth: 4000 });
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ spentToday: 4000, spentThisMonth: 4000 });
    expect((await authorize(server.api, card.id, 5000)).status).toBe("captured");
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 9000 });
  });

  test("a refund gives the amount back to the day it was spent, not to today", async () => {
    clock.set("2026-11-16T12:00:00Z");
    const { wallet, card } = await fundedWalletWithCard(server.api, 50000, {
      dailyLimit: 10000,
      monthlyLimit: 30000,
    });
    await authorize(server.api, card.id, 8000);
    const [monday] = (await walletTransactions(server.api, wallet.id)).filter(
      (row) => row.type === "card_spend",
    );
    clock.set("2026-11-17T12:00:00Z");
    await authorize(server.api, card.id, 9000);
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 9000, spentThisMonth: 17000 });
    await server.api.POST("/v1/transactions/{id}/refunds", {
      params: { path: { id: monday?.id ?? "" } },
      body: {},
    });
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 9000, spentThisMonth: 9000 });
    await expectDeclined(wallet.id, card.id, 2000, "card_daily_limit_exceeded");
  });

  test("Asia/Singapore: the day turns at local midnight (16:00 UTC)", async () => {
    clock.set("2026-11-24T10:00:00Z");
    const { wallet, card } = await fundedWalletWithCard(
      server.api,
      30000,
      { dailyLimit: 10000 },
      { timezone: "Asia/Singapore" },
    );
    expect(wallet.timezone).toBe("Asia/Singapore");

    clock.set("2026-11-24T15:30:00Z"); // 23:30 on the 24th in Singapore
    expect((await authorize(server.api, card.id, 8000)).status).toBe("captured");
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 8000 });

    clock.set("2026-11-24T16:30:00Z"); // 00:30 on the 25th in Singapore, still the 24th in UTC
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 0, spentThisMonth: 8000 });
    expect((await authorize(server.api, card.id, 8000)).status).toBe("captured");

    clock.set("2026-11-24T16:45:00Z");
    await expectDeclined(wallet.id, card.id, 8000, "card_daily_limit_exceeded");
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 8000, spentThisMonth: 16000 });
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ spentToday: 8000, spentThisMonth: 16000 });
    // Exactly up to the limit is fine.
    expect((await authorize(server.api, card.id, 2000)).status).toBe("captured");
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 10000 });

    // Looking back at 23:45 on the 24th, that day holds only its own 8000.
    clock.set("2026-11-24T15:45:00Z");
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 8000 });
  });

  test("Asia/Singapore: the month turns at local midnight on the 1st", async () => {
    clock.set("2026-11-29T04:00:00Z"); // noon on 29 November in Singapore
    const { wallet, card } = await fundedWalletWithCard(
      server.api,
      50000,
      { dailyLimit: 10000, monthlyLimit: 15000 },
      { timezone: "Asia/Singapore" },
    );
    expect((await authorize(server.api, card.id, 8000)).status).toBe("captured");
    clock.set("2026-11-30T15:30:00Z"); // 23:30 on 30 November in Singapore
    expect((await authorize(server.api, card.id, 6000)).status).toBe("captured");
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 6000, spentThisMonth: 14000 });
    await expectDeclined(wallet.id, card.id, 2000, "card_monthly_limit_exceeded");

    clock.set("2026-11-30T16:30:00Z"); // 00:30 on 1 December in Singapore, still November in UTC
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 0, spentThisMonth: 0 });
    expect((await authorize(server.api, card.id, 8000)).status).toBe("captured");
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 8000, spentThisMonth: 8000 });
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ spentToday: 8000, spentThisMonth: 8000 });

    clock.set("2026-11-30T15:45:00Z"); // back in November, local time
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 6000, spentThisMonth: 14000 });
  });
});
