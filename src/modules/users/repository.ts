import type { Reach } from "../../platform/auth.ts";
import type { Queryable } from "../../platform/db.ts";
import { isUniqueViolation } from "../../platform/errors.ts";
import type { Metadata } from "../../platform/metadata.ts";
import { type ListOptions, pageClause, pageValues } from "../../platform/pagination.ts";
import { iso, isoOrNull, onlyRow, setClause } from "../../platform/sql.ts";
import { reachCondition } from "../access/reach.ts";
import { emailTaken } from "./errors.ts";
import type { User, UserSortField } from "./model.ts";

interface UserRow {
  id: string;
  email: string;
  name: string;
  metadata: Metadata;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

const COLUMNS = "id, email, name, metadata, created_at, updated_at, deleted_at";

const SORT_COLUMNS: Record<UserSortField, string> = {
  createdAt: "created_at",
  updatedAt: "updated_at",
  email: "lower(email)",
  name: "name",
};

const toUser = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  name: row.name,
  metadata: row.metadata,
  createdAt: iso(row.created_at),
  updatedAt: iso(row.updated_at),
  deletedAt: isoOrNull(row.deleted_at),
});

/** Re-throws a violation of the live-email unique index as 409 email_taken. */
function rethrowEmailTaken(error: unknown): never {
  if (isUniqueViolation(error, "users_email_live_key")) throw emailTaken();
  throw error;
}

export const usersRepository = {
  async insert(
    db: Queryable,
    user: { id: string; email: string; name: string; metadata: string },
    now: Date,
  ): Promise<User> {
    const result = await db
      .query<UserRow>(
        `INSERT INTO users (id, email, name, metadata, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
         RETURNING ${COLUMNS}`,
        [user.id, user.email, user.name, user.metadata, now],
      )
      .catch(rethrowEmailTaken);
    return toUser(onlyRow(result));
  },

  /** The live user, optionally row-locked for the rest of the transaction. */
  async find(
    db: Queryable,
    id: string,
    lock: "" | "FOR UPDATE" | "FOR SHARE" = "",
  ): Promise<User | undefined> {
    const result = await db.query<UserRow>(
      `SELECT ${COLUMNS} FROM users WHERE id = $1 AND deleted_at IS NULL ${lock}`,
      [id],
    );
    const row = result.rows[0];
    return row && toUser(row);
  },

  async list(
    db: Queryable,
    filter: { email?: string },
    reach: Reach,
    options: ListOptions<UserSortField>,
  ): Promise<User[]> {
    const values: unknown[] = [];
    let where = "deleted_at IS NULL";
    if (filter.email !== undefined) {
      values.push(filter.email.trim());
      where += ` AND lower(email) = lower($${values.length})`;
    }
    const reachable = reachCondition(reach, "user", "users", values);
    if (reachable !== undefined) where += ` AND ${reachable}`;
    const result = await db.query<UserRow>(
      `SELECT ${COLUMNS} FROM users WHERE ${where} ${pageClause(options, SORT_COLUMNS, values.length + 1)}`,
      [...values, ...pageValues(options)],
    );
    return result.rows.map(toUser);
  },

  async update(
    db: Queryable,
    id: string,
    changes: { email?: string; name?: string; metadata?: string },
    now: Date,
  ): Promise<User | undefined> {
    const set = setClause(changes, { email: "email", name: "name", metadata: "metadata" }, 3, 2);
    const result = await db
      .query<UserRow>(
        `UPDATE users SET ${set.sql} WHERE id = $1 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
        [id, now, ...set.values],
      )
      .catch(rethrowEmailTaken);
    const row = result.rows[0];
    return row && toUser(row);
  },

  async softDelete(db: Queryable, id: string, now: Date): Promise<User> {
    const result = await db.query<UserRow>(
      `UPDATE users SET deleted_at = $2, updated_at = $2 WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, now],
    );
    return toUser(onlyRow(result));
  },
};
