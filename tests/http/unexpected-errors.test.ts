/**
 * A failure nobody planned for (here: a table that vanished under the service) answers a plain 500
 * problem body that leaks nothing, and the process keeps serving.
 */
import { describe, expect, test } from "bun:test";
import { createTeam } from "../helpers/fixtures.ts";
import { expectProblem } from "../helpers/problem-details.ts";
import { useServer } from "../helpers/server.ts";

const server = useServer();

describe("an unexpected error", () => {
  test("is a 500 internal_error problem without SQL or stack, and the service keeps serving", async () => {
    await createTeam(server.api, "Before the fault");
    await server.db.query("ALTER TABLE teams RENAME TO teams_vanished");
    try {
      const response = await server.request("/v1/teams", { headers: { "x-request-id": "fault-1" } });
      const text = await response.clone().text();
      const problem = await expectProblem(response, 500, "internal_error");
      expect(problem.requestId).toBe("fault-1");
      for (const leak of ["teams", "relation", "SELECT", "at ", "postgres", "42P01"]) {
        expect(text).not.toContain(leak);
      }
    } finally {
      await server.db.query("ALTER TABLE teams_vanished RENAME TO teams");
    }
    const { response, data } = await server.api.GET("/v1/teams");
    expect(response.status).toBe(200);
    expect(data?.data.map((team) => team.name)).toContain("Before the fault");
  });
});
