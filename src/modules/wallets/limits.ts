import { badRequest } from "../../platform/errors.ts";
import { ERROR_CODE_KEYWORD, MAX_BALANCE, MinorUnits } from "../../platform/schemas.ts";

/** Wallets and cards share the original's limit rules: default 500000, at least 10000 when set. */
export const DEFAULT_LIMIT = 500_000;
export const MINIMUM_LIMIT = 10_000;

export const Limit = MinorUnits({
  minimum: MINIMUM_LIMIT,
  maximum: MAX_BALANCE,
  [ERROR_CODE_KEYWORD]: "invalid_limit",
  description: `minor units, ${MINIMUM_LIMIT} to ${MAX_BALANCE}`,
});

export interface Limits {
  dailyLimit: number;
  monthlyLimit: number;
}

/** The limits after applying `changes` to `current`; a daily limit above the monthly one is refused. */
export function resolveLimits(current: Limits, changes: Partial<Limits>): Limits {
  const limits = {
    dailyLimit: changes.dailyLimit ?? current.dailyLimit,
    monthlyLimit: changes.monthlyLimit ?? current.monthlyLimit,
  };
  if (limits.dailyLimit > limits.monthlyLimit) {
    throw badRequest(
      "daily_limit_exceeds_monthly",
      `dailyLimit (${limits.dailyLimit}) must not exceed monthlyLimit (${limits.monthlyLimit}).`,
    );
  }
  return limits;
}

/**
 * The limits of a new wallet or card. A limit not given defaults to 500000, but never so as to
 * contradict the one that was given: a monthly limit of 20000 alone gives a daily limit of 20000.
 */
export function initialLimits(given: Partial<Limits>): Limits {
  return resolveLimits(
    {
      dailyLimit: Math.min(DEFAULT_LIMIT, given.monthlyLimit ?? DEFAULT_LIMIT),
      monthlyLimit: Math.max(DEFAULT_LIMIT, given.dailyLimit ?? DEFAULT_LIMIT),
    },
    given,
  );
}
