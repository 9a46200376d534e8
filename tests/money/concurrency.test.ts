/**
 * Money under concurrency: many card spends racing on one wallet, and transfers racing in both
 * directions. Run against PostgreSQL (DATABASE_URL) this is real concurrency; on PGlite the single
 * connection serialises the same requests.
 */
import { describe, expect, test } from "bun:test";
import {
  addMember,
  createCard,
  createTeam,
  createUser,
  createWallet,
  getWallet,
  topUp,
} from "../helpers/fixtures.ts";
import { brokenInvariants } from "../helpers/invariants.ts";
import { useServer } from "../helpers/server.ts";

const server = useServer({ DB_POOL_MAX: "20" });

/** A team wallet with `cards` cards, each held by a team member, topped up with `balance`. */
async function teamWalletWithCards(options: {
  cards: number;
  balance: number;
  walletDaily: number;
  cardDaily: number;
}) {
  const team = await createTeam(server.api);
  const teamWallet = await createWallet(server.api, {
    teamId: team.id,
    dailyLimit: options.walletDaily,
    monthlyLimit: Math.max(options.walletDaily, 10_000_000),
  });
  await topUp(server.api, teamWallet.id, options.balance);
  const cards = [];
  for (let i = 0; i < options.cards; i++) {
    const member = await createUser(server.api, `Member ${i}`);
    await addMember(server.api, team.id, member.id);
    cards.push(
      await createCard(server.api, {
        walletId: teamWallet.id,
        cardholderId: member.id,
        dailyLimit: options.cardDaily,
        monthlyLimit: 10_000_000,
      }),
    );
  }
  return { teamWallet, cards };
}

/** Fires `perCard` spends of `amount` from every card at once; returns every authorization. */
async function spendAtOnce(cardIds: string[], perCard: number, amount: number) {
  const requests = cardIds.flatMap((cardId) =>
    Array.from({ length: perCard }, (_, i) =>
      server.api.POST("/v1/cards/{id}/authorizations", {
        params: { path: { id: cardId } },
        body: { amount, merchant: { name: `Shop ${i}` } },
      }),
    ),
  );
  const results = await Promise.all(requests);
  for (const result of results) expect(result.response.status).toBe(201);
  return results.map((result) => {
    if (result.data === undefined) throw new Error("authorization without a body");
    return result.data;
  });
}

const countBy = <T>(items: T[], key: (item: T) => string) =>
  items.reduce<Record<string, number>>((counts, item) => {
    counts[key(item)] = (counts[key(item)] ?? 0) + 1;
    return counts;
  }, {});

describe("200 card spends at once on one wallet from 50 cards", () => {
  test("the balance binds: exactly the spends that fit are approved, the rest declined with a reason", async () => {
    // 50 cards x 4 spends of 10000 = 2000000 asked; each card may spend 30000 a day, the wallet holds 600000.
    const { teamWallet, cards } = await teamWalletWithCards({
      cards: 50,
      balance: 600_000,
      walletDaily: 5_000_000,
      cardDaily: 30_000,
    });
    const authorizations = await spendAtOnce(
      cards.map((card) => card.id),
      4,
      10_000,
    );

    const approved = authorizations.filter((a) => a.status === "captured");
    expect(approved).toHaveLength(60);
    const reasons = countBy(
      authorizations.filter((a) => a.status === "declined"),
      (a) => a.declineReason ?? "none",
    );
    for (const reason of Object.keys(reasons)) {
      expect(["card_daily_limit_exceeded", "insufficient_funds"]).toContain(reason);
    }
    expect((reasons.card_daily_limit_exceeded ?? 0) + (reasons.insufficient_funds ?? 0)).toBe(140);
    // No card went past its own limit of three spends.
    for (const count of Object.values(countBy(approved, (a) => a.cardId)))
      expect(count).toBeLessThanOrEqual(3);

    const after = await getWallet(server.api, teamWallet.id);
    expect(after.balance).toBe(0);
    expect(after.availableBalance).toBe(0);
    expect(after.spentToday).toBe(600_000);
    expect(await brokenInvariants(server.db)).toEqual([]);
  });

  test("the wallet's daily limit binds: exactly that much is approved", async () => {
    // Plenty of money, but the wallet may only spend 800000 today: 80 spends of 10000.
    const { teamWallet, cards } = await teamWalletWithCards({
      cards: 50,
      balance: 10_000_000,
      walletDaily: 800_000,
      cardDaily: 30_000,
    });
    const authorizations = await spendAtOnce(
      cards.map((card) => card.id),
      4,
      10_000,
    );

    expect(authorizations.filter((a) => a.status === "captured")).toHaveLength(80);
    const reasons = countBy(
      authorizations.filter((a) => a.status === "declined"),
      (a) => a.declineReason ?? "none",
    );
    expect((reasons.card_daily_limit_exceeded ?? 0) + (reasons.wallet_daily_limit_exceeded ?? 0)).toBe(120);
    expect(reasons.wallet_daily_limit_exceeded ?? 0).toBeGreaterThan(0);

    const after = await getWallet(server.api, teamWallet.id);
    expect(after.balance).toBe(10_000_000 - 800_000);
    expect(after.spentToday).toBe(800_000);
    expect(await brokenInvariants(server.db)).toEqual([]);
  });

  test("holds count like spends: pending authorizations cannot overdraw either", async () => {
    const { teamWallet, cards } = await teamWalletWithCards({
      cards: 10,
      balance: 250_000,
      walletDaily: 5_000_000,
      cardDaily: 1_000_000,
    });
    const requests = cards.flatMap((card) =>
      Array.from({ length: 5 }, () =>
        server.api.POST("/v1/cards/{id}/authorizations", {
          params: { path: { id: card.id } },
          body: { amount: 10_000, merchant: { name: "Hotel" }, capture: false },
        }),
      ),
    );
    const results = await Promise.all(requests);
    const statuses = countBy(results, (result) => result.data?.status ?? "error");
    expect(statuses).toEqual({ pending: 25, declined: 25 });
    const after = await getWallet(server.api, teamWallet.id);
    expect(after.balance).toBe(250_000);
    expect(after.availableBalance).toBe(0);
    expect(await brokenInvariants(server.db)).toEqual([]);
  });
});

