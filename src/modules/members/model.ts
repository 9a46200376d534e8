import { type Static, Type } from "@sinclair/typebox";
import { t } from "elysia";
import { EXAMPLE_ID, EXAMPLE_TIME } from "../../platform/examples.ts";
import { literalUnion } from "../../platform/literals.ts";
import {
  Deleted,
  listQuery,
  modelId,
  NullableTimestamp,
  Page,
  Timestamp,
  Uuid,
  UuidInput,
  withExamples,
} from "../../platform/schemas.ts";
import { Team } from "../teams/model.ts";

export const Role = literalUnion(["admin", "member"], { description: "admin or member" });
export type Role = Static<typeof Role>;

export const Membership = withExamples(
  Type.Object(
    {
      teamId: Uuid,
      userId: Uuid,
      role: Role,
      createdAt: Timestamp,
      updatedAt: Timestamp,
      deletedAt: NullableTimestamp,
    },
    { $id: modelId("Membership") },
  ),
  [
    {
      teamId: EXAMPLE_ID.team,
      userId: EXAMPLE_ID.user,
      role: "admin",
      createdAt: EXAMPLE_TIME.created,
      updatedAt: EXAMPLE_TIME.created,
      deletedAt: null,
    },
  ],
);
export type Membership = Static<typeof Membership>;

/** A team as seen from one of its members. */
export const UserTeam = withExamples(
  Type.Composite([Team, Type.Object({ role: Role })], { $id: modelId("UserTeam") }),
  [
    {
      id: EXAMPLE_ID.team,
      name: "Design",
      metadata: {},
      createdAt: EXAMPLE_TIME.created,
      updatedAt: EXAMPLE_TIME.created,
      deletedAt: null,
      role: "admin",
    },
  ],
);
export type UserTeam = Static<typeof UserTeam>;

export const AddMember = withExamples(
  Type.Object({ userId: UuidInput, role: Type.Optional(Role) }, { additionalProperties: false }),
  [{ userId: EXAMPLE_ID.user, role: "admin" }, { userId: EXAMPLE_ID.user }],
);
export type AddMember = Static<typeof AddMember>;

export const UpdateMember = withExamples(Type.Object({ role: Role }, { additionalProperties: false }), [
  { role: "member" },
]);
export type UpdateMember = Static<typeof UpdateMember>;

/** `id` is the team's id: every route under /v1/teams/:id names its first parameter alike. */
export const MemberParams = t.Object({ id: UuidInput, userId: UuidInput });

export const MEMBER_SORT_FIELDS = ["createdAt", "role"] as const;
export type MemberSortField = (typeof MEMBER_SORT_FIELDS)[number];
export const ListMembersQuery = listQuery(MEMBER_SORT_FIELDS, {});
export type ListMembersQuery = Static<typeof ListMembersQuery>;

export const ListMembershipsQuery = listQuery(MEMBER_SORT_FIELDS, {
  teamId: t.Optional(Uuid),
  userId: t.Optional(Uuid),
  role: t.Optional(Role),
});
export type ListMembershipsQuery = Static<typeof ListMembershipsQuery>;

export const USER_TEAM_SORT_FIELDS = ["createdAt", "name"] as const;
export type UserTeamSortField = (typeof USER_TEAM_SORT_FIELDS)[number];
export const ListUserTeamsQuery = listQuery(USER_TEAM_SORT_FIELDS, {});
export type ListUserTeamsQuery = Static<typeof ListUserTeamsQuery>;

export const membersModels = {
  Membership,
  MembershipPage: Page(Membership, "A page of memberships"),
  DeletedMemberships: Deleted(Membership, "The memberships that were removed"),
  UserTeam,
  UserTeamPage: Page(UserTeam, "A page of the teams a user belongs to"),
};
