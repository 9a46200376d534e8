const encoder = new TextEncoder();

/**
 * A key derived from a 32-byte master secret with HKDF-SHA-256 (zero salt: the master is already
 * uniformly random). Each use of the secret has its own `info` label, so no two uses share a key.
 */
export async function deriveKey(
  secret: Uint8Array<ArrayBuffer>,
  info: string,
  algorithm: AesKeyGenParams | HmacImportParams,
  usages: KeyUsage[],
): Promise<CryptoKey> {
  const master = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: encoder.encode(info) },
    master,
    algorithm,
    false,
    usages,
  );
}

/** An HMAC-SHA-256 key for `sign`, derived from `secret` under `info`. */
export const deriveHmacKey = (secret: Uint8Array<ArrayBuffer>, info: string) =>
  deriveKey(secret, info, { name: "HMAC", hash: "SHA-256", length: 256 }, ["sign"]);

/** The hex HMAC-SHA-256 of `text`. */
export async function hmacHex(key: CryptoKey, text: string): Promise<string> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text))).toHex();
}
