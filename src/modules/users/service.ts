import type { Reach } from "../../platform/auth.ts";
import type { Clock } from "../../platform/clock.ts";
import type { Database } from "../../platform/db.ts";
import { found } from "../../platform/errors.ts";
import { metadataChange, metadataOf } from "../../platform/metadata.ts";
import { listOptions, type Page, toPage } from "../../platform/pagination.ts";
import { recordAudit } from "../audit/repository.ts";
import { cardsRepository, toCard } from "../cards/repository.ts";
import { refuseCardsWithPendingHolds } from "../cards/service.ts";
import { appendEvent, appendEvents } from "../events/outbox.ts";
import { membersRepository } from "../members/repository.ts";
import type { WalletsService } from "../wallets/service.ts";
import { userNotFound } from "./errors.ts";
import type { CreateUser, ListUsersQuery, UpdateUser, User } from "./model.ts";
import { usersRepository } from "./repository.ts";

export class UsersService {
  constructor(
    private readonly db: Database,
    private readonly wallets: WalletsService,
    private readonly clock: Clock,
  ) {}

  create(input: CreateUser): Promise<User> {
    return this.db.transaction(async (tx) => {
      const user = await usersRepository.insert(
        tx,
        {
          id: Bun.randomUUIDv7(),
          email: input.email.trim(),
          name: input.name.trim(),
          metadata: metadataOf(input),
        },
        this.clock(),
      );
      await appendEvent(tx, "user.created", user);
      return user;
    });
  }

  async get(id: string): Promise<User> {
    return found(await usersRepository.find(this.db, id), () => userNotFound(id));
  }

  /** Live users within `reach`. */
  async list(query: ListUsersQuery, reach: Reach): Promise<Page<User>> {
    const options = listOptions(query, "createdAt");
    const rows = await usersRepository.list(this.db, { email: query.email }, reach, options);
    return toPage(rows, options, (user) => user);
  }

  update(id: string, changes: UpdateUser): Promise<User> {
    return this.db.transaction(async (tx) => {
      const updated = await usersRepository.update(
        tx,
        id,
        { email: changes.email?.trim(), name: changes.name?.trim(), metadata: metadataChange(changes) },
        this.clock(),
      );
      const user = found(updated, () => userNotFound(id));
      await appendEvent(tx, "user.updated", user);
      return user;
    });
  }

  /**
   * Deletes the user with everything that only exists through them: their memberships, the wallets
   * they own with those wallets' cards, and the cards they hold on team wallets. Refused while any of
   * their wallets holds money, or any of those cards a pending hold.
   */
  delete(id: string): Promise<User> {
    return this.db.transaction(async (tx) => {
      if (!(await usersRepository.find(tx, id, "FOR UPDATE"))) throw userNotFound(id);
      // One "now" for the whole cascade: everything it deletes carries the same deletedAt.
      const now = this.clock();
      const cascadeClock = () => now;
      await this.wallets.deleteOwnedBy(tx, { userId: id }, cascadeClock);
      const heldCards = { cardholderId: id };
      await refuseCardsWithPendingHolds(tx, heldCards, cascadeClock);
      const cards = await cardsRepository.softDelete(tx, heldCards, now);
      const memberships = await membersRepository.softDeleteAll(tx, { userId: id }, now);
      await recordAudit(tx, now, { action: "user.deleted", resourceType: "user", resourceId: id });
      const user = await usersRepository.softDelete(tx, id, now);
      await appendEvents(tx, [
        ...cards.map((card) => ({ type: "card.deleted" as const, object: toCard(card) })),
        ...memberships.map((membership) => ({ type: "member.removed" as const, object: membership })),
        { type: "user.deleted", object: user },
      ]);
      return user;
    });
  }
}
