import { type Static, Type } from "@sinclair/typebox";
import { t } from "elysia";
import { EXAMPLE_ID, EXAMPLE_TIME } from "../../platform/examples.ts";
import { literalUnion } from "../../platform/literals.ts";
import { Metadata, MetadataFilter } from "../../platform/metadata.ts";
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
  withExamples,
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

export const Transaction = withExamples(
  Type.Object(
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
      metadata: Metadata,
      createdAt: Timestamp,
    },
    { $id: modelId("Transaction") },
  ),
  [
    {
      id: EXAMPLE_ID.cardSpend,
      walletId: EXAMPLE_ID.wallet,
      cardId: EXAMPLE_ID.card,
      authorizationId: EXAMPLE_ID.authorization,
      transferId: null,
      refundOf: null,
      type: "card_spend",
      amount: 2500,
      currency: "SGD",
      balanceAfter: 147500,
      description: "Kopi Corner",
      metadata: { costCentre: "ops-sg" },
      createdAt: EXAMPLE_TIME.moved,
    },
    {
      id: EXAMPLE_ID.topUp,
      walletId: EXAMPLE_ID.wallet,
      cardId: null,
      authorizationId: null,
      transferId: null,
      refundOf: null,
      type: "topup",
      amount: 150000,
      currency: "SGD",
      balanceAfter: 150000,
      description: "Salary",
      metadata: { costCentre: "ops-sg" },
      createdAt: EXAMPLE_TIME.created,
    },
  ],
);
export type Transaction = Static<typeof Transaction>;

export const MoneyMovement = withExamples(
  Type.Object(
    { amount: Amount, description: Type.Optional(Description), metadata: Type.Optional(Metadata) },
    { additionalProperties: false },
  ),
  [
    { amount: 150000, description: "Salary" },
    { amount: 5000 },
    { amount: 20000, metadata: { invoice: "INV-2026-118" } },
  ],
);
export type MoneyMovement = Static<typeof MoneyMovement>;

export const CreateTransfer = withExamples(
  Type.Object(
    {
      fromWalletId: UuidInput,
      toWalletId: UuidInput,
      amount: Amount,
      description: Type.Optional(Description),
      metadata: Type.Optional(Metadata),
    },
    { additionalProperties: false },
  ),
  [
    {
      fromWalletId: EXAMPLE_ID.wallet,
      toWalletId: EXAMPLE_ID.teamWallet,
      amount: 10000,
      description: "Team lunch budget",
    },
  ],
);
export type CreateTransfer = Static<typeof CreateTransfer>;

export const Transfer = withExamples(
  Type.Object({
    id: Uuid,
    fromWalletId: Uuid,
    toWalletId: Uuid,
    amount: Amount,
    currency: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    metadata: Metadata,
    createdAt: Timestamp,
    transactions: Type.Array(refTo(Transaction), { description: "[transfer_out, transfer_in]" }),
  }),
  [
    {
      id: EXAMPLE_ID.transfer,
      fromWalletId: EXAMPLE_ID.wallet,
      toWalletId: EXAMPLE_ID.teamWallet,
      amount: 10000,
      currency: "SGD",
      description: "Team lunch budget",
      metadata: { costCentre: "ops-sg" },
      createdAt: EXAMPLE_TIME.moved,
      transactions: [
        {
          id: EXAMPLE_ID.transferOut,
          walletId: EXAMPLE_ID.wallet,
          cardId: null,
          authorizationId: null,
          transferId: EXAMPLE_ID.transfer,
          refundOf: null,
          type: "transfer_out",
          amount: 10000,
          currency: "SGD",
          balanceAfter: 137500,
          description: "Team lunch budget",
          metadata: { costCentre: "ops-sg" },
          createdAt: EXAMPLE_TIME.moved,
        },
        {
          id: EXAMPLE_ID.transferIn,
          walletId: EXAMPLE_ID.teamWallet,
          cardId: null,
          authorizationId: null,
          transferId: EXAMPLE_ID.transfer,
          refundOf: null,
          type: "transfer_in",
          amount: 10000,
          currency: "SGD",
          balanceAfter: 10000,
          description: "Team lunch budget",
          metadata: { costCentre: "ops-sg" },
          createdAt: EXAMPLE_TIME.moved,
        },
      ],
    },
  ],
);
export type Transfer = Static<typeof Transfer>;

