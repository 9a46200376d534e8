import { Elysia } from "elysia";
import type { Idempotency } from "../../platform/idempotency.ts";
import {
  describe,
  errorResponses,
  IdempotencyHeaders,
  IdParams,
  sharedModels,
} from "../../platform/schemas.ts";
import { teamsModels } from "../teams/model.ts";
import {
  AddMember,
  ListMembershipsQuery,
  ListMembersQuery,
  ListUserTeamsQuery,
  MemberParams,
  membersModels,
  UpdateMember,
} from "./model.ts";
import type { MembersService } from "./service.ts";

const tag = "members";

export const membersController = (members: MembersService, idempotency: Idempotency) =>
  new Elysia({ name: "members" })
    .model({ ...sharedModels, ...teamsModels, ...membersModels })
    .post(
      "/v1/teams/:id/members",
      async ({ params, body, request, status }) =>
        status(201, await idempotency.run(request, body, () => members.add(params.id, body), 201)),
      {
        headers: IdempotencyHeaders,
        params: IdParams,
        body: AddMember,
        response: { 201: "Membership", ...errorResponses(404, 409) },
        ...describe(tag, "addTeamMember", "Add a user to a team"),
      },
    )
    .get("/v1/teams/:id/members", ({ params, query }) => members.listOfTeam(params.id, query), {
      params: IdParams,
      query: ListMembersQuery,
      response: { 200: "MembershipPage", ...errorResponses(404) },
      ...describe(tag, "listTeamMembers", "List a team's members"),
    })
    .get("/v1/teams/:id/members/:userId", ({ params }) => members.get(params.id, params.userId), {
      params: MemberParams,
      response: { 200: "Membership", ...errorResponses(404) },
      ...describe(tag, "getTeamMember", "Whether a user belongs to a team: the membership, or 404"),
    })
    .get("/v1/memberships", ({ query }) => members.list(query), {
      query: ListMembershipsQuery,
      response: { 200: "MembershipPage", ...errorResponses() },
      ...describe(tag, "listMemberships", "List every membership, by team, user or role"),
    })
    .patch(
      "/v1/teams/:id/members/:userId",
      ({ params, body }) => members.changeRole(params.id, params.userId, body.role),
      {
        params: MemberParams,
        body: UpdateMember,
        response: { 200: "Membership", ...errorResponses(404) },
        ...describe(tag, "updateTeamMember", "Change a member's role"),
      },
    )
    .delete("/v1/teams/:id/members/:userId", ({ params }) => members.remove(params.id, params.userId), {
      params: MemberParams,
      response: { 200: "Membership", ...errorResponses(404) },
      ...describe(tag, "removeTeamMember", "Remove a user from a team"),
    })
    .delete("/v1/teams/:id/members", ({ params }) => members.removeAllOfTeam(params.id), {
      params: IdParams,
      response: { 200: "DeletedMemberships", ...errorResponses(404) },
      ...describe(tag, "removeAllTeamMembers", "Remove every member of a team"),
    })
    .delete("/v1/users/:id/memberships", ({ params }) => members.removeAllOfUser(params.id), {
      params: IdParams,
      response: { 200: "DeletedMemberships", ...errorResponses(404) },
      ...describe(tag, "removeAllUserMemberships", "Remove a user from every team"),
    })
    .get("/v1/users/:id/teams", ({ params, query }) => members.teamsOfUser(params.id, query), {
      params: IdParams,
      query: ListUserTeamsQuery,
      response: { 200: "UserTeamPage", ...errorResponses(404) },
      ...describe(tag, "listUserTeams", "List the teams a user belongs to, with the user's role"),
    });
