import type { TransactionType } from "./model.ts";

/** The transaction types that add to a wallet's balance; every other type takes from it. */
export const CREDIT_TYPES: readonly TransactionType[] = ["topup", "transfer_in", "refund"];

/** How a ledger row of `type` moves its wallet's balance: + for a credit, − for a debit. */
export const balanceDelta = (type: TransactionType, amount: number): number =>
  CREDIT_TYPES.includes(type) ? amount : -amount;
