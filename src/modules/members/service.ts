import type { Clock } from "../../platform/clock.ts";
import type { Database } from "../../platform/db.ts";
import { found } from "../../platform/errors.ts";
import { listOptions, type Page, toPage } from "../../platform/pagination.ts";
import { appendEvent, appendEvents } from "../events/outbox.ts";
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
      const membership = await membersRepository.insert(
        tx,
        { teamId, userId: input.userId, role: input.role ?? "member" },
        this.clock(),
      );
      await appendEvent(tx, "member.added", membership);
      return membership;
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

  async list(query: ListMembershipsQuery): Promise<Page<Membership>> {
    const options = listOptions(query, "createdAt");
    const { teamId, userId, role } = query;
    return toPage(
      await membersRepository.list(this.db, { teamId, userId, role }, options),
      options,
      (member) => member,
    );
  }

  async teamsOfUser(userId: string, query: ListUserTeamsQuery): Promise<Page<UserTeam>> {
    await this.requireUser(userId);
    const options = listOptions(query, "createdAt");
    return toPage(await membersRepository.teamsOfUser(this.db, userId, options), options, (team) => team);
  }

  async changeRole(teamId: string, userId: string, role: Role): Promise<Membership> {
    await this.requireTeam(teamId);
    return this.db.transaction(async (tx) => {
      const membership = found(
        await membersRepository.updateRole(tx, teamId, userId, role, this.clock()),
        memberNotFound,
      );
      await appendEvent(tx, "member.updated", membership);
      return membership;
    });
  }

  async remove(teamId: string, userId: string): Promise<Membership> {
    await this.requireTeam(teamId);
    return this.db.transaction(async (tx) => {
      const membership = found(
        await membersRepository.softDelete(tx, teamId, userId, this.clock()),
        memberNotFound,
      );
      await appendEvent(tx, "member.removed", membership);
      return membership;
    });
  }

  async removeAllOfTeam(teamId: string): Promise<{ data: Membership[] }> {
    await this.requireTeam(teamId);
    return { data: await this.removeAll({ teamId }) };
  }

  async removeAllOfUser(userId: string): Promise<{ data: Membership[] }> {
    await this.requireUser(userId);
    return { data: await this.removeAll({ userId }) };
  }

  private removeAll(owner: { teamId: string } | { userId: string }): Promise<Membership[]> {
    return this.db.transaction(async (tx) => {
      const memberships = await membersRepository.softDeleteAll(tx, owner, this.clock());
      await appendEvents(
        tx,
        memberships.map((membership) => ({ type: "member.removed" as const, object: membership })),
      );
      return memberships;
    });
  }

  private async requireTeam(teamId: string): Promise<void> {
    if (!(await teamsRepository.find(this.db, teamId))) throw teamNotFound(teamId);
  }

  private async requireUser(userId: string): Promise<void> {
    if (!(await usersRepository.find(this.db, userId))) throw userNotFound(userId);
  }
}
