import { Elysia } from "elysia";
import type { Idempotency } from "../../platform/idempotency.ts";
import {
  describe,
  errorResponses,
  IdempotencyHeaders,
  IdParams,
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
        ...describe(tag, "createTeam", "Create a team"),
      },
    )
    .get("", ({ query }) => teams.list(query), {
      query: ListTeamsQuery,
      response: { 200: "TeamPage", ...errorResponses() },
      ...describe(tag, "listTeams", "List teams"),
    })
    .get("/:id", ({ params }) => teams.get(params.id), {
      params: IdParams,
      response: { 200: "Team", ...errorResponses(404) },
      ...describe(tag, "getTeam", "Get a team"),
    })
    .patch("/:id", ({ params, body }) => teams.update(params.id, body), {
      params: IdParams,
      body: UpdateTeam,
      response: { 200: "Team", ...errorResponses(404, 409) },
      ...describe(tag, "updateTeam", "Rename a team"),
    })
    .delete("/:id", ({ params }) => teams.delete(params.id), {
      params: IdParams,
      response: { 200: "Team", ...errorResponses(404, 409) },
      ...describe(tag, "deleteTeam", "Delete a team, its memberships, wallets and cards"),
    });
