import type { Reach } from "../../platform/auth.ts";
import type { Clock } from "../../platform/clock.ts";
import type { Database, Queryable } from "../../platform/db.ts";
import { ApiError, badRequest, conflict, found } from "../../platform/errors.ts";
import { metadataChange, metadataOf } from "../../platform/metadata.ts";
import { listOptions, type Page, toPage } from "../../platform/pagination.ts";
import { ReadBatch } from "../../platform/read-batch.ts";
import { changedFields, recordAudit } from "../audit/repository.ts";
import { followLimits } from "../authorizations/spend-windows.ts";
import { appendEvent, appendEvents } from "../events/outbox.ts";
import { membersRepository } from "../members/repository.ts";
import type { User } from "../users/model.ts";
import { usersRepository } from "../users/repository.ts";
import { walletNotFound } from "../wallets/errors.ts";
import { initialLimits } from "../wallets/limits.ts";
import { lockWallets, lockWalletsForMoney } from "../wallets/money-gate.ts";
import { type WalletRow, walletsRepository } from "../wallets/repository.ts";
import { NEW_CONTROLS, resolveControls } from "../wallets/spending-controls.ts";
import { brandOf, isExpired, issueCard, luhnValid } from "./card-number.ts";
import { cardHasPendingHolds, cardholderNotAllowed, cardNotFound, cardNumberTaken } from "./errors.ts";
import type { Card, CreateCard, ListCardsQuery, SensitiveCard, UpdateCard } from "./model.ts";
import {
  type CardRow,
  type CardSelection,
  type CardView,
  cardsRepository,
  type SealedNumber,
  toCard,
} from "./repository.ts";
import type { CardVault } from "./vault.ts";

/**
 * Before cards are deleted: refuses while any of them has a pending hold (409 card_has_pending_holds).
 * A hold is a merchant's claim that may still be captured, so it is settled (captured, voided or
 * expired) before its card goes; see docs/decisions.md. The cards' wallets pass the money gate first,
 * so no spend adds a hold between this check and the delete, and holds that have run out are expired
 * rather than counted. Gives back the "now" the gate read from `clock`.
 */
export async function refuseCardsWithPendingHolds(
  tx: Queryable,
  selection: CardSelection,
  clock: Clock,
): Promise<Date> {
  const walletIds = await cardsRepository.walletIdsOf(tx, selection);
  const { now } = await lockWalletsForMoney(tx, clock, (tx) => lockWallets(tx, walletIds));
  const holding = await cardsRepository.withPendingHold(tx, selection);
  if (holding !== undefined) throw cardHasPendingHolds(holding);
  return now;
}

/** What card.updated records of a card: never its number or CVV (a new CVV is noted, not shown). */
const auditedFields = (card: CardRow) => ({
  status: card.status,
  dailyLimit: card.daily_limit,
  monthlyLimit: card.monthly_limit,
  cardholderId: card.cardholder_id,
  last4: card.last4,
  expiryMonth: card.expiry_month,
  expiryYear: card.expiry_year,
  allowedCategories: card.allowed_categories,
  blockedCategories: card.blocked_categories,
  spendingLimits: card.spending_limits,
});

/** Plain card details as a client gives them (or as the service issues them), before sealing. */
interface CardDetails {
  number: string;
  cvv: string;
  expiryMonth: number;
  expiryYear: number;
}

function checkNumber(number: string): string {
  if (!luhnValid(number)) throw badRequest("invalid_card_number", "The card number fails the Luhn check.");
  return number;
}

function checkExpiry(month: number, year: number, now: Date): void {
  if (isExpired(month, year, now))
    throw badRequest("card_expired", `The card expired at the end of ${month}/${year}.`);
}

interface DetailInput {
  cardNo?: string;
  expiryMonth?: string;
  expiryYear?: string;
  cvv?: string;
}

/** A client-given number comes with its expiry and CVV, all three validated. */
function detailsWithNumber(cardNo: string, input: DetailInput, now: Date): CardDetails {
  const { expiryMonth, expiryYear, cvv } = input;
  if (expiryMonth === undefined || expiryYear === undefined || cvv === undefined) {
    throw badRequest(
      "incomplete_card_details",
      "With cardNo, expiryMonth, expiryYear and cvv are all required.",
    );
  }
  const details = {
    number: checkNumber(cardNo),
    cvv,
    expiryMonth: Number(expiryMonth),
    expiryYear: Number(expiryYear),
  };
  checkExpiry(details.expiryMonth, details.expiryYear, now);
  return details;
}

/** The details a create request gives, or undefined when the service is to issue them. */
function givenDetails(input: DetailInput, now: Date): CardDetails | undefined {
  if (input.cardNo !== undefined) return detailsWithNumber(input.cardNo, input, now);
  if (input.expiryMonth !== undefined || input.expiryYear !== undefined || input.cvv !== undefined) {
    throw badRequest(
      "incomplete_card_details",
      "expiryMonth, expiryYear and cvv are given together with cardNo.",
    );
  }
  return undefined;
}

