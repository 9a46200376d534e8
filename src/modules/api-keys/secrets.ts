import { sha256 } from "../../platform/auth.ts";

/**
 * The secrets of API keys: `wak_` and 64 hex digits (256 random bits). The prefix lets secret
 * scanners find a leaked one (`wak_[0-9a-f]{64}`); the service keeps only its SHA-256.
 */
const SECRET_FORMAT = /^wak_[0-9a-f]{64}$/;

/** Characters of the secret shown as the key's `prefix`, for people to recognise it. */
const PREFIX_LENGTH = 8;

export function newSecret(): { secret: string; prefix: string } {
  const secret = `wak_${crypto.getRandomValues(new Uint8Array(32)).toHex()}`;
  return { secret, prefix: secret.slice(0, PREFIX_LENGTH) };
}

/** True when `text` could be a key's secret: anything else is refused without a database lookup. */
export const looksLikeSecret = (text: string) => SECRET_FORMAT.test(text);

/** SHA-256 of the secret: one-way, and unsearchable because the secret has 256 bits of entropy. */
export const secretHash = (secret: string): Uint8Array => sha256(secret);
