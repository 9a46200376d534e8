import type { Reach } from "../../platform/auth.ts";
import type { Clock } from "../../platform/clock.ts";
import type { Database, Queryable } from "../../platform/db.ts";
import { badRequest, found, unprocessable } from "../../platform/errors.ts";
import type { Metrics } from "../../platform/metrics.ts";
import { listOptions, type Page, toPage } from "../../platform/pagination.ts";
import { MAX_BALANCE } from "../../platform/schemas.ts";
import { iso } from "../../platform/sql.ts";
import { authorizationsRepository } from "../authorizations/repository.ts";
import { moveSpend, windowsOf } from "../authorizations/spend-windows.ts";
import { appendEvent, appendEvents } from "../events/outbox.ts";
import { walletNotFound } from "../wallets/errors.ts";
import { lockWallet, lockWalletForMoney, lockWallets, lockWalletsForMoney } from "../wallets/money-gate.ts";
import { type WalletRow, walletsRepository } from "../wallets/repository.ts";
import { insufficientFunds, transactionNotFound } from "./errors.ts";
import {
  type BalanceAt,
  type BalanceQuery,
  type CreateRefund,
  type CreateTransfer,
  type ListTransactionsQuery,
  MAX_STATEMENT_TRANSACTIONS,
  type MoneyMovement,
  type Statement,
  type StatementQuery,
  type Transaction,
  type Transfer,
} from "./model.ts";
import { type LedgerEntry, ledgerRepository } from "./repository.ts";

/** Outgoing money needs an active wallet and enough available balance (balance minus holds). */
function checkCanPay(wallet: WalletRow, amount: number): void {
  if (wallet.status !== "active") throw unprocessable("wallet_frozen", `Wallet ${wallet.id} is frozen.`);
  const available = wallet.balance - wallet.held;
  if (amount > available) throw insufficientFunds(wallet.id, available, amount);
}

/** Incoming money may not push a balance past the contract's 10^15. */
function checkCanReceive(wallet: WalletRow, amount: number): void {
  if (wallet.balance + amount > MAX_BALANCE) {
    throw unprocessable("balance_limit_exceeded", `A wallet balance cannot exceed ${MAX_BALANCE}.`);
  }
}

