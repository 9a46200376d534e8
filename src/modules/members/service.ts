import type { Reach } from "../../platform/auth.ts";
import type { Clock } from "../../platform/clock.ts";
import type { Database, Queryable } from "../../platform/db.ts";
import { found } from "../../platform/errors.ts";
import { listOptions, type Page, toPage } from "../../platform/pagination.ts";
import { recordAudit } from "../audit/repository.ts";
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

/** A membership's id in the audit trail: it has none of its own in the API. */
const membershipId = (teamId: string, userId: string) => `${teamId}:${userId}`;

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
    await this.requireTeam(this.db, teamId);
    const options = listOptions(query, "createdAt");
    return toPage(await membersRepository.listOfTeam(this.db, teamId, options), options, (member) => member);
  }

  /** The user's membership of the team: whether, and as what, the user belongs to it. */
  async get(teamId: string, userId: string): Promise<Membership> {
    await this.requireTeam(this.db, teamId);
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
    await this.requireUser(this.db, userId);
    const options = listOptions(query, "createdAt");
    return toPage(
      await membersRepository.teamsOfUser(this.db, userId, reach, options),
      options,
      (team) => team,
    );
  }

  changeRole(teamId: string, userId: string, role: Role): Promise<Membership> {
    return this.db.transaction(async (tx) => {
      await this.requireTeam(tx, teamId);
      const before = found(await membersRepository.find(tx, teamId, userId), memberNotFound);
      const now = this.clock();
      const after = found(await membersRepository.updateRole(tx, teamId, userId, role, now), memberNotFound);
      await recordAudit(tx, now, {
        action: "member.role_changed",
        resourceType: "membership",
        resourceId: membershipId(teamId, userId),
        changes: { role: { from: before.role, to: after.role } },
      });
      await appendEvent(tx, "member.updated", after);
      return after;
    });
  }

  remove(teamId: string, userId: string): Promise<Membership> {
    return this.db.transaction(async (tx) => {
      await this.requireTeam(tx, teamId);
      const now = this.clock();
      const removed = found(await membersRepository.softDelete(tx, teamId, userId, now), memberNotFound);
      await recordAudit(tx, now, {
        action: "member.removed",
        resourceType: "membership",
        resourceId: membershipId(teamId, userId),
      });
      await appendEvent(tx, "member.removed", removed);
      return removed;
    });
  }

  removeAllOfTeam(teamId: string): Promise<{ data: Membership[] }> {
    return this.db.transaction(async (tx) => {
      await this.requireTeam(tx, teamId);
      return { data: await this.removeAll(tx, { teamId }, "team", teamId) };
    });
  }

  removeAllOfUser(userId: string): Promise<{ data: Membership[] }> {
    return this.db.transaction(async (tx) => {
      await this.requireUser(tx, userId);
      return { data: await this.removeAll(tx, { userId }, "user", userId) };
    });
  }

  /** Removes every membership of a team or a user, as one audited action. */
  private async removeAll(
    tx: Queryable,
    owner: { teamId: string } | { userId: string },
    resourceType: "team" | "user",
    resourceId: string,
  ): Promise<Membership[]> {
    const now = this.clock();
    const removed = await membersRepository.softDeleteAll(tx, owner, now);
    await recordAudit(tx, now, {
      action: `${resourceType}.${resourceType === "team" ? "members" : "memberships"}_removed`,
      resourceType,
      resourceId,
      changes: { removed: removed.map((membership) => membershipId(membership.teamId, membership.userId)) },
    });
    await appendEvents(
      tx,
      removed.map((membership) => ({ type: "member.removed" as const, object: membership })),
    );
    return removed;
  }

  private async requireTeam(db: Queryable, teamId: string): Promise<void> {
    if (!(await teamsRepository.find(db, teamId))) throw teamNotFound(teamId);
  }

  private async requireUser(db: Queryable, userId: string): Promise<void> {
    if (!(await usersRepository.find(db, userId))) throw userNotFound(userId);
  }
}
