import type { Reach, Scope, StoredKey } from "../../platform/auth.ts";
import type { Queryable } from "../../platform/db.ts";
import { type ListOptions, pageClause, pageValues } from "../../platform/pagination.ts";
import { filterConditions, iso, isoOrNull, onlyRow } from "../../platform/sql.ts";
import type { ApiKey, ApiKeySortField } from "./model.ts";

interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  team_id: string | null;
  user_id: string | null;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}

/** Never the secret's hash: only findBySecretHash compares it, in SQL. */
const COLUMNS =
  "id, name, prefix, scopes, team_id, user_id, expires_at, last_used_at, revoked_at, created_at";

const SORT_COLUMNS: Record<ApiKeySortField, string> = { createdAt: "created_at", name: "name" };

export const toApiKey = (row: ApiKeyRow): ApiKey => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  scopes: row.scopes,
  teamId: row.team_id,
  userId: row.user_id,
  expiresAt: isoOrNull(row.expires_at),
  lastUsedAt: isoOrNull(row.last_used_at),
  revokedAt: isoOrNull(row.revoked_at),
  createdAt: iso(row.created_at),
});

function reachOf(row: ApiKeyRow): Reach {
  if (row.team_id !== null) return { kind: "team", teamId: row.team_id };
  if (row.user_id !== null) return { kind: "user", userId: row.user_id };
  return { kind: "all" };
}

export interface NewApiKey {
  id: string;
  name: string;
  prefix: string;
  secretHash: Uint8Array;
  scopes: Scope[];
  teamId: string | null;
  userId: string | null;
  expiresAt: Date | null;
}

/** lastUsedAt is written at most once a minute per key, across every instance. */
export const LAST_USED_RESOLUTION_MS = 60_000;

export const apiKeysRepository = {
  async insert(db: Queryable, key: NewApiKey, now: Date): Promise<ApiKey> {
    const result = await db.query<ApiKeyRow>(
      `INSERT INTO api_keys (id, name, prefix, secret_hash, scopes, team_id, user_id, expires_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
      [key.id, key.name, key.prefix, key.secretHash, key.scopes, key.teamId, key.userId, key.expiresAt, now],
    );
    return toApiKey(onlyRow(result));
  },

  async find(db: Queryable, id: string): Promise<ApiKey | undefined> {
    const result = await db.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
    const row = result.rows[0];
    return row && toApiKey(row);
  },

  async list(
    db: Queryable,
    filter: { teamId?: string; userId?: string },
    options: ListOptions<ApiKeySortField>,
  ): Promise<ApiKey[]> {
    const values: unknown[] = [];
    const conditions = [
      "TRUE",
      ...filterConditions(
        [
          ["team_id =", filter.teamId],
          ["user_id =", filter.userId],
        ],
        values,
      ),
    ];
    const result = await db.query<ApiKeyRow>(
      `SELECT ${COLUMNS} FROM api_keys WHERE ${conditions.join(" AND ")}
       ${pageClause(options, SORT_COLUMNS, values.length + 1)}`,
      [...values, ...pageValues(options)],
    );
    return result.rows.map(toApiKey);
  },

  /** Revokes a key not revoked yet; undefined when there is none such. */
  async revoke(db: Queryable, id: string, now: Date): Promise<ApiKey | undefined> {
    const result = await db.query<ApiKeyRow>(
      `UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`,
      [id, now],
    );
    const row = result.rows[0];
    return row && toApiKey(row);
  },

  /** The key whose secret hashes to `secretHash`, as the gate needs it, revoked and expired ones included. */
  async findBySecretHash(db: Queryable, secretHash: Uint8Array): Promise<StoredKey | undefined> {
    const result = await db.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE secret_hash = $1`, [
      secretHash,
    ]);
    const row = result.rows[0];
    return (
      row && {
        id: row.id,
        scopes: row.scopes,
        reach: reachOf(row),
        expiresAt: row.expires_at,
        revokedAt: row.revoked_at,
      }
    );
  },

  /** Sets lastUsedAt to `now` unless another write (of any instance) did within the last minute. */
  async touch(db: Queryable, id: string, now: Date): Promise<void> {
    await db.query(
      `UPDATE api_keys SET last_used_at = $2
       WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2::timestamptz - make_interval(secs => $3))`,
      [id, now, LAST_USED_RESOLUTION_MS / 1000],
    );
  },
};
