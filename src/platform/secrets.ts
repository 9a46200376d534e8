import { writeFile } from "node:fs/promises";
import { type Config, ConfigError, secretValueProblem } from "./config.ts";
import type { Queryable } from "./db.ts";
import type { Logger } from "./logger.ts";

export interface Secrets {
  adminApiKey: string;
  /** 32 raw bytes for AES-256-GCM card encryption (and, derived from it, the number fingerprint key). */
  cardEncryptionKey: Uint8Array<ArrayBuffer>;
  /** During a key rotation, the key the cards not yet re-encrypted are under. */
  previousCardEncryptionKey?: Uint8Array<ArrayBuffer>;
}

const randomBytes = (length: number) => crypto.getRandomValues(new Uint8Array(length));

/** A fresh admin key: 32 random bytes, URL-safe, with a prefix that makes a leaked key easy to grep for. */
const newAdminKey = () =>
  `wk_admin_${randomBytes(32).toBase64({ alphabet: "base64url", omitPadding: true })}`;

type SecretName = "ADMIN_API_KEY" | "CARD_ENCRYPTION_KEY";

/** The secret kept in the file at `path`, refused (never quoted) unless it obeys the variable's rules. */
async function readSecretFile(path: string, name: SecretName): Promise<string> {
  const value = (await Bun.file(path).text()).trim();
  const problem = secretValueProblem(name, value);
  if (problem !== undefined) {
    throw new ConfigError([
      `${name}: the key file ${path} holds no valid key: ${problem}. Put the right key back into it, or set ${name}`,
    ]);
  }
  return value;
}

/** Creates the file at `path` holding `value`. Only the owner may read it: it holds a secret. */
async function writeSecretFile(path: string, value: string): Promise<void> {
  // Bun.write ignores a mode; the file must be born private, never chmod-ed after the fact.
  await writeFile(path, `${value}\n`, { mode: 0o600, flag: "wx" });
}

/** True when the database holds cards, or the check of a key cards were written under. */
async function holdsCardData(db: Queryable): Promise<boolean> {
  const result = await db.query<{ held: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM cards) OR EXISTS (SELECT 1 FROM card_key_checks) AS held",
  );
  return result.rows[0]?.held === true;
}

/**
 * The admin key: ADMIN_API_KEY, or in embedded mode the key file in DATA_DIR, made on first start.
 * A generated key is never logged, only where it is. With DATA_DIR=memory:// there is no file to
 * keep it in, so none is generated.
 */
async function loadAdminApiKey(config: Pick<Config, "ADMIN_API_KEY" | "DATA_DIR">, logger: Logger) {
  if (config.ADMIN_API_KEY !== undefined) return config.ADMIN_API_KEY;
  if (config.DATA_DIR === "memory://") {
    throw new ConfigError([
      "ADMIN_API_KEY: required when DATA_DIR=memory:// (a generated key would have no file to be read from)",
    ]);
  }
  const path = `${config.DATA_DIR}/admin-api-key`;
  if (await Bun.file(path).exists()) return readSecretFile(path, "ADMIN_API_KEY");
  const adminApiKey = newAdminKey();
  await writeSecretFile(path, adminApiKey);
  logger.warn(
    { adminApiKeyFile: path },
    `generated an admin API key into ${path} (readable by this user only; read it with: cat ${path}); set ADMIN_API_KEY to choose your own`,
  );
  return adminApiKey;
}

/**
 * The card key: CARD_ENCRYPTION_KEY, or in embedded mode the key file in DATA_DIR. A new one is made
 * only while the database holds no card data: a new key beside existing cards would make them
 * unreadable and their numbers addable twice.
 */
async function loadCardKey(config: Pick<Config, "CARD_ENCRYPTION_KEY" | "DATA_DIR">, db: Queryable) {
  if (config.CARD_ENCRYPTION_KEY !== undefined) return config.CARD_ENCRYPTION_KEY;
  const make = () => randomBytes(32).toBase64();
  if (config.DATA_DIR === "memory://") return make();
  const path = `${config.DATA_DIR}/card-encryption-key`;
  if (await Bun.file(path).exists()) return readSecretFile(path, "CARD_ENCRYPTION_KEY");
  if (await holdsCardData(db)) {
    throw new ConfigError([
      `CARD_ENCRYPTION_KEY: the key file ${path} is missing, but the database holds cards encrypted under a key. Restore the file from your key backup or set CARD_ENCRYPTION_KEY; a new key would leave every stored card unreadable`,
    ]);
  }
  const cardKey = make();
  await writeSecretFile(path, cardKey);
  return cardKey;
}

/**
 * The admin key and the card keys, from the environment or, in embedded mode, from DATA_DIR. Whether
 * the card key fits the stored cards is checked afterwards (`verifyCardKeys`), once the vault exists.
 */
export async function loadSecrets(
  config: Pick<Config, "ADMIN_API_KEY" | "CARD_ENCRYPTION_KEY" | "CARD_ENCRYPTION_KEY_PREVIOUS" | "DATA_DIR">,
  logger: Logger,
  db: Queryable,
): Promise<Secrets> {
  const adminApiKey = await loadAdminApiKey(config, logger);
  const cardEncryptionKey = Uint8Array.fromBase64(await loadCardKey(config, db));
  const previous = config.CARD_ENCRYPTION_KEY_PREVIOUS;
  return {
    adminApiKey,
    cardEncryptionKey,
    ...(previous === undefined ? {} : { previousCardEncryptionKey: Uint8Array.fromBase64(previous) }),
  };
}
