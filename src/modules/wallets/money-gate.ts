/**
 * The money gate. Every money decision on a wallet (a spend, a top-up, a withdrawal, a transfer, a
 * refund), and every delete that must see its holds settled, passes it before reading a balance, a hold
 * or a spend counter: the wallet's row lock, then "now", then the wallet's holds that have run out
 * expired. Decisions on one wallet therefore happen one at a time and never overspend, a wallet's
 * authorizations and ledger rows are in time order, and a hold past its time never blocks money, limits
 * or a delete, whether or not the sweep has reached it.
 */
import type { Clock } from "../../platform/clock.ts";
import type { Queryable } from "../../platform/db.ts";
import { expireDueHolds } from "../authorizations/holds.ts";
import { type WalletRow, walletsRepository } from "./repository.ts";

/** What the gate needs of a locked wallet row; callers lock whichever columns their decision reads. */
export interface GatedWallet {
  id: string;
  held: number;
  /**
   * When its first pending hold runs out (null: it holds none), read under the lock; without it, a
   * wallet that holds money is searched for holds due.
   */
  holds_due_at?: Date | null;
}

/** Row-locks the live wallet `walletId` for update; undefined when there is none. */
export const lockWallet = (tx: Queryable, walletId: string): Promise<WalletRow | undefined> =>
  walletsRepository.find(tx, walletId, "FOR UPDATE");

/** Row-locks each live wallet of `walletIds` for update, one at a time in id order (the order of every locker). */
export async function lockWallets(tx: Queryable, walletIds: string[]): Promise<WalletRow[]> {
  const locked: WalletRow[] = [];
  for (const walletId of [...walletIds].sort()) {
    const wallet = await lockWallet(tx, walletId);
    if (wallet !== undefined) locked.push(wallet);
  }
  return locked;
}

/**
 * The gate for one wallet, row-locked by `lock` in one statement (the spend locks the card's wallet with
 * the columns it decides on; everyone else uses `lockWallet`). `wallet` is undefined when `lock` found
 * no live wallet; its `held` is after the expiry.
 */
export async function lockWalletForMoney<Wallet extends GatedWallet>(
  tx: Queryable,
  clock: Clock,
  lock: (tx: Queryable) => Promise<Wallet | undefined>,
): Promise<{ wallet: Wallet | undefined; now: Date }> {
  const { wallets, now } = await lockWalletsForMoney(tx, clock, async (tx) => {
    const wallet = await lock(tx);
    return wallet === undefined ? [] : [wallet];
  });
  return { wallet: wallets[0], now };
}

/**
 * The gate for several wallets, locked by `lock` in id order so that concurrent lockers cannot deadlock.
 * `expired` tells whether a hold was expired, which moved held totals and spend windows.
 */
export async function lockWalletsForMoney<Wallet extends GatedWallet>(
  tx: Queryable,
  clock: Clock,
  lock: (tx: Queryable) => Promise<Wallet[]>,
): Promise<{ wallets: Wallet[]; now: Date; expired: boolean }> {
  const wallets = await lock(tx);
  // "Now" is read under the locks: a decision that waited for them is stamped after the one before.
  const now = clock();
  // A wallet with nothing held, or whose first hold runs out later, has no hold to expire: no search.
  const due = wallets
    .filter((wallet) => wallet.held > 0 && (wallet.holds_due_at ?? now) <= now)
    .map((wallet) => wallet.id);
  const released = await expireDueHolds(tx, due, now);
  for (const wallet of wallets) wallet.held -= released.get(wallet.id) ?? 0;
  return { wallets, now, expired: released.size > 0 };
}