export const CreateRefund = withExamples(
  Type.Object(
    {
      amount: Type.Optional(MinorUnits({ ...Amount, description: "default: all that is not refunded yet" })),
      description: Type.Optional(Description),
    },
    { additionalProperties: false },
  ),
  [{ amount: 1000, description: "One drink returned" }, {}],
);
export type CreateRefund = Static<typeof CreateRefund>;

export const TRANSACTION_SORT_FIELDS = ["createdAt", "amount"] as const;
export type TransactionSortField = (typeof TRANSACTION_SORT_FIELDS)[number];

export const ListTransactionsQuery = listQuery(TRANSACTION_SORT_FIELDS, {
  type: t.Optional(TransactionTypeSchema),
  cardId: t.Optional(UuidInput),
  from: t.Optional(t.String({ format: "date-time", description: "created at or after (RFC 3339)" })),
  to: t.Optional(t.String({ format: "date-time", description: "created before (RFC 3339)" })),
  metadata: t.Optional(MetadataFilter),
});
export type ListTransactionsQuery = Static<typeof ListTransactionsQuery>;

export const BalanceQuery = t.Object(
  { at: t.Optional(t.String({ format: "date-time", description: "RFC 3339; default now" })) },
  { additionalProperties: false },
);
export type BalanceQuery = Static<typeof BalanceQuery>;

export const BalanceAt = withExamples(
  Type.Object(
    {
      balance: MoneyValue,
      at: Timestamp,
    },
    { $id: modelId("BalanceAt") },
  ),
  [{ balance: 137500, at: EXAMPLE_TIME.moved }],
);
export type BalanceAt = Static<typeof BalanceAt>;

export const StatementQuery = t.Object(
  {
    from: t.String({ format: "date-time", description: "the period's start, included (RFC 3339)" }),
    to: t.String({ format: "date-time", description: "the period's end, excluded (RFC 3339)" }),
  },
  { additionalProperties: false },
);
export type StatementQuery = Static<typeof StatementQuery>;

const Total = MinorUnits({ minimum: 0 });

/** At most this many transactions in one statement; a longer period is refused, to be asked in parts. */
export const MAX_STATEMENT_TRANSACTIONS = 10_000;

export const Statement = withExamples(
  Type.Object(
    {
      walletId: Uuid,
      currency: Type.String(),
      from: Timestamp,
      to: Timestamp,
      openingBalance: MoneyValue,
      closingBalance: MoneyValue,
      totals: Type.Object(
        {
          topup: Total,
          withdrawal: Total,
          transfer_in: Total,
          transfer_out: Total,
          card_spend: Total,
          refund: Total,
        },
        { description: "the sum of the period's amounts of each type (0 when none)" },
      ),
      transactions: Type.Array(refTo(Transaction), {
        description: "the period's transactions, oldest first",
      }),
    },
    { $id: modelId("Statement") },
  ),
  [
    {
      walletId: EXAMPLE_ID.wallet,
      currency: "SGD",
      from: "2026-11-01T00:00:00.000Z",
      to: "2026-12-01T00:00:00.000Z",
      openingBalance: 0,
      closingBalance: 147500,
      totals: { topup: 150000, withdrawal: 0, transfer_in: 0, transfer_out: 0, card_spend: 2500, refund: 0 },
      transactions: [],
    },
  ],
);
export type Statement = Static<typeof Statement>;

export const ledgerModels = {
  Transaction,
  BalanceAt,
  Statement,
  TransactionPage: Page(Transaction, "A page of ledger transactions"),
  Transfer,
};
