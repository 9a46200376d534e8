import type { Reach } from "../../platform/auth.ts";
import type { Queryable } from "../../platform/db.ts";
import { isUniqueViolation } from "../../platform/errors.ts";
import type { Metadata } from "../../platform/metadata.ts";
import { type ListOptions, pageClause, pageValues } from "../../platform/pagination.ts";
import { filterConditions, iso, isoOrNull, onlyRow, setClause } from "../../platform/sql.ts";
import { reachCondition } from "../access/reach.ts";
import { spentColumns } from "../authorizations/spend-windows.ts";
import {
  CONTROL_COLUMNS,
  type ResolvedControls,
  type StoredControls,
  toSpendingControls,
} from "../wallets/spending-controls.ts";
import { cardNumberTaken } from "./errors.ts";
import type { Card, CardSortField, CardStatus } from "./model.ts";

export interface CardRow {
  id: string;
  wallet_id: string;
  cardholder_id: string | null;
  brand: string;
  last4: string;
  expiry_month: number;
  expiry_year: number;
  status: CardStatus;
  daily_limit: number;
  monthly_limit: number;
  allowed_categories: string[] | null;
  blocked_categories: string[];
  spending_limits: StoredControls["spending_limits"];
  metadata: Metadata;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

/** A card as clients see it: its row, plus its approved spend in the wallet's current local day and month. */
export interface CardView extends CardRow {
  spent_today: number;
  spent_this_month: number;
}

/** Never the ciphertexts: they are read only by findSecrets. */
const COLUMNS =
  "id, wallet_id, cardholder_id, brand, last4, expiry_month, expiry_year, status, daily_limit, monthly_limit, metadata, created_at, updated_at, deleted_at, " +
  CONTROL_COLUMNS;

/** The columns of a CardView; `$nowParameter` is the instant "today" is measured at, in the wallet's zone. */
const viewColumns = (nowParameter: number) =>
  `${COLUMNS}, ${spentColumns("cards.id", "(SELECT w.timezone FROM wallets w WHERE w.id = cards.wallet_id)", nowParameter)}`;

const SORT_COLUMNS: Record<CardSortField, string> = {
  createdAt: "created_at",
  updatedAt: "updated_at",
  status: "status",
};

export const toCard = (row: CardView): Card => ({
  id: row.id,
  walletId: row.wallet_id,
  cardholderId: row.cardholder_id,
  brand: row.brand,
  last4: row.last4,
  expiryMonth: String(row.expiry_month).padStart(2, "0"),
  expiryYear: String(row.expiry_year),
  status: row.status,
  dailyLimit: row.daily_limit,
  monthlyLimit: row.monthly_limit,
  spentToday: row.spent_today,
  spentThisMonth: row.spent_this_month,
  spendingControls: toSpendingControls(row),
  metadata: row.metadata,
  createdAt: iso(row.created_at),
  updatedAt: iso(row.updated_at),
  deletedAt: isoOrNull(row.deleted_at),
});

/** The encrypted number: what identifies it, what may be shown of it, and its sealed forms. */
export interface SealedNumber {
  brand: string;
  last4: string;
  fingerprint: string;
  numberCiphertext: Uint8Array;
}

export interface NewCard extends SealedNumber, ResolvedControls {
  id: string;
  walletId: string;
  cardholderId: string | null;
  cvvCiphertext: Uint8Array;
  expiryMonth: number;
  expiryYear: number;
  metadata: string;
}

export interface CardSecrets {
  number_ciphertext: Uint8Array;
  cvv_ciphertext: Uint8Array;
  expiry_month: number;
  expiry_year: number;
}

export interface CardChanges extends Partial<ResolvedControls> {
  sealedNumber?: SealedNumber;
  cvvCiphertext?: Uint8Array;
  expiryMonth?: number;
  expiryYear?: number;
  status?: CardStatus;
  cardholderId?: string | null;
  metadata?: string;
}

function rethrowNumberTaken(error: unknown): never {
  if (isUniqueViolation(error, "cards_number_live_key")) throw cardNumberTaken();
  throw error;
}

/** Which live cards a delete is about: one card, the cards of some wallets, or the cards a user holds. */
export type CardSelection = { id: string } | { walletIds: string[] } | { cardholderId: string };

/** The condition on `cards` (with its one parameter, $1) that selects `selection`, and that parameter. */
function selected(selection: CardSelection): { where: string; value: unknown } {
  if ("id" in selection) return { where: "cards.id = $1", value: selection.id };
  if ("walletIds" in selection) {
    return { where: "cards.wallet_id = ANY($1::uuid[])", value: selection.walletIds };
  }
  return { where: "cards.cardholder_id = $1", value: selection.cardholderId };
}

export const cardsRepository = {
  async insert(db: Queryable, card: NewCard, now: Date): Promise<CardView> {
    const result = await db
      .query<CardView>(
        `INSERT INTO cards (id, wallet_id, cardholder_id, brand, last4, number_fingerprint, number_ciphertext,
           cvv_ciphertext, expiry_month, expiry_year, daily_limit, monthly_limit, created_at, updated_at,
           ${CONTROL_COLUMNS}, metadata)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15, $16, $17)
         RETURNING ${viewColumns(13)}`,
        [
          card.id,
          card.walletId,
          card.cardholderId,
          card.brand,
          card.last4,
          card.fingerprint,
          card.numberCiphertext,
          card.cvvCiphertext,
          card.expiryMonth,
          card.expiryYear,
          card.dailyLimit,
          card.monthlyLimit,
          now,
          card.allowedCategories,
          card.blockedCategories,
          JSON.stringify(card.spendingLimits),
          card.metadata,
        ],
      )
      .catch(rethrowNumberTaken);
    return onlyRow(result);
  },

  /** True when a live card other than `cardId` has one of `fingerprints`. */
  async fingerprintTaken(db: Queryable, fingerprints: string[], cardId: string): Promise<boolean> {
    const result = await db.query(
      "SELECT 1 FROM cards WHERE number_fingerprint = ANY($1::text[]) AND id <> $2 AND deleted_at IS NULL",
      [fingerprints, cardId],
    );
    return result.rows.length > 0;
  },

  /** The live card, optionally row-locked for the rest of the transaction. */
  async find(db: Queryable, id: string, lock: "" | "FOR UPDATE" = ""): Promise<CardRow | undefined> {
    const result = await db.query<CardRow>(
      `SELECT ${COLUMNS} FROM cards WHERE id = $1 AND deleted_at IS NULL ${lock}`,
      [id],
    );
    return result.rows[0];
  },

  /** The live card as clients see it at `now`. */
  async findView(db: Queryable, id: string, now: Date): Promise<CardView | undefined> {
    return (await cardsRepository.findViews(db, [id], now))[0];
  },

  /** The live cards of `ids` as clients see them at `now`, in no particular order. */
  async findViews(db: Queryable, ids: string[], now: Date): Promise<CardView[]> {
    const result = await db.query<CardView>(
      `SELECT ${viewColumns(2)} FROM cards WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL`,
      [ids, now],
    );
    return result.rows;
  },

  async findSecrets(db: Queryable, id: string): Promise<CardSecrets | undefined> {
    const result = await db.query<CardSecrets>(
      "SELECT number_ciphertext, cvv_ciphertext, expiry_month, expiry_year FROM cards WHERE id = $1 AND deleted_at IS NULL",
      [id],
    );
    return result.rows[0];
  },

  async list(
    db: Queryable,
    filter: { walletId?: string; cardholderId?: string; status?: string },
    reach: Reach,
    options: ListOptions<CardSortField>,
    now: Date,
  ): Promise<CardView[]> {
    const values: unknown[] = [];
    const conditions = [
      "deleted_at IS NULL",
      ...filterConditions(
        [
          ["wallet_id =", filter.walletId],
          ["cardholder_id =", filter.cardholderId],
          ["status =", filter.status],
        ],
        values,
      ),
      reachCondition(reach, "card", "cards", values) ?? "TRUE",
    ];
    values.push(now);
    const result = await db.query<CardView>(
      `SELECT ${viewColumns(values.length)} FROM cards WHERE ${conditions.join(" AND ")}
       ${pageClause(options, SORT_COLUMNS, values.length + 1)}`,
      [...values, ...pageValues(options)],
    );
    return result.rows;
  },

  async update(db: Queryable, id: string, changes: CardChanges, now: Date): Promise<CardView> {
    const sealed = changes.sealedNumber;
    const set = setClause(
      {
        brand: sealed?.brand,
        last4: sealed?.last4,
        fingerprint: sealed?.fingerprint,
        numberCiphertext: sealed?.numberCiphertext,
        cvvCiphertext: changes.cvvCiphertext,
        expiryMonth: changes.expiryMonth,
        expiryYear: changes.expiryYear,
        dailyLimit: changes.dailyLimit,
        monthlyLimit: changes.monthlyLimit,
        allowedCategories: changes.allowedCategories,
        blockedCategories: changes.blockedCategories,
        spendingLimits:
          changes.spendingLimits === undefined ? undefined : JSON.stringify(changes.spendingLimits),
        status: changes.status,
        cardholderId: changes.cardholderId,
        metadata: changes.metadata,
      },
      {
        brand: "brand",
        last4: "last4",
        fingerprint: "number_fingerprint",
        numberCiphertext: "number_ciphertext",
        cvvCiphertext: "cvv_ciphertext",
        expiryMonth: "expiry_month",
        expiryYear: "expiry_year",
        dailyLimit: "daily_limit",
        monthlyLimit: "monthly_limit",
        allowedCategories: "allowed_categories",
        blockedCategories: "blocked_categories",
        spendingLimits: "spending_limits",
        status: "status",
        cardholderId: "cardholder_id",
        metadata: "metadata",
      },
      3,
      2,
    );
    const result = await db
      .query<CardView>(`UPDATE cards SET ${set.sql} WHERE id = $1 RETURNING ${viewColumns(2)}`, [
        id,
        now,
        ...set.values,
      ])
      .catch(rethrowNumberTaken);
    return onlyRow(result);
  },

  async softDelete(db: Queryable, selection: CardSelection, now: Date): Promise<CardView[]> {
    if ("walletIds" in selection && selection.walletIds.length === 0) return [];
    const { where, value } = selected(selection);
    const result = await db.query<CardView>(
      `UPDATE cards SET deleted_at = $2, updated_at = $2 WHERE ${where} AND deleted_at IS NULL
       RETURNING ${viewColumns(2)}`,
      [value, now],
    );
    return result.rows;
  },

  /** The wallets the selected live cards spend from, in id order (the order wallets are locked in). */
  async walletIdsOf(db: Queryable, selection: CardSelection): Promise<string[]> {
    const { where, value } = selected(selection);
    const result = await db.query<{ wallet_id: string }>(
      `SELECT DISTINCT wallet_id FROM cards WHERE ${where} AND deleted_at IS NULL ORDER BY wallet_id`,
      [value],
    );
    return result.rows.map((row) => row.wallet_id);
  },

  /** A selected live card that has a pending authorization (a hold), if any. */
  async withPendingHold(db: Queryable, selection: CardSelection): Promise<string | undefined> {
    const { where, value } = selected(selection);
    const result = await db.query<{ id: string }>(
      `SELECT cards.id FROM cards
       JOIN authorizations a ON a.wallet_id = cards.wallet_id AND a.card_id = cards.id AND a.status = 'pending'
       WHERE ${where} AND cards.deleted_at IS NULL LIMIT 1`,
      [value],
    );
    return result.rows[0]?.id;
  },
};