export class CardsService {
  /** GET /v1/cards/{id} under load: the reads of one turn in one statement. */
  private readonly reads: ReadBatch<CardView>;

  constructor(
    private readonly db: Database,
    private readonly vault: CardVault,
    private readonly clock: Clock,
  ) {
    this.reads = new ReadBatch(
      db,
      (ids) => cardsRepository.findViews(db, ids, clock()),
      (row) => row.id,
    );
  }

  /** Issues a card on a wallet; with no number given, the service makes one (retrying a rare collision). */
  async create(input: CreateCard): Promise<Card> {
    const controls = resolveControls(NEW_CONTROLS, input, initialLimits);
    const now = this.clock();
    const given = givenDetails(input, now);
    for (let attempt = 1; ; attempt++) {
      const details = given ?? issueCard(now);
      try {
        return await this.db.transaction(async (tx) => {
          // Lock order everywhere: user, then wallet, then card (as a user's deletion takes them).
          const cardholder = await this.lockCardholder(tx, input.cardholderId);
          const wallet = found(await walletsRepository.find(tx, input.walletId, "FOR SHARE"), () =>
            walletNotFound(input.walletId),
          );
          if (cardholder !== undefined) await this.checkCardholder(tx, wallet, cardholder);
          const id = Bun.randomUUIDv7();
          const row = await cardsRepository.insert(
            tx,
            {
              id,
              walletId: wallet.id,
              cardholderId: input.cardholderId ?? null,
              ...(await this.sealNumber(details.number, id)),
              cvvCiphertext: await this.vault.seal(details.cvv, id),
              expiryMonth: details.expiryMonth,
              expiryYear: details.expiryYear,
              ...controls,
              metadata: metadataOf(input),
            },
            now,
          );
          const card = toCard(row);
          await appendEvent(tx, "card.created", card);
          return card;
        });
      } catch (error) {
        // An issued number that collides with a live card is drawn again; a given one is the client's.
        const issuedCollision =
          given === undefined && error instanceof ApiError && error.code === "card_number_taken";
        if (issuedCollision && attempt < 3) continue;
        throw error;
      }
    }
  }

  async get(id: string): Promise<Card> {
    return toCard(found(await this.reads.load(id), () => cardNotFound(id)));
  }

  /** Live cards within `reach`. */
  async list(query: ListCardsQuery, reach: Reach): Promise<Page<Card>> {
    const options = listOptions(query, "createdAt");
    return toPage(await cardsRepository.list(this.db, query, reach, options, this.clock()), options, toCard);
  }

  /** The full number and CVV, decrypted: only this route ever shows them, and each time is audited. */
  async reveal(id: string): Promise<SensitiveCard> {
    const secrets = await this.db.transaction(async (tx) => {
      const sealed = found(await cardsRepository.findSecrets(tx, id), () => cardNotFound(id));
      await recordAudit(tx, this.clock(), { action: "card.revealed", resourceType: "card", resourceId: id });
      return sealed;
    });
    return {
      number: await this.vault.open(secrets.number_ciphertext, id),
      cvv: await this.vault.open(secrets.cvv_ciphertext, id),
      expiryMonth: String(secrets.expiry_month).padStart(2, "0"),
      expiryYear: String(secrets.expiry_year),
    };
  }

  update(id: string, changes: UpdateCard): Promise<Card> {
    return this.db.transaction(async (tx) => {
      const cardholder = await this.lockCardholder(tx, changes.cardholderId ?? undefined);
      // New limits move the card's spend windows: its wallet's lock keeps spends out meanwhile.
      if (changes.spendingControls?.limits !== undefined) {
        await lockWallets(tx, await cardsRepository.walletIdsOf(tx, { id }));
      }
      const card = found(await cardsRepository.find(tx, id, "FOR UPDATE"), () => cardNotFound(id));
      const now = this.clock();
      if (changes.walletId !== undefined && changes.walletId !== card.wallet_id) {
        throw badRequest("card_wallet_immutable", "A card never moves to another wallet.");
      }
      if (card.status === "cancelled")
        throw conflict("card_cancelled", "The card is cancelled; that is final.");
      const controls = resolveControls(card, changes);
      if (cardholder !== undefined) {
        const wallet = found(await walletsRepository.find(tx, card.wallet_id), () =>
          walletNotFound(card.wallet_id),
        );
        await this.checkCardholder(tx, wallet, cardholder);
      }
      const row = await cardsRepository.update(
        tx,
        id,
        {
          ...(await this.detailChanges(card, changes, now)),
          ...controls,
          status: changes.status,
          cardholderId: changes.cardholderId,
          metadata: metadataChange(changes),
        },
        now,
      );
      await followLimits(
        tx,
        { scope: "card", id, walletId: card.wallet_id },
        card.spending_limits,
        row.spending_limits,
        now,
      );
      await recordAudit(tx, now, {
        action: "card.updated",
        resourceType: "card",
        resourceId: id,
        changes: {
          ...changedFields(auditedFields(card), auditedFields(row)),
          ...(changes.cvv === undefined ? {} : { cvv: "replaced" }),
        },
      });
      const updated = toCard(row);
      await appendEvent(tx, "card.updated", updated);
      return updated;
    });
  }

