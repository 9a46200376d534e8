import type { Clock } from "../../platform/clock.ts";
import type { Config } from "../../platform/config.ts";
import type { Database, Queryable } from "../../platform/db.ts";
import { conflict, found, notFound, unprocessable } from "../../platform/errors.ts";
import type { Metrics } from "../../platform/metrics.ts";
import { listOptions, type Page, toPage } from "../../platform/pagination.ts";
import { isExpired } from "../cards/card-number.ts";
import { ledgerRepository } from "../ledger/repository.ts";
import { type WalletRow, walletsRepository } from "../wallets/repository.ts";
import type {
  Authorization,
  CaptureAuthorization,
  CreateAuthorization,
  DeclineReason,
  ListAuthorizationsQuery,
} from "./model.ts";
import {
  type AuthorizationRow,
  authorizationsRepository as repository,
  type SpendingCard,
  type SpendingWallet,
  toAuthorization,
  windowsOf,
} from "./repository.ts";

const authorizationNotFound = (id: string) => notFound("authorization", id);
const cardNotFound = (id: string) => notFound("card", id);

/**
 * The decision of contract §3, in its order: the first rule a spend breaks is its decline reason.
 * Limits compare approved spend in the window plus this amount; funds compare with the available
 * balance (balance minus pending holds).
 */
export function declineReason(
  card: SpendingCard,
  wallet: SpendingWallet,
  amount: number,
  now: Date,
): DeclineReason | null {
  if (card.status !== "active") return "card_inactive";
  if (isExpired(card.expiry_month, card.expiry_year, now)) return "card_expired";
  if (wallet.status !== "active") return "wallet_frozen";
  if (card.card_day + amount > card.daily_limit) return "card_daily_limit_exceeded";
  if (card.card_month + amount > card.monthly_limit) return "card_monthly_limit_exceeded";
  if (card.wallet_day + amount > wallet.daily_limit) return "wallet_daily_limit_exceeded";
  if (card.wallet_month + amount > wallet.monthly_limit) return "wallet_monthly_limit_exceeded";
  if (amount > wallet.balance - wallet.held) return "insufficient_funds";
  return null;
}

/** Ends a hold without taking money: its amount leaves the held total and the spend windows. */
async function releaseHold(
  tx: Queryable,
  pending: AuthorizationRow,
  status: "voided" | "expired",
  now: Date,
): Promise<AuthorizationRow> {
  const released = await repository.settle(tx, pending.id, status, 0, now);
  await repository.adjustHeld(tx, pending.wallet_id, -pending.amount, now);
  await repository.releaseSpend(tx, windowsOf(pending), pending.amount);
  return released;
}

/**
 * For a decision on a wallet whose lock the caller holds: expires its holds that have run out first,
 * so a hold past its time never blocks money or limits, whether or not the sweep has reached it.
 * Returns the amount released from the wallet's held total.
 */
export async function expireDueHolds(tx: Queryable, walletId: string, now: Date): Promise<number> {
  const due = await repository.dueHolds(tx, walletId, now);
  for (const hold of due) await releaseHold(tx, hold, "expired", now);
  return due.reduce((released, hold) => released + hold.amount, 0);
}

/**
 * The gate of a money decision on a wallet taken by id: its row lock, then its holds that have run
 * out are expired. Undefined when no live wallet has the id.
 */
export async function lockWalletForMoney(
  tx: Queryable,
  walletId: string,
  now: Date,
): Promise<WalletRow | undefined> {
  const wallet = await walletsRepository.find(tx, walletId, "FOR UPDATE");
  if (wallet !== undefined && wallet.held > 0) wallet.held -= await expireDueHolds(tx, walletId, now);
  return wallet;
}

