/**
 * The money invariants of contract §3, computed in SQL over every wallet, card and window of a
 * database. Shared by the concurrency and crash tests and by the benchmark.
 */
import { CREDIT_TYPES } from "../../src/modules/ledger/credits.ts";
import { TRANSACTION_TYPES } from "../../src/modules/ledger/model.ts";
import type { Queryable } from "../../src/platform/db.ts";

export interface Check {
  name: string;
  ok: boolean;
  /** How many rows break it (0 when ok) and what was examined. */
  violations: number;
  examined: number;
  /** A few offending rows, when it fails. */
  samples: unknown[];
}

interface CheckSql {
  name: string;
  /** Counts what is examined. */
  examined: string;
  /** Selects the offending rows. */
  violations: string;
}

const sqlList = (types: readonly string[]) => `(${types.map((type) => `'${type}'`).join(", ")})`;
const CREDITS = sqlList(CREDIT_TYPES);
const DEBITS = sqlList(TRANSACTION_TYPES.filter((type) => !CREDIT_TYPES.includes(type)));

/** Approved spend each authorization still counts in its windows (contract §3, "Limits"). */
const COUNTED = `CASE status WHEN 'pending' THEN amount
                   WHEN 'captured' THEN captured_amount - refunded_amount ELSE 0 END`;

/**
 * Every window each authorization may count in: the card's and the wallet's day, week, month, year and
 * all time (the week, year and all-time ones are kept only while a limit needs them), and the
 * categorised windows it names in category_windows.
 */
const EXPECTED_WINDOWS = `
  WITH counted AS (
    SELECT a.*, ${COUNTED} AS spent FROM authorizations a
  ), windows AS (
    SELECT CASE w.scope WHEN 'card' THEN c.card_id ELSE c.wallet_id END AS scope_id, w.scope, w.period,
           CASE w.period WHEN 'day' THEN c.window_day WHEN 'week' THEN c.window_week
                         WHEN 'month' THEN c.window_month WHEN 'year' THEN c.window_year
                         ELSE date '1970-01-01' END AS starts_on,
           w.category_key, c.spent
      FROM counted c
      CROSS JOIN LATERAL (
        SELECT scope, period, '' AS category_key
          FROM (VALUES ('card'), ('wallet')) AS s (scope)
          CROSS JOIN (VALUES ('day'), ('week'), ('month'), ('year'), ('all_time')) AS p (period)
        UNION ALL
        SELECT e->>'scope', e->>'period', e->>'categoryKey' FROM jsonb_array_elements(c.category_windows) e
      ) w
  ), expected AS (
    SELECT scope_id, scope, period, starts_on, category_key, sum(spent) AS spent FROM windows
     GROUP BY scope_id, scope, period, starts_on, category_key
  )`;

/** No spend window of `scope` exceeds the daily/monthly limit of its card or wallet (a row of `table`). */
function windowsWithinLimits(scope: "card" | "wallet", table: "cards" | "wallets"): CheckSql {
  return {
    name: `no ${scope} window exceeds the ${scope}'s daily/monthly limit`,
    examined: `SELECT count(*) FROM spend_windows WHERE scope = '${scope}'`,
    violations: `
      SELECT s.scope_id, s.period, s.starts_on, s.spent, o.daily_limit, o.monthly_limit
        FROM spend_windows s JOIN ${table} o ON o.id = s.scope_id
       WHERE s.scope = '${scope}' AND s.category_key = '' AND s.period IN ('day', 'month')
         AND s.spent > CASE s.period WHEN 'day' THEN o.daily_limit ELSE o.monthly_limit END`,
  };
}

