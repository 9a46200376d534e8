import { type Static, Type } from "@sinclair/typebox";
import { t } from "elysia";
import { literalUnion } from "../../platform/literals.ts";
import {
  listQuery,
  MAX_AMOUNT,
  MinorUnits,
  MoneyValue,
  modelId,
  Page,
  refTo,
  Timestamp,
  Uuid,
  UuidInput,
} from "../../platform/schemas.ts";

/** An amount of money moved: 1 to 10^12 minor units. */
export const Amount = MinorUnits({
  minimum: 1,
  maximum: MAX_AMOUNT,
  description: `minor units, 1 to ${MAX_AMOUNT}`,
});

export const Description = Type.String({
  minLength: 1,
  maxLength: 500,
  description: "free text, 1-500 characters",
});

export const TRANSACTION_TYPES = [
  "topup",
  "withdrawal",
  "transfer_in",
  "transfer_out",
  "card_spend",
  "refund",
] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];
export const TransactionTypeSchema = literalUnion(TRANSACTION_TYPES, {
  description: TRANSACTION_TYPES.join(", "),
});

export const Transaction = Type.Object(
  {
    id: Uuid,
    walletId: Uuid,
    cardId: Type.Union([Uuid, Type.Null()]),
    authorizationId: Type.Union([Uuid, Type.Null()]),
    transferId: Type.Union([Uuid, Type.Null()]),
    refundOf: Type.Union([Uuid, Type.Null()], {
      description: "for a refund: the card_spend transaction it refunds",
    }),
    type: TransactionTypeSchema,
    amount: Amount,
    currency: Type.String(),
    balanceAfter: MoneyValue,
    description: Type.Union([Type.String(), Type.Null()]),
    createdAt: Timestamp,
  },
  { $id: modelId("Transaction") },
);
export type Transaction = Static<typeof Transaction>;

export const MoneyMovement = Type.Object(
  { amount: Amount, description: Type.Optional(Description) },
  { additionalProperties: false },
);
export type MoneyMovement = Static<typeof MoneyMovement>;

export const CreateTransfer = Type.Object(
  { fromWalletId: UuidInput, toWalletId: UuidInput, amount: Amount, description: Type.Optional(Description) },
  { additionalProperties: false },
);
export type CreateTransfer = Static<typeof CreateTransfer>;

export const Transfer = Type.Object({
  id: Uuid,
  fromWalletId: Uuid,
  toWalletId: Uuid,
  amount: Amount,
  currency: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
  transactions: Type.Array(refTo(Transaction), { description: "[transfer_out, transfer_in]" }),
});
export type Transfer = Static<typeof Transfer>;

export const CreateRefund = Type.Object(
  {
    amount: Type.Optional(MinorUnits({ ...Amount, description: "default: all that is not refunded yet" })),
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
);
export type CreateRefund = Static<typeof CreateRefund>;

export const TRANSACTION_SORT_FIELDS = ["createdAt", "amount"] as const;
export type TransactionSortField = (typeof TRANSACTION_SORT_FIELDS)[number];

export const ListTransactionsQuery = listQuery(TRANSACTION_SORT_FIELDS, {
  type: t.Optional(TransactionTypeSchema),
  cardId: t.Optional(UuidInput),
  from: t.Optional(t.String({ format: "date-time", description: "created at or after (RFC 3339)" })),
  to: t.Optional(t.String({ format: "date-time", description: "created before (RFC 3339)" })),
});
export type ListTransactionsQuery = Static<typeof ListTransactionsQuery>;

export const ledgerModels = {
  Transaction,
  TransactionPage: Page(Transaction, "A page of ledger transactions"),
  Transfer,
};
