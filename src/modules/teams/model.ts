import { type Static, Type } from "@sinclair/typebox";
import { EXAMPLE_ID, EXAMPLE_TIME } from "../../platform/examples.ts";
import { Metadata } from "../../platform/metadata.ts";
import {
  listQuery,
  modelId,
  NullableTimestamp,
  Page,
  Timestamp,
  Uuid,
  withExamples,
} from "../../platform/schemas.ts";

export const TeamName = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: "\\S",
  description: "1-200 characters",
});

export const Team = withExamples(
  Type.Object(
    {
      id: Uuid,
      name: Type.String(),
      metadata: Metadata,
      createdAt: Timestamp,
      updatedAt: Timestamp,
      deletedAt: NullableTimestamp,
    },
    { $id: modelId("Team") },
  ),
  [
    {
      id: EXAMPLE_ID.team,
      name: "Design",
      metadata: { costCentre: "ops-sg" },
      createdAt: EXAMPLE_TIME.created,
      updatedAt: EXAMPLE_TIME.created,
      deletedAt: null,
    },
  ],
);
export type Team = Static<typeof Team>;

export const CreateTeam = withExamples(
  Type.Object({ name: TeamName, metadata: Type.Optional(Metadata) }, { additionalProperties: false }),
  [{ name: "Design" }, { name: "Design", metadata: { costCentre: "CC-310" } }],
);
export type CreateTeam = Static<typeof CreateTeam>;

export const UpdateTeam = withExamples(
  Type.Object(
    { name: Type.Optional(TeamName), metadata: Type.Optional(Metadata) },
    { additionalProperties: false, minProperties: 1, description: "At least one field to change" },
  ),
  [{ name: "Product design" }, { metadata: { costCentre: "CC-311" } }],
);
export type UpdateTeam = Static<typeof UpdateTeam>;

export const TEAM_SORT_FIELDS = ["createdAt", "updatedAt", "name"] as const;
export type TeamSortField = (typeof TEAM_SORT_FIELDS)[number];

export const ListTeamsQuery = listQuery(TEAM_SORT_FIELDS, {});
export type ListTeamsQuery = Static<typeof ListTeamsQuery>;

export const teamsModels = { Team, TeamPage: Page(Team, "A page of teams") };
