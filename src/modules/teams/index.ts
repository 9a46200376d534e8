import { Elysia } from "elysia";
import { describe, errorResponses, IdParams, sharedModels } from "../../platform/schemas.ts";
import { CreateTeam, ListTeamsQuery, teamsModels, UpdateTeam } from "./model.ts";
import type { TeamsService } from "./service.ts";

const tag = "teams";

export const teamsController = (teams: TeamsService) =>
  new Elysia({ name: "teams", prefix: "/v1/teams" })
    .model({ ...sharedModels, ...teamsModels })
    .post("", async ({ body, status }) => status(201, await teams.create(body)), {
      parse: "json",
      body: CreateTeam,
      response: { 201: "Team", ...errorResponses() },
      ...describe(tag, "createTeam", "Create a team"),
    })
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
      parse: "json",
      params: IdParams,
      body: UpdateTeam,
      response: { 200: "Team", ...errorResponses(404) },
      ...describe(tag, "updateTeam", "Rename a team"),
    })
    .delete("/:id", ({ params }) => teams.delete(params.id), {
      params: IdParams,
      response: { 200: "Team", ...errorResponses(404, 409) },
      ...describe(tag, "deleteTeam", "Delete a team, its memberships, wallets and cards"),
    });
