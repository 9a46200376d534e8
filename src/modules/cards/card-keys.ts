/**
 * Which card keys the stored card data needs (`card_key_checks`), checked at every start, and the
 * re-encryption of every card under a new key (`wallet rotate-card-key`).
 */
import { ConfigError } from "../../platform/config.ts";
import type { Database, Queryable } from "../../platform/db.ts";
import { isUniqueViolation } from "../../platform/errors.ts";
import type { Logger } from "../../platform/logger.ts";
import { type CardVault, keyIdOf } from "./vault.ts";

const named = (checkValues: readonly string[]) => checkValues.map(keyIdOf).join(" and ");

const wrongKey = (detail: string) =>
  new ConfigError([
    `CARD_ENCRYPTION_KEY: wrong card key: ${detail}. Set the key the cards were written with (during a rotation: the new key as CARD_ENCRYPTION_KEY and the old one as CARD_ENCRYPTION_KEY_PREVIOUS); with another key every stored card would be unreadable`,
  ]);

async function storedCheckValues(db: Queryable): Promise<string[]> {
  const result = await db.query<{ check_value: string }>(
    "SELECT check_value FROM card_key_checks ORDER BY created_at, check_value",
  );
  return result.rows.map((row) => row.check_value);
}

/** True when the newest card opens with the vault's keys, or there is no card at all. */
async function opensNewestCard(db: Queryable, vault: CardVault): Promise<boolean> {
  const result = await db.query<{ id: string; number_ciphertext: Uint8Array }>(
    "SELECT id, number_ciphertext FROM cards ORDER BY id DESC LIMIT 1",
  );
  const newest = result.rows[0];
  if (newest === undefined) return true;
  return vault.open(newest.number_ciphertext, newest.id).then(
    () => true,
    () => false,
  );
}

/**
 * Refuses (ConfigError) card keys that do not cover the stored card data, and records the current
 * key's check value. Runs before anything reads or writes a card: `serve`, `seed`, `rotate-card-key`.
 * Cards from before check values existed are tested by opening the newest of them.
 */
export async function verifyCardKeys(db: Database, vault: CardVault, logger: Logger): Promise<void> {
  const configured = vault.keyCheckValues;
  const current = vault.currentKeyCheckValue;
  const stored = await db.transaction(async (tx) => {
    // One start at a time: two first starts with different keys must not both record theirs.
    await tx.query("LOCK TABLE card_key_checks IN EXCLUSIVE MODE");
    const recorded = await storedCheckValues(tx);
    const unknown = recorded.filter((checkValue) => !configured.includes(checkValue));
    if (unknown.length > 0) {
      throw wrongKey(
        `the stored cards need card key ${named(unknown)}, and the configured key is ${named(configured)}`,
      );
    }
    let toRecord = recorded.includes(current) ? [] : [current];
    if (recorded.length === 0) {
      if (!(await opensNewestCard(tx, vault))) {
        throw wrongKey(`card key ${named(configured)} does not open the stored cards`);
      }
      // Unrecorded cards may be under any configured key that opens them: a rotation clears the rest.
      toRecord = (await tx.query("SELECT 1 FROM cards LIMIT 1")).rows.length > 0 ? configured : [current];
    }
    for (const checkValue of toRecord) {
      await tx.query("INSERT INTO card_key_checks (check_value) VALUES ($1)", [checkValue]);
    }
    return [...recorded, ...toRecord];
  });
  logger.info({ cardKeyId: keyIdOf(current) }, "card key verified against the stored cards");
  const older = stored.filter((checkValue) => checkValue !== current);
  if (older.length > 0) {
    logger.warn(
      { previousCardKeyId: named(older) },
      "card key rotation unfinished: run `wallet rotate-card-key`, then remove CARD_ENCRYPTION_KEY_PREVIOUS",
    );
  } else if (configured.length > 1) {
    logger.warn("CARD_ENCRYPTION_KEY_PREVIOUS is set, but no stored card needs it: remove it");
  }
}

interface SealedCard {
  id: string;
  number_ciphertext: Uint8Array;
  cvv_ciphertext: Uint8Array;
}

/**
 * Re-encrypts and re-fingerprints every card (deleted ones too: they keep their ciphertexts) under
 * the vault's current key, `batchSize` cards per transaction, then forgets the other keys' check
 * values, after which CARD_ENCRYPTION_KEY_PREVIOUS is no longer needed. Safe to run again after an
 * interruption, and while the service runs with both keys (rows are locked batch by batch).
 * Returns how many cards it re-encrypted.
 */
export async function rotateCardKey(
  db: Database,
  vault: CardVault,
  logger: Logger,
  batchSize = 100,
): Promise<number> {
  if (vault.keyCheckValues.length < 2) {
    throw new ConfigError([
      "CARD_ENCRYPTION_KEY_PREVIOUS: required by rotate-card-key: set CARD_ENCRYPTION_KEY to the new key and CARD_ENCRYPTION_KEY_PREVIOUS to the old one",
    ]);
  }
  await verifyCardKeys(db, vault, logger);
  let rotated = 0;
  let after = "00000000-0000-0000-0000-000000000000";
  for (;;) {
    const batch = await db.transaction(async (tx) => {
      const { rows } = await tx.query<SealedCard>(
        "SELECT id, number_ciphertext, cvv_ciphertext FROM cards WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE",
        [after, batchSize],
      );
      for (const card of rows) {
        const number = await vault.open(card.number_ciphertext, card.id);
        const cvv = await vault.open(card.cvv_ciphertext, card.id);
        await tx
          .query(
            "UPDATE cards SET number_ciphertext = $2, cvv_ciphertext = $3, number_fingerprint = $4 WHERE id = $1",
            [
              card.id,
              await vault.seal(number, card.id),
              await vault.seal(cvv, card.id),
              await vault.fingerprint(number),
            ],
          )
          .catch((error: unknown) => {
            // Possible only if an instance without the new key added the number during the change-over.
            if (isUniqueViolation(error, "cards_number_live_key")) {
              throw new Error(
                `card ${card.id} has the number of another live card (added twice during the key change-over); delete one of the two, then run rotate-card-key again`,
              );
            }
            throw error;
          });
      }
      return rows;
    });
    rotated += batch.length;
    const last = batch.at(-1);
    if (last === undefined || batch.length < batchSize) break;
    after = last.id;
  }
  await db.query("DELETE FROM card_key_checks WHERE check_value <> $1", [vault.currentKeyCheckValue]);
  logger.info({ cards: rotated, cardKeyId: keyIdOf(vault.currentKeyCheckValue) }, "card key rotated");
  return rotated;
}
