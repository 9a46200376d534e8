import type { Queryable } from "../../platform/db.ts";
import { onlyRow } from "../../platform/sql.ts";
import type { OnTimeout } from "./model.ts";

export interface HookRow {
  url: string;
  timeout_ms: number;
  on_timeout: OnTimeout;
  secret: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = "url, timeout_ms, on_timeout, secret, created_at, updated_at";

export const authorizationHookRepository = {
  async find(db: Queryable): Promise<HookRow | undefined> {
    const result = await db.query<HookRow>(`SELECT ${COLUMNS} FROM authorization_hook`);
    return result.rows[0];
  },

  /** Sets the hook; `secret` is kept only when there was none. `created` says whether it was. */
  async upsert(
    db: Queryable,
    hook: { url: string; timeoutMs: number; onTimeout: OnTimeout; secret: string },
    now: Date,
  ): Promise<HookRow & { created: boolean }> {
    const result = await db.query<HookRow & { created: boolean }>(
      `INSERT INTO authorization_hook (url, timeout_ms, on_timeout, secret, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $5)
       ON CONFLICT (id) DO UPDATE
         SET url = EXCLUDED.url, timeout_ms = EXCLUDED.timeout_ms, on_timeout = EXCLUDED.on_timeout,
             updated_at = EXCLUDED.updated_at
       RETURNING ${COLUMNS}, (xmax = 0) AS created`,
      [hook.url, hook.timeoutMs, hook.onTimeout, hook.secret, now],
    );
    return onlyRow(result);
  },

  async delete(db: Queryable): Promise<HookRow | undefined> {
    const result = await db.query<HookRow>(`DELETE FROM authorization_hook RETURNING ${COLUMNS}`);
    return result.rows[0];
  },
};
