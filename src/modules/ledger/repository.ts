import type { Reach } from "../../platform/auth.ts";
import type { Queryable } from "../../platform/db.ts";
import type { Metadata } from "../../platform/metadata.ts";
import { type ListOptions, pageClause, pageValues } from "../../platform/pagination.ts";
import { filterConditions, iso, onlyRow, type Writes, writeTogether } from "../../platform/sql.ts";
import { reachCondition } from "../access/reach.ts";
import { balanceDelta } from "./credits.ts";
import type { Transaction, TransactionSortField, TransactionType } from "./model.ts";

interface TransactionRow {
  id: string;
  wallet_id: string;
  card_id: string | null;
  authorization_id: string | null;
  transfer_id: string | null;
  refund_of: string | null;
  type: TransactionType;
  amount: number;
  currency: string;
  balance_after: number;
  description: string | null;
  metadata: Metadata;
  created_at: Date;
}

const COLUMNS =
  "id, wallet_id, card_id, authorization_id, transfer_id, refund_of, type, amount, currency, balance_after, description, metadata, created_at";

/** "createdAt" order is ledger order: seq, drawn under the wallet's lock, is exact where clocks tie. */
const SORT_COLUMNS: Record<TransactionSortField, string> = { createdAt: "seq", amount: "amount" };

export const toTransaction = (row: TransactionRow): Transaction => ({
  id: row.id,
  walletId: row.wallet_id,
  cardId: row.card_id,
  authorizationId: row.authorization_id,
  transferId: row.transfer_id,
  refundOf: row.refund_of,
  type: row.type,
  amount: row.amount,
  currency: row.currency,
  balanceAfter: row.balance_after,
  description: row.description,
  metadata: row.metadata,
  createdAt: iso(row.created_at),
});

/** One movement of money on one wallet, as the ledger records it. */
export interface LedgerEntry {
  walletId: string;
  type: TransactionType;
  amount: number;
  description?: string;
  cardId?: string;
  authorizationId?: string;
  transferId?: string;
  refundOf?: string;
  metadata?: Metadata;
}

export interface TransferRow {
  id: string;
  from_wallet_id: string;
  to_wallet_id: string;
  amount: number;
  currency: string;
  description: string | null;
  created_at: Date;
  metadata: Metadata;
}

/** A posting's CTE whose rows are the transactions posted (see postingWrites). */
const POSTED = "ledger_posted";

/**
 * The ledger rows of `entries`, in order, with their ids drawn now; `balance_after` is the balance a
 * row must leave (checked by the statement), or null when the caller did not work it out.
 */
const postingRows = (entries: readonly LedgerEntry[]) =>
  entries.map((entry, position) => ({
    position,
    id: Bun.randomUUIDv7(),
    wallet_id: entry.walletId,
    delta: balanceDelta(entry.type, entry.amount),
    card_id: entry.cardId ?? null,
    authorization_id: entry.authorizationId ?? null,
    transfer_id: entry.transferId ?? null,
    refund_of: entry.refundOf ?? null,
    type: entry.type,
    amount: entry.amount,
    description: entry.description ?? null,
    metadata: entry.metadata ?? {},
    balance_after: null as number | null,
  }));

/**
 * The one posting path: `rows` appended in order, and each wallet's balance moved by the sum of its
 * rows, each row's balance_after the running balance; the rows posted are the CTE POSTED. A row whose
 * running balance is not the `balance_after` it was given, or whose wallet row was not updated, fails
 * the statement (checked_balance_after, migrations/012_checked_postings.sql).
 */
function postingWrites(rows: ReturnType<typeof postingRows>, now: Date): Writes {
  return (parameters) => {
    if (rows.length === 0) return [];
    const at = parameters.bind(now);
    return [
      `ledger_entry AS (
         SELECT * FROM jsonb_to_recordset(${parameters.bind(JSON.stringify(rows))}::jsonb) AS e (position int,
           id uuid, wallet_id uuid, delta bigint, card_id uuid, authorization_id uuid, transfer_id uuid,
           refund_of uuid, type text, amount bigint, description text, metadata jsonb, balance_after bigint))`,
      `ledger_moved AS (
         UPDATE wallets w SET balance = w.balance + total.delta, updated_at = ${at}
         FROM (SELECT wallet_id, sum(delta) AS delta FROM ledger_entry GROUP BY wallet_id) total
         WHERE w.id = total.wallet_id
         RETURNING w.id, w.balance - total.delta AS balance_before, w.currency)`,
      `${POSTED} AS (
         INSERT INTO transactions (id, wallet_id, card_id, authorization_id, transfer_id, refund_of, type, amount,
                                   currency, balance_after, description, metadata, created_at)
         SELECT e.id, e.wallet_id, e.card_id, e.authorization_id, e.transfer_id, e.refund_of, e.type, e.amount,
                moved.currency,
                checked_balance_after(
                  (moved.balance_before + sum(e.delta) OVER (PARTITION BY e.wallet_id ORDER BY e.position))::bigint,
                  e.balance_after, e.id),
                e.description, e.metadata, ${at}
         FROM ledger_entry e LEFT JOIN ledger_moved moved ON moved.id = e.wallet_id
         ORDER BY e.position
         RETURNING ${COLUMNS})`,
    ];
  };
}

