/**
 * The card key check against a database, through the functions `serve`, `seed` and
 * `rotate-card-key` start with: cards stored before key checks existed, and rotation in batches.
 */
import { describe, expect, test } from "bun:test";
import { cardVaultOf, createServices, loadVerifiedSecrets } from "../../src/app.ts";
import { rotateCardKey } from "../../src/modules/cards/card-keys.ts";
import { CardVault, keyCheckValue } from "../../src/modules/cards/vault.ts";
import { ConfigError, loadConfig } from "../../src/platform/config.ts";
import type { Database } from "../../src/platform/db.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { uniqueCardNumber } from "../helpers/fixtures.ts";
import { uniqueEmail, useMigratedDatabases } from "../helpers/server.ts";
import { randomCardKey } from "../helpers/values.ts";

const logger = createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" });
const newDatabase = useMigratedDatabases();

/** Verifies `keys` against `db` as a start would, and gives back the services built on them. */
async function start(db: Database, env: Record<string, string>, keys: Record<string, string>) {
  const config = loadConfig({ ...env, ...keys });
  const secrets = await loadVerifiedSecrets(config, logger, db);
  return {
    services: await createServices({ config, logger, db, secrets }),
    vault: await cardVaultOf(secrets),
  };
}

/** `count` cards with given numbers on a new wallet; gives back their ids and numbers. */
async function addCards(services: Awaited<ReturnType<typeof createServices>>, count: number) {
  const user = await services.users.create({ email: uniqueEmail(), name: "Keys" });
  const wallet = await services.wallets.create({ userId: user.id });
  const cards: { id: string; number: string }[] = [];
  for (let i = 0; i < count; i++) {
    const number = uniqueCardNumber();
    const card = await services.cards.create({
      walletId: wallet.id,
      cardNo: number,
      cvv: "123",
      expiryMonth: "12",
      expiryYear: String(new Date().getUTCFullYear() + 2),
    });
    cards.push({ id: card.id, number });
  }
  return cards;
}

const storedChecks = async (db: Database) =>
  (await db.query<{ check_value: string }>("SELECT check_value FROM card_key_checks")).rows.map(
    (row) => row.check_value,
  );

describe("card key checks", () => {
  test("cards stored before key checks existed: a key that does not open them is refused, the right one is recorded", async () => {
    const { db, env } = await newDatabase();
    const key = randomCardKey();
    const { services } = await start(db, env, { CARD_ENCRYPTION_KEY: key });
    const [card] = await addCards(services, 1);
    if (card === undefined) throw new Error("no card was added");
    // As a database that was written before migration 004 holds it: cards, and no check value.
    await db.query("DELETE FROM card_key_checks");

    const refused = await start(db, env, { CARD_ENCRYPTION_KEY: randomCardKey() }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ConfigError);
    expect(refused instanceof ConfigError ? refused.problems.join("\n") : "").toContain(
      "does not open the stored cards",
    );
    expect(await storedChecks(db)).toEqual([]);

    const { services: again } = await start(db, env, { CARD_ENCRYPTION_KEY: key });
    expect(await storedChecks(db)).toEqual([await keyCheckValue(Uint8Array.fromBase64(key))]);
    expect((await again.cards.reveal(card.id)).number).toBe(card.number);
  });

  test("rotation goes through every card in batches, deleted ones too, and leaves only the new key's check", async () => {
    const { db, env } = await newDatabase();
    const oldKey = randomCardKey();
    const newCardKey = randomCardKey();
    const { services } = await start(db, env, { CARD_ENCRYPTION_KEY: oldKey });
    const cards = await addCards(services, 5);
    await services.cards.delete(cards[0]?.id ?? "");

    const { vault } = await start(db, env, {
      CARD_ENCRYPTION_KEY: newCardKey,
      CARD_ENCRYPTION_KEY_PREVIOUS: oldKey,
    });
    expect(await storedChecks(db)).toHaveLength(2);
    expect(await rotateCardKey(db, vault, logger, 2)).toBe(5);
    expect(await storedChecks(db)).toEqual([vault.currentKeyCheckValue]);

    // Every row, the deleted one included, is now under the new key alone.
    const newOnly = await CardVault.create(Uint8Array.fromBase64(newCardKey));
    const { rows } = await db.query<{
      id: string;
      number_ciphertext: Uint8Array;
      number_fingerprint: string;
    }>("SELECT id, number_ciphertext, number_fingerprint FROM cards ORDER BY id");
    expect(rows.map((row) => row.id)).toEqual(cards.map((card) => card.id).sort());
    for (const row of rows) {
      const number = await newOnly.open(row.number_ciphertext, row.id);
      expect(cards.find((card) => card.id === row.id)?.number).toBe(number);
      expect(row.number_fingerprint).toBe(await newOnly.fingerprint(number));
    }
  });
});
