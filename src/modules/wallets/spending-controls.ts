/**
 * Spending controls of contract §8, shared by cards and wallets: merchant categories allowed and blocked,
 * and limits per interval, optionally on some categories. `dailyLimit` and `monthlyLimit` are the
 * uncategorised daily and monthly limits: stored in their own columns, listed with the others.
 */
import { type Static, Type } from "@sinclair/typebox";
import { badRequest } from "../../platform/errors.ts";
import { literalUnion } from "../../platform/literals.ts";
import { MAX_BALANCE, MinorUnits } from "../../platform/schemas.ts";
import { DEFAULT_LIMIT, type Limits, MINIMUM_LIMIT, resolveLimits } from "./limits.ts";

export const LIMIT_INTERVALS = [
  "per_authorization",
  "daily",
  "weekly",
  "monthly",
  "yearly",
  "all_time",
] as const;
export type LimitInterval = (typeof LIMIT_INTERVALS)[number];

export const MAX_SPENDING_LIMITS = 20;

const Category = Type.String({
  minLength: 1,
  maxLength: 100,
  description: "a merchant category, e.g. an MCC",
});
const Categories = Type.Array(Category, { minItems: 1, maxItems: 100, uniqueItems: true });

export const SpendingLimit = Type.Object(
  {
    amount: MinorUnits({ minimum: 0, maximum: MAX_BALANCE, description: "minor units" }),
    interval: literalUnion(LIMIT_INTERVALS, { description: LIMIT_INTERVALS.join(", ") }),
    categories: Type.Union([Categories, Type.Null()], {
      description: "the merchant categories it caps; null for all spend",
    }),
  },
  { additionalProperties: false },
);
export type SpendingLimit = Static<typeof SpendingLimit>;

export const SpendingControls = Type.Object({
  allowedCategories: Type.Union([Type.Array(Type.String()), Type.Null()], {
    description: "when a list, only these merchant categories may spend",
  }),
  blockedCategories: Type.Array(Type.String()),
  limits: Type.Array(SpendingLimit, { maxItems: MAX_SPENDING_LIMITS }),
});
export type SpendingControls = Static<typeof SpendingControls>;

export const SpendingControlsInput = Type.Object(
  {
    allowedCategories: Type.Optional(Type.Union([Categories, Type.Null()])),
    blockedCategories: Type.Optional(Type.Array(Category, { maxItems: 100, uniqueItems: true })),
    limits: Type.Optional(
      Type.Array(
        Type.Object(
          {
            amount: SpendingLimit.properties.amount,
            interval: SpendingLimit.properties.interval,
            categories: Type.Optional(SpendingLimit.properties.categories),
          },
          { additionalProperties: false },
        ),
        {
          maxItems: MAX_SPENDING_LIMITS,
          description: `at most ${MAX_SPENDING_LIMITS}; replaces the list (dailyLimit and monthlyLimit stay unless listed)`,
        },
      ),
    ),
  },
  { additionalProperties: false, description: "each field given replaces the current one" },
);
export type SpendingControlsInput = Static<typeof SpendingControlsInput>;

/** The controls as a card or wallet row stores them. */
export interface StoredControls {
  daily_limit: number;
  monthly_limit: number;
  allowed_categories: string[] | null;
  blocked_categories: string[];
  spending_limits: SpendingLimit[];
}

/** Columns of cards and wallets that hold the controls, beyond daily_limit and monthly_limit. */
export const CONTROL_COLUMNS = "allowed_categories, blocked_categories, spending_limits";

/** The controls as clients see them: the daily and monthly limits first, then the others. */
export const toSpendingControls = (row: StoredControls): SpendingControls => ({
  allowedCategories: row.allowed_categories,
  blockedCategories: row.blocked_categories,
  limits: [
    { amount: row.daily_limit, interval: "daily", categories: null },
    { amount: row.monthly_limit, interval: "monthly", categories: null },
    ...row.spending_limits,
  ],
});

/** A limit's categories in one canonical form (sorted), so equal sets are one counter. */
const canonical = (categories: readonly string[] | null | undefined): string[] | null =>
  categories === null || categories === undefined ? null : [...new Set(categories)].sort();

const isNamed = (limit: SpendingLimit, interval: "daily" | "monthly") =>
  limit.interval === interval && limit.categories === null;

/** What a create or update writes: the limits columns and the other controls. */
export interface ResolvedControls extends Limits {
  allowedCategories: string[] | null;
  blockedCategories: string[];
  spendingLimits: SpendingLimit[];
}

/** The named limit of `limits` for `interval`, checked against dailyLimit/monthlyLimit when both are given. */
function namedAmount(limits: SpendingLimit[], interval: "daily" | "monthly", given: number | undefined) {
  const named = limits.find((limit) => isNamed(limit, interval));
  if (named === undefined) return given;
  if (named.amount < MINIMUM_LIMIT) {
    throw badRequest(
      "invalid_limit",
      `The ${interval} limit without categories is at least ${MINIMUM_LIMIT}.`,
    );
  }
  if (given !== undefined && given !== named.amount) {
    throw badRequest(
      "conflicting_limits",
      `${interval}Limit (${given}) and the ${interval} limit in spendingControls (${named.amount}) differ.`,
    );
  }
  return named.amount;
}

/**
 * The controls after applying `changes` to `current`. The uncategorised daily and monthly limits in
 * `spendingControls.limits` set dailyLimit and monthlyLimit; two limits on one interval and one set of
 * categories are refused, as is a list of more than 20 in all.
 */
export function resolveControls(
  current: StoredControls,
  changes: { dailyLimit?: number; monthlyLimit?: number; spendingControls?: SpendingControlsInput },
  initial: (given: Partial<Limits>) => Limits = (given) =>
    resolveLimits({ dailyLimit: current.daily_limit, monthlyLimit: current.monthly_limit }, given),
): ResolvedControls {
  const input = changes.spendingControls;
  const given = input?.limits?.map((limit) => ({
    amount: limit.amount,
    interval: limit.interval,
    categories: canonical(limit.categories),
  }));
  const keys = new Set(given?.map((limit) => JSON.stringify([limit.interval, limit.categories])));
  if (given !== undefined && keys.size < given.length) {
    throw badRequest(
      "duplicate_spending_limit",
      "Two limits have the same interval and categories: give one of each.",
    );
  }
  const limits = initial({
    dailyLimit: namedAmount(given ?? [], "daily", changes.dailyLimit),
    monthlyLimit: namedAmount(given ?? [], "monthly", changes.monthlyLimit),
  });
  const spendingLimits =
    given?.filter((limit) => !isNamed(limit, "daily") && !isNamed(limit, "monthly")) ??
    current.spending_limits;
  if (spendingLimits.length + 2 > MAX_SPENDING_LIMITS) {
    throw badRequest(
      "too_many_spending_limits",
      `At most ${MAX_SPENDING_LIMITS} limits, the daily and monthly ones included.`,
    );
  }
  return {
    ...limits,
    allowedCategories:
      input?.allowedCategories === undefined
        ? current.allowed_categories
        : canonical(input.allowedCategories),
    blockedCategories: canonical(input?.blockedCategories) ?? current.blocked_categories,
    spendingLimits,
  };
}

/** What a new card or wallet starts from: no controls; its limits come from `initialLimits`. */
export const NEW_CONTROLS: StoredControls = {
  daily_limit: DEFAULT_LIMIT,
  monthly_limit: DEFAULT_LIMIT,
  allowed_categories: null,
  blocked_categories: [],
  spending_limits: [],
};
