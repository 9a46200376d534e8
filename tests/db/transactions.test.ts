/**
 * A unit of work's transaction (src/platform/db.ts) on each database: on PostgreSQL its statements and
 * COMMIT go out without waiting for each other's answers, on PGlite one after the other; either way a
 * statement that fails leaves nothing of the unit committed. And the ledger's posting refuses a row
 * whose balance is not the one its caller worked out (the check a batch of spends commits on).
 */
import { describe, expect, test } from "bun:test";
import { ledgerRepository } from "../../src/modules/ledger/repository.ts";
import type { Database } from "../../src/platform/db.ts";
import { FailedAfterCommit } from "../../src/platform/errors.ts";
import { writeTogether } from "../../src/platform/sql.ts";
import { useMigratedDatabases } from "../helpers/server.ts";

const serverUrl = process.env.DATABASE_URL;
const openMigrated = useMigratedDatabases();
const newDatabase = async () => (await openMigrated()).db;

const addTeam = (db: { query: Database["query"] }, name: string) =>
  db.query("INSERT INTO teams (id, name) VALUES ($1, $2)", [Bun.randomUUIDv7(), name]);

/** A value node-postgres fails to send: the statement carrying it never reaches the server. */
const unsendable = {
  toPostgres() {
    throw new Error("this value cannot be sent");
  },
};

const teamNames = async (db: Database) =>
  (await db.query<{ name: string }>("SELECT name FROM teams ORDER BY name")).rows.map((row) => row.name);

describe(`a unit of work's transaction (${serverUrl === undefined ? "PGlite" : "PostgreSQL"})`, () => {
  test("COMMIT sent behind statements still running commits them all", async () => {
    const db = await newDatabase();
    await db.transaction(async (tx) => {
      await Promise.all([addTeam(tx, "first"), addTeam(tx, "second"), tx.commit()]);
    });
    expect(await teamNames(db)).toEqual(["first", "second"]);
  });

  test("a statement that fails ahead of its COMMIT fails the unit, and nothing of it is committed", async () => {
    const db = await newDatabase();
    const unit = db.transaction(async (tx) => {
      // The empty name breaks the teams' CHECK; the statement behind it and the COMMIT are already sent.
      await Promise.all([addTeam(tx, "kept?"), addTeam(tx, ""), addTeam(tx, "after"), tx.commit()]);
    });
    await expect(unit).rejects.toMatchObject({ code: "23514" });
    expect(await teamNames(db)).toEqual([]);
    // The connection is sound afterwards.
    await db.transaction((tx) => addTeam(tx, "next"));
    expect(await teamNames(db)).toEqual(["next"]);
  });

  test("a statement that fails before it reaches the server keeps the COMMIT from going out", async () => {
    const db = await newDatabase();
    const unit = db.transaction(async (tx) => {
      // Sent behind the statement that never leaves: PostgreSQL alone would commit it.
      await Promise.all([
        addTeam(tx, unsendable as unknown as string),
        tx.query("INSERT INTO teams (name, id) VALUES ($1, $2)", ["behind it", Bun.randomUUIDv7()]),
        tx.commit(),
      ]);
    });
    await expect(unit).rejects.toThrow("this value cannot be sent");
    expect(await teamNames(db)).toEqual([]);
  });

  test("a failure the unit does not wait for still keeps the COMMIT from going out", async () => {
    const db = await newDatabase();
    const unit = db.transaction(async (tx) => {
      addTeam(tx, unsendable as unknown as string).catch(() => undefined);
      await Promise.all([
        tx.query("INSERT INTO teams (name, id) VALUES ($1, $2)", ["waited for", Bun.randomUUIDv7()]),
        tx.commit(),
      ]);
    });
    // On PostgreSQL the COMMIT is held back; on PGlite the statement behind fails as well.
    await expect(unit).rejects.toThrow();
    expect(await teamNames(db)).toEqual([]);
  });

  test("a unit that fails building a statement commits none of those sent with it", async () => {
    const db = await newDatabase();
    const unit = db.transaction(async (tx) => {
      const building = async () => {
        throw new Error("the statement could not be built");
      };
      await Promise.all([building(), addTeam(tx, "sent with it"), tx.commit()]);
    });
    await expect(unit).rejects.toThrow("the statement could not be built");
    expect(await teamNames(db)).toEqual([]);
  });

  test("no statement is sent after COMMIT: it would run outside the transaction", async () => {
    const db = await newDatabase();
    const unit = db.transaction(async (tx) => {
      await tx.commit();
      await addTeam(tx, "late");
    });
    await expect(unit).rejects.toBeInstanceOf(FailedAfterCommit);
    await expect(unit).rejects.toHaveProperty(
      "cause.message",
      "a statement was sent after its transaction's COMMIT",
    );
    expect(await teamNames(db)).toEqual([]);
  });

  test("a unit failing after its COMMIT keeps what it committed, is not run again, and says so", async () => {
    const db = await newDatabase();
    let runs = 0;
    const unit = db.transaction(async (tx) => {
      runs++;
      await Promise.all([addTeam(tx, `run ${runs}`), tx.commit()]);
      // A serialization failure would otherwise roll back and run the unit again.
      throw Object.assign(new Error("failed after the commit"), { code: "40001" });
    });
    // Its own failure, which no caller retries (sharedByBatch), carrying the unit's error as the cause.
    await expect(unit).rejects.toBeInstanceOf(FailedAfterCommit);
    await expect(unit).rejects.toHaveProperty("cause.message", "failed after the commit");
    expect(runs).toBe(1);
    expect(await teamNames(db)).toEqual(["run 1"]);
  });

  test("a joined unit's commit() leaves the commit to the outermost unit, which can still roll back", async () => {
    const db = await newDatabase();
    const outer = db.transaction(async (tx) => {
      await db.transaction(async (inner) => {
        await Promise.all([addTeam(inner, "inner"), inner.commit()]);
      });
      await addTeam(tx, "outer");
      throw new Error("the outer unit gives up");
    });
    await expect(outer).rejects.toThrow("the outer unit gives up");
    expect(await teamNames(db)).toEqual([]);
  });
});

