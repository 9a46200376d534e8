import { Elysia } from "elysia";
import type { Idempotency } from "../../platform/idempotency.ts";
import {
  describe,
  errorResponses,
  IdempotencyHeaders,
  IdParams,
  sharedModels,
} from "../../platform/schemas.ts";
import {
  authorizationsModels,
  CaptureAuthorization,
  CreateAuthorization,
  ListAuthorizationsQuery,
  VoidAuthorization,
} from "./model.ts";
import type { AuthorizationsService } from "./service.ts";

const tag = "authorizations";

export const authorizationsController = (authorizations: AuthorizationsService, idempotency: Idempotency) =>
  new Elysia({ name: "authorizations" })
    .model({ ...sharedModels, ...authorizationsModels })
    .post(
      "/v1/cards/:id/authorizations",
      async ({ params, body, request, status }) =>
        status(
          201,
          await idempotency.run(request, body, () => authorizations.authorize(params.id, body), 201),
        ),
      {
        headers: IdempotencyHeaders,
        params: IdParams,
        body: CreateAuthorization,
        response: { 201: "Authorization", ...errorResponses(404, 409) },
        ...describe(
          tag,
          "authorizeCardSpend",
          "Decide a card spend: 201 with status captured, pending or declined (with its reason)",
        ),
      },
    )
    .post(
      "/v1/authorizations/:id/capture",
      ({ params, body, request }) =>
        idempotency.run(request, body, () => authorizations.capture(params.id, body), 200),
      {
        headers: IdempotencyHeaders,
        params: IdParams,
        body: CaptureAuthorization,
        response: { 200: "Authorization", ...errorResponses(404, 409, 422) },
        ...describe(
          tag,
          "captureAuthorization",
          "Capture all or part of a pending hold; the rest is released",
        ),
      },
    )
    .post(
      "/v1/authorizations/:id/void",
      ({ params, body, request }) =>
        idempotency.run(request, body, () => authorizations.void(params.id), 200),
      {
        headers: IdempotencyHeaders,
        params: IdParams,
        body: VoidAuthorization,
        response: { 200: "Authorization", ...errorResponses(404, 409) },
        ...describe(tag, "voidAuthorization", "Release a pending hold"),
      },
    )
    .get("/v1/authorizations/:id", ({ params }) => authorizations.get(params.id), {
      params: IdParams,
      response: { 200: "Authorization", ...errorResponses(404) },
      ...describe(tag, "getAuthorization", "Get a card authorization"),
    })
    .get("/v1/cards/:id/authorizations", ({ params, query }) => authorizations.listOfCard(params.id, query), {
      params: IdParams,
      query: ListAuthorizationsQuery,
      response: { 200: "AuthorizationPage", ...errorResponses(404) },
      ...describe(tag, "listCardAuthorizations", "List a card's authorizations, newest first"),
    });