const CHECKS: CheckSql[] = [
  {
    name: "balance = Σ credits − Σ debits of the ledger, for every wallet",
    examined: "SELECT count(*) FROM wallets",
    violations: `
      SELECT w.id, w.balance, coalesce(l.net, 0) AS ledger
        FROM wallets w
        LEFT JOIN (SELECT wallet_id,
                          sum(CASE WHEN type IN ${CREDITS} THEN amount
                                   WHEN type IN ${DEBITS} THEN -amount END) AS net
                     FROM transactions GROUP BY wallet_id) l ON l.wallet_id = w.id
       WHERE w.balance IS DISTINCT FROM coalesce(l.net, 0)`,
  },
  {
    name: "balance ≥ 0, held ≥ 0 and held ≤ balance, for every wallet",
    examined: "SELECT count(*) FROM wallets",
    violations: "SELECT id, balance, held FROM wallets WHERE balance < 0 OR held < 0 OR held > balance",
  },
  {
    name: "the last ledger row of every wallet shows its balance (balance_after of the highest seq)",
    examined: "SELECT count(*) FROM wallets",
    violations: `
      SELECT w.id, w.balance, last.balance_after FROM wallets w
        JOIN LATERAL (SELECT balance_after FROM transactions t WHERE t.wallet_id = w.id
                       ORDER BY seq DESC LIMIT 1) last ON true
       WHERE last.balance_after <> w.balance`,
  },
  {
    name: "refunds of a card spend never add up to more than it",
    examined: "SELECT count(*) FROM transactions WHERE type = 'refund'",
    violations: `
      SELECT spend.id, spend.amount, r.refunded FROM transactions spend
        JOIN (SELECT refund_of, sum(amount) AS refunded FROM transactions WHERE type = 'refund'
               GROUP BY refund_of) r ON r.refund_of = spend.id
       WHERE r.refunded > spend.amount`,
  },
  {
    name: "no ledger row leaves a negative balance (balance_after ≥ 0)",
    examined: "SELECT count(*) FROM transactions",
    violations: "SELECT id, wallet_id, balance_after FROM transactions WHERE balance_after < 0",
  },
  {
    name: "held = Σ amount of pending authorizations, for every wallet",
    examined: "SELECT count(*) FROM wallets",
    violations: `
      SELECT w.id, w.held, coalesce(p.pending, 0) AS pending
        FROM wallets w
        LEFT JOIN (SELECT wallet_id, sum(amount) AS pending FROM authorizations
                    WHERE status = 'pending' GROUP BY wallet_id) p ON p.wallet_id = w.id
       WHERE w.held <> coalesce(p.pending, 0)`,
  },
  {
    name: "each captured authorization has one card_spend of its captured amount; no other has one",
    examined: "SELECT count(*) FROM authorizations",
    violations: `
      SELECT a.id, a.status, a.captured_amount, s.n, s.amount
        FROM authorizations a
        LEFT JOIN (SELECT authorization_id, count(*) AS n, sum(amount) AS amount FROM transactions
                    WHERE type = 'card_spend' GROUP BY authorization_id) s ON s.authorization_id = a.id
       WHERE (a.status = 'captured' AND (s.n IS DISTINCT FROM 1 OR s.amount <> a.captured_amount))
          OR (a.status <> 'captured' AND s.n IS NOT NULL)`,
  },
  {
    name: "spend_windows.spent = Σ approved spend of the window's authorizations, for every row (card and wallet, every period and categorised limit); no day, month, categorised or limited all-time window with spend is missing",
    examined: "SELECT count(*) FROM spend_windows",
    violations: `${EXPECTED_WINDOWS}
      SELECT coalesce(e.scope_id, s.scope_id) AS scope_id, coalesce(e.period, s.period) AS period,
             coalesce(e.starts_on, s.starts_on) AS starts_on, e.scope AS expected_scope, s.scope,
             coalesce(e.spent, 0) AS expected, s.spent
        FROM expected e FULL JOIN spend_windows s
          ON s.scope_id = e.scope_id AND s.period = e.period AND s.starts_on = e.starts_on
         AND s.category_key = e.category_key
       WHERE (s.scope IS NOT NULL AND coalesce(e.spent, 0) <> s.spent)
          OR (e.scope IS NOT NULL AND s.scope IS NOT NULL AND e.scope <> s.scope)
          OR (s.scope IS NULL AND e.spent <> 0
              AND (e.period IN ('day', 'month') OR e.category_key <> ''
                   OR (e.period = 'all_time' AND EXISTS (
                         SELECT 1
                           FROM (SELECT spending_limits FROM cards WHERE e.scope = 'card' AND id = e.scope_id
                                 UNION ALL
                                 SELECT spending_limits FROM wallets WHERE e.scope = 'wallet' AND id = e.scope_id) o,
                                jsonb_array_elements(o.spending_limits) l
                          WHERE l->>'categories' IS NULL AND l->>'interval' = 'all_time'))))`,
  },
  windowsWithinLimits("card", "cards"),
  windowsWithinLimits("wallet", "wallets"),
  {
    name: "every spend window belongs to an existing card or wallet of its scope",
    examined: "SELECT count(*) FROM spend_windows",
    violations: `
      SELECT s.scope_id, s.scope, s.period, s.starts_on FROM spend_windows s
       WHERE (s.scope = 'card' AND NOT EXISTS (SELECT 1 FROM cards c WHERE c.id = s.scope_id))
          OR (s.scope = 'wallet' AND NOT EXISTS (SELECT 1 FROM wallets w WHERE w.id = s.scope_id))`,
  },
];

const MAX_SAMPLES = 5;

/**
 * Runs every check. On a live database, run it inside one REPEATABLE READ transaction of a single
 * connection so that all checks see the same state.
 */
export async function checkInvariants(db: Queryable): Promise<Check[]> {
  {
    const results: Check[] = [];
    for (const check of CHECKS) {
      const examined = await db.query<{ count: number }>(check.examined);
      const offending = await db.query(
        `SELECT count(*) OVER () AS total, v.* FROM (${check.violations}) v LIMIT ${MAX_SAMPLES}`,
      );
      const first = offending.rows[0];
      const total = first === undefined ? 0 : Number(Reflect.get(first, "total"));
      results.push({
        name: check.name,
        ok: total === 0,
        violations: total,
        examined: Number(examined.rows[0]?.count ?? 0),
        samples: offending.rows.map((row) => {
          const { total: _total, ...rest } = row;
          return rest;
        }),
      });
    }
    return results;
  }
}

/** The invariants that do not hold, as readable lines (empty when all hold). */
export async function brokenInvariants(db: Queryable): Promise<string[]> {
  return (await checkInvariants(db))
    .filter((check) => !check.ok)
    .map(
      (check) => `${check.name}: ${check.violations} violation(s), e.g. ${JSON.stringify(check.samples[0])}`,
    );
}
