import type { Clock } from "../../platform/clock.ts";
import type { Database } from "../../platform/db.ts";
import { found } from "../../platform/errors.ts";
import { metadataChange, metadataOf } from "../../platform/metadata.ts";
import { listOptions, type Page, toPage } from "../../platform/pagination.ts";
import { cardsRepository } from "../cards/repository.ts";
import { refuseCardsWithPendingHolds } from "../cards/service.ts";
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
    return usersRepository.insert(
      this.db,
      {
        id: Bun.randomUUIDv7(),
        email: input.email.trim(),
        name: input.name.trim(),
        metadata: metadataOf(input),
      },
      this.clock(),
    );
  }

  async get(id: string): Promise<User> {
    return found(await usersRepository.find(this.db, id), () => userNotFound(id));
  }

  async list(query: ListUsersQuery): Promise<Page<User>> {
    const options = listOptions(query, "createdAt");
    const rows = await usersRepository.list(this.db, { email: query.email }, options);
    return toPage(rows, options, (user) => user);
  }

  async update(id: string, changes: UpdateUser): Promise<User> {
    const updated = await usersRepository.update(
      this.db,
      id,
      { email: changes.email?.trim(), name: changes.name?.trim(), metadata: metadataChange(changes) },
      this.clock(),
    );
    return found(updated, () => userNotFound(id));
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
      await cardsRepository.softDelete(tx, heldCards, now);
      await membersRepository.softDeleteAll(tx, { userId: id }, now);
      return usersRepository.softDelete(tx, id, now);
    });
  }
}
