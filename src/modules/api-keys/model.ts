import { type Static, Type } from "@sinclair/typebox";
import { SCOPES } from "../../platform/auth.ts";
import { EXAMPLE_ID, EXAMPLE_TIME } from "../../platform/examples.ts";
import { literalUnion } from "../../platform/literals.ts";
import {
  listQuery,
  modelId,
  NullableTimestamp,
  Page,
  Timestamp,
  Uuid,
  UuidInput,
  withExamples,
} from "../../platform/schemas.ts";

const Scope = literalUnion(SCOPES, { description: `one of ${SCOPES.join(", ")}` });

const apiKeyFields = {
  id: Uuid,
  name: Type.String(),
  prefix: Type.String({ description: "The secret's first 8 characters, to recognise it" }),
  scopes: Type.Array(Scope),
  teamId: Type.Union([Uuid, Type.Null()], { description: "The team the key is bound to, if any" }),
  userId: Type.Union([Uuid, Type.Null()], { description: "The user the key is bound to, if any" }),
  expiresAt: NullableTimestamp,
  lastUsedAt: Type.Union([Timestamp, Type.Null()], {
    description: "When the key was last used, to the minute: written at most once a minute",
  }),
  revokedAt: NullableTimestamp,
  createdAt: Timestamp,
};

const EXAMPLE_KEY = {
  id: EXAMPLE_ID.apiKey,
  name: "Design team tooling",
  prefix: "wak_3f9c",
  scopes: ["read", "write"] as ("read" | "write")[],
  teamId: EXAMPLE_ID.team,
  userId: null,
  expiresAt: null,
  lastUsedAt: null,
  revokedAt: null,
  createdAt: EXAMPLE_TIME.created,
};

export const ApiKey = withExamples(Type.Object(apiKeyFields, { $id: modelId("ApiKey") }), [EXAMPLE_KEY]);
export type ApiKey = Static<typeof ApiKey>;

export const CreatedApiKey = withExamples(
  Type.Object(
    {
      ...apiKeyFields,
      secret: Type.Optional(
        Type.String({
          description:
            "The bearer key: shown in this response only (a replay of an Idempotency-Key leaves it out), stored only as a SHA-256 hash",
        }),
      ),
    },
    { $id: modelId("CreatedApiKey") },
  ),
  [{ ...EXAMPLE_KEY, secret: "wak_3f9c0d6e8b1a4c7f2e5d9b3a6c8f1e4d7b2a5c9e3f6d8b1a4c7e2f5d9b3a6c8f1e" }],
);
export type CreatedApiKey = Static<typeof CreatedApiKey>;

export const CreateApiKey = withExamples(
  Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 200, pattern: "\\S", description: "1-200 characters" }),
      scopes: Type.Array(Scope, { minItems: 1, maxItems: SCOPES.length, uniqueItems: true }),
      teamId: Type.Optional(UuidInput),
      userId: Type.Optional(UuidInput),
      expiresAt: Type.Optional(
        Type.String({
          format: "date-time",
          description: "RFC 3339, in the future; from then on the key is 401",
        }),
      ),
    },
    { additionalProperties: false },
  ),
  [{ name: "Design team tooling", scopes: ["read", "write"], teamId: EXAMPLE_ID.team }],
);
export type CreateApiKey = Static<typeof CreateApiKey>;

export const API_KEY_SORT_FIELDS = ["createdAt", "name"] as const;
export type ApiKeySortField = (typeof API_KEY_SORT_FIELDS)[number];

export const ListApiKeysQuery = listQuery(API_KEY_SORT_FIELDS, {
  teamId: Type.Optional(UuidInput),
  userId: Type.Optional(UuidInput),
});
export type ListApiKeysQuery = Static<typeof ListApiKeysQuery>;

export const apiKeysModels = { ApiKey, CreatedApiKey, ApiKeyPage: Page(ApiKey, "A page of API keys") };
