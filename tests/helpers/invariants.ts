/**
 * The money invariants of contract §3, checked in SQL against what is stored. Shared by the
 * concurrency and crash tests and by the benchmark.
 */
import type { Queryable } from "../../src/platform/db.ts";

export interface InvariantResult {
  name: string;
  /** Rows that break the invariant (0 when it holds). */
  violations: number;
}

const CHECKS: Record<string, string> = {
  "balance = Σ ledger (credits - debits) for every wallet": `
    SELECT count(*)::int AS violations FROM wallets w
    LEFT JOIN (
      SELECT wallet_id, SUM(CASE WHEN type IN ('topup', 'transfer_in', 'refund') THEN amount ELSE -amount END) AS net
      FROM transactions GROUP BY wallet_id
    ) ledger ON ledger.wallet_id = w.id
    WHERE w.balance <> COALESCE(ledger.net, 0)`,
  "the last ledger row's balanceAfter = balance": `
    SELECT count(*)::int AS violations FROM wallets w
    JOIN LATERAL (
      SELECT balance_after FROM transactions t WHERE t.wallet_id = w.id ORDER BY seq DESC LIMIT 1
    ) last ON true
    WHERE last.balance_after <> w.balance`,
  "balance >= 0 and 0 <= held <= balance": `
    SELECT count(*)::int AS violations FROM wallets WHERE balance < 0 OR held < 0 OR held > balance`,
  "held = Σ pending authorizations": `
    SELECT count(*)::int AS violations FROM wallets w
    LEFT JOIN (
      SELECT wallet_id, SUM(amount) AS pending FROM authorizations WHERE status = 'pending' GROUP BY wallet_id
    ) p ON p.wallet_id = w.id
    WHERE w.held <> COALESCE(p.pending, 0)`,
  "spend windows = approved spend (pending + captured - refunded)": `
    WITH counted AS (
      SELECT card_id, wallet_id, window_day, window_month,
             CASE status WHEN 'pending' THEN amount WHEN 'captured' THEN captured_amount - refunded_amount ELSE 0 END AS spent
      FROM authorizations
    ), expected AS (
      SELECT card_id AS scope_id, 'day' AS period, window_day AS starts_on, SUM(spent) AS spent FROM counted GROUP BY 1, 3
      UNION ALL SELECT card_id, 'month', window_month, SUM(spent) FROM counted GROUP BY 1, 3
      UNION ALL SELECT wallet_id, 'day', window_day, SUM(spent) FROM counted GROUP BY 1, 3
      UNION ALL SELECT wallet_id, 'month', window_month, SUM(spent) FROM counted GROUP BY 1, 3
    )
    SELECT count(*)::int AS violations FROM expected e
    FULL JOIN spend_windows s ON s.scope_id = e.scope_id AND s.period = e.period AND s.starts_on = e.starts_on
    WHERE COALESCE(e.spent, 0) <> COALESCE(s.spent, 0)`,
  "no card spends past its daily or monthly limit": `
    SELECT count(*)::int AS violations FROM spend_windows s JOIN cards c ON c.id = s.scope_id
    WHERE (s.period = 'day' AND s.spent > c.daily_limit) OR (s.period = 'month' AND s.spent > c.monthly_limit)`,
  "no wallet spends past its daily or monthly limit": `
    SELECT count(*)::int AS violations FROM spend_windows s JOIN wallets w ON w.id = s.scope_id
    WHERE (s.period = 'day' AND s.spent > w.daily_limit) OR (s.period = 'month' AND s.spent > w.monthly_limit)`,
  "refunds never exceed the spend they refund": `
    SELECT count(*)::int AS violations FROM transactions spend
    JOIN (SELECT refund_of, SUM(amount) AS refunded FROM transactions WHERE type = 'refund' GROUP BY refund_of) r
      ON r.refund_of = spend.id
    WHERE r.refunded > spend.amount`,
};

export async function checkInvariants(db: Queryable): Promise<InvariantResult[]> {
  const results: InvariantResult[] = [];
  for (const [name, sql] of Object.entries(CHECKS)) {
    const result = await db.query<{ violations: number }>(sql);
    results.push({ name, violations: result.rows[0]?.violations ?? -1 });
  }
  return results;
}

/** The invariants that do not hold, as readable lines (empty when all hold). */
export async function brokenInvariants(db: Queryable): Promise<string[]> {
  return (await checkInvariants(db))
    .filter((result) => result.violations !== 0)
    .map((result) => `${result.name}: ${result.violations} violation(s)`);
}
