import { describe, expect, test } from "bun:test";
import { type Controls, type DecisionInput, decide } from "../../src/modules/authorizations/decision.ts";
import { DECLINE_REASONS, type DeclineReason } from "../../src/modules/authorizations/model.ts";
import type { WindowKey } from "../../src/modules/authorizations/spend-windows.ts";

const NOW = new Date("2030-06-15T12:00:00.000Z");
const AMOUNT = 1_000;
const noControls = { allowedCategories: null, blockedCategories: [], spendingLimits: [] };

/** Spend already counted, by "scope|period|categoryKey". */
type Spent = Record<string, number>;

interface Spend {
  input: DecisionInput;
  spent: Spent;
}

/** A spend of AMOUNT in category 5812 that every rule approves, with room to spare everywhere. */
const approved: Spend = {
  spent: {},
  input: {
    amount: AMOUNT,
    category: "5812",
    now: NOW,
    card: {
      status: "active",
      expiryMonth: 6,
      expiryYear: 2030,
      controls: {
        dailyLimit: 10_000,
        monthlyLimit: 50_000,
        ...noControls,
        spendingLimits: [{ amount: 30_000, interval: "weekly", categories: ["5812", "5814"] }],
      },
    },
    wallet: {
      status: "active",
      available: 5_000,
      controls: {
        dailyLimit: 20_000,
        monthlyLimit: 100_000,
        ...noControls,
        spendingLimits: [{ amount: 2_000, interval: "per_authorization", categories: null }],
      },
    },
    spent: () => 0,
    resets: { day: null, week: null, month: null, year: null, all_time: null },
  },
};

const withSpent = (spend: Spend, key: string, amount: number): Spend => ({
  ...spend,
  spent: { ...spend.spent, [key]: amount },
});

/** `spend` with `changes` to the controls of its card or wallet. */
const withControls = (spend: Spend, scope: "card" | "wallet", changes: Partial<Controls>): Spend => ({
  ...spend,
  input: {
    ...spend.input,
    [scope]: { ...spend.input[scope], controls: { ...spend.input[scope].controls, ...changes } },
  },
});

/** What makes each rule decline this spend, in the contract's order (DECLINE_REASONS). */
const BREAKS: Record<DeclineReason, (spend: Spend) => Spend> = {
  card_inactive: (s) => ({ ...s, input: { ...s.input, card: { ...s.input.card, status: "frozen" } } }),
  card_expired: (s) => ({ ...s, input: { ...s.input, card: { ...s.input.card, expiryMonth: 5 } } }),
  wallet_frozen: (s) => ({ ...s, input: { ...s.input, wallet: { ...s.input.wallet, status: "frozen" } } }),
  merchant_category_not_allowed: (s) => withControls(s, "card", { blockedCategories: ["5812"] }),
  card_daily_limit_exceeded: (s) => withSpent(s, "card|day|", 9_001),
  card_monthly_limit_exceeded: (s) => withSpent(s, "card|month|", 49_001),
  wallet_daily_limit_exceeded: (s) => withSpent(s, "wallet|day|", 19_001),
  wallet_monthly_limit_exceeded: (s) => withSpent(s, "wallet|month|", 99_001),
  spending_limit_exceeded: (s) =>
    withControls(s, "wallet", { spendingLimits: [{ amount: 999, interval: "yearly", categories: null }] }),
  insufficient_funds: (s) => ({ ...s, input: { ...s.input, wallet: { ...s.input.wallet, available: 999 } } }),
};

const breaking = (reasons: readonly DeclineReason[]): Spend =>
  reasons.reduce((spend, reason) => BREAKS[reason](spend), approved);

const run = ({ input, spent }: Spend, amount = AMOUNT) =>
  decide({
    ...input,
    amount,
    spent: (w: WindowKey) => spent[`${w.scope}|${w.period}|${w.categoryKey}`] ?? 0,
  });

