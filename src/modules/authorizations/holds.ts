import type { Queryable } from "../../platform/db.ts";
import { appendEvent } from "../events/outbox.ts";
import {
  type AuthorizationRow,
  authorizationsRepository as repository,
  toAuthorization,
} from "./repository.ts";
import { releaseSpend, windowsOf } from "./spend-windows.ts";

/**
 * Ends a hold without taking money (voided, expired, or declined by the authorization hook): its
 * amount leaves the held total and the spend windows.
 */
export async function releaseHold(
  tx: Queryable,
  pending: AuthorizationRow,
  status: "voided" | "expired" | "declined",
  now: Date,
): Promise<AuthorizationRow> {
  const released = await repository.settle(tx, pending.id, status, 0, now);
  await repository.adjustHeld(tx, pending.wallet_id, -pending.amount, now);
  await releaseSpend(tx, windowsOf(pending), pending.amount);
  await appendEvent(tx, "authorization.updated", toAuthorization(released));
  return released;
}

/**
 * For a wallet whose lock the caller holds: expires its holds that have run out. Returns the amount
 * released from the wallet's held total.
 */
export async function expireDueHolds(tx: Queryable, walletId: string, now: Date): Promise<number> {
  const due = await repository.dueHolds(tx, walletId, now);
  for (const hold of due) await releaseHold(tx, hold, "expired", now);
  return due.reduce((released, hold) => released + hold.amount, 0);
}
