import type { Queryable } from "../../platform/db.ts";
import type { Metadata } from "../../platform/metadata.ts";
import { type ListOptions, pageClause, pageValues } from "../../platform/pagination.ts";
import { filterConditions, iso, onlyRow, type Writes } from "../../platform/sql.ts";
import type { StoredControls } from "../wallets/spending-controls.ts";
import type { DeclineDetail } from "./decision.ts";
import type {
  Authorization,
  AuthorizationDeclineReason,
  AuthorizationSortField,
  AuthorizationStatus,
  DeclineReason,
} from "./model.ts";
import { recordedWindows, type WindowKey } from "./spend-windows.ts";

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

/** A recorded row without what its INSERT sets itself (the refunded total, the times). */
const insertedColumns = ({ refunded_amount, created_at, updated_at, ...inserted }: AuthorizationRow) =>
  inserted;

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
  /** When its first pending hold runs out (null: it holds none), where the lock read it. */
  holds_due_at?: Date | null;
}

/** The columns lock_spending adds to each card: its wallet's. */
interface LockedWalletColumns {
  wallet_currency: string;
  wallet_timezone: string;
  wallet_status: SpendingWallet["status"];
  wallet_balance: number;
  wallet_held: number;
  wallet_daily_limit: number;
  wallet_monthly_limit: number;
  wallet_allowed_categories: string[] | null;
  wallet_blocked_categories: string[];
  wallet_spending_limits: StoredControls["spending_limits"];
  wallet_holds_due_at: Date | null;
}

/**
 * A card at decision time, with its controls, the local windows (the wallet's time zone) that contain
 * the decision's instant, when they end, and the card's and its wallet's spend in them.
 */
export interface SpendingCard extends StoredControls {
  id: string;
  wallet_id: string;
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
  id: string;
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
  /** The windows of its limits it counts in, beyond its card's and wallet's day and month. */
  limitWindows: WindowKey[];
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
   * The spend's lock of the money gate, in one round trip (lock_spending, migration 011): the live
   * wallets of `cardIds`, found through their cards (a card never moves) and row-locked in id order (the
   * order of every locker), with the columns the decision reads and when their first hold runs out;
   * then, read under the locks, their live cards as {@link spendingCards} reads them at `instant`.
   */
  async lockForSpends(
    db: Queryable,
    cardIds: readonly string[],
    instant: Date,
  ): Promise<{ wallets: SpendingWallet[]; cards: SpendingCard[] }> {
    const result = await db.query<SpendingCard & LockedWalletColumns>(
      "SELECT * FROM lock_spending($1::uuid[], $2)",
      [cardIds, instant],
    );
    const wallets = new Map<string, SpendingWallet>();
    const cards = result.rows.map((row): SpendingCard => {
      const {
        wallet_currency,
        wallet_timezone,
        wallet_status,
        wallet_balance,
        wallet_held,
        wallet_daily_limit,
        wallet_monthly_limit,
        wallet_allowed_categories,
        wallet_blocked_categories,
        wallet_spending_limits,
        wallet_holds_due_at,
        ...card
      } = row;
      wallets.set(card.wallet_id, {
        id: card.wallet_id,
        currency: wallet_currency,
        timezone: wallet_timezone,
        status: wallet_status,
        balance: wallet_balance,
        held: wallet_held,
        daily_limit: wallet_daily_limit,
        monthly_limit: wallet_monthly_limit,
        allowed_categories: wallet_allowed_categories,
        blocked_categories: wallet_blocked_categories,
        spending_limits: wallet_spending_limits,
        holds_due_at: wallet_holds_due_at,
      });
      return card;
    });
    return { wallets: [...wallets.values()], cards };
  },

  /**
   * Read after the wallets' lock, so it sees every change committed before this decision. `instant`
   * picks the windows, in each card's wallet's time zone: "now" for a spend, the authorization's time
   * for an increment (spending_cards, migration 011).
   */
  async spendingCards(db: Queryable, cardIds: readonly string[], instant: Date): Promise<SpendingCard[]> {
    const result = await db.query<SpendingCard>("SELECT * FROM spending_cards($1::uuid[], $2)", [
      cardIds,
      instant,
    ]);
    return result.rows;
  },