describe("decide (contract §3 and §8)", () => {
  test("a spend that breaks no rule is approved, counted in its categorised limit's window", () => {
    const decision = run(approved);
    expect(decision.declineReason).toBeNull();
    expect(decision.declineDetail).toBeNull();
    expect(decision.limitWindows).toEqual([
      { scope: "card", period: "week", categoryKey: '["5812","5814"]' },
    ]);
  });

  test("a spend counts in the windows of its limits beyond the day and month: uncategorised always, categorised when they apply", () => {
    const spend = withControls(approved, "wallet", {
      spendingLimits: [
        { amount: 90_000, interval: "weekly", categories: null },
        { amount: 90_000, interval: "all_time", categories: ["4111"] },
        { amount: 90_000, interval: "yearly", categories: ["5812"] },
      ],
    });
    expect(run(spend).limitWindows).toEqual([
      { scope: "card", period: "week", categoryKey: '["5812","5814"]' },
      { scope: "wallet", period: "week", categoryKey: "" },
      { scope: "wallet", period: "year", categoryKey: '["5812"]' },
    ]);
  });

  test("the table covers every reason, in the contract's order", () => {
    expect(Object.keys(BREAKS)).toEqual([...DECLINE_REASONS]);
  });

  test.each(DECLINE_REASONS.map((reason) => [reason]))("%s alone declines with itself", (reason) => {
    expect(run(breaking([reason])).declineReason).toBe(reason);
  });

  test.each(DECLINE_REASONS.map((reason, index) => [reason, DECLINE_REASONS.slice(index)] as const))(
    "%s wins over every rule after it",
    (reason, broken) => {
      expect(run(breaking(broken)).declineReason).toBe(reason);
    },
  );

  test("every decline says which rule refused it", () => {
    expect(run(breaking(["card_inactive"])).declineDetail).toEqual({
      scope: "card",
      interval: null,
      limit: null,
      spent: null,
      categories: null,
    });
    expect(run(breaking(["card_monthly_limit_exceeded"])).declineDetail).toEqual({
      scope: "card",
      interval: "monthly",
      limit: 50_000,
      spent: 49_001,
      categories: null,
    });
    expect(run(breaking(["spending_limit_exceeded"])).declineDetail).toEqual({
      scope: "wallet",
      interval: "yearly",
      limit: 999,
      spent: 0,
      categories: null,
    });
    expect(run(breaking(["merchant_category_not_allowed"])).declineDetail?.categories).toEqual(["5812"]);
    expect(run(breaking(["insufficient_funds"])).declineDetail?.scope).toBe("wallet");
  });

  test("a categorised limit caps only its categories; the card's category rules come before the wallet's", () => {
    const full = withSpent(approved, 'card|week|["5812","5814"]', 29_500);
    expect(run(full).declineReason).toBe("spending_limit_exceeded");
    expect(run(full).declineDetail).toEqual({
      scope: "card",
      interval: "weekly",
      limit: 30_000,
      spent: 29_500,
      categories: ["5812", "5814"],
    });
    const elsewhere = { ...full, input: { ...full.input, category: "4111" } };
    expect(run(elsewhere).declineReason).toBeNull();
    expect(run(elsewhere).limitWindows).toEqual([]);
    const both = withControls(withControls(approved, "card", { allowedCategories: ["4111"] }), "wallet", {
      blockedCategories: ["5812"],
    });
    expect(run(both).declineDetail).toMatchObject({ scope: "card", categories: ["4111"] });
    const noCategory = { ...both, input: { ...both.input, category: null } };
    expect(run(noCategory).declineReason).toBe("merchant_category_not_allowed");
  });

  test("a limit or the available balance reached exactly still approves; one unit over declines", () => {
    const exactly = withSpent(
      withSpent(
        withSpent(withSpent(approved, "card|day|", 9_000), "card|month|", 49_000),
        "wallet|day|",
        19_000,
      ),
      "wallet|month|",
      99_000,
    );
    const atFunds = {
      ...exactly,
      input: { ...exactly.input, wallet: { ...exactly.input.wallet, available: AMOUNT } },
    };
    expect(run(atFunds).declineReason).toBeNull();
    expect(run(atFunds, AMOUNT + 1).declineReason).toBe("card_daily_limit_exceeded");
  });

  test("a card is usable through the last day of its expiry month", () => {
    const at = (instant: string) => ({ ...approved, input: { ...approved.input, now: new Date(instant) } });
    expect(run(at("2030-06-30T23:59:59.999Z")).declineReason).toBeNull();
    expect(run(at("2030-07-01T00:00:00.000Z")).declineReason).toBe("card_expired");
  });
});
