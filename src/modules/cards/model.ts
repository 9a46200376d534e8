import { type Static, Type } from "@sinclair/typebox";
import { t } from "elysia";
import { EXAMPLE_ID, EXAMPLE_TIME } from "../../platform/examples.ts";
import { literalUnion } from "../../platform/literals.ts";
import { Metadata } from "../../platform/metadata.ts";
import {
  Deleted,
  ERROR_CODE_KEYWORD,
  listQuery,
  lowerCased,
  MoneyValue,
  modelId,
  NullableTimestamp,
  Page,
  Timestamp,
  Uuid,
  UuidInput,
  withExamples,
} from "../../platform/schemas.ts";
import { Limit } from "../wallets/limits.ts";
import { SpendingControls, SpendingControlsInput } from "../wallets/spending-controls.ts";

export const CardStatus = literalUnion(["active", "frozen", "cancelled"], {
  description: "active, frozen or cancelled (final)",
});
export type CardStatus = Static<typeof CardStatus>;

export const CardNumber = Type.String({
  pattern: "^[0-9]{13,19}$",
  [ERROR_CODE_KEYWORD]: "invalid_card_number",
  description: "13-19 digits passing the Luhn check",
});
export const ExpiryMonth = Type.String({
  pattern: "^(0?[1-9]|1[0-2])$",
  [ERROR_CODE_KEYWORD]: "invalid_expiry_month",
  description: 'month 1-12, e.g. "7" or "07"',
});
export const ExpiryYear = Type.String({
  pattern: "^[0-9]{4}$",
  [ERROR_CODE_KEYWORD]: "invalid_expiry_year",
  description: "four-digit year",
});
export const Cvv = Type.String({
  pattern: "^[0-9]{3,4}$",
  [ERROR_CODE_KEYWORD]: "invalid_cvv",
  description: "3-4 digits",
});

export const Card = withExamples(
  Type.Object(
    {
      id: Uuid,
      walletId: Uuid,
      cardholderId: Type.Union([Uuid, Type.Null()]),
      brand: Type.String({
        description: "visa, mastercard, amex, discover, jcb, diners, unionpay, maestro or unknown",
      }),
      last4: Type.String({ pattern: "^[0-9]{4}$" }),
      expiryMonth: Type.String({ pattern: "^(0[1-9]|1[0-2])$", description: "MM" }),
      expiryYear: Type.String({ pattern: "^[0-9]{4}$", description: "YYYY" }),
      status: CardStatus,
      dailyLimit: MoneyValue,
      monthlyLimit: MoneyValue,
      spentToday: MoneyValue,
      spentThisMonth: MoneyValue,
      spendingControls: SpendingControls,
      metadata: Metadata,
      createdAt: Timestamp,
      updatedAt: Timestamp,
      deletedAt: NullableTimestamp,
    },
    { $id: modelId("Card") },
  ),
  [
    {
      id: EXAMPLE_ID.card,
      walletId: EXAMPLE_ID.wallet,
      cardholderId: EXAMPLE_ID.user,
      brand: "visa",
      last4: "4242",
      expiryMonth: "11",
      expiryYear: "2029",
      status: "active",
      dailyLimit: 200000,
      monthlyLimit: 1000000,
      spentToday: 2500,
      spentThisMonth: 2500,
      spendingControls: {
        allowedCategories: null,
        blockedCategories: ["7995"],
        limits: [
          { amount: 200000, interval: "daily", categories: null },
          { amount: 1000000, interval: "monthly", categories: null },
          { amount: 30000, interval: "weekly", categories: ["5812", "5814"] },
        ],
      },
      metadata: { costCentre: "ops-sg" },
      createdAt: EXAMPLE_TIME.created,
      updatedAt: EXAMPLE_TIME.moved,
      deletedAt: null,
    },
  ],
);
export type Card = Static<typeof Card>;

export const SensitiveCard = withExamples(
  Type.Object({
    number: Type.String(),
    cvv: Type.String(),
    expiryMonth: Type.String({ description: "MM" }),
    expiryYear: Type.String({ description: "YYYY" }),
  }),
  [{ number: "4242424242424242", cvv: "737", expiryMonth: "11", expiryYear: "2029" }],
);
export type SensitiveCard = Static<typeof SensitiveCard>;

export const CreateCard = withExamples(
  Type.Object(
    {
      walletId: UuidInput,
      cardNo: Type.Optional(CardNumber),
      expiryMonth: Type.Optional(ExpiryMonth),
      expiryYear: Type.Optional(ExpiryYear),
      cvv: Type.Optional(Cvv),
      cardholderId: Type.Optional(UuidInput),
      dailyLimit: Type.Optional(Limit),
      monthlyLimit: Type.Optional(Limit),
      spendingControls: Type.Optional(SpendingControlsInput),
      metadata: Type.Optional(Metadata),
    },
    {
      additionalProperties: false,
      description: "Give cardNo with expiryMonth, expiryYear and cvv, or none of them to have a card issued",
    },
  ),
  [
    { walletId: EXAMPLE_ID.wallet, cardholderId: EXAMPLE_ID.user, dailyLimit: 200000, monthlyLimit: 1000000 },
    {
      walletId: EXAMPLE_ID.wallet,
      spendingControls: {
        blockedCategories: ["7995"],
        limits: [{ amount: 100000, interval: "all_time", categories: ["5734"] }],
      },
    },
    {
      walletId: EXAMPLE_ID.wallet,
      cardNo: "4242424242424242",
      expiryMonth: "11",
      expiryYear: "2029",
      cvv: "737",
    },
  ],
);
export type CreateCard = Static<typeof CreateCard>;

export const UpdateCard = withExamples(
  Type.Object(
    {
      cardNo: Type.Optional(CardNumber),
      expiryMonth: Type.Optional(ExpiryMonth),
      expiryYear: Type.Optional(ExpiryYear),
      cvv: Type.Optional(Cvv),
      dailyLimit: Type.Optional(Limit),
      monthlyLimit: Type.Optional(Limit),
      spendingControls: Type.Optional(SpendingControlsInput),
      metadata: Type.Optional(Metadata),
      status: Type.Optional(CardStatus),
      cardholderId: Type.Optional(Type.Union([UuidInput, Type.Null()])),
      walletId: Type.Optional(
        lowerCased(
          Type.String({
            description:
              "A card never moves: a walletId other than the current one is refused with 400 card_wallet_immutable",
          }),
        ),
      ),
    },
    { additionalProperties: false, minProperties: 1, description: "At least one field to change" },
  ),
  [
    { status: "frozen" },
    { dailyLimit: 100000 },
    { cardholderId: null },
    { metadata: { purpose: "travel" } },
    {
      spendingControls: {
        allowedCategories: ["5812", "5814"],
        limits: [
          { amount: 30000, interval: "weekly", categories: ["5812", "5814"] },
          { amount: 5000, interval: "per_authorization" },
        ],
      },
    },
  ],
);
export type UpdateCard = Static<typeof UpdateCard>;

export const CARD_SORT_FIELDS = ["createdAt", "updatedAt", "status"] as const;
export type CardSortField = (typeof CARD_SORT_FIELDS)[number];

export const ListCardsQuery = listQuery(CARD_SORT_FIELDS, {
  walletId: t.Optional(UuidInput),
  cardholderId: t.Optional(UuidInput),
  status: t.Optional(CardStatus),
});
export type ListCardsQuery = Static<typeof ListCardsQuery>;

export const cardsModels = {
  Card,
  SensitiveCard,
  CardPage: Page(Card, "A page of cards"),
  DeletedCards: Deleted(Card, "The cards that were deleted"),
};
