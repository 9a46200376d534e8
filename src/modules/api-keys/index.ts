import { Elysia } from "elysia";
import type { Idempotency } from "../../platform/idempotency.ts";
import {
  describe,
  errorResponses,
  IdempotencyHeaders,
  IdParams,
  RETRY_WITH_KEY,
  sharedModels,
} from "../../platform/schemas.ts";
import { apiKeysModels, CreateApiKey, type CreatedApiKey, ListApiKeysQuery } from "./model.ts";
import type { ApiKeysService } from "./service.ts";

const tag = "api-keys";

/** What an Idempotency-Key keeps of a created key for its replays: everything but the secret. */
const withoutSecret = ({ secret: _, ...key }: CreatedApiKey) => key;

export const apiKeysController = (keys: ApiKeysService, idempotency: Idempotency) =>
  new Elysia({ name: "api-keys", prefix: "/v1/api-keys" })
    .model({ ...sharedModels, ...apiKeysModels })
    .post(
      "",
      async ({ body, request, status }) =>
        status(201, await idempotency.run(request, body, () => keys.create(body), 201, withoutSecret)),
      {
        headers: IdempotencyHeaders,
        body: CreateApiKey,
        response: { 201: "CreatedApiKey", ...errorResponses(404) },
        ...describe(
          tag,
          "createApiKey",
          "Make an API key with scopes, bound to a team or a user or to neither",
          `Makes an API key and answers with its \`secret\` (\`wak_\` and 64 hex digits), shown in this response only: the service keeps a SHA-256 of it, never the secret. \`scopes\` are one or more of read, write, money, authorize, cards:reveal and admin. A key bound to a team (\`teamId\`) or a user (\`userId\`, not both: 400 invalid_key_binding) reaches only what contract §6 gives it, and cannot have the admin scope (400 bound_key_admin_scope); an unknown team or user is 404. From \`expiresAt\` (in the future, 400 invalid_expiry) the key is 401. ${RETRY_WITH_KEY} The replay leaves the secret out.`,
          { scope: "admin" },
        ),
      },
    )
    .get("", ({ query }) => keys.list(query), {
      query: ListApiKeysQuery,
      response: { 200: "ApiKeyPage", ...errorResponses() },
      ...describe(
        tag,
        "listApiKeys",
        "List API keys, revoked and expired ones included",
        "Lists every API key made through the API, never with its secret; filter by teamId and userId; sort by createdAt or name; page with limit and skip.",
        { scope: "admin" },
      ),
    })
    .get("/:id", ({ params }) => keys.get(params.id), {
      params: IdParams,
      response: { 200: "ApiKey", ...errorResponses(404) },
      ...describe(
        tag,
        "getApiKey",
        "Get an API key (never its secret)",
        "Returns an API key: its name, prefix, scopes, binding, expiry, when it was last used (to the minute) and whether it is revoked.",
        { scope: "admin" },
      ),
    })
    .delete("/:id", ({ params }) => keys.revoke(params.id), {
      params: IdParams,
      response: { 200: "ApiKey", ...errorResponses(404, 409) },
      ...describe(
        tag,
        "revokeApiKey",
        "Revoke an API key",
        "Revokes an API key and returns it with `revokedAt` set: from then on it is 401 on every instance within 2 seconds. It stays listed. A key revoked already is 409 api_key_revoked.",
        { scope: "admin" },
      ),
    });
