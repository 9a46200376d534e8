/**
 * The spend windows: approved card spend per card and per wallet, in the wallet's local day and month
 * (table `spend_windows`, one row per scope, period and start date). Authorizations write them; wallets,
 * cards and the spend decision read them, all through this file.
 */
import type { Queryable } from "../../platform/db.ts";

/** The four windows an authorization counts in: its card's and its wallet's day and month. */
export interface SpendWindows {
  cardId: string;
  walletId: string;
  day: string;
  month: string;
}

/** The windows an authorization row counted in, as it stored them. */
export const windowsOf = (authorization: {
  card_id: string;
  wallet_id: string;
  window_day: string;
  window_month: string;
}): SpendWindows => ({
  cardId: authorization.card_id,
  walletId: authorization.wallet_id,
  day: authorization.window_day,
  month: authorization.window_month,
});

/** Counts `amount` of approved spend in the card's and the wallet's day and month windows. */
export async function addSpend(db: Queryable, windows: SpendWindows, amount: number): Promise<void> {
  await db.query(
    `INSERT INTO spend_windows (scope_id, scope, period, starts_on, spent) VALUES
       ($1, 'card', 'day', $3, $5), ($1, 'card', 'month', $4, $5),
       ($2, 'wallet', 'day', $3, $5), ($2, 'wallet', 'month', $4, $5)
     ON CONFLICT (scope_id, period, starts_on) DO UPDATE SET spent = spend_windows.spent + EXCLUDED.spent`,
    [windows.cardId, windows.walletId, windows.day, windows.month, amount],
  );
}

/** Gives `amount` back to the windows it was counted in (void, expiry, partial capture, refund). */
export async function releaseSpend(db: Queryable, windows: SpendWindows, amount: number): Promise<void> {
  if (amount === 0) return;
  await db.query(
    `UPDATE spend_windows SET spent = spent - $5
     WHERE (scope_id IN ($1, $2) AND period = 'day' AND starts_on = $3)
        OR (scope_id IN ($1, $2) AND period = 'month' AND starts_on = $4)`,
    [windows.cardId, windows.walletId, windows.day, windows.month, amount],
  );
}

/**
 * The columns `spent_today` and `spent_this_month`: spend of `scopeId` in the local day and month that
 * contain the instant `$nowParameter` in `timezone`. Both are SQL expressions of the surrounding query.
 */
export function spentColumns(scopeId: string, timezone: string, nowParameter: number): string {
  const local = `($${nowParameter}::timestamptz AT TIME ZONE ${timezone})`;
  const window = (period: string, startsOn: string) =>
    `COALESCE((SELECT s.spent FROM spend_windows s WHERE s.scope_id = ${scopeId} AND s.period = '${period}' AND s.starts_on = ${startsOn}), 0)`;
  return `${window("day", `${local}::date`)} AS spent_today, ${window("month", `date_trunc('month', ${local})::date`)} AS spent_this_month`;
}

/**
 * For a spend decision, in one statement with the card: the card's (`c`) and its wallet's spend in the
 * day `local.today` and the month `local.month_start`, as `card_day`, `card_month`, `wallet_day` and
 * `wallet_month`. `join` goes after the FROM clause that names `c` and `local`; the query groups by card.
 */
export const decisionSpend = {
  columns: `COALESCE(SUM(s.spent) FILTER (WHERE s.scope = 'card' AND s.period = 'day'), 0)::bigint AS card_day,
    COALESCE(SUM(s.spent) FILTER (WHERE s.scope = 'card' AND s.period = 'month'), 0)::bigint AS card_month,
    COALESCE(SUM(s.spent) FILTER (WHERE s.scope = 'wallet' AND s.period = 'day'), 0)::bigint AS wallet_day,
    COALESCE(SUM(s.spent) FILTER (WHERE s.scope = 'wallet' AND s.period = 'month'), 0)::bigint AS wallet_month`,
  join: `LEFT JOIN spend_windows s ON s.scope_id IN (c.id, c.wallet_id)
    AND ((s.period = 'day' AND s.starts_on = local.today) OR (s.period = 'month' AND s.starts_on = local.month_start))`,
};