  delete(id: string): Promise<Card> {
    return this.db.transaction(async (tx) => {
      const now = await refuseCardsWithPendingHolds(tx, { id }, this.clock);
      const [deleted] = await cardsRepository.softDelete(tx, { id }, now);
      const card = toCard(found(deleted, () => cardNotFound(id)));
      await recordAudit(tx, now, { action: "card.deleted", resourceType: "card", resourceId: id });
      await appendEvent(tx, "card.deleted", card);
      return card;
    });
  }

  deleteAllOfWallet(walletId: string): Promise<{ data: Card[] }> {
    return this.db.transaction(async (tx) => {
      // No lock here: the wallet is locked for update by the hold check, and a share lock first could deadlock.
      if (!(await walletsRepository.find(tx, walletId))) throw walletNotFound(walletId);
      const ofWallet = { walletIds: [walletId] };
      const now = await refuseCardsWithPendingHolds(tx, ofWallet, this.clock);
      const rows = await cardsRepository.softDelete(tx, ofWallet, now);
      const cards = rows.sort((a, b) => a.id.localeCompare(b.id)).map(toCard);
      await recordAudit(tx, now, {
        action: "wallet.cards_deleted",
        resourceType: "wallet",
        resourceId: walletId,
        changes: { deletedCardIds: cards.map((card) => card.id) },
      });
      await appendEvents(
        tx,
        cards.map((card) => ({ type: "card.deleted" as const, object: card })),
      );
      return { data: cards };
    });
  }

  /**
   * The number, expiry and CVV changes of a PATCH. A new number needs all three details; an expiry
   * is changed as month and year together; a CVV may change alone.
   */
  private async detailChanges(card: CardRow, changes: UpdateCard, now: Date) {
    if (changes.cardNo !== undefined) {
      const details = detailsWithNumber(changes.cardNo, changes, now);
      return {
        sealedNumber: await this.sealNumber(details.number, card.id),
        cvvCiphertext: await this.vault.seal(details.cvv, card.id),
        expiryMonth: details.expiryMonth,
        expiryYear: details.expiryYear,
      };
    }
    if ((changes.expiryMonth === undefined) !== (changes.expiryYear === undefined)) {
      throw badRequest("incomplete_card_details", "expiryMonth and expiryYear change together.");
    }
    const expiry =
      changes.expiryMonth !== undefined && changes.expiryYear !== undefined
        ? { expiryMonth: Number(changes.expiryMonth), expiryYear: Number(changes.expiryYear) }
        : {};
    if (expiry.expiryMonth !== undefined && expiry.expiryYear !== undefined) {
      checkExpiry(expiry.expiryMonth, expiry.expiryYear, now);
    }
    const cvvCiphertext = changes.cvv === undefined ? undefined : await this.vault.seal(changes.cvv, card.id);
    return { ...expiry, cvvCiphertext };
  }

  /**
   * Runs inside the card's transaction. The unique index catches a number taken under the current
   * key; during a key rotation a card not yet re-encrypted has its number under the previous one.
   */
  private async sealNumber(number: string, cardId: string): Promise<SealedNumber> {
    const previousFingerprints = await this.vault.previousFingerprints(number);
    if (
      previousFingerprints.length > 0 &&
      (await cardsRepository.fingerprintTaken(this.db, previousFingerprints, cardId))
    ) {
      throw cardNumberTaken();
    }
    return {
      brand: brandOf(number),
      last4: number.slice(-4),
      fingerprint: await this.vault.fingerprint(number),
      numberCiphertext: await this.vault.seal(number, cardId),
    };
  }

  /**
   * Share-locks the would-be cardholder, so they cannot be deleted while they get the card; a user
   * who does not exist is as much not allowed as one who is not the owner or a member.
   */
  private async lockCardholder(tx: Queryable, userId: string | undefined): Promise<User | undefined> {
    if (userId === undefined) return undefined;
    return found(await usersRepository.find(tx, userId, "FOR SHARE"), cardholderNotAllowed);
  }

  /** The cardholder must be the wallet's user, or a member of the wallet's team. */
  private async checkCardholder(tx: Queryable, wallet: WalletRow, cardholder: User): Promise<void> {
    const allowed =
      wallet.user_id === cardholder.id ||
      (wallet.team_id !== null &&
        (await membersRepository.find(tx, wallet.team_id, cardholder.id)) !== undefined);
    if (!allowed) throw cardholderNotAllowed();
  }
}
