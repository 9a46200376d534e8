import type { Queryable } from "../../platform/db.ts";
import { type ListOptions, pageClause, pageValues } from "../../platform/pagination.ts";
import { iso, isoOrNull, onlyRow, setClause } from "../../platform/sql.ts";
import type { Wallet, WalletSortField } from "./model.ts";

export interface WalletRow {
  id: string;
  name: string;
  user_id: string | null;
  team_id: string | null;
  currency: string;
  timezone: string;
  status: Wallet["status"];
  balance: number;
  daily_limit: number;
  monthly_limit: number;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

const COLUMNS =
  "id, name, user_id, team_id, currency, timezone, status, balance, daily_limit, monthly_limit, created_at, updated_at, deleted_at";

const SORT_COLUMNS: Record<WalletSortField, string> = {
  createdAt: "created_at",
  updatedAt: "updated_at",
  name: "name",
  balance: "balance",
};

export const toWallet = (row: WalletRow): Wallet => ({
  id: row.id,
  name: row.name,
  ownerType: row.user_id === null ? "team" : "user",
  userId: row.user_id,
  teamId: row.team_id,
  currency: row.currency,
  timezone: row.timezone,
  status: row.status,
  balance: row.balance,
  availableBalance: row.balance,
  dailyLimit: row.daily_limit,
  monthlyLimit: row.monthly_limit,
  spentToday: 0,
  spentThisMonth: 0,
  createdAt: iso(row.created_at),
  updatedAt: iso(row.updated_at),
  deletedAt: isoOrNull(row.deleted_at),
});

export type WalletOwner = { userId: string } | { teamId: string };

export interface NewWallet {
  id: string;
  name: string;
  owner: WalletOwner;
  currency: string;
  timezone: string;
  dailyLimit: number;
  monthlyLimit: number;
}

export interface WalletChanges {
  name?: string;
  status?: Wallet["status"];
  dailyLimit?: number;
  monthlyLimit?: number;
}

export const walletsRepository = {
  async insert(db: Queryable, wallet: NewWallet): Promise<WalletRow> {
    const result = await db.query<WalletRow>(
      `INSERT INTO wallets (id, name, user_id, team_id, currency, timezone, daily_limit, monthly_limit)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [
        wallet.id,
        wallet.name,
        "userId" in wallet.owner ? wallet.owner.userId : null,
        "teamId" in wallet.owner ? wallet.owner.teamId : null,
        wallet.currency,
        wallet.timezone,
        wallet.dailyLimit,
        wallet.monthlyLimit,
      ],
    );
    return onlyRow(result);
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
    options: ListOptions<WalletSortField>,
  ): Promise<WalletRow[]> {
    const conditions = ["deleted_at IS NULL"];
    const values: unknown[] = [];
    for (const [column, value] of [
      ["user_id", filter.userId],
      ["team_id", filter.teamId],
      ["status", filter.status],
    ] as const) {
      if (value === undefined) continue;
      values.push(value);
      conditions.push(`${column} = $${values.length}`);
    }
    const result = await db.query<WalletRow>(
      `SELECT ${COLUMNS} FROM wallets WHERE ${conditions.join(" AND ")}
       ${pageClause(options, SORT_COLUMNS, values.length + 1)}`,
      [...values, ...pageValues(options)],
    );
    return result.rows;
  },

  async update(db: Queryable, id: string, changes: WalletChanges): Promise<WalletRow> {
    const set = setClause(
      changes,
      { name: "name", status: "status", dailyLimit: "daily_limit", monthlyLimit: "monthly_limit" },
      2,
    );
    const result = await db.query<WalletRow>(
      `UPDATE wallets SET ${set.sql} WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, ...set.values],
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

  async softDeleteMany(db: Queryable, ids: string[]): Promise<WalletRow[]> {
    if (ids.length === 0) return [];
    const result = await db.query<WalletRow>(
      `UPDATE wallets SET deleted_at = now(), updated_at = now() WHERE id = ANY($1::uuid[]) RETURNING ${COLUMNS}`,
      [ids],
    );
    return result.rows;
  },
};
