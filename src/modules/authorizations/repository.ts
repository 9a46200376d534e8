import type { Queryable } from "../../platform/db.ts";
import type { Metadata } from "../../platform/metadata.ts";
import { type ListOptions, pageClause, pageValues } from "../../platform/pagination.ts";
import { filterConditions, iso, onlyRow } from "../../platform/sql.ts";
import { CONTROL_COLUMNS, type StoredControls } from "../wallets/spending-controls.ts";
import type { DeclineDetail } from "./decision.ts";
import type {
  Authorization,
  AuthorizationDeclineReason,
  AuthorizationSortField,
  AuthorizationStatus,
  DeclineReason,
} from "./model.ts";
import { decisionWindowColumns, type WindowKey } from "./spend-windows.ts";

export interface AuthorizationRow {
  id: string;
  card_id: string;
  wallet_id: string;
  amount: number;
  currency: string;
  merchant_name: string;
  merchant_category: string | null;
  status: AuthorizationStatus;
  decline_reason: AuthorizationDeclineReason | null;
  decline_detail: DeclineDetail | null;
  captured_amount: number;
  refunded_amount: number;
  window_day: string;
  window_week: string;
  window_month: string;
  window_year: string;
  category_windows: WindowKey[];
  metadata: Metadata;
  expires_at: Date;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, card_id, wallet_id, amount, currency, merchant_name, merchant_category, status, decline_reason,
  decline_detail, captured_amount, refunded_amount, window_day, window_week, window_month, window_year,
  category_windows, metadata, expires_at, created_at, updated_at`;

/** The rule behind a hook_declined: the card program's own, through its authorization hook. */
const HOOK_DECLINE_DETAIL = JSON.stringify({
  scope: "card",
  interval: null,
  limit: null,
  spent: null,
  categories: null,
} satisfies DeclineDetail);

const SORT_COLUMNS: Record<AuthorizationSortField, string> = { createdAt: "created_at", amount: "amount" };

export const toAuthorization = (row: AuthorizationRow): Authorization => ({
  id: row.id,
  cardId: row.card_id,
  walletId: row.wallet_id,
  amount: row.amount,
  currency: row.currency,
  merchant: { name: row.merchant_name, category: row.merchant_category },
  status: row.status,
  declineReason: row.decline_reason,
  declineDetail: row.decline_detail,
  capturedAmount: row.captured_amount,
  refundedAmount: row.refunded_amount,
  metadata: row.metadata,
  expiresAt: iso(row.expires_at),
  createdAt: iso(row.created_at),
  updatedAt: iso(row.updated_at),
});

/** The locked wallet of a spend, with its controls. */
export interface SpendingWallet extends StoredControls {
  id: string;
  currency: string;
  timezone: string;
  status: "active" | "frozen";
  balance: number;
  held: number;
}

/**
 * A card at decision time, with its controls, the local windows (the wallet's time zone) that contain
 * the decision's instant, when they end, and the card's and its wallet's spend in them.
 */
export interface SpendingCard extends StoredControls {
  id: string;
  status: "active" | "frozen" | "cancelled";
  expiry_month: number;
  expiry_year: number;
  window_day: string;
  window_week: string;
  window_month: string;
  window_year: string;
  day_ends: Date;
  week_ends: Date;
  month_ends: Date;
  year_ends: Date;
  windows: (WindowKey & { spent: number })[];
}

export interface NewAuthorization {
  cardId: string;
  walletId: string;
  amount: number;
  currency: string;
  merchantName: string;
  merchantCategory: string | null;
  status: AuthorizationStatus;
  declineReason: DeclineReason | null;
  declineDetail: DeclineDetail | null;
  capturedAmount: number;
  card: SpendingCard;
  categoryWindows: WindowKey[];
  metadata: Metadata;
  expiresAt: Date;
}

export const authorizationsRepository = {
  /** The card's wallet id: a card never moves, so this needs no lock. */
  async walletOfCard(db: Queryable, cardId: string): Promise<string | undefined> {
    const result = await db.query<{ wallet_id: string }>(
      "SELECT wallet_id FROM cards WHERE id = $1 AND deleted_at IS NULL",
      [cardId],
    );
    return result.rows[0]?.wallet_id;
  },

  /**
   * Row-locks the wallet of a card for a spend, found and locked in one statement (a card never moves),
   * with the columns the decision reads: the spend's lock of the money gate.
   */
  async lockWalletOfCard(db: Queryable, cardId: string): Promise<SpendingWallet | undefined> {
    const result = await db.query<SpendingWallet>(
      `SELECT id, currency, timezone, status, balance, held, daily_limit, monthly_limit, ${CONTROL_COLUMNS} FROM wallets
       WHERE id = (SELECT wallet_id FROM cards WHERE id = $1 AND deleted_at IS NULL) AND deleted_at IS NULL
       FOR UPDATE`,
      [cardId],
    );
    return result.rows[0];
  },

  /**
   * Read after the wallet lock, so it sees every change committed before this decision. `instant` picks
   * the windows: "now" for a spend, the authorization's time for an increment.
   */
  async spendingCard(
    db: Queryable,
    cardId: string,
    instant: Date,
    timezone: string,
  ): Promise<SpendingCard | undefined> {
    const result = await db.query<SpendingCard>(
      `SELECT c.id, c.status, c.expiry_month, c.expiry_year, c.daily_limit, c.monthly_limit, ${CONTROL_COLUMNS},
              ${decisionWindowColumns(2, "$3")}
       FROM cards c WHERE c.id = $1 AND c.deleted_at IS NULL`,
      [cardId, instant, timezone],
    );
    return result.rows[0];
  },

  async insert(db: Queryable, authorization: NewAuthorization, now: Date): Promise<AuthorizationRow> {
    const result = await db.query<AuthorizationRow>(
      `INSERT INTO authorizations (id, card_id, wallet_id, amount, currency, merchant_name, merchant_category, status,
         decline_reason, decline_detail, captured_amount, window_day, window_week, window_month, window_year,
         category_windows, metadata, expires_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)
       RETURNING ${COLUMNS}`,
      [
        Bun.randomUUIDv7(),
        authorization.cardId,
        authorization.walletId,
        authorization.amount,
        authorization.currency,
        authorization.merchantName,
        authorization.merchantCategory,
        authorization.status,
        authorization.declineReason,
        authorization.declineDetail === null ? null : JSON.stringify(authorization.declineDetail),
        authorization.capturedAmount,
        authorization.card.window_day,
        authorization.card.window_week,
        authorization.card.window_month,
        authorization.card.window_year,
        JSON.stringify(authorization.categoryWindows),
        JSON.stringify(authorization.metadata),
        authorization.expiresAt,
        now,
      ],
    );
    return onlyRow(result);
  },

  async find(db: Queryable, id: string, lock: "" | "FOR UPDATE" = ""): Promise<AuthorizationRow | undefined> {
    const result = await db.query<AuthorizationRow>(
      `SELECT ${COLUMNS} FROM authorizations WHERE id = $1 ${lock}`,
      [id],
    );
    return result.rows[0];
  },

  async listOfCard(
    db: Queryable,
    cardId: string,
    filter: { status?: AuthorizationStatus },
    options: ListOptions<AuthorizationSortField>,
  ): Promise<AuthorizationRow[]> {
    const values: unknown[] = [cardId];
    const where = ["card_id = $1", ...filterConditions([["status =", filter.status]], values)].join(" AND ");
    const result = await db.query<AuthorizationRow>(
      `SELECT ${COLUMNS} FROM authorizations WHERE ${where} ${pageClause(options, SORT_COLUMNS, values.length + 1)}`,
      [...values, ...pageValues(options)],
    );
    return result.rows;
  },

  /** Ends a pending authorization: captured (with the amount taken), voided, expired or declined by the hook. */
  async settle(
    db: Queryable,
    id: string,
    status: "captured" | "voided" | "expired" | "declined",
    capturedAmount: number,
    now: Date,
  ): Promise<AuthorizationRow> {
    const result = await db.query<AuthorizationRow>(
      `UPDATE authorizations SET status = $2, captured_amount = $3, updated_at = $4,
         decline_reason = CASE WHEN $2 = 'declined' THEN 'hook_declined' END,
         decline_detail = CASE WHEN $2 = 'declined' THEN $5::jsonb END
       WHERE id = $1 AND status = 'pending' RETURNING ${COLUMNS}`,
      [id, status, capturedAmount, now, HOOK_DECLINE_DETAIL],
    );
    return onlyRow(result);
  },

  /** Raises (positive `delta`) or lowers a pending authorization's amount: an increment or a partial void. */
  async adjustAmount(db: Queryable, id: string, delta: number, now: Date): Promise<AuthorizationRow> {
    const result = await db.query<AuthorizationRow>(
      `UPDATE authorizations SET amount = amount + $2, updated_at = $3
       WHERE id = $1 AND status = 'pending' RETURNING ${COLUMNS}`,
      [id, delta, now],
    );
    return onlyRow(result);
  },

  async addRefund(db: Queryable, id: string, amount: number, now: Date): Promise<void> {
    await db.query(
      "UPDATE authorizations SET refunded_amount = refunded_amount + $2, updated_at = $3 WHERE id = $1",
      [id, amount, now],
    );
  },

  /** Moves the wallet's held total (pending authorizations) by `delta`. */
  async adjustHeld(db: Queryable, walletId: string, delta: number, now: Date): Promise<void> {
    await db.query("UPDATE wallets SET held = held + $2, updated_at = $3 WHERE id = $1", [
      walletId,
      delta,
      now,
    ]);
  },

  /** A locked wallet's pending holds that have run out, locked in turn. */
  async dueHolds(db: Queryable, walletId: string, now: Date): Promise<AuthorizationRow[]> {
    const result = await db.query<AuthorizationRow>(
      `SELECT ${COLUMNS} FROM authorizations
       WHERE wallet_id = $1 AND status = 'pending' AND expires_at <= $2 ORDER BY id FOR UPDATE`,
      [walletId, now],
    );
    return result.rows;
  },

  /** Pending authorizations whose hold has run out, oldest first. */
  async expiredPending(db: Queryable, now: Date, limit: number): Promise<string[]> {
    const result = await db.query<{ id: string }>(
      "SELECT id FROM authorizations WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
      [now, limit],
    );
    return result.rows.map((row) => row.id);
  },
};
