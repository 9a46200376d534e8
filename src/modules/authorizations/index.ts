import { Elysia } from "elysia";
import type { Idempotency } from "../../platform/idempotency.ts";
import {
  describe,
  errorResponses,
  IdempotencyHeaders,
  IdParams,
  RETRY_MONEY_WITH_KEY,
  RETRY_WITH_KEY,
  sharedModels,
} from "../../platform/schemas.ts";
import {
  authorizationsModels,
  CaptureAuthorization,
  CreateAuthorization,
  IncrementAuthorization,
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
          await idempotency.runStaged(
            request,
            body,
            () => authorizations.begin(params.id, body),
            (held) => authorizations.finish(held),
            201,
          ),
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
          `Decides a card spend and answers 201 whatever the decision, with \`status\` captured (approved: a card_spend transaction moves the money), pending (approved with \`capture: false\`: a hold lowers availableBalance and counts toward the limits at once) or declined, with the first \`declineReason\` that applies. A decline is not an error and moves nothing; only an unknown card is 404 card_not_found. ${RETRY_MONEY_WITH_KEY}`,
          { scope: "authorize", params: { id: "card" } },
        ),
      },
    )
    .post(
      "/v1/cards/:id/authorizations/preview",
      ({ params, body }) => authorizations.preview(params.id, body),
      {
        params: IdParams,
        body: CreateAuthorization,
        response: { 200: "AuthorizationPreview", ...errorResponses(404) },
        ...describe(
          tag,
          "previewCardSpend",
          "Preview a card spend: the decision it would get now, and what is left of every limit",
          "Runs the decision of POST /v1/cards/{id}/authorizations on the same body, under the same rules, and changes nothing: no authorization, no hold, no money. Answers whether the spend would be approved, the first decline reason and its detail, and for every limit of the card and its wallet the limit, the spend already counted, what remains and when the window resets (the next local midnight, Monday, first of the month or 1 January in the wallet's time zone; null for per_authorization and all_time limits). It changes nothing, so it is safe to repeat and an Idempotency-Key is neither needed nor stored.",
          { scope: "authorize", params: { id: "card" } },
        ),
      },
    )
    .post(
      "/v1/authorizations/:id/increment",
      ({ params, body, request }) =>
        idempotency.run(request, body, () => authorizations.increment(params.id, body), 200),
      {
        headers: IdempotencyHeaders,
        params: IdParams,
        body: IncrementAuthorization,
        response: { 200: "Authorization", ...errorResponses(404, 409, 422) },
        ...describe(
          tag,
          "incrementAuthorization",
          "Raise a pending hold (hotels, fuel, tips)",
          `Raises a pending hold by \`amount\`, decided like a new spend of that amount in the windows the authorization counts in (its day, week, month and year): card and wallet status, merchant categories, every limit and the available balance. A refused increment changes nothing and answers 422 with the decline reason as its \`code\` (e.g. card_daily_limit_exceeded, insufficient_funds). Only a pending hold before its \`expiresAt\` can be raised (409 authorization_not_pending, 409 authorization_expired). ${RETRY_MONEY_WITH_KEY}`,
          { scope: "authorize", params: { id: "authorization" } },
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
          `Captures all or part of a pending hold (by default all of it) as a card_spend transaction; the rest is released. Only a pending hold before its \`expiresAt\` can be captured (409 authorization_not_pending, 409 authorization_expired), and never more than it holds (422 capture_exceeds_authorization). ${RETRY_MONEY_WITH_KEY}`,
          { scope: "authorize", params: { id: "authorization" } },
        ),
      },
    )
    .post(
      "/v1/authorizations/:id/void",
      ({ params, body, request }) =>
        idempotency.run(request, body, () => authorizations.void(params.id, body), 200),
      {
        headers: IdempotencyHeaders,
        params: IdParams,
        body: VoidAuthorization,
        response: { 200: "Authorization", ...errorResponses(404, 409, 422) },
        ...describe(
          tag,
          "voidAuthorization",
          "Release all or part of a pending hold",
          `Releases a pending hold without moving money. Without an amount the authorization becomes voided and no longer counts toward the limits; with one, that much is released (a partial reversal: \`amount\` goes down, the rest stays pending), and never more than it holds (422 void_exceeds_authorization). Only a pending hold before its \`expiresAt\` can be voided (409 authorization_not_pending, 409 authorization_expired). ${RETRY_WITH_KEY}`,
          { scope: "authorize", params: { id: "authorization" } },
        ),
      },
    )
    .get("/v1/authorizations/:id", ({ params }) => authorizations.get(params.id), {
      params: IdParams,
      response: { 200: "Authorization", ...errorResponses(404) },
      ...describe(
        tag,
        "getAuthorization",
        "Get a card authorization",
        "Returns a card authorization: its status, decline reason, captured and refunded amounts, and when a pending hold expires (after AUTH_HOLD_TTL, 7 days by default, it becomes expired and its hold is released).",
        { scope: "read", params: { id: "authorization" } },
      ),
    })
    .get("/v1/cards/:id/authorizations", ({ params, query }) => authorizations.listOfCard(params.id, query), {
      params: IdParams,
      query: ListAuthorizationsQuery,
      response: { 200: "AuthorizationPage", ...errorResponses(404) },
      ...describe(
        tag,
        "listCardAuthorizations",
        "List a card's authorizations, newest first",
        "Lists a card's authorizations, newest first by default; filter by status; sort by createdAt or amount; page with limit and skip. An unknown card is 404 card_not_found.",
        { scope: "read", params: { id: "card" } },
      ),
    });
