/**
 * The spend windows: approved card spend per card and per wallet, in the wallet's local day, week (from
 * Monday), month and year and for all time (table `spend_windows`, one row per scope, period, start date
 * and category key). Every spend counts in its card's and wallet's day and month (they back dailyLimit,
 * monthlyLimit, spentToday and spentThisMonth). A week, year or all-time window of a card or wallet is
 * kept only while it has a limit of that interval without categories: set, it is filled from the
 * authorizations of the current window; removed, its rows go ({@link followLimits}). A categorised limit
 * has its own counter, which counts the spend in its categories from the moment the limit exists.
 * Authorizations write them and wallets and cards read them through this file; the spend decision reads
 * them with its cards in spending_cards (migration 011). A decision reads a handful of rows, never history.
 */
import type { Queryable } from "../../platform/db.ts";
import type { Writes } from "../../platform/sql.ts";
import type { LimitInterval, SpendingLimit } from "../wallets/spending-controls.ts";

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

/** The periods every spend counts in, limit or not. */
const ALWAYS_KEPT: readonly Period[] = ["day", "month"];

/** Whether the window of a limit is one every spend counts in anyway (an uncategorised day or month). */
export const isAlwaysKept = (window: WindowKey): boolean =>
  window.categoryKey === "" && ALWAYS_KEPT.includes(window.period);

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

/** The windows a spend counts in. */
export interface SpendWindows {
  cardId: string;
  walletId: string;
  starts: PeriodStarts;
  /** Beyond the card's and wallet's day and month: the windows of the limits that count the spend. */
  limitWindows: WindowKey[];
}

/** The uncategorised windows of a card and its wallet in `periods`. */
const uncategorised = (periods: readonly Period[]): WindowKey[] =>
  periods.flatMap((period) =>
    (["card", "wallet"] as const).map((scope) => ({ scope, period, categoryKey: "" })),
  );

/** The card's and wallet's day and month. */
const ALWAYS_KEPT_WINDOWS = uncategorised(ALWAYS_KEPT);

/** The uncategorised week, year and all-time windows of a card and its wallet, kept or not. */
const OPTIONAL_WINDOWS = uncategorised(PERIODS.filter((period) => !ALWAYS_KEPT.includes(period)));

/**
 * The windows an authorization row may count in, to move its spend later ({@link moveSpend}): its day
 * and month, its week, year and all-time windows (those kept are the rows that exist) and its
 * categorised ones.
 */
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
  limitWindows: [...OPTIONAL_WINDOWS, ...authorization.category_windows],
});

/** A window as `spend_windows` keys it: its scope's id and its start date too. */
interface WindowRow extends WindowKey {
  scopeId: string;
  startsOn: string;
}

/**
 * What an authorization row records of the windows it counts in: the categorised ones (its uncategorised
 * windows follow from its dates, see {@link windowsOf}).
 */
export const recordedWindows = (limitWindows: readonly WindowKey[]): WindowKey[] =>
  limitWindows.filter((window) => window.categoryKey !== "");

/** Every window of `windows` as `spend_windows` keys them. */
function rowsOf(windows: SpendWindows): WindowRow[] {
  const all: WindowKey[] = [...ALWAYS_KEPT_WINDOWS, ...windows.limitWindows];
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

/**
 * Moves an authorization's approved spend by `delta` in the windows of `windows` that are kept: an
 * increment raises it, a void, expiry, partial capture or refund gives it back. Only rows that exist
 * change: a kept window holds every approved spend in it (a new limit's window is filled when the
 * limit is set), and a window without a row is not kept.
 */
export async function moveSpend(db: Queryable, windows: SpendWindows, delta: number): Promise<void> {
  if (delta === 0) return;
  await db.query(
    `UPDATE spend_windows s SET spent = s.spent + w.amount
     FROM jsonb_to_recordset($1::jsonb) ${WINDOW_AMOUNTS}
     WHERE s.scope_id = w.scope_id AND s.period = w.period AND s.starts_on = w.starts_on
       AND s.category_key = w.category_key`,
    [windowAmounts([{ windows, amount: delta }])],
  );
}

/** The periods beyond day and month that `limits` keep windows for: those of its uncategorised limits. */
function keptPeriods(limits: readonly SpendingLimit[]): Set<Period> {
  const periods = new Set<Period>();
  for (const limit of limits) {
    const period = PERIOD_OF[limit.interval];
    if (limit.categories === null && period !== null && !ALWAYS_KEPT.includes(period)) periods.add(period);
  }
  return periods;
}

/**
 * Keeps the week, year and all-time windows of a card or wallet in step with its limits when they change
 * from `before` to `after`, under its wallet's row lock (so that no spend is decided meanwhile): a period
 * whose limit goes loses its rows; one whose limit comes gets the approved spend of its window that
 * contains `now`, summed from the authorizations (a one-off scan of that card's or wallet's, the day the
 * limit is set), so a limit set on a Wednesday counts the week's spend from Monday.
 */
export async function followLimits(
  tx: Queryable,
  owner: { scope: "card" | "wallet"; id: string; walletId: string },
  before: readonly SpendingLimit[],
  after: readonly SpendingLimit[],
  now: Date,
): Promise<void> {
  const kept = keptPeriods(before);
  const keeps = keptPeriods(after);
  const dropped = [...kept].filter((period) => !keeps.has(period));
  const added = [...keeps].filter((period) => !kept.has(period));
  if (dropped.length > 0) {
    await tx.query(
      "DELETE FROM spend_windows WHERE scope_id = $1 AND period = ANY($2::text[]) AND category_key = ''",
      [owner.id, dropped],
    );
  }
  if (added.length === 0) return;
  // A wallet's authorizations through its cards' index (a card never moves, deleted ones included).
  const ofOwner =
    owner.scope === "card"
      ? "a.card_id = $1::uuid"
      : "a.card_id IN (SELECT id FROM cards WHERE wallet_id = $1::uuid)";
  await tx.query(
    `WITH window_start AS (
       SELECT p.period, CASE p.period WHEN 'all_time' THEN DATE '${ALL_TIME_START}'
                          ELSE date_trunc(p.period, $4::timestamptz AT TIME ZONE w.timezone)::date END AS starts_on,
              w.timezone
       FROM unnest($3::text[]) AS p (period), wallets w WHERE w.id = $5::uuid)
     INSERT INTO spend_windows (scope_id, scope, period, starts_on, category_key, spent)
     SELECT $1::uuid, $2, ws.period, ws.starts_on, '',
            COALESCE(sum(CASE a.status WHEN 'pending' THEN a.amount
                                       WHEN 'captured' THEN a.captured_amount - a.refunded_amount ELSE 0 END), 0)
     FROM window_start ws
     LEFT JOIN authorizations a
       ON ${ofOwner} AND a.status IN ('pending', 'captured')
      AND a.created_at >= (ws.starts_on::timestamp AT TIME ZONE ws.timezone)
      AND CASE ws.period WHEN 'week' THEN a.window_week = ws.starts_on
                         WHEN 'year' THEN a.window_year = ws.starts_on ELSE true END
     GROUP BY ws.period, ws.starts_on
     ON CONFLICT (scope_id, period, starts_on, category_key) DO UPDATE SET spent = EXCLUDED.spent`,
    [owner.id, owner.scope, added, now, owner.walletId],
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

/** A card and the windows read for its decision (its own and its wallet's; spending_cards, migration 011). */
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
