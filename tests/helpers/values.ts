/** Values and value checks many test files share. */

/** A lowercase UUID, as the API writes every id. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A well-formed UUID (v7) that names no resource. */
export const UNKNOWN_ID = "01900000-0000-7000-8000-000000000000";

/** True when `value` is an RFC 3339 instant in UTC with milliseconds, as the API writes timestamps. */
export const isRfc3339Utc = (value: string | null | undefined): boolean =>
  typeof value === "string" && new Date(value).toISOString() === value;

/** A new random card encryption key (32 bytes, base64), as CARD_ENCRYPTION_KEY takes it. */
export const randomCardKey = () => crypto.getRandomValues(new Uint8Array(32)).toBase64();
