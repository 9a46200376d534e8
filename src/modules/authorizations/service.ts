import type { Clock } from "../../platform/clock.ts";
import type { Config } from "../../platform/config.ts";
import type { Database, Queryable } from "../../platform/db.ts";
import { ApiError, conflict, found, unprocessable } from "../../platform/errors.ts";
import { GroupCommit } from "../../platform/group-commit.ts";
import type { Staged } from "../../platform/idempotency.ts";
import type { Metadata } from "../../platform/metadata.ts";
import type { Metrics } from "../../platform/metrics.ts";
import { listOptions, type Page, toPage } from "../../platform/pagination.ts";
import { MAX_AMOUNT } from "../../platform/schemas.ts";
import { writeTogether } from "../../platform/sql.ts";
import type { ActiveHook, AuthorizationHookService } from "../authorization-hook/service.ts";
import { cardNotFound } from "../cards/errors.ts";
import { cardsRepository, toCard } from "../cards/repository.ts";
import { appendEvent, appendEvents, currentOrigin, type EventOrigin, eventWrites } from "../events/outbox.ts";
import { type LedgerEntry, ledgerRepository } from "../ledger/repository.ts";
import { lockWallet, lockWalletsForMoney } from "../wallets/money-gate.ts";
import { toWallet, walletsRepository } from "../wallets/repository.ts";
import type { StoredControls } from "../wallets/spending-controls.ts";
import { type Controls, type Decision, decide } from "./decision.ts";
import { authorizationNotFound } from "./errors.ts";
import { expireDueHolds, releaseHold } from "./holds.ts";
import type {
  Authorization,
  AuthorizationPreview,
  CaptureAuthorization,
  CreateAuthorization,
  IncrementAuthorization,
  ListAuthorizationsQuery,
  VoidAuthorization,
} from "./model.ts";
import {
  type AuthorizationRow,
  type NewAuthorization,
  authorizationsRepository as repository,
  type SpendingCard,
  type SpendingWallet,
  toAuthorization,
} from "./repository.ts";
import {
  countSpend,
  moveSpend,
  type SpendWindows,
  spendWrites,
  spentByWindow,
  spentFor,
  type WindowKey,
  windowsOf,
} from "./spend-windows.ts";

/** The decision's view of a card or wallet row's controls. */
const controlsOf = (row: StoredControls): Controls => ({
  dailyLimit: row.daily_limit,
  monthlyLimit: row.monthly_limit,
  allowedCategories: row.allowed_categories,
  blockedCategories: row.blocked_categories,
  spendingLimits: row.spending_limits,
});

/** Decides a spend of `amount` on the locked `wallet` and its `card`, read at the decision's instant. */
function decideSpend(
  card: SpendingCard,
  wallet: SpendingWallet,
  spent: (window: WindowKey) => number,
  spend: { amount: number; category: string | null },
  now: Date,
): Decision {
  return decide({
    ...spend,
    now,
    card: {
      status: card.status,
      expiryMonth: card.expiry_month,
      expiryYear: card.expiry_year,
      controls: controlsOf(card),
    },
    wallet: { status: wallet.status, available: wallet.balance - wallet.held, controls: controlsOf(wallet) },
    spent,
    resets: {
      day: card.day_ends,
      week: card.week_ends,
      month: card.month_ends,
      year: card.year_ends,
      all_time: null,
    },
  });
}

/** Thrown to roll a preview's transaction back, carrying its answer out. */
class Rehearsed extends Error {
  constructor(readonly preview: AuthorizationPreview) {
    super("preview rolled back");
  }
}

const spendOf = (input: CreateAuthorization) => ({
  amount: input.amount,
  category: input.merchant.category ?? null,
});

/** A spend the service approved and held, waiting for the authorization hook's answer. */
export interface HeldForHook {
  authorization: Authorization;
  hook: ActiveHook;
  capture: boolean;
}

/** A card spend to decide: approved ones are captured when `capture`, else held. */
export interface SpendRequest {
  cardId: string;
  input: CreateAuthorization;
  capture: boolean;
  /** The request it came from, which its events name. */
  origin: EventOrigin;
}

/** A spend's outcome: its authorization (approved or declined), or the error that refused it. */
export type SpendOutcome = { authorization: Authorization } | { refused: ApiError };

