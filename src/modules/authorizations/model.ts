import { type Static, Type } from "@sinclair/typebox";
import { t } from "elysia";
import { EXAMPLE_ID, EXAMPLE_TIME } from "../../platform/examples.ts";
import { literalUnion } from "../../platform/literals.ts";
import { Metadata } from "../../platform/metadata.ts";
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
import { LIMIT_INTERVALS } from "../wallets/spending-controls.ts";

/** Checked in this order; the first that applies is the one reported. */
export const DECLINE_REASONS = [
  "card_inactive",
  "card_expired",
  "wallet_frozen",
  "merchant_category_not_allowed",
  "card_daily_limit_exceeded",
  "card_monthly_limit_exceeded",
  "wallet_daily_limit_exceeded",
  "wallet_monthly_limit_exceeded",
  "spending_limit_exceeded",
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

const Scope = literalUnion(["card", "wallet"]);
const IntervalSchema = literalUnion(LIMIT_INTERVALS);
const Categories = Type.Union([Type.Array(Type.String()), Type.Null()]);

export const DeclineDetail = Type.Object(
  {
    scope: Scope,
    interval: Type.Union([IntervalSchema, Type.Null()]),
    limit: Type.Union([MinorUnits({ minimum: 0 }), Type.Null()]),
    spent: Type.Union([MinorUnits({ minimum: 0 }), Type.Null()]),
    categories: Categories,
  },
  {
    description:
      "The rule that refused the spend: whose (card or wallet), the limit's interval, amount and the spend it already counted, or the category list",
  },
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
      declineDetail: Type.Union([DeclineDetail, Type.Null()]),
      capturedAmount: MinorUnits({ minimum: 0 }),
      refundedAmount: MinorUnits({ minimum: 0 }),
      expiresAt: Timestamp,
      metadata: Metadata,
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
      declineDetail: null,
      capturedAmount: 2500,
      refundedAmount: 0,
      expiresAt: EXAMPLE_TIME.holdExpires,
      metadata: { costCentre: "ops-sg" },
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
      declineDetail: { scope: "card", interval: "daily", limit: 500000, spent: 2500, categories: null },
      capturedAmount: 0,
      refundedAmount: 0,
      expiresAt: EXAMPLE_TIME.holdExpires,
      metadata: { costCentre: "ops-sg" },
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
      metadata: Type.Optional(Metadata),
    },
    { additionalProperties: false },
  ),
  [
    { amount: 2500, merchant: { name: "Kopi Corner", category: "5814" } },
    { amount: 12000, merchant: { name: "Harbour Hotel" }, capture: false, metadata: { trip: "TR-88" } },
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

/** A void releases all of a hold, or with an amount that much of it (a partial reversal). */
export const VoidAuthorization = withExamples(
  Type.Object(
    {
      amount: Type.Optional(
        MinorUnits({ ...Amount, description: "at most the held amount; default all of it" }),
      ),
    },
    { additionalProperties: false },
  ),
  [{}, { amount: 4000 }],
);
export type VoidAuthorization = Static<typeof VoidAuthorization>;

export const IncrementAuthorization = withExamples(
  Type.Object({ amount: Amount }, { additionalProperties: false }),
  [{ amount: 5000 }],
);
export type IncrementAuthorization = Static<typeof IncrementAuthorization>;

export const Headroom = Type.Object({
  scope: Scope,
  interval: IntervalSchema,
  categories: Categories,
  limit: MinorUnits({ minimum: 0 }),
  spent: MinorUnits({ minimum: 0 }),
  remaining: MinorUnits({ minimum: 0 }),
  resetsAt: Type.Union([Timestamp, Type.Null()], {
    description: "when the window ends, in the wallet's time zone; null for per_authorization and all_time",
  }),
});

export const AuthorizationPreview = withExamples(
  Type.Object(
    {
      approved: Type.Boolean(),
      declineReason: Type.Union([literalUnion(DECLINE_REASONS), Type.Null()]),
      declineDetail: Type.Union([DeclineDetail, Type.Null()]),
      headroom: Type.Array(Headroom),
    },
    { $id: modelId("AuthorizationPreview") },
  ),
  [
    {
      approved: true,
      declineReason: null,
      declineDetail: null,
      headroom: [
        {
          scope: "card",
          interval: "daily",
          categories: null,
          limit: 200000,
          spent: 2500,
          remaining: 197500,
          resetsAt: "2026-11-24T16:00:00.000Z",
        },
        {
          scope: "card",
          interval: "weekly",
          categories: ["5812", "5814"],
          limit: 30000,
          spent: 2500,
          remaining: 27500,
          resetsAt: "2026-11-29T16:00:00.000Z",
        },
      ],
    },
  ],
);
export type AuthorizationPreview = Static<typeof AuthorizationPreview>;

export const AUTHORIZATION_SORT_FIELDS = ["createdAt", "amount"] as const;
export type AuthorizationSortField = (typeof AUTHORIZATION_SORT_FIELDS)[number];

export const ListAuthorizationsQuery = listQuery(AUTHORIZATION_SORT_FIELDS, {
  status: t.Optional(AuthorizationStatusSchema),
});
export type ListAuthorizationsQuery = Static<typeof ListAuthorizationsQuery>;

export const authorizationsModels = {
  Authorization,
  AuthorizationPreview,
  AuthorizationPage: Page(Authorization, "A page of card authorizations"),
};
