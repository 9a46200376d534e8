/**
 * The spend decision of contract §3 and §8, pure: the checks in their order, the first failure with
 * the rule that refused it, what is left of every limit, and the windows an approved spend counts in.
 * Authorizations, increments and previews all decide here.
 */
import { isExpired } from "../cards/card-number.ts";
import type { LimitInterval, SpendingLimit } from "../wallets/spending-controls.ts";
import type { DeclineReason } from "./model.ts";
import { categoryKey, isAlwaysKept, PERIOD_OF, type Period, type WindowKey } from "./spend-windows.ts";

export type Scope = "card" | "wallet";

/** The controls of a card or wallet as the decision reads them. */
export interface Controls {
  dailyLimit: number;
  monthlyLimit: number;
  allowedCategories: string[] | null;
  blockedCategories: string[];
  spendingLimits: SpendingLimit[];
}

export interface DecisionInput {
  amount: number;
  category: string | null;
  now: Date;
  card: {
    status: "active" | "frozen" | "cancelled";
    expiryMonth: number;
    expiryYear: number;
    controls: Controls;
  };
  wallet: { status: "active" | "frozen"; available: number; controls: Controls };
  /** Approved spend so far in a window of the decision's instant (0 for a window not yet written). */
  spent: (window: WindowKey) => number;
  /** When each window of the decision's instant ends (null for all time). */
  resets: Record<Period, Date | null>;
}

export interface DeclineDetail {
  scope: Scope;
  interval: LimitInterval | null;
  limit: number | null;
  spent: number | null;
  categories: string[] | null;
}

export interface Headroom {
  scope: Scope;
  interval: LimitInterval;
  categories: string[] | null;
  limit: number;
  spent: number;
  remaining: number;
  resetsAt: string | null;
}

export interface Decision {
  declineReason: DeclineReason | null;
  declineDetail: DeclineDetail | null;
  headroom: Headroom[];
  /**
   * The windows of the limits an approved spend counts in, beyond its card's and wallet's day and month
   * (which every spend counts in): uncategorised weeks, years and all time, and the categorised ones.
   */
  limitWindows: WindowKey[];
}

const INTERVAL_ORDER: Record<LimitInterval, number> = {
  per_authorization: 0,
  daily: 1,
  weekly: 2,
  monthly: 3,
  yearly: 4,
  all_time: 5,
};

/** The limits of one scope in the order they are checked: by interval, uncategorised first. */
function limitsOf(controls: Controls): SpendingLimit[] {
  return [
    { amount: controls.dailyLimit, interval: "daily" as const, categories: null },
    { amount: controls.monthlyLimit, interval: "monthly" as const, categories: null },
    ...controls.spendingLimits,
  ]
    .map((limit, position) => ({ limit, position }))
    .sort(
      (a, b) =>
        INTERVAL_ORDER[a.limit.interval] - INTERVAL_ORDER[b.limit.interval] ||
        Number(a.limit.categories !== null) - Number(b.limit.categories !== null) ||
        a.position - b.position,
    )
    .map(({ limit }) => limit);
}

/** The four limits with a reason of their own; every other limit is spending_limit_exceeded. */
function limitReason(scope: Scope, limit: SpendingLimit): DeclineReason {
  if (limit.categories === null && limit.interval === "daily") return `${scope}_daily_limit_exceeded`;
  if (limit.categories === null && limit.interval === "monthly") return `${scope}_monthly_limit_exceeded`;
  return "spending_limit_exceeded";
}

/** The category rule of one scope that refuses `category`, if any. */
function categoryRefusal(controls: Controls, category: string | null): string[] | null {
  if (
    controls.allowedCategories !== null &&
    (category === null || !controls.allowedCategories.includes(category))
  )
    return controls.allowedCategories;
  if (category !== null && controls.blockedCategories.includes(category)) return controls.blockedCategories;
  return null;
}

const declined = (reason: DeclineReason, detail: Partial<DeclineDetail> & { scope: Scope }) => ({
  declineReason: reason,
  declineDetail: { interval: null, limit: null, spent: null, categories: null, ...detail },
});

export function decide(input: DecisionInput): Decision {
  const { amount, category, card, wallet } = input;
  const scopes = [
    { scope: "card" as const, controls: card.controls },
    { scope: "wallet" as const, controls: wallet.controls },
  ];
  const headroom: Headroom[] = [];
  const limitWindows: WindowKey[] = [];
  let limitFailure: ReturnType<typeof declined> | null = null;
  for (const { scope, controls } of scopes) {
    for (const limit of limitsOf(controls)) {
      const period = PERIOD_OF[limit.interval];
      // A per-authorization limit has no window: it caps each spend alone.
      const window = period === null ? null : { scope, period, categoryKey: categoryKey(limit.categories) };
      const spent = window === null ? 0 : input.spent(window);
      headroom.push({
        scope,
        interval: limit.interval,
        categories: limit.categories,
        limit: limit.amount,
        spent,
        remaining: Math.max(0, limit.amount - spent),
        resetsAt: window === null ? null : (input.resets[window.period]?.toISOString() ?? null),
      });
      const applies = limit.categories === null || (category !== null && limit.categories.includes(category));
      if (!applies) continue;
      if (window !== null && !isAlwaysKept(window)) limitWindows.push(window);
      if (limitFailure === null && spent + amount > limit.amount) {
        limitFailure = declined(limitReason(scope, limit), {
          scope,
          interval: limit.interval,
          limit: limit.amount,
          spent: window === null ? null : spent,
          categories: limit.categories,
        });
      }
    }
  }
  const approved = { declineReason: null, declineDetail: null };
  const outcome = (() => {
    if (card.status !== "active") return declined("card_inactive", { scope: "card" });
    if (isExpired(card.expiryMonth, card.expiryYear, input.now))
      return declined("card_expired", { scope: "card" });
    if (wallet.status !== "active") return declined("wallet_frozen", { scope: "wallet" });
    for (const { scope, controls } of scopes) {
      const categories = categoryRefusal(controls, category);
      if (categories !== null) return declined("merchant_category_not_allowed", { scope, categories });
    }
    if (limitFailure !== null) return limitFailure;
    if (amount > wallet.available) return declined("insufficient_funds", { scope: "wallet" });
    return approved;
  })();
  return { ...outcome, headroom, limitWindows };
}
