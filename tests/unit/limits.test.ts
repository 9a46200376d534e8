import { describe, expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import {
  DEFAULT_LIMIT,
  initialLimits,
  Limit,
  MINIMUM_LIMIT,
  resolveLimits,
} from "../../src/modules/wallets/limits.ts";
import { ApiError } from "../../src/platform/errors.ts";

/** The ApiError `work` throws, or a failure when it throws nothing or something else. */
function thrownBy(work: () => unknown): ApiError {
  try {
    work();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected an ApiError, nothing was thrown");
}

describe("limit constants", () => {
  test("limits default to 500000 and must be at least 10000", () => {
    expect(DEFAULT_LIMIT).toBe(500_000);
    expect(MINIMUM_LIMIT).toBe(10_000);
    expect(initialLimits({})).toEqual({ dailyLimit: 500_000, monthlyLimit: 500_000 });
  });

  test("the Limit schema takes integers from 10000 to 10^15 and nothing else", () => {
    for (const value of [10_000, 10_001, 500_000, 1_000_000_000_000_000]) {
      expect(Value.Check(Limit, value), String(value)).toBe(true);
    }
    for (const value of [9_999, 0, -10_000, 1_000_000_000_000_001, 10_000.5, "20000", null, Number.NaN]) {
      expect(Value.Check(Limit, value), String(value)).toBe(false);
    }
  });
});

describe("initialLimits", () => {
  test("a limit not given defaults to 500000 without contradicting the one given", () => {
    expect(initialLimits({ monthlyLimit: 20_000 })).toEqual({ dailyLimit: 20_000, monthlyLimit: 20_000 });
    expect(initialLimits({ dailyLimit: 600_000 })).toEqual({ dailyLimit: 600_000, monthlyLimit: 600_000 });
    expect(initialLimits({ dailyLimit: 30_000 })).toEqual({ dailyLimit: 30_000, monthlyLimit: 500_000 });
  });

  test("given limits that contradict each other are still refused", () => {
    expect(thrownBy(() => initialLimits({ dailyLimit: 200_000, monthlyLimit: 100_000 })).code).toBe(
      "daily_limit_exceeds_monthly",
    );
  });
});

describe("resolveLimits", () => {
  test("no change keeps the current limits", () => {
    expect(resolveLimits({ dailyLimit: DEFAULT_LIMIT, monthlyLimit: DEFAULT_LIMIT }, {})).toEqual({
      dailyLimit: 500_000,
      monthlyLimit: 500_000,
    });
    expect(resolveLimits({ dailyLimit: 20_000, monthlyLimit: 90_000 }, {})).toEqual({
      dailyLimit: 20_000,
      monthlyLimit: 90_000,
    });
  });

  test("an explicitly undefined change keeps the current value", () => {
    expect(
      resolveLimits(
        { dailyLimit: 20_000, monthlyLimit: 90_000 },
        { dailyLimit: undefined, monthlyLimit: undefined },
      ),
    ).toEqual({ dailyLimit: 20_000, monthlyLimit: 90_000 });
  });

  test("changing one limit keeps the other", () => {
    const current = { dailyLimit: 20_000, monthlyLimit: 90_000 };
    expect(resolveLimits(current, { dailyLimit: 50_000 })).toEqual({
      dailyLimit: 50_000,
      monthlyLimit: 90_000,
    });
    expect(resolveLimits(current, { monthlyLimit: 300_000 })).toEqual({
      dailyLimit: 20_000,
      monthlyLimit: 300_000,
    });
  });

  test("changing both replaces both", () => {
    expect(
      resolveLimits(
        { dailyLimit: DEFAULT_LIMIT, monthlyLimit: DEFAULT_LIMIT },
        { dailyLimit: 10_000, monthlyLimit: 20_000 },
      ),
    ).toEqual({
      dailyLimit: 10_000,
      monthlyLimit: 20_000,
    });
  });

  test("a daily limit equal to the monthly one is allowed", () => {
    expect(
      resolveLimits(
        { dailyLimit: DEFAULT_LIMIT, monthlyLimit: DEFAULT_LIMIT },
        { dailyLimit: 80_000, monthlyLimit: 80_000 },
      ),
    ).toEqual({
      dailyLimit: 80_000,
      monthlyLimit: 80_000,
    });
    expect(resolveLimits({ dailyLimit: 20_000, monthlyLimit: 90_000 }, { dailyLimit: 90_000 })).toEqual({
      dailyLimit: 90_000,
      monthlyLimit: 90_000,
    });
  });

  test("a daily limit above the monthly one is 400 daily_limit_exceeds_monthly", () => {
    const error = thrownBy(() =>
      resolveLimits(
        { dailyLimit: DEFAULT_LIMIT, monthlyLimit: DEFAULT_LIMIT },
        { dailyLimit: 200_000, monthlyLimit: 100_000 },
      ),
    );
    expect(error.status).toBe(400);
    expect(error.code).toBe("daily_limit_exceeds_monthly");
    expect(error.detail).toContain("200000");
    expect(error.detail).toContain("100000");
  });

  test("a single change is checked against the stored other limit", () => {
    const current = { dailyLimit: 100_000, monthlyLimit: 200_000 };
    expect(thrownBy(() => resolveLimits(current, { dailyLimit: 200_001 })).code).toBe(
      "daily_limit_exceeds_monthly",
    );
    expect(thrownBy(() => resolveLimits(current, { monthlyLimit: 99_999 })).code).toBe(
      "daily_limit_exceeds_monthly",
    );
    // Against the defaults, as on create.
    expect(
      thrownBy(() =>
        resolveLimits({ dailyLimit: DEFAULT_LIMIT, monthlyLimit: DEFAULT_LIMIT }, { dailyLimit: 500_001 }),
      ).code,
    ).toBe("daily_limit_exceeds_monthly");
    expect(
      thrownBy(() =>
        resolveLimits({ dailyLimit: DEFAULT_LIMIT, monthlyLimit: DEFAULT_LIMIT }, { monthlyLimit: 499_999 }),
      ).code,
    ).toBe("daily_limit_exceeds_monthly");
  });

  test("never changes its inputs", () => {
    const current = { dailyLimit: 20_000, monthlyLimit: 90_000 };
    const changes = { dailyLimit: 30_000 };
    resolveLimits(current, changes);
    expect(current).toEqual({ dailyLimit: 20_000, monthlyLimit: 90_000 });
    expect(changes).toEqual({ dailyLimit: 30_000 });
    expect(initialLimits({})).toEqual({ dailyLimit: 500_000, monthlyLimit: 500_000 });
  });
});
