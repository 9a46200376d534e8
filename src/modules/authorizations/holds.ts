import type { Queryable } from "../../platform/db.ts";
import { appendEvent } from "../events/outbox.ts";
import {
  type AuthorizationRow,
  authorizationsRepository as repository,
  toAuthorization,
} from "./repository.ts";
import { moveSpend, windowsOf } from "./spend-windows.ts";

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
  await moveSpend(tx, windowsOf(pending), -pending.amount);
  await appendEvent(tx, "authorization.updated", toAuthorization(released));
  return released;
}

/**
 * For wallets whose locks the caller holds: expires their holds that have run out. Returns the amount
 * released from each wallet's held total (only wallets that had a hold due).
 */
export async function expireDueHolds(
  tx: Queryable,
  walletIds: readonly string[],
  now: Date,
): Promise<Map<string, number>> {
  const released = new Map<string, number>();
  if (walletIds.length === 0) return released;
  for (const hold of await repository.dueHolds(tx, walletIds, now)) {
    await releaseHold(tx, hold, "expired", now);
    released.set(hold.wallet_id, (released.get(hold.wallet_id) ?? 0) + hold.amount);
  }
  return released;
}
