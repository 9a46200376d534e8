/**
 * The spend windows: approved card spend per card and per wallet, in the wallet's local day, week (from
 * Monday), month and year and for all time (table `spend_windows`, one row per scope, period, start date
 * and category key). Every spend counts in the ten uncategorised windows; a categorised limit has its own
 * counter, which counts the spend in its categories. Authorizations write them; wallets, cards and the
 * spend decision read them, all through this file. A decision reads a handful of rows, never history.
 */
import type { Queryable } from "../../platform/db.ts";
import { type Writes, writeTogether } from "../../platform/sql.ts";
import type { LimitInterval } from "../wallets/spending-controls.ts";

export const PERIODS = ["day", "week", "month", "year", "all_time"] as const;
export type Period = (typeof PERIODS)[number];

/** The window a limit of each interval is measured in; a per-authorization limit has none. */
export const PERIOD_OF: Record<LimitInterval, Period | null> = {
  per_authorization: null,
  daily: "day",
  weekly: "week",
  monthly: "month",
  yearly: "year",
  all_time: "all_time",
};

/** The start of the one all-time window. */
const ALL_TIME_START = "1970-01-01";

/** A limit's counter within a scope: '' for all spend, else its sorted categories as JSON text. */
export const categoryKey = (categories: readonly string[] | null): string =>
  categories === null ? "" : JSON.stringify(categories);

/** A window of a card or wallet, without its start date (which the instant of the spend gives). */
export interface WindowKey {
  scope: "card" | "wallet";
  period: Period;
  categoryKey: string;
}

/** The local start of each window of one instant, in the wallet's time zone. */
export type PeriodStarts = Record<Exclude<Period, "all_time">, string>;

/** The windows an authorization counts in, as its row stores them. */
export interface SpendWindows {
  cardId: string;
  walletId: string;
  starts: PeriodStarts;
  categoryWindows: WindowKey[];
}

/** The windows an authorization row counted in. */
export const windowsOf = (authorization: {
  card_id: string;
  wallet_id: string;
  window_day: string;
  window_week: string;
  window_month: string;
  window_year: string;
  category_windows: WindowKey[];
}): SpendWindows => ({
  cardId: authorization.card_id,
  walletId: authorization.wallet_id,
  starts: {
    day: authorization.window_day,
    week: authorization.window_week,
    month: authorization.window_month,
    year: authorization.window_year,
  },
  categoryWindows: authorization.category_windows,
});

/** A window as `spend_windows` keys it: its scope's id and its start date too. */
interface WindowRow extends WindowKey {
  scopeId: string;
  startsOn: string;
}

/** Every window of `windows` as `spend_windows` keys them. */
function rowsOf(windows: SpendWindows): WindowRow[] {
  const all: WindowKey[] = [
    ...PERIODS.flatMap((period) =>
      (["card", "wallet"] as const).map((scope) => ({ scope, period, categoryKey: "" })),
    ),
    ...windows.categoryWindows,
  ];
  return all.map((window) => ({
    ...window,
    scopeId: window.scope === "card" ? windows.cardId : windows.walletId,
    startsOn: window.period === "all_time" ? ALL_TIME_START : windows.starts[window.period],
  }));
}

/**
 * Every window of `spends` with the amount counted in it, one row per window (the amounts of spends in
 * the same window summed: a statement may write a row only once), as JSON for jsonb_to_recordset.
 */
function windowAmounts(spends: readonly { windows: SpendWindows; amount: number }[]): string {
  const rows = new Map<string, WindowAmount>();
  for (const { windows, amount } of spends) {
    for (const row of rowsOf(windows)) {
      const key = `${windowKeyOf(row.scopeId, row)}|${row.startsOn}`;
      const counted = rows.get(key);
      if (counted === undefined) {
        rows.set(key, {
          scope_id: row.scopeId,
          scope: row.scope,
          period: row.period,
          starts_on: row.startsOn,
          category_key: row.categoryKey,
          amount,
        });
      } else counted.amount += amount;
    }
  }
  return JSON.stringify([...rows.values()]);
}

interface WindowAmount {
  scope_id: string;
  scope: WindowKey["scope"];
  period: Period;
  starts_on: string;
  category_key: string;
  amount: number;
}

/** The rows of windowAmounts, in SQL. */
const WINDOW_AMOUNTS =
  "AS w (scope_id uuid, scope text, period text, starts_on date, category_key text, amount bigint)";

/** Counts `amount` of approved spend in every window of `windows`, in one statement. */
export async function addSpend(db: Queryable, windows: SpendWindows, amount: number): Promise<void> {
  await writeTogether(db, [spendWrites([{ windows, amount }])]);
}

/**
 * Counts each spend of `spends` in every window it falls in, as a part of one statement whatever their
 * number (amounts of one window are summed first: a row is written once per statement).
 */
