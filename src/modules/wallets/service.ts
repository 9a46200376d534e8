import type { Clock } from "../../platform/clock.ts";
import type { Config } from "../../platform/config.ts";
import { isCurrency } from "../../platform/currency.ts";
import type { Database, Queryable } from "../../platform/db.ts";
import { badRequest, conflict, found, notFound, SqlState } from "../../platform/errors.ts";
import { listOptions, type Page, toPage } from "../../platform/pagination.ts";
import { expireDueHolds } from "../authorizations/service.ts";
import { cardsRepository } from "../cards/repository.ts";
import { teamsRepository } from "../teams/repository.ts";
import { usersRepository } from "../users/repository.ts";
import { initialLimits, resolveLimits } from "./limits.ts";
import type { CreateWallet, ListWalletsQuery, UpdateWallet, Wallet } from "./model.ts";
import { toWallet, type WalletOwner, type WalletRow, walletsRepository } from "./repository.ts";

export const walletNotFound = (id: string) => notFound("wallet", id);

function checkCurrency(currency: string): string {
  if (!isCurrency(currency)) throw badRequest("invalid_currency", `${currency} is not an ISO 4217 currency.`);
  return currency;
}

const invalidTimezone = (timezone: string) =>
  badRequest("invalid_timezone", `${timezone} is not an IANA time zone.`);

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

function ownerOf(input: { userId?: string; teamId?: string }): WalletOwner {
  if (input.userId !== undefined && input.teamId === undefined) return { userId: input.userId };
  if (input.teamId !== undefined && input.userId === undefined) return { teamId: input.teamId };
  throw badRequest(
    "invalid_wallet_owner",
    "A wallet belongs to exactly one owner: give userId or teamId, not both.",
  );
}

const walletNotEmpty = (wallet: WalletRow) =>
  conflict(
    "wallet_not_empty",
    `Wallet ${wallet.id} still holds money or pending card holds; settle and withdraw or transfer it first.`,
  );

export class WalletsService {
  constructor(
    private readonly db: Database,
    private readonly config: Pick<Config, "DEFAULT_CURRENCY">,
    private readonly clock: Clock,
  ) {}

  /** Creates a wallet; the owner is share-locked so it cannot be deleted while the wallet goes in. */
  async create(input: CreateWallet): Promise<Wallet> {
    const owner = ownerOf(input);
    const limits = initialLimits(input);
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
          ...limits,
        },
        this.clock(),
      );
      return toWallet(row);
    });
  }

  async get(id: string): Promise<Wallet> {
    return toWallet(
      found(await walletsRepository.findView(this.db, id, this.clock()), () => walletNotFound(id)),
    );
  }

  async list(query: ListWalletsQuery): Promise<Page<Wallet>> {
    const options = listOptions(query, "createdAt");
    const rows = await walletsRepository.list(this.db, query, options, this.clock());
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
      const limits = resolveLimits(
        { dailyLimit: current.daily_limit, monthlyLimit: current.monthly_limit },
        changes,
      );
      const row = await walletsRepository.update(
        tx,
        id,
        { name: changes.name?.trim(), status: changes.status, ...limits },
        this.clock(),
      );
      return toWallet(row);
    });
  }

  delete(id: string): Promise<Wallet> {
    return this.db.transaction(async (tx) => {
      const wallet = found(await walletsRepository.find(tx, id, "FOR UPDATE"), () => walletNotFound(id));
      const [deleted] = await this.deleteLocked(tx, [wallet]);
      return found(deleted, () => walletNotFound(id));
    });
  }

  deleteAllOf(owner: WalletOwner): Promise<{ data: Wallet[] }> {
    return this.db.transaction(async (tx) => {
      await this.requireOwner(tx, owner, "FOR UPDATE");
      return { data: await this.deleteOwnedBy(tx, owner) };
    });
  }

  /**
   * Inside the caller's transaction: soft-deletes every wallet of `owner` and their cards, all or
   * nothing, refusing with 409 wallet_not_empty while any of them holds money.
   */
  async deleteOwnedBy(tx: Queryable, owner: WalletOwner): Promise<Wallet[]> {
    return this.deleteLocked(tx, await walletsRepository.lockOwnedBy(tx, owner));
  }

  private async deleteLocked(tx: Queryable, wallets: WalletRow[]): Promise<Wallet[]> {
    // Holds past their time no longer keep a wallet from being deleted.
    for (const wallet of wallets) {
      if (wallet.held > 0) wallet.held -= await expireDueHolds(tx, wallet.id, this.clock());
    }
    const nonEmpty = wallets.find((wallet) => wallet.balance !== 0 || wallet.held !== 0);
    if (nonEmpty) throw walletNotEmpty(nonEmpty);
    const ids = wallets.map((wallet) => wallet.id);
    // Empty wallets: none of their cards has a pending hold.
    await cardsRepository.softDelete(tx, { walletIds: ids }, this.clock());
    const deleted = await walletsRepository.softDeleteMany(tx, ids, this.clock());
    return deleted.sort((a, b) => a.id.localeCompare(b.id)).map(toWallet);
  }

  private async requireOwner(
    tx: Queryable,
    owner: WalletOwner,
    lock: "FOR SHARE" | "FOR UPDATE",
  ): Promise<void> {
    if ("userId" in owner) {
      if (!(await usersRepository.find(tx, owner.userId, lock))) throw notFound("user", owner.userId);
    } else if (!(await teamsRepository.find(tx, owner.teamId, lock))) {
      throw notFound("team", owner.teamId);
    }
  }
}
