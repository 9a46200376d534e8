/**
 * Migration 008 gives the spend already approved its new windows: every authorization gets the local
 * week and year it was made in (the wallet's zone), the week, year and all-time windows of cards and
 * wallets are filled from the authorizations, and declined ones get a declineDetail. Migration 010 then
 * keeps of those only the ones a limit without categories needs. After each, every money invariant holds.
 */
import { expect, test } from "bun:test";
import { loadConfig } from "../../src/platform/config.ts";
import { openDatabase } from "../../src/platform/db.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { applyMigrations } from "../../src/platform/migrate.ts";
import { brokenInvariants } from "../helpers/invariants.ts";
import { migrateUpTo } from "../helpers/migrations.ts";
import { createScratchDatabase } from "../helpers/server.ts";
import { randomCardKey } from "../helpers/values.ts";

const serverUrl = process.env.DATABASE_URL;
const USER = "01000000-0000-7000-8000-000000000001";
const WALLET = "01000000-0000-7000-8000-000000000002";
const CARD = "01000000-0000-7000-8000-000000000003";
const [CAPTURED, PENDING, DECLINED] = [
  "01000000-0000-7000-8000-000000000004",
  "01000000-0000-7000-8000-000000000005",
  "01000000-0000-7000-8000-000000000006",
];
// 00:30 on 1 January 2031 in Berlin, still 2030 in UTC: a Wednesday of the week from Monday 30 December.
const AT = "2030-12-31T23:30:00Z";

test("existing authorizations count in their local week, year and all time; declines get a detail; then only limited windows stay", async () => {
  const scratch = serverUrl === undefined ? undefined : await createScratchDatabase(serverUrl);
  const config = loadConfig({
    DATA_DIR: "memory://",
    LOG_LEVEL: "silent",
    ADMIN_API_KEY: "spend-controls-migration-admin-key",
    CARD_ENCRYPTION_KEY: randomCardKey(),
    ...(scratch === undefined ? {} : { DATABASE_URL: scratch.url }),
  });
  const logger = createLogger(config);
  const db = await openDatabase(config, logger);
  try {
    await migrateUpTo(db, 5);
    await db.query("INSERT INTO users (id, email, name) VALUES ($1, 'a@example.com', 'A')", [USER]);
    await db.query(
      `INSERT INTO wallets (id, name, user_id, currency, timezone, balance, held, daily_limit, monthly_limit)
       VALUES ($1, 'W', $2, 'EUR', 'Europe/Berlin', 8000, 2000, 500000, 500000)`,
      [WALLET, USER],
    );
    await db.query(
      `INSERT INTO cards (id, wallet_id, brand, last4, number_fingerprint, number_ciphertext, cvv_ciphertext,
         expiry_month, expiry_year, daily_limit, monthly_limit)
       VALUES ($1, $2, 'visa', '4242', 'f', '\\x00', '\\x00', 12, 2035, 500000, 500000)`,
      [CARD, WALLET],
    );
    const authorization = (
      id: string,
      amount: number,
      status: string,
      reason: string | null,
      captured: number,
      refunded: number,
    ) =>
      db.query(
        `INSERT INTO authorizations (id, card_id, wallet_id, amount, currency, merchant_name, status, decline_reason,
           captured_amount, refunded_amount, window_day, window_month, expires_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'EUR', 'Shop', $5, $6, $7, $8, '2031-01-01', '2031-01-01', '2031-01-07T00:00:00Z', $9, $9)`,
        [id, CARD, WALLET, amount, status, reason, captured, refunded, AT],
      );
    await authorization(CAPTURED, 3000, "captured", null, 3000, 1000);
    await authorization(PENDING, 2000, "pending", null, 0, 0);
    await authorization(DECLINED, 900000, "declined", "card_daily_limit_exceeded", 0, 0);
    const ledger = [
      ["01000000-0000-7000-8000-000000000010", "topup", 10000, 10000, null, null, null],
      ["01000000-0000-7000-8000-000000000011", "card_spend", 3000, 7000, CARD, CAPTURED, null],
      [
        "01000000-0000-7000-8000-000000000012",
        "refund",
        1000,
        8000,
        CARD,
        CAPTURED,
        "01000000-0000-7000-8000-000000000011",
      ],
    ] as const;
    for (const [id, type, amount, after, card, auth, refundOf] of ledger) {
      await db.query(
        `INSERT INTO transactions (id, wallet_id, card_id, authorization_id, refund_of, type, amount, currency,
           balance_after, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'EUR', $8, $9)`,
        [id, WALLET, card, auth, refundOf, type, amount, after, AT],
      );
    }
    for (const [scope, id] of [
      ["card", CARD],
      ["wallet", WALLET],
    ]) {
      await db.query(
        `INSERT INTO spend_windows (scope_id, scope, period, starts_on, spent)
         VALUES ($1, $2, 'day', '2031-01-01', 4000), ($1, $2, 'month', '2031-01-01', 4000)`,
        [id, scope],
      );
    }

    await migrateUpTo(db, 8);

    const windows = await db.query<{ scope: string; period: string; starts_on: string; spent: number }>(
      "SELECT scope, period, starts_on, spent FROM spend_windows ORDER BY scope, period",
    );
    expect(windows.rows).toEqual(
      ["card", "wallet"].flatMap((scope) => [
        { scope, period: "all_time", starts_on: "1970-01-01", spent: 4000 },
        { scope, period: "day", starts_on: "2031-01-01", spent: 4000 },
        { scope, period: "month", starts_on: "2031-01-01", spent: 4000 },
        { scope, period: "week", starts_on: "2030-12-30", spent: 4000 },
        { scope, period: "year", starts_on: "2031-01-01", spent: 4000 },
      ]),
    );
    const declined = await db.query<{ decline_detail: unknown }>(
      "SELECT decline_detail FROM authorizations WHERE id = $1",
      [DECLINED],
    );
    expect(declined.rows[0]?.decline_detail).toEqual({
      scope: "card",
      interval: "daily",
      limit: null,
      spent: null,
      categories: null,
    });
    expect(await brokenInvariants(db)).toEqual([]);

    // A weekly limit on the card keeps its week; nothing keeps the other week, year and all-time rows.
    await db.query(
      `UPDATE cards SET spending_limits = '[{"amount": 90000, "interval": "weekly", "categories": null}]' WHERE id = $1`,
      [CARD],
    );
    await applyMigrations(db, logger);
    const kept = await db.query<{ scope: string; period: string; spent: number }>(
      "SELECT scope, period, spent FROM spend_windows ORDER BY scope, period",
    );
    expect(kept.rows).toEqual([
      { scope: "card", period: "day", spent: 4000 },
      { scope: "card", period: "month", spent: 4000 },
      { scope: "card", period: "week", spent: 4000 },
      { scope: "wallet", period: "day", spent: 4000 },
      { scope: "wallet", period: "month", spent: 4000 },
    ]);
    expect(await brokenInvariants(db)).toEqual([]);
  } finally {
    await db.close();
    await scratch?.drop();
  }
});