  /**
   * Records decided authorizations as a part of one statement (see writeTogether), whatever their
   * number; `rows` are the rows it stores, as a read would return them.
   */
  recording(
    authorizations: readonly NewAuthorization[],
    now: Date,
  ): { writes: Writes; rows: AuthorizationRow[] } {
    const rows = authorizations.map(
      (authorization): AuthorizationRow => ({
        id: authorization.id,
        card_id: authorization.cardId,
        wallet_id: authorization.walletId,
        amount: authorization.amount,
        currency: authorization.currency,
        merchant_name: authorization.merchantName,
        merchant_category: authorization.merchantCategory,
        status: authorization.status,
        decline_reason: authorization.declineReason,
        decline_detail: authorization.declineDetail,
        captured_amount: authorization.capturedAmount,
        refunded_amount: 0,
        window_day: authorization.card.window_day,
        window_week: authorization.card.window_week,
        window_month: authorization.card.window_month,
        window_year: authorization.card.window_year,
        category_windows: recordedWindows(authorization.limitWindows),
        metadata: authorization.metadata,
        expires_at: authorization.expiresAt,
        created_at: now,
        updated_at: now,
      }),
    );
    const writes: Writes = (parameters) => {
      if (rows.length === 0) return [];
      const at = parameters.bind(now);
      return [
        `authorizations_recorded AS (
           INSERT INTO authorizations (id, card_id, wallet_id, amount, currency, merchant_name, merchant_category,
             status, decline_reason, decline_detail, captured_amount, window_day, window_week, window_month,
             window_year, category_windows, metadata, expires_at, created_at, updated_at)
           SELECT a.id, a.card_id, a.wallet_id, a.amount, a.currency, a.merchant_name, a.merchant_category, a.status,
             a.decline_reason, a.decline_detail, a.captured_amount, a.window_day, a.window_week, a.window_month,
             a.window_year, a.category_windows, a.metadata, a.expires_at, ${at}, ${at}
           FROM jsonb_to_recordset(${parameters.bind(JSON.stringify(rows.map(insertedColumns)))}::jsonb) AS a (id uuid, card_id uuid,
             wallet_id uuid, amount bigint, currency text, merchant_name text, merchant_category text, status text,
             decline_reason text, decline_detail jsonb, captured_amount bigint, window_day date, window_week date,
             window_month date, window_year date, category_windows jsonb, metadata jsonb, expires_at timestamptz))`,
      ];
    };
    return { writes, rows };
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
  adjustHeld(db: Queryable, walletId: string, delta: number, now: Date): Promise<void> {
    return authorizationsRepository.adjustHelds(db, new Map([[walletId, delta]]), now);
  },

  /** Moves each wallet's held total by its delta in `deltas`, in one statement. */
  async adjustHelds(db: Queryable, deltas: ReadonlyMap<string, number>, now: Date): Promise<void> {
    if (deltas.size === 0) return;
    await db.query(
      `UPDATE wallets w SET held = w.held + d.delta, updated_at = $3
       FROM unnest($1::uuid[], $2::bigint[]) AS d (wallet_id, delta) WHERE w.id = d.wallet_id`,
      [[...deltas.keys()], [...deltas.values()], now],
    );
  },

  /** Locked wallets' pending holds that have run out, locked in turn. */
  async dueHolds(db: Queryable, walletIds: readonly string[], now: Date): Promise<AuthorizationRow[]> {
    const result = await db.query<AuthorizationRow>(
      `SELECT ${COLUMNS} FROM authorizations
       WHERE wallet_id = ANY($1::uuid[]) AND status = 'pending' AND expires_at <= $2 ORDER BY id FOR UPDATE`,
      [walletIds, now],
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
