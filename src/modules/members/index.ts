import { Elysia } from "elysia";
import type { Idempotency } from "../../platform/idempotency.ts";
import { callerOf } from "../../platform/request-context.ts";
import {
  describe,
  errorResponses,
  IdempotencyHeaders,
  IdParams,
  RETRY_WITH_KEY,
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
        ...describe(
          tag,
          "addTeamMember",
          "Add a user to a team",
          `Adds a user to a team with the role \`member\`, or \`admin\` when given. The team and the user must be live (404 team_not_found, 404 user_not_found); a user already in the team is 409 already_member. ${RETRY_WITH_KEY}`,
          { scope: "write", params: { id: "team" } },
        ),
      },
    )
    .get("/v1/teams/:id/members", ({ params, query }) => members.listOfTeam(params.id, query), {
      params: IdParams,
      query: ListMembersQuery,
      response: { 200: "MembershipPage", ...errorResponses(404) },
      ...describe(
        tag,
        "listTeamMembers",
        "List a team's members",
        "Lists the live memberships of a team; sort by createdAt or role; page with limit and skip. An unknown team is 404 team_not_found.",
        { scope: "read", params: { id: "team" } },
      ),
    })
    .get("/v1/teams/:id/members/:userId", ({ params }) => members.get(params.id, params.userId), {
      params: MemberParams,
      response: { 200: "Membership", ...errorResponses(404) },
      ...describe(
        tag,
        "getTeamMember",
        "Whether a user belongs to a team: the membership, or 404",
        "Tells whether a user belongs to a team: the membership, or 404 member_not_found when the user is not a live member of it.",
        { scope: "read", params: { id: "team" } },
      ),
    })
    .get("/v1/memberships", ({ query, request }) => members.list(query, callerOf(request).reach), {
      query: ListMembershipsQuery,
      response: { 200: "MembershipPage", ...errorResponses() },
      ...describe(
        tag,
        "listMemberships",
        "List every membership, by team, user or role",
        "Lists live memberships across all teams; filter by teamId, userId and role; sort by createdAt or role; page with limit and skip.",
        { scope: "read" },
      ),
    })
    .patch(
      "/v1/teams/:id/members/:userId",
      ({ params, body }) => members.changeRole(params.id, params.userId, body.role),
      {
        params: MemberParams,
        body: UpdateMember,
        response: { 200: "Membership", ...errorResponses(404) },
        ...describe(
          tag,
          "updateTeamMember",
          "Change a member's role",
          "Changes a member's role to `admin` or `member`. A user who is not a live member of the team is 404 member_not_found.",
          { scope: "write", params: { id: "team" } },
        ),
      },
    )
    .delete("/v1/teams/:id/members/:userId", ({ params }) => members.remove(params.id, params.userId), {
      params: MemberParams,
      response: { 200: "Membership", ...errorResponses(404) },
      ...describe(
        tag,
        "removeTeamMember",
        "Remove a user from a team",
        "Removes a user from a team: the membership is soft-deleted and returned with `deletedAt` set; the user and the team stay. A user who is not a live member is 404 member_not_found.",
        { scope: "write", params: { id: "team" } },
      ),
    })
    .delete("/v1/teams/:id/members", ({ params }) => members.removeAllOfTeam(params.id), {
      params: IdParams,
      response: { 200: "DeletedMemberships", ...errorResponses(404) },
      ...describe(
        tag,
        "removeAllTeamMembers",
        "Remove every member of a team",
        "Removes every member of a team and returns the removed memberships (an empty list if it had none); the team and the users stay. An unknown team is 404 team_not_found.",
        { scope: "write", params: { id: "team" } },
      ),
    })
    .delete("/v1/users/:id/memberships", ({ params }) => members.removeAllOfUser(params.id), {
      params: IdParams,
      response: { 200: "DeletedMemberships", ...errorResponses(404) },
      ...describe(
        tag,
        "removeAllUserMemberships",
        "Remove a user from every team",
        "Removes a user from every team and returns the removed memberships (an empty list if there were none); the user and the teams stay. An unknown user is 404 user_not_found.",
        { scope: "write", params: { id: "user" } },
      ),
    })
    .get(
      "/v1/users/:id/teams",
      ({ params, query, request }) => members.teamsOfUser(params.id, query, callerOf(request).reach),
      {
        params: IdParams,
        query: ListUserTeamsQuery,
        response: { 200: "UserTeamPage", ...errorResponses(404) },
        ...describe(
          tag,
          "listUserTeams",
          "List the teams a user belongs to, with the user's role",
          "Lists the live teams a user belongs to, each with the user's role in it; sort by createdAt or name; page with limit and skip. An unknown user is 404 user_not_found.",
          { scope: "read", params: { id: "user" } },
        ),
      },
    );
