import type { Reach } from "../../platform/auth.ts";
import type { Queryable } from "../../platform/db.ts";
import { conflict, isUniqueViolation } from "../../platform/errors.ts";
import { type ListOptions, pageClause, pageValues } from "../../platform/pagination.ts";
import { filterConditions, iso, isoOrNull, onlyRow } from "../../platform/sql.ts";
import { reachCondition } from "../access/reach.ts";
import { TEAM_COLUMNS, type TeamRow, toTeam } from "../teams/repository.ts";
import type { MemberSortField, Membership, Role, UserTeam, UserTeamSortField } from "./model.ts";

interface MembershipRow {
  team_id: string;
  user_id: string;
  role: Role;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

const COLUMNS = "team_id, user_id, role, created_at, updated_at, deleted_at";

const toMembership = (row: MembershipRow): Membership => ({
  teamId: row.team_id,
  userId: row.user_id,
  role: row.role,
  createdAt: iso(row.created_at),
  updatedAt: iso(row.updated_at),
  deletedAt: isoOrNull(row.deleted_at),
});

const MEMBER_SORT_COLUMNS: Record<MemberSortField, string> = { createdAt: "created_at", role: "role" };
const USER_TEAM_SORT_COLUMNS: Record<UserTeamSortField, string> = { createdAt: "created_at", name: "name" };

type MembershipOwner = { teamId: string } | { userId: string };

const ownerCondition = (owner: MembershipOwner) =>
  "teamId" in owner
    ? { sql: "team_id = $1", value: owner.teamId }
    : { sql: "user_id = $1", value: owner.userId };

export const membersRepository = {
  async insert(
    db: Queryable,
    member: { teamId: string; userId: string; role: Role },
    now: Date,
  ): Promise<Membership> {
    const result = await db
      .query<MembershipRow>(
        `INSERT INTO team_members (id, team_id, user_id, role, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING ${COLUMNS}`,
        [Bun.randomUUIDv7(), member.teamId, member.userId, member.role, now],
      )
      .catch((error: unknown) => {
        if (isUniqueViolation(error, "team_members_live_key")) {
          throw conflict("already_member", "The user is already a member of this team.");
        }
        throw error;
      });
    return toMembership(onlyRow(result));
  },

  async find(db: Queryable, teamId: string, userId: string): Promise<Membership | undefined> {
    const result = await db.query<MembershipRow>(
      `SELECT ${COLUMNS} FROM team_members WHERE team_id = $1 AND user_id = $2 AND deleted_at IS NULL`,
      [teamId, userId],
    );
    const row = result.rows[0];
    return row && toMembership(row);
  },

  async listOfTeam(
    db: Queryable,
    teamId: string,
    options: ListOptions<MemberSortField>,
  ): Promise<Membership[]> {
    const result = await db.query<MembershipRow>(
      `SELECT ${COLUMNS} FROM team_members WHERE team_id = $1 AND deleted_at IS NULL
       ${pageClause(options, MEMBER_SORT_COLUMNS, 2)}`,
      [teamId, ...pageValues(options)],
    );
    return result.rows.map(toMembership);
  },

  /** Every live membership, narrowed by team, user and role when given. */
  async list(
    db: Queryable,
    filter: { teamId?: string; userId?: string; role?: Role },
    reach: Reach,
    options: ListOptions<MemberSortField>,
  ): Promise<Membership[]> {
    const values: unknown[] = [];
    const conditions = [
      "deleted_at IS NULL",
      ...filterConditions(
        [
          ["team_id =", filter.teamId],
          ["user_id =", filter.userId],
          ["role =", filter.role],
        ],
        values,
      ),
      reachCondition(reach, "membership", "team_members", values) ?? "TRUE",
    ];
    const result = await db.query<MembershipRow>(
      `SELECT ${COLUMNS} FROM team_members WHERE ${conditions.join(" AND ")}
       ${pageClause(options, MEMBER_SORT_COLUMNS, values.length + 1)}`,
      [...values, ...pageValues(options)],
    );
    return result.rows.map(toMembership);
  },

  /** The live teams a user belongs to, each with the user's role in it. */
  async teamsOfUser(
    db: Queryable,
    userId: string,
    reach: Reach,
    options: ListOptions<UserTeamSortField>,
  ): Promise<UserTeam[]> {
    const values: unknown[] = [userId];
    const reachable = reachCondition(reach, "team", "t", values) ?? "TRUE";
    const result = await db.query<TeamRow & { role: Role }>(
      `SELECT ${TEAM_COLUMNS}, role FROM (
         SELECT t.*, m.role FROM teams t
         JOIN team_members m ON m.team_id = t.id AND m.deleted_at IS NULL
         WHERE m.user_id = $1 AND t.deleted_at IS NULL AND ${reachable}
       ) AS user_teams
       ${pageClause(options, USER_TEAM_SORT_COLUMNS, values.length + 1)}`,
      [...values, ...pageValues(options)],
    );
    return result.rows.map((row) => ({ ...toTeam(row), role: row.role }));
  },

  async updateRole(
    db: Queryable,
    teamId: string,
    userId: string,
    role: Role,
    now: Date,
  ): Promise<Membership | undefined> {
    const result = await db.query<MembershipRow>(
      `UPDATE team_members SET role = $3, updated_at = $4
       WHERE team_id = $1 AND user_id = $2 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
      [teamId, userId, role, now],
    );
    const row = result.rows[0];
    return row && toMembership(row);
  },

  async softDelete(
    db: Queryable,
    teamId: string,
    userId: string,
    now: Date,
  ): Promise<Membership | undefined> {
    const result = await db.query<MembershipRow>(
      `UPDATE team_members SET deleted_at = $3, updated_at = $3
       WHERE team_id = $1 AND user_id = $2 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
      [teamId, userId, now],
    );
    const row = result.rows[0];
    return row && toMembership(row);
  },

  /** Removes every live membership of a team or of a user; returns what it removed. */
  async softDeleteAll(db: Queryable, owner: MembershipOwner, now: Date): Promise<Membership[]> {
    const condition = ownerCondition(owner);
    const result = await db.query<MembershipRow>(
      `UPDATE team_members SET deleted_at = $2, updated_at = $2
       WHERE ${condition.sql} AND deleted_at IS NULL RETURNING ${COLUMNS}`,
      [condition.value, now],
    );
    return result.rows.map(toMembership);
  },
};
