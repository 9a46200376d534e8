import { badRequest, conflict, notFound } from "../../platform/errors.ts";

export const walletNotFound = (id: string) => notFound("wallet", id);

export const invalidTimezone = (timezone: string) =>
  badRequest("invalid_timezone", `${timezone} is not an IANA time zone.`);

export const walletNotEmpty = (walletId: string) =>
  conflict(
    "wallet_not_empty",
    `Wallet ${walletId} still holds money or pending card holds; settle and withdraw or transfer it first.`,
  );