export const ledgerRepository = {
  /**
   * Appends `entry` to the ledger and moves the wallet's balance by it, in one statement: the
   * balance never changes without its ledger row, nor the reverse. The caller holds the wallet's lock.
   */
  async post(db: Queryable, entry: LedgerEntry, now: Date): Promise<Transaction> {
    const [posted] = await ledgerRepository.postAll(db, [entry], now);
    if (posted === undefined) throw new Error("the ledger posted no row");
    return posted;
  },

  /**
   * Appends `entries`, in order, and moves each wallet's balance by the sum of its entries, in one
   * statement: the balance never changes without its ledger rows, nor the reverse. Each row's
   * balance_after is the wallet's balance after it (the running sum in the order given). The caller
   * holds the wallets' locks. Transactions in the order given.
   */
  async postAll(db: Queryable, entries: readonly LedgerEntry[], now: Date): Promise<Transaction[]> {
    if (entries.length === 0) return [];
    const rows = postingRows(entries);
    const posted = await writeTogether<TransactionRow>(
      db,
      [postingWrites(rows, now)],
      `SELECT ${COLUMNS} FROM ${POSTED}`,
    );
    const byId = new Map(posted.map((row) => [row.id, toTransaction(row)]));
    return rows.map((row) => {
      const transaction = byId.get(row.id);
      if (transaction === undefined) throw new Error(`ledger row ${row.id} was not posted`);
      return transaction;
    });
  },

  /**
   * `entries` as a part of a larger statement (see writeTogether): the same posting as postAll, for a
   * caller that also needs the transactions before the statement runs (to write their events in it).
   * They are worked out from `before`, each wallet's balance and currency read under its lock, and
   * the statement fails unless every row is stored with the balance worked out here: nothing is read
   * back, so the caller may commit without waiting for the statement's answer.
   */
  posting(
    entries: readonly LedgerEntry[],
    now: Date,
    before: ReadonlyMap<string, { balance: number; currency: string }>,
  ): { writes: Writes; transactions: Transaction[] } {
    const rows = postingRows(entries);
    const balances = new Map<string, number>();
    const transactions = rows.map((row) => {
      const wallet = before.get(row.wallet_id);
      if (wallet === undefined) throw new Error(`no balance of wallet ${row.wallet_id} to post on`);
      const balanceAfter = (balances.get(row.wallet_id) ?? wallet.balance) + row.delta;
      balances.set(row.wallet_id, balanceAfter);
      row.balance_after = balanceAfter;
      return toTransaction({
        ...row,
        currency: wallet.currency,
        balance_after: balanceAfter,
        created_at: now,
      });
    });
    return { writes: postingWrites(rows, now), transactions };
  },

  async find(db: Queryable, id: string): Promise<Transaction | undefined> {
    const result = await db.query<TransactionRow>(`SELECT ${COLUMNS} FROM transactions WHERE id = $1`, [id]);
    const row = result.rows[0];
    return row && toTransaction(row);
  },

  async listOfWallet(
    db: Queryable,
    walletId: string,
    filter: { type?: TransactionType; cardId?: string; from?: string; to?: string; metadata?: Metadata },
    reach: Reach,
    options: ListOptions<TransactionSortField>,
  ): Promise<Transaction[]> {
    const values: unknown[] = [walletId];
    const conditions = [
      "wallet_id = $1",
      ...filterConditions(
        [
          ["type =", filter.type],
          ["card_id =", filter.cardId],
          ["created_at >=", filter.from],
          ["created_at <", filter.to],
          ["metadata @>", filter.metadata === undefined ? undefined : JSON.stringify(filter.metadata)],
        ],
        values,
      ),
      reachCondition(reach, "transaction", "transactions", values) ?? "TRUE",
    ];
    const result = await db.query<TransactionRow>(
      `SELECT ${COLUMNS} FROM transactions WHERE ${conditions.join(" AND ")}
       ${pageClause(options, SORT_COLUMNS, values.length + 1, "seq")}`,
      [...values, ...pageValues(options)],
    );
    return result.rows.map(toTransaction);
  },

  /**
   * The wallet's balance as its ledger stood at `instant`: the balance after its last row created before
   * (`<`) or at (`<=`) that instant, 0 before its first.
   */
  async balanceAt(db: Queryable, walletId: string, instant: Date, bound: "<" | "<="): Promise<number> {
    const result = await db.query<{ balance_after: number }>(
      `SELECT balance_after FROM transactions WHERE wallet_id = $1 AND created_at ${bound} $2
       ORDER BY created_at DESC, seq DESC LIMIT 1`,
      [walletId, instant],
    );
    return result.rows[0]?.balance_after ?? 0;
  },

  /** The wallet's transactions created in [from, to), in ledger order, at most `limit`. */
  async inPeriod(
    db: Queryable,
    walletId: string,
    from: Date,
    to: Date,
    limit: number,
  ): Promise<Transaction[]> {
    const result = await db.query<TransactionRow>(
      `SELECT ${COLUMNS} FROM transactions WHERE wallet_id = $1 AND created_at >= $2 AND created_at < $3
       ORDER BY seq LIMIT $4`,
      [walletId, from, to, limit],
    );
    return result.rows.map(toTransaction);
  },

  async insertTransfer(
    db: Queryable,
    transfer: {
      fromWalletId: string;
      toWalletId: string;
      amount: number;
      currency: string;
      description?: string;
      metadata?: Metadata;
    },
    now: Date,
  ): Promise<TransferRow> {
    const result = await db.query<TransferRow>(
      `INSERT INTO transfers (id, from_wallet_id, to_wallet_id, amount, currency, description, metadata, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [
        Bun.randomUUIDv7(),
        transfer.fromWalletId,
        transfer.toWalletId,
        transfer.amount,
        transfer.currency,
        transfer.description ?? null,
        JSON.stringify(transfer.metadata ?? {}),
        now,
      ],
    );
    return onlyRow(result);
  },
};
