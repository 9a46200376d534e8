/**
 * Signing of outgoing calls as the Standard Webhooks specification describes, so receivers can verify
 * them with any of its libraries: the secret is `whsec_` + base64 of random bytes, and
 * `webhook-signature` is `v1,` + base64 of HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`
 * keyed with the secret's bytes.
 */

const SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32;

/** A new signing secret, shown to its owner once. */
export const newSigningSecret = (): string =>
  `${SECRET_PREFIX}${crypto.getRandomValues(new Uint8Array(SECRET_BYTES)).toBase64()}`;

const importKey = (secret: string) =>
  crypto.subtle.importKey(
    "raw",
    Uint8Array.fromBase64(secret.slice(SECRET_PREFIX.length)),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );

/** The headers that sign `body` as message `id`, sent now. */
export async function signatureHeaders(
  secret: string,
  id: string,
  body: string,
): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const mac = await crypto.subtle.sign(
    "HMAC",
    await importKey(secret),
    new TextEncoder().encode(`${id}.${timestamp}.${body}`),
  );
  return {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": `v1,${new Uint8Array(mac).toBase64()}`,
  };
}