export class AuthorizationsService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly config: Pick<Config, "AUTH_HOLD_TTL">,
    private readonly metrics: Pick<Metrics, "authorizations" | "ledgerTransactions">,
  ) {}

  /**
   * Decides a card spend in one short transaction under the wallet's row lock, records the
   * authorization whatever the outcome, and when approved moves the money (capture) or holds it.
   */
  async authorize(cardId: string, input: CreateAuthorization): Promise<Authorization> {
    const authorization = await this.db.transaction(async (tx) => {
      const wallet = found(await repository.lockWalletOfCard(tx, cardId), () => cardNotFound(cardId));
      const walletId = wallet.id;
      // "Now" is read under the lock, so a wallet's authorizations and ledger rows are in time order.
      const now = this.clock();
      if (wallet.held > 0) wallet.held -= await expireDueHolds(tx, walletId, now);
      const card = found(await repository.spendingCard(tx, cardId, now, wallet.timezone), () =>
        cardNotFound(cardId),
      );
      const reason = declineReason(card, wallet, input.amount, now);
      const capture = input.capture ?? true;
      const approvedStatus = capture ? "captured" : "pending";
      const row = await repository.insert(
        tx,
        {
          cardId,
          walletId,
          amount: input.amount,
          currency: wallet.currency,
          merchantName: input.merchant.name,
          merchantCategory: input.merchant.category ?? null,
          status: reason === null ? approvedStatus : "declined",
          declineReason: reason,
          capturedAmount: reason === null && capture ? input.amount : 0,
          windowDay: card.today,
          windowMonth: card.month_start,
          expiresAt: new Date(now.getTime() + this.config.AUTH_HOLD_TTL * 1000),
        },
        now,
      );
      if (reason !== null) return toAuthorization(row);
      await repository.addSpend(tx, windowsOf(row), input.amount);
      if (capture) await this.postSpend(tx, row, input.amount, now);
      else await repository.adjustHeld(tx, walletId, input.amount, now);
      return toAuthorization(row);
    });
    const reason = authorization.declineReason;
    this.metrics.authorizations.inc({
      result: reason === null ? "approved" : "declined",
      decline_reason: reason ?? "none",
    });
    if (authorization.status === "captured") this.metrics.ledgerTransactions.inc({ type: "card_spend" });
    return authorization;
  }

  /** Captures all or part of a pending hold; what is not captured is released. */
  async capture(id: string, input: CaptureAuthorization): Promise<Authorization> {
    const captured = await this.settlePending(id, async (tx, pending, now) => {
      const amount = input.amount ?? pending.amount;
      if (amount > pending.amount) {
        throw unprocessable(
          "capture_exceeds_authorization",
          `Cannot capture ${amount}: the authorization holds ${pending.amount}.`,
        );
      }
      const captured = await repository.settle(tx, id, "captured", amount, now);
      await repository.adjustHeld(tx, pending.wallet_id, -pending.amount, now);
      await repository.releaseSpend(tx, windowsOf(pending), pending.amount - amount);
      await this.postSpend(tx, captured, amount, now);
      return captured;
    });
    this.metrics.ledgerTransactions.inc({ type: "card_spend" });
    return captured;
  }

  void(id: string): Promise<Authorization> {
    return this.settlePending(id, (tx, pending, now) => releaseHold(tx, pending, "voided", now));
  }

  async get(id: string): Promise<Authorization> {
    return toAuthorization(found(await repository.find(this.db, id), () => authorizationNotFound(id)));
  }

  async listOfCard(cardId: string, query: ListAuthorizationsQuery): Promise<Page<Authorization>> {
    if ((await repository.walletOfCard(this.db, cardId)) === undefined) throw cardNotFound(cardId);
    const options = listOptions(query, "createdAt");
    return toPage(await repository.listOfCard(this.db, cardId, query, options), options, toAuthorization);
  }

  /**
   * Expires pending holds whose time has run out, a batch at a time. Each expiry takes the same locks
   * and state check as a void, so any number of instances may sweep at once.
   */
  async expireHolds(batchSize = 100): Promise<number> {
    let expired = 0;
    for (;;) {
      const due = await repository.expiredPending(this.db, this.clock(), batchSize);
      for (const id of due) {
        const done = await this.db.transaction(async (tx) => {
          const pending = await this.lockPending(tx, id);
          const now = this.clock();
          if (pending === undefined || pending.expires_at > now) return false;
          await releaseHold(tx, pending, "expired", now);
          return true;
        });
        if (done) expired++;
      }
      // A short batch was the last; a full one may have more behind it.
      if (due.length < batchSize) return expired;
    }
  }

  /** Locks the wallet, then the authorization; undefined unless it is still pending. */
  private async lockPending(tx: Queryable, id: string): Promise<AuthorizationRow | undefined> {
    const unlocked = found(await repository.find(tx, id), () => authorizationNotFound(id));
    await repository.lockWallet(tx, unlocked.wallet_id);
    const locked = await repository.find(tx, id, "FOR UPDATE");
    return locked?.status === "pending" ? locked : undefined;
  }

  private settlePending(
    id: string,
    settle: (tx: Queryable, pending: AuthorizationRow, now: Date) => Promise<AuthorizationRow>,
  ): Promise<Authorization> {
    return this.db.transaction(async (tx) => {
      const pending = await this.lockPending(tx, id);
      const now = this.clock();
      if (pending === undefined) {
        throw conflict(
          "authorization_not_pending",
          "Only a pending authorization can be captured or voided.",
        );
      }
      if (pending.expires_at <= now) {
        throw conflict("authorization_expired", "The hold has expired and is being released.");
      }
      return toAuthorization(await settle(tx, pending, now));
    });
  }

  private postSpend(tx: Queryable, authorization: AuthorizationRow, amount: number, now: Date) {
    return ledgerRepository.post(
      tx,
      {
        walletId: authorization.wallet_id,
        type: "card_spend",
        amount,
        cardId: authorization.card_id,
        authorizationId: authorization.id,
        description: authorization.merchant_name,
      },
      now,
    );
  }
}