export function spendWrites(spends: readonly { windows: SpendWindows; amount: number }[]): Writes {
  return (parameters) => {
    if (spends.length === 0) return [];
    return [
      `spend_windows_counted AS (
         INSERT INTO spend_windows (scope_id, scope, period, starts_on, category_key, spent)
         SELECT w.scope_id, w.scope, w.period, w.starts_on, w.category_key, w.amount
         FROM jsonb_to_recordset(${parameters.bind(windowAmounts(spends))}::jsonb) ${WINDOW_AMOUNTS}
         ON CONFLICT (scope_id, period, starts_on, category_key)
         DO UPDATE SET spent = spend_windows.spent + EXCLUDED.spent)`,
    ];
  };
}

/** The key of a window of one scope id in {@link spentByWindow}. */
const windowKeyOf = (scopeId: string, window: Pick<WindowKey, "period" | "categoryKey">): string =>
  `${scopeId}|${window.period}|${window.categoryKey}`;

/**
 * The spend of every window of `windows` (by {@link windowKeyOf}) raised by `amount`: what a
 * decision later in the same batch sees of a spend approved before it.
 */
export function countSpend(spent: Map<string, number>, windows: SpendWindows, amount: number): void {
  for (const row of rowsOf(windows)) {
    const key = windowKeyOf(row.scopeId, row);
    spent.set(key, (spent.get(key) ?? 0) + amount);
  }
}

/** Gives `amount` back to the windows it was counted in (void, expiry, partial capture, refund). */
export async function releaseSpend(db: Queryable, windows: SpendWindows, amount: number): Promise<void> {
  if (amount === 0) return;
  await db.query(
    `UPDATE spend_windows s SET spent = s.spent - w.amount
     FROM jsonb_to_recordset($1::jsonb) ${WINDOW_AMOUNTS}
     WHERE s.scope_id = w.scope_id AND s.period = w.period AND s.starts_on = w.starts_on
       AND s.category_key = w.category_key`,
    [windowAmounts([{ windows, amount }])],
  );
}

/**
 * The columns `spent_today` and `spent_this_month`: spend of `scopeId` in the local day and month that
 * contain the instant `$nowParameter` in `timezone`. Both are SQL expressions of the surrounding query.
 */
export function spentColumns(scopeId: string, timezone: string, nowParameter: number): string {
  const local = `($${nowParameter}::timestamptz AT TIME ZONE ${timezone})`;
  const window = (period: string, startsOn: string) =>
    `COALESCE((SELECT s.spent FROM spend_windows s WHERE s.scope_id = ${scopeId} AND s.period = '${period}' AND s.starts_on = ${startsOn} AND s.category_key = ''), 0)`;
  return `${window("day", `${local}::date`)} AS spent_today, ${window("month", `date_trunc('month', ${local})::date`)} AS spent_this_month`;
}

/**
 * For a spend decision, in one statement with the card `c`: the local start of each window containing
 * the instant `$instant` in the zone `$timezone`, when each ends, and the spend of the card and its
 * wallet in those windows (`windows`, JSON [{scope, period, categoryKey, spent}]).
 */
export function decisionWindowColumns(instant: number, timezone: string): string {
  const local = `($${instant}::timestamptz AT TIME ZONE ${timezone})`;
  const start = (unit: string) => `date_trunc('${unit}', ${local})::date`;
  const end = (unit: string) =>
    `((date_trunc('${unit}', ${local}) + interval '1 ${unit}') AT TIME ZONE ${timezone})`;
  return `${start("day")} AS window_day, ${start("week")} AS window_week, ${start("month")} AS window_month,
    ${start("year")} AS window_year, ${end("day")} AS day_ends, ${end("week")} AS week_ends,
    ${end("month")} AS month_ends, ${end("year")} AS year_ends,
    (SELECT COALESCE(json_agg(json_build_object('scope', s.scope, 'period', s.period,
                                                'categoryKey', s.category_key, 'spent', s.spent)), '[]')
       FROM spend_windows s
      WHERE s.scope_id IN (c.id, c.wallet_id)
        AND ((s.period = 'day' AND s.starts_on = ${start("day")})
          OR (s.period = 'week' AND s.starts_on = ${start("week")})
          OR (s.period = 'month' AND s.starts_on = ${start("month")})
          OR (s.period = 'year' AND s.starts_on = ${start("year")})
          OR (s.period = 'all_time' AND s.starts_on = '${ALL_TIME_START}'))) AS windows`;
}

/** A card and the windows `decisionWindowColumns` read for it (its own and its wallet's). */
interface CardWindows {
  id: string;
  wallet_id: string;
  windows: (WindowKey & { spent: number })[];
}

/** The spend of every window read for `cards`, by {@link windowKeyOf} (a wallet's rows may repeat). */
export function spentByWindow(cards: readonly CardWindows[]): Map<string, number> {
  const spent = new Map<string, number>();
  for (const card of cards) {
    for (const row of card.windows) {
      spent.set(windowKeyOf(row.scope === "card" ? card.id : card.wallet_id, row), row.spent);
    }
  }
  return spent;
}

/** The decision's view of the spend in each window of `card` (0 for a window not yet written). */
export const spentFor =
  (spent: ReadonlyMap<string, number>, card: Pick<CardWindows, "id" | "wallet_id">) =>
  (window: WindowKey): number =>
    spent.get(windowKeyOf(window.scope === "card" ? card.id : card.wallet_id, window)) ?? 0;
