import type { Reach } from "../../platform/auth.ts";
import type { Clock } from "../../platform/clock.ts";
import type { Config } from "../../platform/config.ts";
import { isCurrency } from "../../platform/currency.ts";
import type { Database, Queryable } from "../../platform/db.ts";
import { badRequest, found, SqlState } from "../../platform/errors.ts";
import { metadataChange, metadataOf } from "../../platform/metadata.ts";
import { listOptions, type Page, toPage } from "../../platform/pagination.ts";
import { ReadBatch } from "../../platform/read-batch.ts";
import { changedFields, recordAudit } from "../audit/repository.ts";
import { followLimits } from "../authorizations/spend-windows.ts";
import { cardsRepository, toCard } from "../cards/repository.ts";
import { appendEvent, appendEvents } from "../events/outbox.ts";
import { teamNotFound } from "../teams/errors.ts";
import { teamsRepository } from "../teams/repository.ts";
import { userNotFound } from "../users/errors.ts";
import { usersRepository } from "../users/repository.ts";
import { invalidTimezone, walletNotEmpty, walletNotFound } from "./errors.ts";
import { initialLimits } from "./limits.ts";
import type { CreateWallet, ListWalletsQuery, UpdateWallet, Wallet } from "./model.ts";
import { lockWallet, lockWalletForMoney, lockWalletsForMoney } from "./money-gate.ts";
import {
  toWallet,
  type WalletOwner,
  type WalletRow,
  type WalletView,
  walletsRepository,
} from "./repository.ts";
import { NEW_CONTROLS, resolveControls } from "./spending-controls.ts";

function checkCurrency(currency: string): string {
  if (!isCurrency(currency)) throw badRequest("invalid_currency", `${currency} is not an ISO 4217 currency.`);
  return currency;
}

/**
 * The canonical IANA name of a time zone ("asia/singapore" → "Asia/Singapore"), which the database
 * must know too: limit windows are computed there.
 */
