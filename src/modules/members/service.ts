import type { Reach } from "../../platform/auth.ts";
import type { Clock } from "../../platform/clock.ts";
import type { Database } from "../../platform/db.ts";
import { found } from "../../platform/errors.ts";
import { listOptions, type Page, toPage } from "../../platform/pagination.ts";
import { teamNotFound } from "../teams/errors.ts";
import { teamsRepository } from "../teams/repository.ts";
import { userNotFound } from "../users/errors.ts";
import { usersRepository } from "../users/repository.ts";
import { memberNotFound } from "./errors.ts";
import type {
  AddMember,
  ListMembershipsQuery,
  ListMembersQuery,
  ListUserTeamsQuery,
  Membership,
  Role,
  UserTeam,
} from "./model.ts";
import { membersRepository } from "./repository.ts";

export class MembersService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /** Adds a user to a team; both are share-locked so neither can be deleted while the row goes in. */
  add(teamId: string, input: AddMember): Promise<Membership> {
    return this.db.transaction(async (tx) => {
      if (!(await teamsRepository.find(tx, teamId, "FOR SHARE"))) throw teamNotFound(teamId);
      if (!(await usersRepository.find(tx, input.userId, "FOR SHARE"))) throw userNotFound(input.userId);
      return membersRepository.insert(
        tx,
        { teamId, userId: input.userId, role: input.role ?? "member" },
        this.clock(),
      );
    });
  }

  async listOfTeam(teamId: string, query: ListMembersQuery): Promise<Page<Membership>> {
    await this.requireTeam(teamId);
    const options = listOptions(query, "createdAt");
    return toPage(await membersRepository.listOfTeam(this.db, teamId, options), options, (member) => member);
  }

  /** The user's membership of the team: whether, and as what, the user belongs to it. */
  async get(teamId: string, userId: string): Promise<Membership> {
    await this.requireTeam(teamId);
    return found(await membersRepository.find(this.db, teamId, userId), memberNotFound);
  }

  /** Live memberships within `reach`. */
  async list(query: ListMembershipsQuery, reach: Reach): Promise<Page<Membership>> {
    const options = listOptions(query, "createdAt");
    const { teamId, userId, role } = query;
    return toPage(
      await membersRepository.list(this.db, { teamId, userId, role }, reach, options),
      options,
      (member) => member,
    );
  }

  /** The user's teams within `reach`: a key bound to one team sees only that one of a member's teams. */
  async teamsOfUser(userId: string, query: ListUserTeamsQuery, reach: Reach): Promise<Page<UserTeam>> {
    await this.requireUser(userId);
    const options = listOptions(query, "createdAt");
    return toPage(
      await membersRepository.teamsOfUser(this.db, userId, reach, options),
      options,
      (team) => team,
    );
  }

  async changeRole(teamId: string, userId: string, role: Role): Promise<Membership> {
    await this.requireTeam(teamId);
    return found(
      await membersRepository.updateRole(this.db, teamId, userId, role, this.clock()),
      memberNotFound,
    );
  }

  async remove(teamId: string, userId: string): Promise<Membership> {
    await this.requireTeam(teamId);
    return found(await membersRepository.softDelete(this.db, teamId, userId, this.clock()), memberNotFound);
  }

  async removeAllOfTeam(teamId: string): Promise<{ data: Membership[] }> {
    await this.requireTeam(teamId);
    return { data: await membersRepository.softDeleteAll(this.db, { teamId }, this.clock()) };
  }

  async removeAllOfUser(userId: string): Promise<{ data: Membership[] }> {
    await this.requireUser(userId);
    return { data: await membersRepository.softDeleteAll(this.db, { userId }, this.clock()) };
  }

  private async requireTeam(teamId: string): Promise<void> {
    if (!(await teamsRepository.find(this.db, teamId))) throw teamNotFound(teamId);
  }

  private async requireUser(userId: string): Promise<void> {
    if (!(await usersRepository.find(this.db, userId))) throw userNotFound(userId);
  }
}