export class LedgerService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly metrics: Pick<Metrics, "ledgerTransactions">,
  ) {}

  topUp(walletId: string, input: MoneyMovement): Promise<Transaction> {
    return this.counted(
      this.db.transaction(async (tx) => {
        const { wallet, now } = await this.lockForMovement(tx, walletId);
        checkCanReceive(wallet, input.amount);
        return this.post(tx, { walletId, type: "topup", ...input }, now);
      }),
    );
  }

  withdraw(walletId: string, input: MoneyMovement): Promise<Transaction> {
    return this.counted(
      this.db.transaction(async (tx) => {
        const { wallet, now } = await this.lockForMovement(tx, walletId);
        checkCanPay(wallet, input.amount);
        return this.post(tx, { walletId, type: "withdrawal", ...input }, now);
      }),
    );
  }

  /**
   * Moves money between two wallets of one currency: two ledger rows in one transaction. Both wallets
   * are locked in id order, so opposite transfers queue instead of deadlocking.
   */
  async transfer(input: CreateTransfer): Promise<Transfer> {
    if (input.fromWalletId === input.toWalletId) {
      throw badRequest("same_wallet", "A transfer needs two different wallets.");
    }
    const transfer = await this.db.transaction(async (tx) => {
      const { wallets, now } = await lockWalletsForMoney(tx, this.clock, (tx) =>
        lockWallets(tx, [input.fromWalletId, input.toWalletId]),
      );
      const lockedWallet = (id: string) =>
        found(
          wallets.find((wallet) => wallet.id === id),
          () => walletNotFound(id),
        );
      const from = lockedWallet(input.fromWalletId);
      const to = lockedWallet(input.toWalletId);
      if (from.currency !== to.currency) {
        throw unprocessable(
          "currency_mismatch",
          `Cannot move ${from.currency} into a ${to.currency} wallet.`,
        );
      }
      checkCanPay(from, input.amount);
      checkCanReceive(to, input.amount);
      const transfer = await ledgerRepository.insertTransfer(tx, { ...input, currency: from.currency }, now);
      const movement = {
        amount: input.amount,
        description: input.description,
        metadata: input.metadata,
        transferId: transfer.id,
      };
      const out = await ledgerRepository.post(
        tx,
        { walletId: from.id, type: "transfer_out", ...movement },
        now,
      );
      const incoming = await ledgerRepository.post(
        tx,
        { walletId: to.id, type: "transfer_in", ...movement },
        now,
      );
      const made: Transfer = {
        id: transfer.id,
        fromWalletId: transfer.from_wallet_id,
        toWalletId: transfer.to_wallet_id,
        amount: transfer.amount,
        currency: transfer.currency,
        description: transfer.description,
        metadata: transfer.metadata,
        createdAt: iso(transfer.created_at),
        transactions: [out, incoming],
      };
      await appendEvents(tx, [
        { type: "transfer.created", object: made },
        { type: "transaction.created", object: out },
        { type: "transaction.created", object: incoming },
      ]);
      return made;
    });
    for (const row of transfer.transactions) this.metrics.ledgerTransactions.inc({ type: row.type });
    return transfer;
  }

  /**
   * Gives back all or part of a card spend. The refunds of a spend never add up to more than it;
   * refunded money no longer counts toward the card's and wallet's limits.
   */
  refund(transactionId: string, input: CreateRefund): Promise<Transaction> {
    return this.counted(
      this.db.transaction(async (tx) => {
        const spend = found(await ledgerRepository.find(tx, transactionId), () =>
          transactionNotFound(transactionId),
        );
        if (spend.type !== "card_spend" || spend.authorizationId === null) {
          throw unprocessable("transaction_not_refundable", "Only a card_spend transaction can be refunded.");
        }
        const { wallet, now } = await this.lockForMovement(tx, spend.walletId);
        const authorization = found(
          await authorizationsRepository.find(tx, spend.authorizationId, "FOR UPDATE"),
          () => transactionNotFound(transactionId),
        );
        const refundable = authorization.captured_amount - authorization.refunded_amount;
        const amount = input.amount ?? refundable;
        if (amount === 0 || amount > refundable) {
          throw unprocessable(
            "refund_exceeds_spend",
            `Only ${refundable} of this spend of ${authorization.captured_amount} is left to refund.`,
          );
        }
        checkCanReceive(wallet, amount);
        await authorizationsRepository.addRefund(tx, authorization.id, amount, now);
        await moveSpend(tx, windowsOf(authorization), -amount);
        return this.post(
          tx,
          {
            walletId: wallet.id,
            type: "refund",
            amount,
            description: input.description,
            cardId: authorization.card_id,
            authorizationId: authorization.id,
            refundOf: spend.id,
            metadata: authorization.metadata,
          },
          now,
        );
      }),
    );
  }

  async get(id: string): Promise<Transaction> {
    return found(await ledgerRepository.find(this.db, id), () => transactionNotFound(id));
  }

  /** The wallet's transactions within `reach`: a team member's key sees those of the cards the member holds. */
  async listOfWallet(
    walletId: string,
    query: ListTransactionsQuery,
    reach: Reach,
  ): Promise<Page<Transaction>> {
    if ((await walletsRepository.find(this.db, walletId)) === undefined) throw walletNotFound(walletId);
    const options = listOptions(query, "createdAt");
    const rows = await ledgerRepository.listOfWallet(this.db, walletId, query, reach, options);
    return toPage(rows, options, (row) => row);
  }

  /** Appends a ledger row of one wallet with its transaction.created event. */
  private async post(tx: Queryable, entry: LedgerEntry, now: Date): Promise<Transaction> {
    const transaction = await ledgerRepository.post(tx, entry, now);
    await appendEvent(tx, "transaction.created", transaction);
    return transaction;
  }

  /** The wallet's balance as of `at` (default now), from its ledger: what it was just after that instant. */
  async balanceAt(walletId: string, query: BalanceQuery): Promise<BalanceAt> {
    const at = query.at === undefined ? this.clock() : new Date(query.at);
    if ((await walletsRepository.find(this.db, walletId)) === undefined) throw walletNotFound(walletId);
    return { balance: await ledgerRepository.balanceAt(this.db, walletId, at, "<="), at: iso(at) };
  }

  /**
   * The wallet's statement for [from, to): the balance before the period, its transactions in ledger
   * order with the total of each type, and the balance after them, all read in one snapshot.
   */
  statement(walletId: string, query: StatementQuery): Promise<Statement> {
    const from = new Date(query.from);
    const to = new Date(query.to);
    if (from >= to) throw badRequest("invalid_period", "`from` must be before `to`.");
    return this.db.transaction(async (tx) => {
      await tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
      const wallet = found(await walletsRepository.find(tx, walletId), () => walletNotFound(walletId));
      const openingBalance = await ledgerRepository.balanceAt(tx, walletId, from, "<");
      const transactions = await ledgerRepository.inPeriod(
        tx,
        walletId,
        from,
        to,
        MAX_STATEMENT_TRANSACTIONS + 1,
      );
      if (transactions.length > MAX_STATEMENT_TRANSACTIONS) {
        throw unprocessable(
          "statement_too_large",
          `The period has more than ${MAX_STATEMENT_TRANSACTIONS} transactions: ask for it in shorter periods.`,
        );
      }
      const totals = { topup: 0, withdrawal: 0, transfer_in: 0, transfer_out: 0, card_spend: 0, refund: 0 };
      for (const transaction of transactions) totals[transaction.type] += transaction.amount;
      return {
        walletId,
        currency: wallet.currency,
        from: iso(from),
        to: iso(to),
        openingBalance,
        closingBalance: transactions.at(-1)?.balanceAfter ?? openingBalance,
        totals,
        transactions,
      };
    });
  }

  /** Counts the ledger row a committed movement wrote. */
  private async counted(movement: Promise<Transaction>): Promise<Transaction> {
    const row = await movement;
    this.metrics.ledgerTransactions.inc({ type: row.type });
    return row;
  }

  /** The money gate for a movement on one wallet: its lock, "now", its holds that have run out expired. */
  private async lockForMovement(tx: Queryable, walletId: string): Promise<{ wallet: WalletRow; now: Date }> {
    const { wallet, now } = await lockWalletForMoney(tx, this.clock, (tx) => lockWallet(tx, walletId));
    return { wallet: found(wallet, () => walletNotFound(walletId)), now };
  }
}
