import { writeFile } from "node:fs/promises";
import type { Config } from "./config.ts";
import type { Logger } from "./logger.ts";

export interface Secrets {
  adminApiKey: string;
  /** 32 raw bytes for AES-256-GCM card encryption (and, derived from it, the number fingerprint key). */
  cardEncryptionKey: Uint8Array<ArrayBuffer>;
}

const randomBytes = (length: number) => crypto.getRandomValues(new Uint8Array(length));

/** A fresh admin key: 32 random bytes, URL-safe, with a prefix that makes a leaked key easy to grep for. */
const newAdminKey = () =>
  `wk_admin_${randomBytes(32).toBase64({ alphabet: "base64url", omitPadding: true })}`;

/**
 * Reads the file at `path`, or creates it with `make()` when it does not exist yet. Only the owner
 * may read it: it holds a secret.
 */
async function readOrCreate(path: string, make: () => string): Promise<{ value: string; created: boolean }> {
  const file = Bun.file(path);
  if (await file.exists()) return { value: (await file.text()).trim(), created: false };
  const value = make();
  // Bun.write ignores a mode; the file must be born private, never chmod-ed after the fact.
  await writeFile(path, `${value}\n`, { mode: 0o600, flag: "wx" });
  return { value, created: true };
}

/**
 * The admin key and the card key come from the environment. In embedded mode either may be missing:
 * then it is generated once and kept in DATA_DIR (or only in memory for DATA_DIR=memory://).
 */
export async function loadSecrets(
  config: Pick<Config, "ADMIN_API_KEY" | "CARD_ENCRYPTION_KEY" | "DATA_DIR">,
  logger: Logger,
): Promise<Secrets> {
  const inMemory = config.DATA_DIR === "memory://";
  let adminApiKey = config.ADMIN_API_KEY;
  if (adminApiKey === undefined) {
    const path = `${config.DATA_DIR}/admin-api-key`;
    const stored = inMemory ? { value: newAdminKey(), created: true } : await readOrCreate(path, newAdminKey);
    adminApiKey = stored.value;
    if (stored.created) {
      // Logged exactly once, when it is made: the operator needs it to call the API at all.
      logger.warn(
        { adminApiKeyGenerated: adminApiKey, keptIn: inMemory ? "memory" : path },
        "generated an admin API key; set ADMIN_API_KEY to choose your own",
      );
    }
  }

  let cardKeyText = config.CARD_ENCRYPTION_KEY;
  if (cardKeyText === undefined) {
    const make = () => randomBytes(32).toBase64();
    cardKeyText = inMemory
      ? make()
      : (await readOrCreate(`${config.DATA_DIR}/card-encryption-key`, make)).value;
  }
  const cardEncryptionKey = Uint8Array.fromBase64(cardKeyText);
  if (cardEncryptionKey.length !== 32) throw new Error("the card encryption key must be 32 bytes");
  return { adminApiKey, cardEncryptionKey };
}
