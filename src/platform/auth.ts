import { ApiError } from "./errors.ts";

export interface ApiKeyIdentity {
  /** Loggable name of the key (never the key). */
  id: string;
  role: "admin";
}

const sha256 = async (text: string) =>
  new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));

/** Compares two equal-length digests in time independent of where they differ. */
function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}

export const unauthorized = () =>
  new ApiError(
    401,
    "unauthorized",
    "A valid API key is required: send Authorization: Bearer <key>.",
    undefined,
    {
      "www-authenticate": 'Bearer realm="wallet-api"',
    },
  );

/**
 * Checks `Authorization: Bearer <key>` against the admin key. Both sides are hashed first, so the
 * comparison takes the same time whatever the presented key's length or content.
 */
export class Authenticator {
  private constructor(private readonly adminKeyDigest: Uint8Array) {}

  static async create(adminApiKey: string): Promise<Authenticator> {
    return new Authenticator(await sha256(adminApiKey));
  }

  async authenticate(authorization: string | null): Promise<ApiKeyIdentity> {
    const match = authorization === null ? null : /^Bearer +(\S+) *$/i.exec(authorization);
    const presented = match?.[1];
    if (presented === undefined || presented.length > 1024) throw unauthorized();
    if (!digestsEqual(await sha256(presented), this.adminKeyDigest)) throw unauthorized();
    return { id: "admin", role: "admin" };
  }
}