async function canonicalTimezone(db: Queryable, timezone: string): Promise<string> {
  let canonical: string;
  try {
    canonical = new Intl.DateTimeFormat("en-US", { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    throw invalidTimezone(timezone);
  }
  // Intl also takes UTC offsets such as "+05:00"; a wallet's zone must be a named IANA zone (or link).
  if (/^[+-]/.test(canonical)) throw invalidTimezone(timezone);
  await db.query("SELECT now() AT TIME ZONE $1", [canonical]).catch((error: { code?: unknown }) => {
    throw error.code === SqlState.invalidParameterValue ? invalidTimezone(timezone) : error;
  });
  return canonical;
}

/** What wallet.updated records of a wallet. */
const auditedFields = (wallet: WalletRow) => ({
  name: wallet.name,
  status: wallet.status,
  dailyLimit: wallet.daily_limit,
  monthlyLimit: wallet.monthly_limit,
  allowedCategories: wallet.allowed_categories,
  blockedCategories: wallet.blocked_categories,
  spendingLimits: wallet.spending_limits,
});

function ownerOf(input: { userId?: string; teamId?: string }): WalletOwner {
  if (input.userId !== undefined && input.teamId === undefined) return { userId: input.userId };
  if (input.teamId !== undefined && input.userId === undefined) return { teamId: input.teamId };
  throw badRequest(
    "invalid_wallet_owner",
    "A wallet belongs to exactly one owner: give userId or teamId, not both.",
  );
}

export class WalletsService {
  /** GET /v1/wallets/{id} under load: the reads of one turn in one statement. */
  private readonly reads: ReadBatch<WalletView>;

  constructor(
    private readonly db: Database,
    private readonly config: Pick<Config, "DEFAULT_CURRENCY">,
    private readonly clock: Clock,
  ) {
    this.reads = new ReadBatch(
      db,
      (ids) => walletsRepository.findViews(db, ids, clock()),
      (row) => row.id,
    );
  }

  /** Creates a wallet; the owner is share-locked so it cannot be deleted while the wallet goes in. */
  async create(input: CreateWallet): Promise<Wallet> {
    const owner = ownerOf(input);
    const controls = resolveControls(NEW_CONTROLS, input, initialLimits);
    const currency = checkCurrency(input.currency ?? this.config.DEFAULT_CURRENCY);
    const timezone = await canonicalTimezone(this.db, input.timezone ?? "UTC");
    return this.db.transaction(async (tx) => {
      await this.requireOwner(tx, owner, "FOR SHARE");
      const row = await walletsRepository.insert(
        tx,
        {
          id: Bun.randomUUIDv7(),
          name: input.name?.trim() ?? "Main wallet",
          owner,
          currency,
          timezone,
          ...controls,
          metadata: metadataOf(input),
        },
        this.clock(),
      );
      const wallet = toWallet(row);
      await appendEvent(tx, "wallet.created", wallet);
      return wallet;
    });
  }

  async get(id: string): Promise<Wallet> {
    return toWallet(found(await this.reads.load(id), () => walletNotFound(id)));
  }

  /** Live wallets within `reach`. */
  async list(query: ListWalletsQuery, reach: Reach): Promise<Page<Wallet>> {
    const options = listOptions(query, "createdAt");
    const rows = await walletsRepository.list(this.db, query, reach, options, this.clock());
    return toPage(rows, options, toWallet);
  }

  /** Name, limits and status only: the owner never changes, and balances move only through the ledger. */
  update(id: string, changes: UpdateWallet): Promise<Wallet> {
    return this.db.transaction(async (tx) => {
      const current = found(await walletsRepository.find(tx, id, "FOR UPDATE"), () => walletNotFound(id));
      const ownerChanged =
        (changes.userId !== undefined && changes.userId !== current.user_id) ||
        (changes.teamId !== undefined && changes.teamId !== current.team_id);
      if (ownerChanged) throw badRequest("wallet_owner_immutable", "A wallet's owner never changes.");
      const controls = resolveControls(current, changes);
      const now = this.clock();
      const row = await walletsRepository.update(
        tx,
        id,
        {
          name: changes.name?.trim(),
          status: changes.status,
          ...controls,
          metadata: metadataChange(changes),
        },
        now,
      );
      await followLimits(
        tx,
        { scope: "wallet", id, walletId: id },
        current.spending_limits,
        row.spending_limits,
        now,
      );
      await recordAudit(tx, now, {
        action: "wallet.updated",
        resourceType: "wallet",
        resourceId: id,
        changes: changedFields(auditedFields(current), auditedFields(row)),
      });
      const wallet = toWallet(row);
      await appendEvent(tx, "wallet.updated", wallet);
      return wallet;
    });
  }

  delete(id: string): Promise<Wallet> {
    return this.db.transaction(async (tx) => {
      const locked = await lockWalletForMoney(tx, this.clock, (tx) => lockWallet(tx, id));
      const wallet = found(locked.wallet, () => walletNotFound(id));
      const [deleted] = await this.deleteEmpty(tx, [wallet], locked.now);
      await recordAudit(tx, locked.now, { action: "wallet.deleted", resourceType: "wallet", resourceId: id });
      return found(deleted, () => walletNotFound(id));
    });
  }

  deleteAllOf(owner: WalletOwner): Promise<{ data: Wallet[] }> {
    return this.db.transaction(async (tx) => {
      await this.requireOwner(tx, owner, "FOR UPDATE");
      const now = this.clock();
      const data = await this.deleteOwnedBy(tx, owner, () => now);
      const [resourceType, resourceId] = "userId" in owner ? ["user", owner.userId] : ["team", owner.teamId];
      await recordAudit(tx, now, {
        action: `${resourceType}.wallets_deleted`,
        resourceType,
        resourceId,
        changes: { deletedWalletIds: data.map((wallet) => wallet.id) },
      });
      return { data };
    });
  }

  /**
   * Inside the caller's transaction: soft-deletes every wallet of `owner` and their cards, all or
   * nothing, refusing with 409 wallet_not_empty while any of them holds money. `clock` is the
   * transaction's: a cascade passes the one "now" all its deletions carry.
   */
  async deleteOwnedBy(tx: Queryable, owner: WalletOwner, clock: Clock): Promise<Wallet[]> {
    const { wallets, now } = await lockWalletsForMoney(tx, clock, (tx) =>
      walletsRepository.lockOwnedBy(tx, owner),
    );
    return this.deleteEmpty(tx, wallets, now);
  }

  /** Deletes locked wallets that passed the money gate (their holds past their time are expired). */
  private async deleteEmpty(tx: Queryable, wallets: WalletRow[], now: Date): Promise<Wallet[]> {
    const nonEmpty = wallets.find((wallet) => wallet.balance !== 0 || wallet.held !== 0);
    if (nonEmpty) throw walletNotEmpty(nonEmpty.id);
    const ids = wallets.map((wallet) => wallet.id);
    // Empty wallets: none of their cards has a pending hold.
    const cards = await cardsRepository.softDelete(tx, { walletIds: ids }, now);
    const deleted = await walletsRepository.softDeleteMany(tx, ids, now);
    const gone = deleted.sort((a, b) => a.id.localeCompare(b.id)).map(toWallet);
    await appendEvents(tx, [
      ...cards.map((card) => ({ type: "card.deleted" as const, object: toCard(card) })),
      ...gone.map((wallet) => ({ type: "wallet.deleted" as const, object: wallet })),
    ]);
    return gone;
  }

  private async requireOwner(
    tx: Queryable,
    owner: WalletOwner,
    lock: "FOR SHARE" | "FOR UPDATE",
  ): Promise<void> {
    if ("userId" in owner) {
      if (!(await usersRepository.find(tx, owner.userId, lock))) throw userNotFound(owner.userId);
    } else if (!(await teamsRepository.find(tx, owner.teamId, lock))) {
      throw teamNotFound(owner.teamId);
    }
  }
}
