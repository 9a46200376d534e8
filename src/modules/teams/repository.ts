import type { Reach } from "../../platform/auth.ts";
import type { Queryable } from "../../platform/db.ts";
import { conflict, isUniqueViolation } from "../../platform/errors.ts";
import type { Metadata } from "../../platform/metadata.ts";
import { type ListOptions, pageClause, pageValues } from "../../platform/pagination.ts";
import { iso, isoOrNull, onlyRow, setClause } from "../../platform/sql.ts";
import { reachCondition } from "../access/reach.ts";
import type { Team, TeamSortField } from "./model.ts";

export interface TeamRow {
  id: string;
  name: string;
  metadata: Metadata;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

export const TEAM_COLUMNS = "id, name, metadata, created_at, updated_at, deleted_at";

const SORT_COLUMNS: Record<TeamSortField, string> = {
  createdAt: "created_at",
  updatedAt: "updated_at",
  name: "name",
};

export const toTeam = (row: TeamRow): Team => ({
  id: row.id,
  name: row.name,
  metadata: row.metadata,
  createdAt: iso(row.created_at),
  updatedAt: iso(row.updated_at),
  deletedAt: isoOrNull(row.deleted_at),
});

/** Re-throws a violation of the live-name unique index as 409 team_name_taken. */
function rethrowNameTaken(error: unknown): never {
  if (isUniqueViolation(error, "teams_name_live_key")) {
    throw conflict("team_name_taken", "Another team already has this name (in any letter case).");
  }
  throw error;
}

export const teamsRepository = {
  async insert(
    db: Queryable,
    team: { id: string; name: string; metadata: string },
    now: Date,
  ): Promise<Team> {
    const result = await db
      .query<TeamRow>(
        `INSERT INTO teams (id, name, metadata, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
         RETURNING ${TEAM_COLUMNS}`,
        [team.id, team.name, team.metadata, now],
      )
      .catch(rethrowNameTaken);
    return toTeam(onlyRow(result));
  },

  /** The live team, optionally row-locked for the rest of the transaction. */
  async find(
    db: Queryable,
    id: string,
    lock: "" | "FOR UPDATE" | "FOR SHARE" = "",
  ): Promise<Team | undefined> {
    const result = await db.query<TeamRow>(
      `SELECT ${TEAM_COLUMNS} FROM teams WHERE id = $1 AND deleted_at IS NULL ${lock}`,
      [id],
    );
    const row = result.rows[0];
    return row && toTeam(row);
  },

  async list(db: Queryable, reach: Reach, options: ListOptions<TeamSortField>): Promise<Team[]> {
    const values: unknown[] = [];
    const conditions = ["deleted_at IS NULL", reachCondition(reach, "team", "teams", values) ?? "TRUE"];
    const result = await db.query<TeamRow>(
      `SELECT ${TEAM_COLUMNS} FROM teams WHERE ${conditions.join(" AND ")}
       ${pageClause(options, SORT_COLUMNS, values.length + 1)}`,
      [...values, ...pageValues(options)],
    );
    return result.rows.map(toTeam);
  },

  async update(
    db: Queryable,
    id: string,
    changes: { name?: string; metadata?: string },
    now: Date,
  ): Promise<Team | undefined> {
    const set = setClause(changes, { name: "name", metadata: "metadata" }, 3, 2);
    const result = await db
      .query<TeamRow>(
        `UPDATE teams SET ${set.sql} WHERE id = $1 AND deleted_at IS NULL RETURNING ${TEAM_COLUMNS}`,
        [id, now, ...set.values],
      )
      .catch(rethrowNameTaken);
    const row = result.rows[0];
    return row && toTeam(row);
  },

  async softDelete(db: Queryable, id: string, now: Date): Promise<Team> {
    const result = await db.query<TeamRow>(
      `UPDATE teams SET deleted_at = $2, updated_at = $2 WHERE id = $1 RETURNING ${TEAM_COLUMNS}`,
      [id, now],
    );
    return toTeam(onlyRow(result));
  },
};