describe("100 transfers at once in both directions between two wallets", () => {
  test("no deadlock reaches a client and the total is conserved to the cent", async () => {
    const owner = await createUser(server.api, "Transfer owner");
    const left = await createWallet(server.api, { userId: owner.id });
    const right = await createWallet(server.api, { userId: owner.id });
    await topUp(server.api, left.id, 500_000);
    await topUp(server.api, right.id, 500_000);

    const amounts = Array.from({ length: 100 }, (_, i) => 1_000 + ((i * 7_919) % 9_000));
    const results = await Promise.all(
      amounts.map((amount, i) =>
        server.api.POST("/v1/transfers", {
          body:
            i % 2 === 0
              ? { fromWalletId: left.id, toWalletId: right.id, amount }
              : { fromWalletId: right.id, toWalletId: left.id, amount },
        }),
      ),
    );
    expect(countBy(results, (result) => String(result.response.status))).toEqual({ "201": 100 });

    const leftToRight = amounts.filter((_, i) => i % 2 === 0).reduce((sum, amount) => sum + amount, 0);
    const rightToLeft = amounts.filter((_, i) => i % 2 === 1).reduce((sum, amount) => sum + amount, 0);
    const [leftAfter, rightAfter] = [
      await getWallet(server.api, left.id),
      await getWallet(server.api, right.id),
    ];
    expect(leftAfter.balance).toBe(500_000 - leftToRight + rightToLeft);
    expect(rightAfter.balance).toBe(500_000 + leftToRight - rightToLeft);
    expect(leftAfter.balance + rightAfter.balance).toBe(1_000_000);
    expect(await brokenInvariants(server.db)).toEqual([]);
  });

  test("transfers that would overdraw are refused, never half-done", async () => {
    const owner = await createUser(server.api, "Overdraw owner");
    const left = await createWallet(server.api, { userId: owner.id });
    const right = await createWallet(server.api, { userId: owner.id });
    await topUp(server.api, left.id, 10_000);
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        server.api.POST("/v1/transfers", {
          body: { fromWalletId: left.id, toWalletId: right.id, amount: 1_000 },
        }),
      ),
    );
    const statuses = countBy(results, (result) => String(result.response.status));
    expect(statuses).toEqual({ "201": 10, "422": 20 });
    for (const result of results.filter((r) => r.response.status === 422)) {
      expect(result.error?.code).toBe("insufficient_funds");
    }
    expect((await getWallet(server.api, left.id)).balance).toBe(0);
    expect((await getWallet(server.api, right.id)).balance).toBe(10_000);
    expect(await brokenInvariants(server.db)).toEqual([]);
  });
});
