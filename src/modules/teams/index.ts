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
import { CreateTeam, ListTeamsQuery, teamsModels, UpdateTeam } from "./model.ts";
import type { TeamsService } from "./service.ts";

const tag = "teams";

export const teamsController = (teams: TeamsService, idempotency: Idempotency) =>
  new Elysia({ name: "teams", prefix: "/v1/teams" })
    .model({ ...sharedModels, ...teamsModels })
    .post(
      "",
      async ({ body, request, status }) =>
        status(201, await idempotency.run(request, body, () => teams.create(body), 201)),
      {
        headers: IdempotencyHeaders,
        body: CreateTeam,
        response: { 201: "Team", ...errorResponses(409) },
        ...describe(
          tag,
          "createTeam",
          "Create a team",
          `Creates a team from a name (trimmed, 1-200 characters). Names are unique among live teams in any letter case (409 team_name_taken). It starts with no members and no wallets. ${RETRY_WITH_KEY}`,
          { scope: "write" },
        ),
      },
    )
    .get("", ({ query, request }) => teams.list(query, callerOf(request).reach), {
      query: ListTeamsQuery,
      response: { 200: "TeamPage", ...errorResponses() },
      ...describe(
        tag,
        "listTeams",
        "List teams",
        "Lists live teams, newest first by default; sort by createdAt, updatedAt or name; page with limit and skip.",
        { scope: "read" },
      ),
    })
    .get("/:id", ({ params }) => teams.get(params.id), {
      params: IdParams,
      response: { 200: "Team", ...errorResponses(404) },
      ...describe(
        tag,
        "getTeam",
        "Get a team",
        "Returns a live team; a deleted or unknown id is 404 team_not_found.",
        { scope: "read", params: { id: "team" } },
      ),
    })
    .patch("/:id", ({ params, body }) => teams.update(params.id, body), {
      params: IdParams,
      body: UpdateTeam,
      response: { 200: "Team", ...errorResponses(404, 409) },
      ...describe(
        tag,
        "updateTeam",
        "Rename a team",
        "Renames a team; the name is trimmed and 1-200 characters long. Another live team's name, in any case, is 409 team_name_taken. Its members and wallets are unchanged.",
        { scope: "write", params: { id: "team" } },
      ),
    })
    .delete("/:id", ({ params }) => teams.delete(params.id), {
      params: IdParams,
      response: { 200: "Team", ...errorResponses(404, 409) },
      ...describe(
        tag,
        "deleteTeam",
        "Delete a team, its memberships, wallets and cards",
        "Soft-deletes a team (`deletedAt` set; afterwards 404 and gone from lists) with its memberships and its wallets and their cards. All or nothing: refused with 409 wallet_not_empty while one of its wallets holds money or pending holds.",
        { scope: "write", params: { id: "team" } },
      ),
    });
