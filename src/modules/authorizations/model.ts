import { type Static, Type } from "@sinclair/typebox";
import { t } from "elysia";
import { EXAMPLE_ID, EXAMPLE_TIME } from "../../platform/examples.ts";
import { literalUnion } from "../../platform/literals.ts";
import {
  listQuery,
  MinorUnits,
  modelId,
  Page,
  Timestamp,
  Uuid,
  withExamples,
} from "../../platform/schemas.ts";
import { Amount } from "../ledger/model.ts";

/** Checked in this order; the first that applies is the one reported. */
export const DECLINE_REASONS = [
  "card_inactive",
  "card_expired",
  "wallet_frozen",
  "card_daily_limit_exceeded",
  "card_monthly_limit_exceeded",
  "wallet_daily_limit_exceeded",
  "wallet_monthly_limit_exceeded",
  "insufficient_funds",
] as const;
export type DeclineReason = (typeof DECLINE_REASONS)[number];

/** Every reason an authorization may carry: the service's own checks, then the authorization hook's answer. */
export const AUTHORIZATION_DECLINE_REASONS = [...DECLINE_REASONS, "hook_declined"] as const;
export type AuthorizationDeclineReason = (typeof AUTHORIZATION_DECLINE_REASONS)[number];

export const AUTHORIZATION_STATUSES = ["pending", "captured", "voided", "expired", "declined"] as const;
export type AuthorizationStatus = (typeof AUTHORIZATION_STATUSES)[number];

const AuthorizationStatusSchema = literalUnion(AUTHORIZATION_STATUSES, {
  description: AUTHORIZATION_STATUSES.join(", "),
});

export const Merchant = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, pattern: "\\S", description: "1-200 characters" }),
    category: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: "e.g. an MCC or a label" }),
    ),
  },
  { additionalProperties: false },
);

export const Authorization = withExamples(
  Type.Object(
    {
      id: Uuid,
      cardId: Uuid,
      walletId: Uuid,
      amount: Amount,
      currency: Type.String(),
      merchant: Type.Object({ name: Type.String(), category: Type.Union([Type.String(), Type.Null()]) }),
      status: AuthorizationStatusSchema,
      declineReason: Type.Union([literalUnion(AUTHORIZATION_DECLINE_REASONS), Type.Null()]),
      capturedAmount: MinorUnits({ minimum: 0 }),
      refundedAmount: MinorUnits({ minimum: 0 }),
      expiresAt: Timestamp,
      createdAt: Timestamp,
      updatedAt: Timestamp,
    },
    { $id: modelId("Authorization") },
  ),
  [
    {
      id: EXAMPLE_ID.authorization,
      cardId: EXAMPLE_ID.card,
      walletId: EXAMPLE_ID.wallet,
      amount: 2500,
      currency: "SGD",
      merchant: { name: "Kopi Corner", category: "5814" },
      status: "captured",
      declineReason: null,
      capturedAmount: 2500,
      refundedAmount: 0,
      expiresAt: EXAMPLE_TIME.holdExpires,
      createdAt: EXAMPLE_TIME.moved,
      updatedAt: EXAMPLE_TIME.moved,
    },
    {
      id: EXAMPLE_ID.declinedAuthorization,
      cardId: EXAMPLE_ID.card,
      walletId: EXAMPLE_ID.wallet,
      amount: 900000,
      currency: "SGD",
      merchant: { name: "Tech Store", category: null },
      status: "declined",
      declineReason: "card_daily_limit_exceeded",
      capturedAmount: 0,
      refundedAmount: 0,
      expiresAt: EXAMPLE_TIME.holdExpires,
      createdAt: EXAMPLE_TIME.moved,
      updatedAt: EXAMPLE_TIME.moved,
    },
  ],
);
export type Authorization = Static<typeof Authorization>;

export const CreateAuthorization = withExamples(
  Type.Object(
    {
      amount: Amount,
      merchant: Merchant,
      capture: Type.Optional(
        Type.Boolean({
          default: true,
          description: "true: capture at once; false: place a hold to capture later",
        }),
      ),
    },
    { additionalProperties: false },
  ),
  [
    { amount: 2500, merchant: { name: "Kopi Corner", category: "5814" } },
    { amount: 12000, merchant: { name: "Harbour Hotel" }, capture: false },
  ],
);
export type CreateAuthorization = Static<typeof CreateAuthorization>;

export const CaptureAuthorization = withExamples(
  Type.Object(
    {
      amount: Type.Optional(
        MinorUnits({ ...Amount, description: "at most the held amount; default all of it" }),
      ),
    },
    { additionalProperties: false },
  ),
  [{ amount: 10500 }, {}],
);
export type CaptureAuthorization = Static<typeof CaptureAuthorization>;

/** A void takes no fields (yet): a body that names one, such as an amount, is refused, never ignored. */
export const VoidAuthorization = withExamples(Type.Object({}, { additionalProperties: false }), [{}]);

export const AUTHORIZATION_SORT_FIELDS = ["createdAt", "amount"] as const;
export type AuthorizationSortField = (typeof AUTHORIZATION_SORT_FIELDS)[number];

export const ListAuthorizationsQuery = listQuery(AUTHORIZATION_SORT_FIELDS, {
  status: t.Optional(AuthorizationStatusSchema),
});
export type ListAuthorizationsQuery = Static<typeof ListAuthorizationsQuery>;

export const authorizationsModels = {
  Authorization,
  AuthorizationPage: Page(Authorization, "A page of card authorizations"),
};
