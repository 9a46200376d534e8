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
 * A secret presented as `Authorization: Bearer <secret>`. Both sides are hashed first, so the
 * comparison takes the same time whatever the presented value's length or content.
 */
export class BearerSecret {
  private constructor(private readonly digest: Uint8Array) {}

  static async of(secret: string): Promise<BearerSecret> {
    return new BearerSecret(await sha256(secret));
  }

  /** True when `authorization` is `Bearer <this secret>` (the scheme in any case). */
  async matches(authorization: string | null): Promise<boolean> {
    const match = authorization === null ? null : /^Bearer +(\S+) *$/i.exec(authorization);
    const presented = match?.[1];
    if (presented === undefined || presented.length > 1024) return false;
    return digestsEqual(await sha256(presented), this.digest);
  }
}

/** Checks `Authorization: Bearer <key>` against the admin key. */
export class Authenticator {
  private constructor(private readonly adminKey: BearerSecret) {}

  static async create(adminApiKey: string): Promise<Authenticator> {
    return new Authenticator(await BearerSecret.of(adminApiKey));
  }

  async authenticate(authorization: string | null): Promise<ApiKeyIdentity> {
    if (!(await this.adminKey.matches(authorization))) throw unauthorized();
    return { id: "admin", role: "admin" };
  }
}
