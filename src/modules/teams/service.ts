import type { Clock } from "../../platform/clock.ts";
import type { Database } from "../../platform/db.ts";
import { found } from "../../platform/errors.ts";
import { metadataChange, metadataOf } from "../../platform/metadata.ts";
import { listOptions, type Page, toPage } from "../../platform/pagination.ts";
import { membersRepository } from "../members/repository.ts";
import type { WalletsService } from "../wallets/service.ts";
import { teamNotFound } from "./errors.ts";
import type { CreateTeam, ListTeamsQuery, Team, UpdateTeam } from "./model.ts";
import { teamsRepository } from "./repository.ts";

export class TeamsService {
  constructor(
    private readonly db: Database,
    private readonly wallets: WalletsService,
    private readonly clock: Clock,
  ) {}

  create(input: CreateTeam): Promise<Team> {
    return teamsRepository.insert(
      this.db,
      { id: Bun.randomUUIDv7(), name: input.name.trim(), metadata: metadataOf(input) },
      this.clock(),
    );
  }

  async get(id: string): Promise<Team> {
    return found(await teamsRepository.find(this.db, id), () => teamNotFound(id));
  }

  async list(query: ListTeamsQuery): Promise<Page<Team>> {
    const options = listOptions(query, "createdAt");
    return toPage(await teamsRepository.list(this.db, options), options, (team) => team);
  }

  async update(id: string, changes: UpdateTeam): Promise<Team> {
    const updated = await teamsRepository.update(
      this.db,
      id,
      { name: changes.name?.trim(), metadata: metadataChange(changes) },
      this.clock(),
    );
    return found(updated, () => teamNotFound(id));
  }

  /** Deletes the team, its memberships and its wallets with their cards; refused while a wallet holds money. */
  delete(id: string): Promise<Team> {
    return this.db.transaction(async (tx) => {
      if (!(await teamsRepository.find(tx, id, "FOR UPDATE"))) throw teamNotFound(id);
      // One "now" for the whole cascade: everything it deletes carries the same deletedAt.
      const now = this.clock();
      await this.wallets.deleteOwnedBy(tx, { teamId: id }, () => now);
      await membersRepository.softDeleteAll(tx, { teamId: id }, now);
      return teamsRepository.softDelete(tx, id, now);
    });
  }
}