/** The windows a spend decided on `card` counts in. */
const windowsOfSpend = (card: SpendingCard, limitWindows: WindowKey[]): SpendWindows => ({
  cardId: card.id,
  walletId: card.wallet_id,
  starts: { day: card.window_day, week: card.window_week, month: card.window_month, year: card.window_year },
  limitWindows,
});

/**
 * Batches of spends decided at once (on wallets no other running batch holds): two, so that while one
 * half of the clients' spends is decided in the database the other half's answers go out and its next
 * spends come in (GroupCommit), and a batch stuck on a row lock does not hold up every wallet.
 * Measured with `bun run bench` (docs/money.md).
 */
const SPEND_BATCHES_IN_FLIGHT = 2;
/** Cards never change wallet, so their wallets are remembered; at most this many, then forgotten. */
const CARD_WALLETS_KEPT = 100_000;
/** The most spends one batch decides. */
const SPEND_BATCH_SIZE = 64;
/**
 * The most a spend waits, once a slot is free, for others to join its batch (see GroupCommit): long
 * enough for a client pool to be answered and send its next spends, short against a card network's
 * time-out. Measured with `bun run bench` (docs/money.md).
 */
const SPEND_BATCH_LINGER_MS = 10;

export class AuthorizationsService {
  /** Spends not in an idempotent request's transaction are decided in batches (group commit), by wallet. */
  private readonly batches: GroupCommit<SpendRequest, SpendOutcome>;
  /** The wallet of each card spent on lately: the key of its spends' batches. */
  private readonly cardWallets = new Map<string, string>();

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly config: Pick<Config, "AUTH_HOLD_TTL" | "DB_POOL_MAX">,
    private readonly metrics: Pick<Metrics, "authorizations" | "ledgerTransactions" | "spendBatchSize">,
    private readonly hook: Pick<AuthorizationHookService, "current" | "ask">,
  ) {
    this.batches = new GroupCommit((requests) => this.decideSpends(requests), {
      // PGlite has one connection: more batches would only wait for it.
      maxInFlight:
        db.kind === "pglite" ? 1 : Math.max(1, Math.min(SPEND_BATCHES_IN_FLIGHT, config.DB_POOL_MAX - 1)),
      maxBatch: SPEND_BATCH_SIZE,
      lingerMs: SPEND_BATCH_LINGER_MS,
    });
  }

  /**
   * The service's own decision on a card spend, in one short transaction under the wallet's row lock:
   * the authorization is recorded whatever the outcome, and when approved the money moves (capture)
   * or is held. With an authorization hook set, an approved spend is only held, and is `pending` on
   * the hook's answer ({@link finish}); otherwise the decision is final (`done`).
   */
  async begin(cardId: string, input: CreateAuthorization): Promise<Staged<Authorization, HeldForHook>> {
    const hook = await this.hook.current();
    const capture = input.capture ?? true;
    const request = { cardId, input, capture: hook === undefined && capture, origin: currentOrigin() };
    // An idempotent request decides in its own transaction, which also stores its key; any other
    // joins the next batch.
    const [outcome] = this.db.inTransaction
      ? await this.decideSpends([request])
      : [await this.batches.submit(request, await this.walletOfCard(cardId))];
    if (outcome === undefined) throw new Error("a spend got no outcome");
    if ("refused" in outcome) throw outcome.refused;
    const { authorization } = outcome;
    if (hook === undefined || authorization.status !== "pending")
      return { done: this.counted(authorization) };
    return { pending: { authorization, hook, capture } };
  }

  /** The wallet of `cardId`, remembered (a card never moves); card_not_found when there is no such card. */
  private async walletOfCard(cardId: string): Promise<string> {
    const known = this.cardWallets.get(cardId);
    if (known !== undefined) return known;
    const walletId = await repository.walletOfCard(this.db, cardId);
    if (walletId === undefined) throw cardNotFound(cardId);
    if (this.cardWallets.size >= CARD_WALLETS_KEPT) this.cardWallets.clear();
    this.cardWallets.set(cardId, walletId);
    return walletId;
  }

  /**
   * Asks the hook about a held spend, with no transaction open and so no lock held, then applies its
   * answer in a second short transaction: declined releases the hold (hook_declined), approved
   * captures it (or leaves it pending when the spend asked for no capture).
   */
  async finish(held: HeldForHook): Promise<Authorization> {
    const { authorization } = held;
    const now = this.clock();
    const [card, wallet] = await Promise.all([
      cardsRepository.findView(this.db, authorization.cardId, now),
      walletsRepository.findView(this.db, authorization.walletId, now),
    ]);
    const verdict = await this.hook.ask(held.hook, authorization.id, {
      authorization,
      card: card === undefined ? null : toCard(card),
      wallet: wallet === undefined ? null : toWallet(wallet),
    });
    const decided = await this.db.transaction(async (tx) => {
      const pending = await this.lockPending(tx, authorization.id);
      const now = this.clock();
      // Settled meanwhile (voided, expired): that is the outcome.
      if (pending === undefined) return this.get(authorization.id);
      if (!verdict.approved) return toAuthorization(await releaseHold(tx, pending, "declined", now));
      if (!held.capture) return toAuthorization(pending);
      return toAuthorization(await this.captureHeld(tx, pending, pending.amount, now));
    });
    return this.counted(decided);
  }

  /** Counts a final decision and the money it moved. */
  private counted(authorization: Authorization): Authorization {
    const reason = authorization.declineReason;
    this.metrics.authorizations.inc({
      result: reason === null ? "approved" : "declined",
      decline_reason: reason ?? "none",
    });
    if (authorization.status === "captured") this.metrics.ledgerTransactions.inc({ type: "card_spend" });
    return authorization;
  }

  /**
   * Decides `requests` in one transaction, in their order: their wallets locked once through the
   * money gate, their cards and spend windows read once, then each decided on what the ones before it
   * left (balance, held, windows); the authorizations, spend counters, ledger rows, held totals and
   * events of all of them are written together. A request whose card does not exist is refused
   * (card_not_found) without affecting the others.
   */
  private decideSpends(requests: readonly SpendRequest[]): Promise<SpendOutcome[]> {
    this.metrics.spendBatchSize.observe(requests.length);
    return this.db.transaction(async (tx) => {
      const cardIds = [...new Set(requests.map((request) => request.cardId))];
      const { wallets, cards, now } = await this.lockForSpends(tx, cardIds);
      const walletsById = new Map(wallets.map((wallet) => [wallet.id, wallet]));
      // What the ledger posts on: the balances as locked, before the decisions below move them.
      const lockedBalances = new Map(
        wallets.map((wallet) => [wallet.id, { balance: wallet.balance, currency: wallet.currency }]),
      );
      const cardsById = new Map(cards.map((card) => [card.id, card]));
      const spent = spentByWindow(cards);
      const expiresAt = new Date(now.getTime() + this.config.AUTH_HOLD_TTL * 1000);
      const origins = new Map<string, EventOrigin>();
      const decided = requests.map((request): NewAuthorization | ApiError => {
        const card = cardsById.get(request.cardId);
        const wallet = card === undefined ? undefined : walletsById.get(card.wallet_id);
        if (card === undefined || wallet === undefined) return cardNotFound(request.cardId);
        const { input } = request;
        const decision = decideSpend(card, wallet, spentFor(spent, card), spendOf(input), now);
        const reason = decision.declineReason;
        const approved = reason === null;
        if (approved) {
          countSpend(spent, windowsOfSpend(card, decision.limitWindows), input.amount);
          if (request.capture) wallet.balance -= input.amount;
          else wallet.held += input.amount;
        }
        const id = Bun.randomUUIDv7();
        origins.set(id, request.origin);
        return {
          id,
          cardId: card.id,
          walletId: wallet.id,
          amount: input.amount,
          currency: wallet.currency,
          merchantName: input.merchant.name,
          merchantCategory: input.merchant.category ?? null,
          status: approved ? (request.capture ? "captured" : "pending") : "declined",
          declineReason: reason,
          declineDetail: decision.declineDetail,
          capturedAmount: approved && request.capture ? input.amount : 0,
          card,
          limitWindows: approved ? decision.limitWindows : [],
          metadata: input.metadata ?? {},
          expiresAt,
        };
      });
      const recorded = decided.filter((each): each is NewAuthorization => !(each instanceof ApiError));
      const approved = recorded.filter((each) => each.status !== "declined");
      const held = new Map<string, number>();
      for (const each of approved) {
        if (each.status === "pending") held.set(each.walletId, (held.get(each.walletId) ?? 0) + each.amount);
      }
      // Everything but the held totals is written by one statement.
      const recording = repository.recording(recorded, now);
      const posting = ledgerRepository.posting(
        approved.filter((each) => each.status === "captured").map(spendEntry),
        now,
        lockedBalances,
      );
      const authorizations = new Map(recording.rows.map((row) => [row.id, toAuthorization(row)]));
      const spends = new Map(posting.transactions.map((spend) => [spend.authorizationId, spend]));
      const events = recorded.flatMap((each) => {
        const authorization = authorizations.get(each.id);
        const origin = origins.get(each.id);
        if (authorization === undefined) return [];
        const spend = spends.get(each.id);
        return [
          { type: "authorization.created" as const, object: authorization, origin },
          ...(spend === undefined ? [] : [{ type: "transaction.created" as const, object: spend, origin }]),
        ];
      });
      // Worked out before the commit: nothing may fail once it is done, or the batch would be retried.
      const outcomes = decided.map((each): SpendOutcome => {
        if (each instanceof ApiError) return { refused: each };
        const authorization = authorizations.get(each.id);
        if (authorization === undefined) throw new Error(`authorization ${each.id} was not recorded`);
        return { authorization };
      });
      // Everything is sent at once, COMMIT included (one round trip under the locks), and nothing is
      // read back: a statement that fails (the ledger's checks its balances) makes the COMMIT a rollback.
      await Promise.all([
        writeTogether(tx, [
          recording.writes,
          spendWrites(
            approved.map((each) => ({
              windows: windowsOfSpend(each.card, each.limitWindows),
              amount: each.amount,
            })),
          ),
          posting.writes,
          eventWrites(events),
        ]),
        // The ledger's part moves balances: held totals, on the same wallet rows, take a statement of their own.
        repository.adjustHelds(tx, held, now),
        tx.commit(),
      ]);
      return outcomes;
    });
  }

  /**
   * The decision a spend would get now and what is left of every limit: the same gate, reads and
   * decision as `authorize`, in a transaction that is rolled back, so nothing changes (not even the
   * expiry of holds that have run out, which the decision nevertheless sees as released).
   */
  async preview(cardId: string, input: CreateAuthorization): Promise<AuthorizationPreview> {
    try {
      await this.db.transaction(async (tx) => {
        const { card, wallet, now } = await this.lockForSpend(tx, cardId);
        const decision = decideSpend(
          card,
          wallet,
          spentFor(spentByWindow([card]), card),
          spendOf(input),
          now,
        );
        throw new Rehearsed({
          approved: decision.declineReason === null,
          declineReason: decision.declineReason,
          declineDetail: decision.declineDetail,
          headroom: decision.headroom,
        });
      });
    } catch (error) {
      if (error instanceof Rehearsed) return error.preview;
      throw error;
    }
    throw new Error("a preview always rolls back");
  }

  /**
   * Raises a pending hold by `amount`, decided like a new spend of that amount in the windows the
   * authorization counts in (its own day, week, month and year); a refusal is 422 with the reason as code.
   */
  increment(id: string, input: IncrementAuthorization): Promise<Authorization> {
    return this.settlePending(id, async (tx, pending, now) => {
      if (pending.amount + input.amount > MAX_AMOUNT) {
        throw unprocessable(
          "authorization_amount_too_large",
          `An authorization holds at most ${MAX_AMOUNT}; this one holds ${pending.amount}.`,
        );
      }
      await expireDueHolds(tx, [pending.wallet_id], now);
      // The wallet is locked already (lockPending); the card is read at the authorization's own time.
      const {
        wallets: [wallet],
        cards: [card],
      } = await repository.lockForSpends(tx, [pending.card_id], pending.created_at);
      if (wallet === undefined || card === undefined) throw authorizationNotFound(id);
      const decision = decideSpend(
        card,
        wallet,
        spentFor(spentByWindow([card]), card),
        { amount: input.amount, category: pending.merchant_category },
        now,
      );
      if (decision.declineReason !== null) {
        throw new ApiError(
          422,
          decision.declineReason,
          `The increment of ${input.amount} is declined: ${decision.declineReason}.`,
        );
      }
      const raised = await repository.adjustAmount(tx, id, input.amount, now);
      await repository.adjustHeld(tx, pending.wallet_id, input.amount, now);
      await moveSpend(tx, windowsOf(pending), input.amount);
      await appendEvent(tx, "authorization.updated", toAuthorization(raised));
      return raised;
    });
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
      return this.captureHeld(tx, pending, amount, now);
    });
    this.metrics.ledgerTransactions.inc({ type: "card_spend" });
    return captured;
  }

  /** Releases all of a hold, or `amount` of it, leaving the rest pending (a partial reversal). */
  void(id: string, input: VoidAuthorization): Promise<Authorization> {
    return this.settlePending(id, async (tx, pending, now) => {
      const amount = input.amount ?? pending.amount;
      if (amount > pending.amount) {
        throw unprocessable(
          "void_exceeds_authorization",
          `Cannot release ${amount}: the authorization holds ${pending.amount}.`,
        );
      }
      if (amount === pending.amount) return releaseHold(tx, pending, "voided", now);
      const lowered = await repository.adjustAmount(tx, id, -amount, now);
      await repository.adjustHeld(tx, pending.wallet_id, -amount, now);
      await moveSpend(tx, windowsOf(pending), -amount);
      await appendEvent(tx, "authorization.updated", toAuthorization(lowered));
      return lowered;
    });
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

  /**
   * Locks the wallet, then the authorization; undefined unless it is still pending. The wallet lock
   * alone, not the money gate: settling one hold decides on that hold, whose own expiry the caller
   * checks, and the gate would expire it before the caller could answer authorization_expired.
   */
  private async lockPending(tx: Queryable, id: string): Promise<AuthorizationRow | undefined> {
    const unlocked = found(await repository.find(tx, id), () => authorizationNotFound(id));
    await lockWallet(tx, unlocked.wallet_id);
    const locked = await repository.find(tx, id, "FOR UPDATE");
    return locked?.status === "pending" ? locked : undefined;
  }

  /**
   * The money gate for spends on `cardIds`: their wallets locked (in id order), "now", then the cards
   * and their spend windows as they are under the locks at "now". The lock reads the cards with it, in
   * one round trip, at the instant before the lock; they are read again (rarely) when that instant's
   * windows do not hold "now" (a day's window, inside all the others, is the first to end) or when the
   * gate expired a hold, whose release moved their spend.
   */
  private async lockForSpends(tx: Queryable, cardIds: readonly string[]) {
    const before = this.clock();
    let cards: SpendingCard[] = [];
    const { wallets, now, expired } = await lockWalletsForMoney(tx, this.clock, async (tx) => {
      const locked = await repository.lockForSpends(tx, cardIds, before);
      cards = locked.cards;
      return locked.wallets;
    });
    if (expired || now < before || cards.some((card) => card.day_ends <= now)) {
      cards = await repository.spendingCards(tx, cardIds, now);
    }
    return { wallets, cards, now };
  }

  /** The money gate for one spend on `cardId`: its wallet locked, "now", the card read under the lock. */
  private async lockForSpend(tx: Queryable, cardId: string) {
    const { wallets, cards, now } = await this.lockForSpends(tx, [cardId]);
    const [wallet] = wallets;
    const [card] = cards;
    if (wallet === undefined || card === undefined) throw cardNotFound(cardId);
    return { card, wallet, now };
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
          "Only a pending authorization can be captured, voided or incremented.",
        );
      }
      if (pending.expires_at <= now) {
        throw conflict("authorization_expired", "The hold has expired and is being released.");
      }
      return toAuthorization(await settle(tx, pending, now));
    });
  }

  /** Captures `amount` of a locked pending hold as a card_spend; the rest of the hold is released. */
  private async captureHeld(
    tx: Queryable,
    pending: AuthorizationRow,
    amount: number,
    now: Date,
  ): Promise<AuthorizationRow> {
    const captured = await repository.settle(tx, pending.id, "captured", amount, now);
    await repository.adjustHeld(tx, pending.wallet_id, -pending.amount, now);
    await moveSpend(tx, windowsOf(pending), amount - pending.amount);
    const spend = await ledgerRepository.post(
      tx,
      spendEntry({
        id: captured.id,
        walletId: captured.wallet_id,
        cardId: captured.card_id,
        merchantName: captured.merchant_name,
        capturedAmount: amount,
        metadata: captured.metadata,
      }),
      now,
    );
    await appendEvents(tx, [
      { type: "authorization.updated", object: toAuthorization(captured) },
      { type: "transaction.created", object: spend },
    ]);
    return captured;
  }
}

/** The ledger entry of a card spend of `amount` taken by an authorization. */
const spendEntry = (authorization: {
  id: string;
  walletId: string;
  cardId: string;
  merchantName: string;
  capturedAmount: number;
  metadata: Metadata;
}): LedgerEntry => ({
  walletId: authorization.walletId,
  type: "card_spend",
  amount: authorization.capturedAmount,
  cardId: authorization.cardId,
  authorizationId: authorization.id,
  description: authorization.merchantName,
  metadata: authorization.metadata,
});
