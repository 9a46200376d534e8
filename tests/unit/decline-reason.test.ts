import { describe, expect, test } from "bun:test";
import { DECLINE_REASONS, type DeclineReason } from "../../src/modules/authorizations/model.ts";
import type { SpendingCard, SpendingWallet } from "../../src/modules/authorizations/repository.ts";
import { declineReason } from "../../src/modules/authorizations/service.ts";

const NOW = new Date("2030-06-15T12:00:00.000Z");
const AMOUNT = 1_000;

/** A spend of AMOUNT that every rule approves, with room to spare everywhere. */
const approvedCard: SpendingCard = {
  id: "card",
  today: "2030-06-15",
  month_start: "2030-06-01",
  status: "active",
  expiry_month: 6,
  expiry_year: 2030,
  daily_limit: 10_000,
  monthly_limit: 50_000,
  card_day: 0,
  card_month: 0,
  wallet_day: 0,
  wallet_month: 0,
};
const approvedWallet: SpendingWallet = {
  id: "wallet",
  currency: "USD",
  timezone: "UTC",
  status: "active",
  balance: 5_000,
  held: 0,
  daily_limit: 20_000,
  monthly_limit: 100_000,
};

interface Spend {
  card: SpendingCard;
  wallet: SpendingWallet;
}

/** What makes each rule decline this spend, in the contract's order (DECLINE_REASONS). */
const BREAKS: Record<DeclineReason, (spend: Spend) => Spend> = {
  card_inactive: ({ card, wallet }) => ({ card: { ...card, status: "frozen" }, wallet }),
  card_expired: ({ card, wallet }) => ({ card: { ...card, expiry_month: 5 }, wallet }),
  wallet_frozen: ({ card, wallet }) => ({ card, wallet: { ...wallet, status: "frozen" } }),
  card_daily_limit_exceeded: ({ card, wallet }) => ({ card: { ...card, card_day: 9_001 }, wallet }),
  card_monthly_limit_exceeded: ({ card, wallet }) => ({ card: { ...card, card_month: 49_001 }, wallet }),
  wallet_daily_limit_exceeded: ({ card, wallet }) => ({ card: { ...card, wallet_day: 19_001 }, wallet }),
  wallet_monthly_limit_exceeded: ({ card, wallet }) => ({ card: { ...card, wallet_month: 99_001 }, wallet }),
  insufficient_funds: ({ card, wallet }) => ({ card, wallet: { ...wallet, held: 4_001 } }),
};

/** The approved spend with every rule of `reasons` broken. */
const breaking = (reasons: readonly DeclineReason[]): Spend =>
  reasons.reduce((spend, reason) => BREAKS[reason](spend), { card: approvedCard, wallet: approvedWallet });

const decide = ({ card, wallet }: Spend) => declineReason(card, wallet, AMOUNT, NOW);

describe("declineReason (contract §3)", () => {
  test("a spend that breaks no rule is approved", () => {
    expect(decide(breaking([]))).toBeNull();
  });

  test("the table covers every reason, in the contract's order", () => {
    expect(Object.keys(BREAKS)).toEqual([...DECLINE_REASONS]);
  });

  test.each(DECLINE_REASONS.map((reason) => [reason]))("%s alone declines with itself", (reason) => {
    expect(decide(breaking([reason]))).toBe(reason);
  });

  test.each(DECLINE_REASONS.map((reason, index) => [reason, DECLINE_REASONS.slice(index)] as const))(
    "%s wins over every rule after it",
    (reason, broken) => {
      expect(decide(breaking(broken))).toBe(reason);
    },
  );

  test("a rule broken together with one before it loses to the earlier one", () => {
    expect(decide(breaking(["insufficient_funds", "card_inactive"]))).toBe("card_inactive");
    expect(decide(breaking(["wallet_daily_limit_exceeded", "card_monthly_limit_exceeded"]))).toBe(
      "card_monthly_limit_exceeded",
    );
    expect(decide(breaking(["card_daily_limit_exceeded", "wallet_frozen"]))).toBe("wallet_frozen");
  });

  test("a cancelled card is card_inactive too", () => {
    expect(decide({ card: { ...approvedCard, status: "cancelled" }, wallet: approvedWallet })).toBe(
      "card_inactive",
    );
  });

  test("a limit or the available balance reached exactly still approves; one unit over declines", () => {
    const exactly: Spend = {
      card: {
        ...approvedCard,
        card_day: 9_000,
        card_month: 49_000,
        wallet_day: 19_000,
        wallet_month: 99_000,
      },
      wallet: { ...approvedWallet, held: 4_000 },
    };
    expect(decide(exactly)).toBeNull();
    expect(declineReason(exactly.card, exactly.wallet, AMOUNT + 1, NOW)).toBe("card_daily_limit_exceeded");
  });

  test("a card is usable through the last day of its expiry month", () => {
    const lastInstant = new Date("2030-06-30T23:59:59.999Z");
    expect(declineReason(approvedCard, approvedWallet, AMOUNT, lastInstant)).toBeNull();
    expect(declineReason(approvedCard, approvedWallet, AMOUNT, new Date("2030-07-01T00:00:00.000Z"))).toBe(
      "card_expired",
    );
  });
});