describe("the ledger's posting", () => {
  test("a row whose running balance is not the one worked out under the lock, or on no wallet, fails; nothing moves", async () => {
    const db = await newDatabase();
    const teamId = Bun.randomUUIDv7();
    const walletId = Bun.randomUUIDv7();
    await db.query("INSERT INTO teams (id, name) VALUES ($1, 'Ledger')", [teamId]);
    await db.query(
      `INSERT INTO wallets (id, name, team_id, currency, timezone, daily_limit, monthly_limit)
       VALUES ($1, 'Ledger', $2, 'SGD', 'UTC', 1000, 1000)`,
      [walletId, teamId],
    );
    const post = (balance: number, onWallet = walletId) =>
      db.transaction(async (tx) => {
        const posting = ledgerRepository.posting(
          [{ walletId: onWallet, type: "topup", amount: 50 }],
          new Date(),
          new Map([[onWallet, { balance, currency: "SGD" }]]),
        );
        await Promise.all([writeTogether(tx, [posting.writes]), tx.commit()]);
        return posting.transactions;
      });
    // The wallet holds 0, not the 100 the caller took it to hold: its event would show 150.
    const wrong = post(100);
    await expect(wrong).rejects.toThrow(/would be posted with balance 50, not the 150 its event shows/);
    const stored = async () =>
      (
        await db.query<{ balance: number; rows: number }>(
          "SELECT balance, (SELECT count(*)::int FROM transactions WHERE wallet_id = $1) AS rows FROM wallets WHERE id = $1",
          [walletId],
        )
      ).rows[0];
    expect(await stored()).toEqual({ balance: 0, rows: 0 });
    // A row on a wallet the statement finds no row of is refused, not left out.
    const nowhere = post(0, Bun.randomUUIDv7());
    await expect(nowhere).rejects.toThrow(/moved no wallet row/);
    // Worked out from the balance it holds, the same posting goes through.
    const [posted] = await post(0);
    expect(posted?.balanceAfter).toBe(50);
    expect(await stored()).toEqual({ balance: 50, rows: 1 });
  });
});
