import type { Reach } from "../../platform/auth.ts";
import type { Clock } from "../../platform/clock.ts";
import type { Database } from "../../platform/db.ts";
import { found } from "../../platform/errors.ts";
import { metadataChange, metadataOf } from "../../platform/metadata.ts";
import { listOptions, type Page, toPage } from "../../platform/pagination.ts";
import { recordAudit } from "../audit/repository.ts";
import { appendEvent, appendEvents } from "../events/outbox.ts";
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
    return this.db.transaction(async (tx) => {
      const team = await teamsRepository.insert(
        tx,
        { id: Bun.randomUUIDv7(), name: input.name.trim(), metadata: metadataOf(input) },
        this.clock(),
      );
      await appendEvent(tx, "team.created", team);
      return team;
    });
  }

  async get(id: string): Promise<Team> {
    return found(await teamsRepository.find(this.db, id), () => teamNotFound(id));
  }

  /** Live teams within `reach`. */
  async list(query: ListTeamsQuery, reach: Reach): Promise<Page<Team>> {
    const options = listOptions(query, "createdAt");
    return toPage(await teamsRepository.list(this.db, reach, options), options, (team) => team);
  }

  update(id: string, changes: UpdateTeam): Promise<Team> {
    return this.db.transaction(async (tx) => {
      const updated = await teamsRepository.update(
        tx,
        id,
        { name: changes.name?.trim(), metadata: metadataChange(changes) },
        this.clock(),
      );
      const team = found(updated, () => teamNotFound(id));
      await appendEvent(tx, "team.updated", team);
      return team;
    });
  }

  /** Deletes the team, its memberships and its wallets with their cards; refused while a wallet holds money. */
  delete(id: string): Promise<Team> {
    return this.db.transaction(async (tx) => {
      if (!(await teamsRepository.find(tx, id, "FOR UPDATE"))) throw teamNotFound(id);
      // One "now" for the whole cascade: everything it deletes carries the same deletedAt.
      const now = this.clock();
      await this.wallets.deleteOwnedBy(tx, { teamId: id }, () => now);
      const memberships = await membersRepository.softDeleteAll(tx, { teamId: id }, now);
      await recordAudit(tx, now, { action: "team.deleted", resourceType: "team", resourceId: id });
      const team = await teamsRepository.softDelete(tx, id, now);
      await appendEvents(tx, [
        ...memberships.map((membership) => ({ type: "member.removed" as const, object: membership })),
        { type: "team.deleted", object: team },
      ]);
      return team;
    });
  }
}
