import { notFound, unprocessable } from "../../platform/errors.ts";

export const transactionNotFound = (id: string) => notFound("transaction", id);

export const insufficientFunds = (walletId: string, available: number, amount: number) =>
  unprocessable(
    "insufficient_funds",
    `Wallet ${walletId} has ${available} available; ${amount} was asked for.`,
  );
