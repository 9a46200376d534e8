/**
 * Metadata (contract §8): a client's own string keys and values on users, teams, wallets, cards, money
 * movements and authorizations, stored as a jsonb object and returned on reads. A create or PATCH that
 * gives `metadata` sets all of it (`{}` clears it).
 */
import { type Static, Type } from "@sinclair/typebox";

export const MAX_METADATA_KEYS = 20;

const MetadataKey = Type.String({ pattern: "^[^\\[\\]]{1,40}$" });
const MetadataValue = Type.String({ maxLength: 500 });

export const Metadata = Type.Record(MetadataKey, MetadataValue, {
  additionalProperties: false,
  maxProperties: MAX_METADATA_KEYS,
  description: `up to ${MAX_METADATA_KEYS} keys of 1-40 characters (no brackets), each with a string value of at most 500 characters`,
});
export type Metadata = Static<typeof Metadata>;

/** A list's filter `metadata[key]=value`: rows whose metadata has every key given, with that value. */
export const MetadataFilter = Type.Record(MetadataKey, MetadataValue, {
  additionalProperties: false,
  maxProperties: MAX_METADATA_KEYS,
  description: "metadata[key]=value: only rows whose metadata has every key given, with that value",
});

/** The metadata of a new row: what was given, or none. */
export const metadataOf = (given: { metadata?: Metadata }): string => JSON.stringify(given.metadata ?? {});

/** A metadata change for a PATCH: undefined (untouched) unless given. */
export const metadataChange = (given: { metadata?: Metadata }): string | undefined =>
  given.metadata === undefined ? undefined : JSON.stringify(given.metadata);

/**
 * Query parameters `metadata[key]=value` (an OpenAPI deepObject), gathered into one `metadata` object
 * before the query is validated against its schema, which then checks every key and value as in a body.
 * Runs as a route's transform. With a bare `metadata` parameter as well nothing is gathered, and the
 * bracketed ones fail validation as unknown parameters.
 */
export function gatherMetadataQuery({ query }: { query: Record<string, unknown> }): void {
  if ("metadata" in query) return;
  const gathered: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(query)) {
    const key = /^metadata\[(.*)\]$/s.exec(name)?.[1];
    if (key === undefined) continue;
    gathered[key] = value;
    Reflect.deleteProperty(query, name);
  }
  if (Object.keys(gathered).length > 0) query.metadata = gathered;
}
