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
import { Limit } from "./limits.ts";
import { SpendingControls, SpendingControlsInput } from "./spending-controls.ts";

export const WalletStatus = literalUnion(["active", "frozen"], { description: "active or frozen" });
export const OwnerType = literalUnion(["user", "team"]);

export const Currency = Type.String({
  pattern: "^[A-Z]{3}$",
  [ERROR_CODE_KEYWORD]: "invalid_currency",
  description: "ISO 4217 code, upper case",
});
export const Timezone = Type.String({
  minLength: 1,
  maxLength: 64,
  [ERROR_CODE_KEYWORD]: "invalid_timezone",
  description: "IANA time zone name",
});
export const WalletName = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: "\\S",
  description: "1-200 characters",
});

export const Wallet = withExamples(
  Type.Object(
    {
      id: Uuid,
      name: Type.String(),
      ownerType: OwnerType,
      userId: Type.Union([Uuid, Type.Null()]),
      teamId: Type.Union([Uuid, Type.Null()]),
      currency: Type.String(),
      timezone: Type.String(),
      status: WalletStatus,
      balance: MoneyValue,
      availableBalance: MoneyValue,
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
    { $id: modelId("Wallet") },
  ),
  [
    {
      id: EXAMPLE_ID.wallet,
      name: "Main wallet",
      ownerType: "user",
      userId: EXAMPLE_ID.user,
      teamId: null,
      currency: "SGD",
      timezone: "Asia/Singapore",
      status: "active",
      balance: 137500,
      availableBalance: 137500,
      dailyLimit: 500000,
      monthlyLimit: 2000000,
      spentToday: 2500,
      spentThisMonth: 2500,
      spendingControls: {
        allowedCategories: null,
        blockedCategories: ["7995"],
        limits: [
          { amount: 500000, interval: "daily", categories: null },
          { amount: 2000000, interval: "monthly", categories: null },
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
export type Wallet = Static<typeof Wallet>;

export const CreateWallet = withExamples(
  Type.Object(
    {
      userId: Type.Optional(UuidInput),
      teamId: Type.Optional(UuidInput),
      name: Type.Optional(WalletName),
      currency: Type.Optional(Currency),
      timezone: Type.Optional(Timezone),
      dailyLimit: Type.Optional(Limit),
      monthlyLimit: Type.Optional(Limit),
      spendingControls: Type.Optional(SpendingControlsInput),
      metadata: Type.Optional(Metadata),
    },
    {
      additionalProperties: false,
      // An empty body names no owner (the document then marks the body required).
      minProperties: 1,
      description: "Exactly one of userId and teamId",
    },
  ),
  [
    {
      userId: EXAMPLE_ID.user,
      name: "Main wallet",
      currency: "SGD",
      timezone: "Asia/Singapore",
      dailyLimit: 500000,
      monthlyLimit: 2000000,
    },
    { teamId: EXAMPLE_ID.team, name: "Team lunches", metadata: { costCentre: "CC-310" } },
    {
      teamId: EXAMPLE_ID.team,
      name: "Travel",
      spendingControls: {
        allowedCategories: ["3000", "4111", "4511", "7011"],
        limits: [{ amount: 200000, interval: "per_authorization" }],
      },
    },
  ],
);
export type CreateWallet = Static<typeof CreateWallet>;

const ImmutableOwner = (field: string) =>
  Type.Optional(
    lowerCased(
      Type.String({
        description: `The owner never changes: a ${field} other than the current one is refused with 400 wallet_owner_immutable`,
      }),
    ),
  );

export const UpdateWallet = withExamples(
  Type.Object(
    {
      name: Type.Optional(WalletName),
      dailyLimit: Type.Optional(Limit),
      monthlyLimit: Type.Optional(Limit),
      spendingControls: Type.Optional(SpendingControlsInput),
      metadata: Type.Optional(Metadata),
      status: Type.Optional(WalletStatus),
      userId: ImmutableOwner("userId"),
      teamId: ImmutableOwner("teamId"),
    },
    { additionalProperties: false, minProperties: 1, description: "At least one field to change" },
  ),
  [
    { dailyLimit: 300000, monthlyLimit: 1500000 },
    { status: "frozen" },
    { metadata: { costCentre: "CC-311" } },
    {
      spendingControls: {
        blockedCategories: ["7995"],
        limits: [{ amount: 5000000, interval: "yearly", categories: ["5812", "5814"] }],
      },
    },
  ],
);
export type UpdateWallet = Static<typeof UpdateWallet>;

export const WALLET_SORT_FIELDS = ["createdAt", "updatedAt", "name", "balance"] as const;
export type WalletSortField = (typeof WALLET_SORT_FIELDS)[number];

export const ListWalletsQuery = listQuery(WALLET_SORT_FIELDS, {
  userId: t.Optional(UuidInput),
  teamId: t.Optional(UuidInput),
  status: t.Optional(WalletStatus),
});
export type ListWalletsQuery = Static<typeof ListWalletsQuery>;

export const walletsModels = {
  Wallet,
  WalletPage: Page(Wallet, "A page of wallets"),
  DeletedWallets: Deleted(Wallet, "The wallets that were deleted"),
};
