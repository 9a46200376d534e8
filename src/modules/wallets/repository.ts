import type { Reach } from "../../platform/auth.ts";
import type { Queryable } from "../../platform/db.ts";
import type { Metadata } from "../../platform/metadata.ts";
import { type ListOptions, pageClause, pageValues } from "../../platform/pagination.ts";
import { filterConditions, iso, isoOrNull, onlyRow, setClause } from "../../platform/sql.ts";
import { reachCondition } from "../access/reach.ts";
import { spentColumns } from "../authorizations/spend-windows.ts";
import type { Wallet, WalletSortField } from "./model.ts";
import {
  CONTROL_COLUMNS,
  type ResolvedControls,
  type StoredControls,
  toSpendingControls,
} from "./spending-controls.ts";

export interface WalletRow {
  id: string;
  name: string;
  user_id: string | null;
  team_id: string | null;
  currency: string;
  timezone: string;
  status: Wallet["status"];
  balance: number;
  held: number;
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

/** A wallet as clients see it: its row, plus its approved card spend in the current local day and month. */
export interface WalletView extends WalletRow {
  spent_today: number;
  spent_this_month: number;
}

const COLUMNS =
  "id, name, user_id, team_id, currency, timezone, status, balance, held, daily_limit, monthly_limit, metadata, created_at, updated_at, deleted_at, " +
  CONTROL_COLUMNS;

/** The columns of a WalletView; `$nowParameter` is the instant "today" is measured at. */
const viewColumns = (nowParameter: number) =>
  `${COLUMNS}, ${spentColumns("wallets.id", "wallets.timezone", nowParameter)}`;

const SORT_COLUMNS: Record<WalletSortField, string> = {
  createdAt: "created_at",
  updatedAt: "updated_at",
  name: "name",
  balance: "balance",
};

export const toWallet = (row: WalletView): Wallet => ({
  id: row.id,
  name: row.name,
  ownerType: row.user_id === null ? "team" : "user",
  userId: row.user_id,
  teamId: row.team_id,
  currency: row.currency,
  timezone: row.timezone,
  status: row.status,
  balance: row.balance,
  availableBalance: row.balance - row.held,
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

export type WalletOwner = { userId: string } | { teamId: string };

export interface NewWallet extends ResolvedControls {
  id: string;
  name: string;
  owner: WalletOwner;
  currency: string;
  timezone: string;
  metadata: string;
}

export interface WalletChanges extends Partial<ResolvedControls> {
  name?: string;
  metadata?: string;
  status?: Wallet["status"];
}

export const walletsRepository = {
  async insert(db: Queryable, wallet: NewWallet, now: Date): Promise<WalletView> {
    const result = await db.query<WalletView>(
      `INSERT INTO wallets (id, name, user_id, team_id, currency, timezone, daily_limit, monthly_limit,
         created_at, updated_at, ${CONTROL_COLUMNS}, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13) RETURNING ${viewColumns(9)}`,
      [
        wallet.id,
        wallet.name,
        "userId" in wallet.owner ? wallet.owner.userId : null,
        "teamId" in wallet.owner ? wallet.owner.teamId : null,
        wallet.currency,
        wallet.timezone,
        wallet.dailyLimit,
        wallet.monthlyLimit,
        now,
        wallet.allowedCategories,
        wallet.blockedCategories,
        JSON.stringify(wallet.spendingLimits),
        wallet.metadata,
      ],
    );
    return onlyRow(result);
  },

  /** The live wallet as clients see it at `now`. */
  async findView(db: Queryable, id: string, now: Date): Promise<WalletView | undefined> {
    return (await walletsRepository.findViews(db, [id], now))[0];
  },

  /** The live wallets of `ids` as clients see them at `now`, in no particular order. */
  async findViews(db: Queryable, ids: string[], now: Date): Promise<WalletView[]> {
    const result = await db.query<WalletView>(
      `SELECT ${viewColumns(2)} FROM wallets WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL`,
      [ids, now],
    );
    return result.rows;
  },

  /** The live wallet, optionally row-locked for the rest of the transaction. */
  async find(
    db: Queryable,
    id: string,
    lock: "" | "FOR UPDATE" | "FOR SHARE" = "",
  ): Promise<WalletRow | undefined> {
    const result = await db.query<WalletRow>(
      `SELECT ${COLUMNS} FROM wallets WHERE id = $1 AND deleted_at IS NULL ${lock}`,
      [id],
    );
    return result.rows[0];
  },

  async list(
    db: Queryable,
    filter: { userId?: string; teamId?: string; status?: string },
    reach: Reach,
    options: ListOptions<WalletSortField>,
    now: Date,
  ): Promise<WalletView[]> {
    const values: unknown[] = [];
    const conditions = [
      "deleted_at IS NULL",
      ...filterConditions(
        [
          ["user_id =", filter.userId],
          ["team_id =", filter.teamId],
          ["status =", filter.status],
        ],
        values,
      ),
      reachCondition(reach, "wallet", "wallets", values) ?? "TRUE",
    ];
    values.push(now);
    const result = await db.query<WalletView>(
      `SELECT ${viewColumns(values.length)} FROM wallets WHERE ${conditions.join(" AND ")}
       ${pageClause(options, SORT_COLUMNS, values.length + 1)}`,
      [...values, ...pageValues(options)],
    );
    return result.rows;
  },

  async update(db: Queryable, id: string, changes: WalletChanges, now: Date): Promise<WalletView> {
    const set = setClause(
      {
        ...changes,
        spendingLimits:
          changes.spendingLimits === undefined ? undefined : JSON.stringify(changes.spendingLimits),
      },
      {
        name: "name",
        status: "status",
        dailyLimit: "daily_limit",
        monthlyLimit: "monthly_limit",
        allowedCategories: "allowed_categories",
        blockedCategories: "blocked_categories",
        spendingLimits: "spending_limits",
        metadata: "metadata",
      },
      3,
      2,
    );
    const result = await db.query<WalletView>(
      `UPDATE wallets SET ${set.sql} WHERE id = $1 RETURNING ${viewColumns(2)}`,
      [id, now, ...set.values],
    );
    return onlyRow(result);
  },

  /** Locks every live wallet of an owner, in id order so that concurrent lockers cannot deadlock. */
  async lockOwnedBy(db: Queryable, owner: WalletOwner): Promise<WalletRow[]> {
    const [column, value] = "userId" in owner ? ["user_id", owner.userId] : ["team_id", owner.teamId];
    const result = await db.query<WalletRow>(
      `SELECT ${COLUMNS} FROM wallets WHERE ${column} = $1 AND deleted_at IS NULL ORDER BY id FOR UPDATE`,
      [value],
    );
    return result.rows;
  },

  async softDeleteMany(db: Queryable, ids: string[], now: Date): Promise<WalletView[]> {
    if (ids.length === 0) return [];
    const result = await db.query<WalletView>(
      `UPDATE wallets SET deleted_at = $2, updated_at = $2 WHERE id = ANY($1::uuid[]) RETURNING ${viewColumns(2)}`,
      [ids, now],
    );
    return result.rows;
  },
};
