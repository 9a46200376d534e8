import { beforeAll, describe, expect, test } from "bun:test";
import { addMember, createTeam, createUser } from "../helpers/fixtures.ts";
import { expectProblem, expectSdkProblem } from "../helpers/problem-details.ts";
import { type Schemas, useServer } from "../helpers/server.ts";
import { isRfc3339Utc, UNKNOWN_ID } from "../helpers/values.ts";

type Membership = Schemas["Membership"];

const server = useServer();

const MALFORMED_ID = "12345";

type MemberQuery = { limit?: number; skip?: number; sortBy?: "createdAt" | "role"; sort?: string };
type UserTeamQuery = { limit?: number; skip?: number; sortBy?: "createdAt" | "name"; sort?: string };

function listMembers(teamId: string, query: MemberQuery = {}) {
  return server.api.GET("/v1/teams/{id}/members", { params: { path: { id: teamId }, query } });
}

function teamsOf(userId: string, query: UserTeamQuery = {}) {
  return server.api.GET("/v1/users/{id}/teams", { params: { path: { id: userId }, query } });
}

/** A team's live members as `userId:role`, oldest first: what a client sees of the team's roster. */
async function roster(teamId: string): Promise<string[]> {
  const { data, response } = await listMembers(teamId, { sort: "asc", limit: 100 });
  expect(response.status).toBe(200);
  return (data?.data ?? []).map((member) => `${member.userId}:${member.role}`);
}

/** The teams a user belongs to as `teamId:role`, oldest team first. */
async function membershipsOf(userId: string): Promise<string[]> {
  const { data, response } = await teamsOf(userId, { sort: "asc", limit: 100 });
  expect(response.status).toBe(200);
  return (data?.data ?? []).map((team) => `${team.id}:${team.role}`);
}

function add(teamId: string, body: { userId: string; role?: "admin" | "member" }) {
  return server.api.POST("/v1/teams/{id}/members", { params: { path: { id: teamId } }, body });
}

function changeRole(teamId: string, userId: string, role: "admin" | "member") {
  return server.api.PATCH("/v1/teams/{id}/members/{userId}", {
    params: { path: { id: teamId, userId } },
    body: { role },
  });
}

function remove(teamId: string, userId: string) {
  return server.api.DELETE("/v1/teams/{id}/members/{userId}", { params: { path: { id: teamId, userId } } });
}

describe("POST /v1/teams/{id}/members", () => {
  test("without userId: 400 validation_failed naming body.userId (not invalid_id), and nothing is added", async () => {
    const team = await createTeam(server.api);
    for (const body of [{}, { role: "admin" }]) {
      const response = await server.request(`/v1/teams/${team.id}/members`, { method: "POST", json: body });
      const problem = await expectProblem(response, 400, "validation_failed");
      expect(problem.errors?.map((error) => error.path)).toEqual(["body.userId"]);
    }
    expect(await roster(team.id)).toEqual([]);
    // A userId that is there but malformed keeps its own code.
    const malformed = await server.request(`/v1/teams/${team.id}/members`, {
      method: "POST",
      json: { userId: MALFORMED_ID },
    });
    await expectProblem(malformed, 400, "invalid_id");
  });

  test("adds a user with the default role member: 201 with the membership", async () => {
    const team = await createTeam(server.api);
    const user = await createUser(server.api);
    const { data, response } = await add(team.id, { userId: user.id });
    expect(response.status).toBe(201);
    expect(data?.teamId).toBe(team.id);
    expect(data?.userId).toBe(user.id);
    expect(data?.role).toBe("member");
    expect(isRfc3339Utc(data?.createdAt)).toBe(true);
    expect(data?.deletedAt).toBeNull();
    expect(await roster(team.id)).toEqual([`${user.id}:member`]);
    expect(await membershipsOf(user.id)).toEqual([`${team.id}:member`]);
  });

  test("adds a user with role admin", async () => {
    const team = await createTeam(server.api);
    const user = await createUser(server.api);
    const { data, response } = await add(team.id, { userId: user.id, role: "admin" });
    expect(response.status).toBe(201);
    expect(data?.role).toBe("admin");
    expect(await roster(team.id)).toEqual([`${user.id}:admin`]);
  });

  test("a user can belong to several teams and a team can have several users", async () => {
    const [red, blue] = [await createTeam(server.api, "Red"), await createTeam(server.api, "Blue")];
    const [ann, ben] = [await createUser(server.api, "Ann"), await createUser(server.api, "Ben")];
    await addMember(server.api, red.id, ann.id, "admin");
    await addMember(server.api, red.id, ben.id);
    await addMember(server.api, blue.id, ann.id);
    expect(await roster(red.id)).toEqual([`${ann.id}:admin`, `${ben.id}:member`]);
    expect(await roster(blue.id)).toEqual([`${ann.id}:member`]);
    expect(await membershipsOf(ann.id)).toEqual([`${red.id}:admin`, `${blue.id}:member`]);
  });

  test("adding a member twice is 409 already_member and keeps the first role", async () => {
    const team = await createTeam(server.api);
    const user = await createUser(server.api);
    await addMember(server.api, team.id, user.id, "admin");
    expectSdkProblem(await add(team.id, { userId: user.id }), 409, "already_member");
    expectSdkProblem(await add(team.id, { userId: user.id, role: "admin" }), 409, "already_member");
    expect(await roster(team.id)).toEqual([`${user.id}:admin`]);
  });

  test("an unknown team is 404 team_not_found", async () => {
    const user = await createUser(server.api);
    expectSdkProblem(await add(UNKNOWN_ID, { userId: user.id }), 404, "team_not_found");
    expect(await membershipsOf(user.id)).toEqual([]);
  });

  test("an unknown user is 404 user_not_found and adds nothing", async () => {
    const team = await createTeam(server.api);
    expectSdkProblem(await add(team.id, { userId: UNKNOWN_ID }), 404, "user_not_found");
    expect(await roster(team.id)).toEqual([]);
  });

  test("a deleted user is 404 user_not_found and a deleted team is 404 team_not_found", async () => {
    const team = await createTeam(server.api);
    const gone = await createUser(server.api);
    expect(
      (await server.api.DELETE("/v1/users/{id}", { params: { path: { id: gone.id } } })).response.status,
    ).toBe(200);
    expectSdkProblem(await add(team.id, { userId: gone.id }), 404, "user_not_found");
    expect(await roster(team.id)).toEqual([]);

    const deletedTeam = await createTeam(server.api);
    const user = await createUser(server.api);
    await server.api.DELETE("/v1/teams/{id}", { params: { path: { id: deletedTeam.id } } });
    expectSdkProblem(await add(deletedTeam.id, { userId: user.id }), 404, "team_not_found");
    expect(await membershipsOf(user.id)).toEqual([]);
  });

  test("a malformed team id is 400 invalid_id", async () => {
    const user = await createUser(server.api);
    const problem = expectSdkProblem(await add(MALFORMED_ID, { userId: user.id }), 400, "invalid_id");
    expect(problem?.errors?.[0]?.path).toBe("params.id");
    expect(await membershipsOf(user.id)).toEqual([]);
  });

  test("a malformed userId is 400 invalid_id naming body.userId and adds nothing", async () => {
    const team = await createTeam(server.api);
    const problem = expectSdkProblem(await add(team.id, { userId: MALFORMED_ID }), 400, "invalid_id");
    expect(problem?.errors?.[0]?.path).toBe("body.userId");
    expect(await roster(team.id)).toEqual([]);
  });

  test("an unknown role is 400 and adds nothing", async () => {
    const team = await createTeam(server.api);
    const user = await createUser(server.api);
    const response = await server.request(`/v1/teams/${team.id}/members`, {
      method: "POST",
      json: { userId: user.id, role: "owner" },
    });
    const problem = await expectProblem(response, 400);
    expect(problem.errors?.map((error) => error.path)).toContain("body.role");
    expect(await roster(team.id)).toEqual([]);
  });

  test.each([
    ["a missing userId", { role: "admin" }],
    ["a userId of the wrong type", { userId: 7 }],
    ["an unknown field", { userId: "USER", role: "member", permissions: ["all"] }],
    ["a body that is not an object", ["USER"]],
  ])("%s is 400 and adds nothing", async (_label, json) => {
    const team = await createTeam(server.api);
    const user = await createUser(server.api);
    const withUser = JSON.parse(JSON.stringify(json).replaceAll('"USER"', JSON.stringify(user.id)));
    const response = await server.request(`/v1/teams/${team.id}/members`, { method: "POST", json: withUser });
    await expectProblem(response, 400);
    expect(await roster(team.id)).toEqual([]);
    expect(await membershipsOf(user.id)).toEqual([]);
  });

  test("malformed JSON is 400 malformed_json and adds nothing", async () => {
    const team = await createTeam(server.api);
    const response = await server.request(`/v1/teams/${team.id}/members`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"userId": ',
    });
    await expectProblem(response, 400, "malformed_json");
    expect(await roster(team.id)).toEqual([]);
  });

  test("without an API key it is 401 and adds nothing", async () => {
    const team = await createTeam(server.api);
    const user = await createUser(server.api);
    const response = await server.request(`/v1/teams/${team.id}/members`, {
      method: "POST",
      headers: { authorization: "Bearer wrong-key" },
      json: { userId: user.id },
    });
    await expectProblem(response, 401);
    expect(await roster(team.id)).toEqual([]);
  });
});

describe("POST /v1/teams/{id}/members with an Idempotency-Key (contract §1)", () => {
  test("the same key and body replay the first 201 instead of 409 already_member", async () => {
    const team = await createTeam(server.api);
    const user = await createUser(server.api);
    const key = `member-${crypto.randomUUID()}`;
    const send = () =>
      server.api.POST("/v1/teams/{id}/members", {
        params: { path: { id: team.id }, header: { "idempotency-key": key } },
        body: { userId: user.id, role: "admin" },
      });
    const first = await send();
    expect(first.response.status).toBe(201);
    const replay = await send();
    expect(replay.response.status).toBe(201);
    expect(replay.response.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.data).toEqual(first.data);
    expect(await roster(team.id)).toEqual([`${user.id}:admin`]);
  });

  test("the same key with another body is 409 idempotency_key_reused and adds nothing", async () => {
    const team = await createTeam(server.api);
    const [first, second] = [await createUser(server.api), await createUser(server.api)];
    const key = `member-${crypto.randomUUID()}`;
    const added = await server.api.POST("/v1/teams/{id}/members", {
      params: { path: { id: team.id }, header: { "idempotency-key": key } },
      body: { userId: first.id },
    });
    expect(added.response.status).toBe(201);
    const reused = await server.api.POST("/v1/teams/{id}/members", {
      params: { path: { id: team.id }, header: { "idempotency-key": key } },
      body: { userId: second.id },
    });
    expectSdkProblem(reused, 409, "idempotency_key_reused");
    expect(await roster(team.id)).toEqual([`${first.id}:member`]);
    expect(await membershipsOf(second.id)).toEqual([]);
  });
});

describe("GET /v1/teams/{id}/members", () => {
  let team: Schemas["Team"];
  /** Added in this order, with these roles. */
  const members: Membership[] = [];
  const roles = ["member", "admin", "member", "admin", "member"] as const;
  const userIdsOf = (page: { data: Membership[] } | undefined) => page?.data.map((member) => member.userId);
  const added = (...indexes: number[]) =>
    indexes.map((index) => members[index]?.userId ?? `missing #${index}`);

  beforeAll(async () => {
    team = await createTeam(server.api, "Roster");
    for (const role of roles) {
      const user = await createUser(server.api);
      members.push(await addMember(server.api, team.id, user.id, role));
    }
    // Another team's members never show up in this one's list.
    const other = await createTeam(server.api, "Elsewhere");
    await addMember(server.api, other.id, (await createUser(server.api)).id);
  });

  test("defaults: newest first, skip 0, limit 20, hasMore false", async () => {
    const { data, response } = await listMembers(team.id);
    expect(response.status).toBe(200);
    expect(userIdsOf(data)).toEqual(added(4, 3, 2, 1, 0));
    expect(data?.data[0]?.teamId).toBe(team.id);
    expect(data?.skip).toBe(0);
    expect(data?.limit).toBe(20);
    expect(data?.hasMore).toBe(false);
  });

  test("limit and skip page through the members and hasMore tells whether there is more", async () => {
    const first = await listMembers(team.id, { limit: 2 });
    expect(userIdsOf(first.data)).toEqual(added(4, 3));
    expect(first.data?.hasMore).toBe(true);
    const second = await listMembers(team.id, { limit: 2, skip: 2 });
    expect(userIdsOf(second.data)).toEqual(added(2, 1));
    expect(second.data?.hasMore).toBe(true);
    expect(second.data?.skip).toBe(2);
    const last = await listMembers(team.id, { limit: 2, skip: 4 });
    expect(userIdsOf(last.data)).toEqual(added(0));
    expect(last.data?.hasMore).toBe(false);
    const exact = await listMembers(team.id, { limit: 5 });
    expect(exact.data?.hasMore).toBe(false);
    const beyond = await listMembers(team.id, { skip: 99 });
    expect(beyond.data?.data).toEqual([]);
    expect(beyond.data?.hasMore).toBe(false);
  });

  test.each(["asc", "ASC", "aSc"])("sort=%s lists the oldest member first", async (sort) => {
    const { data, response } = await listMembers(team.id, { sort });
    expect(response.status).toBe(200);
    expect(userIdsOf(data)).toEqual(added(0, 1, 2, 3, 4));
  });

  test("sort=DESC is accepted like desc", async () => {
    const { data } = await listMembers(team.id, { sort: "DESC" });
    expect(userIdsOf(data)).toEqual(added(4, 3, 2, 1, 0));
  });

  test("sortBy=role groups admins and members", async () => {
    const asc = await listMembers(team.id, { sortBy: "role", sort: "asc" });
    expect(asc.data?.data.map((member) => member.role)).toEqual([
      "admin",
      "admin",
      "member",
      "member",
      "member",
    ]);
    expect(new Set(asc.data?.data.slice(0, 2).map((member) => member.userId))).toEqual(new Set(added(1, 3)));
    const desc = await listMembers(team.id, { sortBy: "role" });
    expect(desc.data?.data.map((member) => member.role)).toEqual([
      "member",
      "member",
      "member",
      "admin",
      "admin",
    ]);
  });

  test("an unknown sortBy is 400 invalid_sort_by", async () => {
    for (const sortBy of ["name", "user_id", "role DESC; --"]) {
      const response = await server.request(
        `/v1/teams/${team.id}/members?sortBy=${encodeURIComponent(sortBy)}`,
      );
      const problem = await expectProblem(response, 400, "invalid_sort_by");
      expect(problem.errors?.[0]?.path).toBe("query.sortBy");
    }
    expect(await roster(team.id)).toHaveLength(5);
  });

  test.each([
    ["limit=0", "query.limit"],
    ["limit=101", "query.limit"],
    ["skip=-1", "query.skip"],
    ["sort=up", "query.sort"],
  ])("%s is 400 naming the parameter", async (query, path) => {
    const response = await server.request(`/v1/teams/${team.id}/members?${query}`);
    const problem = await expectProblem(response, 400);
    expect(problem.errors?.map((error) => error.path)).toContain(path);
  });

  test("an unknown team is 404 team_not_found, a malformed one 400 invalid_id", async () => {
    expectSdkProblem(await listMembers(UNKNOWN_ID), 404, "team_not_found");
    expectSdkProblem(await listMembers(MALFORMED_ID), 400, "invalid_id");
  });
});

describe("PATCH /v1/teams/{id}/members/{userId}", () => {
  test("changes the role both ways and the roster shows it", async () => {
    const team = await createTeam(server.api);
    const user = await createUser(server.api);
    const membership = await addMember(server.api, team.id, user.id);
    const promoted = await changeRole(team.id, user.id, "admin");
    expect(promoted.response.status).toBe(200);
    expect(promoted.data?.role).toBe("admin");
    expect(promoted.data?.teamId).toBe(team.id);
    expect(promoted.data?.userId).toBe(user.id);
    expect(promoted.data?.createdAt).toBe(membership.createdAt);
    expect(await roster(team.id)).toEqual([`${user.id}:admin`]);
    expect(await membershipsOf(user.id)).toEqual([`${team.id}:admin`]);

    const demoted = await changeRole(team.id, user.id, "member");
    expect(demoted.response.status).toBe(200);
    expect(demoted.data?.role).toBe("member");
    expect(await roster(team.id)).toEqual([`${user.id}:member`]);
  });

  test("setting the same role again is 200 and changes nothing", async () => {
    const team = await createTeam(server.api);
    const user = await createUser(server.api);
    await addMember(server.api, team.id, user.id, "admin");
    const again = await changeRole(team.id, user.id, "admin");
    expect(again.response.status).toBe(200);
    expect(again.data?.role).toBe("admin");
    expect(await roster(team.id)).toEqual([`${user.id}:admin`]);
  });

  test("changes only that team's membership", async () => {
    const [a, b] = [await createTeam(server.api), await createTeam(server.api)];
    const user = await createUser(server.api);
    await addMember(server.api, a.id, user.id);
    await addMember(server.api, b.id, user.id);
    await changeRole(a.id, user.id, "admin");
    expect(await membershipsOf(user.id)).toEqual([`${a.id}:admin`, `${b.id}:member`]);
  });

  test("a user who is not a member is 404 member_not_found and joins nothing", async () => {
    const team = await createTeam(server.api);
    const outsider = await createUser(server.api);
    expectSdkProblem(await changeRole(team.id, outsider.id, "admin"), 404, "member_not_found");
    expectSdkProblem(await changeRole(team.id, UNKNOWN_ID, "admin"), 404, "member_not_found");
    expect(await roster(team.id)).toEqual([]);
    expect(await membershipsOf(outsider.id)).toEqual([]);
  });

  test("an unknown team is 404 team_not_found", async () => {
    const user = await createUser(server.api);
    expectSdkProblem(await changeRole(UNKNOWN_ID, user.id, "admin"), 404, "team_not_found");
  });

  test("a malformed team id or user id is 400 invalid_id and changes nothing", async () => {
    const team = await createTeam(server.api);
    const user = await createUser(server.api);
    await addMember(server.api, team.id, user.id);
    const badTeam = expectSdkProblem(await changeRole(MALFORMED_ID, user.id, "admin"), 400, "invalid_id");
    expect(badTeam?.errors?.[0]?.path).toBe("params.id");
    const badUser = expectSdkProblem(await changeRole(team.id, MALFORMED_ID, "admin"), 400, "invalid_id");
    expect(badUser?.errors?.[0]?.path).toBe("params.userId");
    expect(await roster(team.id)).toEqual([`${user.id}:member`]);
  });

  test.each([
    ["an unknown role", { role: "owner" }, "body.role"],
    ["a missing role", {}, "body.role"],
    ["a role of the wrong type", { role: 1 }, "body.role"],
    ["an unknown field", { role: "admin", userId: "00000000-0000-4000-8000-000000000000" }, undefined],
  ])("%s is 400 and the role is unchanged", async (_label, json, path) => {
    const team = await createTeam(server.api);
    const user = await createUser(server.api);
    await addMember(server.api, team.id, user.id);
    const response = await server.request(`/v1/teams/${team.id}/members/${user.id}`, {
      method: "PATCH",
      json,
    });
    const problem = await expectProblem(response, 400);
    if (path !== undefined) expect(problem.errors?.map((error) => error.path)).toContain(path);
    expect(await roster(team.id)).toEqual([`${user.id}:member`]);
  });
});

describe("DELETE /v1/teams/{id}/members/{userId}", () => {
  test("removes the member: 200 with deletedAt, then gone from both lists and 404", async () => {
    const team = await createTeam(server.api);
    const [stays, leaves] = [await createUser(server.api), await createUser(server.api)];
    await addMember(server.api, team.id, stays.id);
    await addMember(server.api, team.id, leaves.id, "admin");

    const removed = await remove(team.id, leaves.id);
    expect(removed.response.status).toBe(200);
    expect(removed.data?.teamId).toBe(team.id);
    expect(removed.data?.userId).toBe(leaves.id);
    expect(removed.data?.role).toBe("admin");
    expect(isRfc3339Utc(removed.data?.deletedAt)).toBe(true);

    expect(await roster(team.id)).toEqual([`${stays.id}:member`]);
    expect(await membershipsOf(leaves.id)).toEqual([]);
    expectSdkProblem(await remove(team.id, leaves.id), 404, "member_not_found");
    expectSdkProblem(await changeRole(team.id, leaves.id, "member"), 404, "member_not_found");
    // Only the membership goes: the user and the team are still there.
    expect(
      (await server.api.GET("/v1/users/{id}", { params: { path: { id: leaves.id } } })).response.status,
    ).toBe(200);
    expect(
      (await server.api.GET("/v1/teams/{id}", { params: { path: { id: team.id } } })).response.status,
    ).toBe(200);
  });

  test("a removed member can be added again, with the role given then", async () => {
    const team = await createTeam(server.api);
    const user = await createUser(server.api);
    await addMember(server.api, team.id, user.id, "admin");
    expect((await remove(team.id, user.id)).response.status).toBe(200);

    const again = await add(team.id, { userId: user.id });
    expect(again.response.status).toBe(201);
    expect(again.data?.role).toBe("member");
    expect(again.data?.deletedAt).toBeNull();
    expect(await roster(team.id)).toEqual([`${user.id}:member`]);
    expect(await membershipsOf(user.id)).toEqual([`${team.id}:member`]);
    expectSdkProblem(await add(team.id, { userId: user.id }), 409, "already_member");
  });

  test("a user who is not a member is 404 member_not_found and changes nothing", async () => {
    const team = await createTeam(server.api);
    const [member, outsider] = [await createUser(server.api), await createUser(server.api)];
    await addMember(server.api, team.id, member.id);
    expectSdkProblem(await remove(team.id, outsider.id), 404, "member_not_found");
    expectSdkProblem(await remove(team.id, UNKNOWN_ID), 404, "member_not_found");
    expect(await roster(team.id)).toEqual([`${member.id}:member`]);
  });

  test("an unknown team is 404 team_not_found", async () => {
    const user = await createUser(server.api);
    expectSdkProblem(await remove(UNKNOWN_ID, user.id), 404, "team_not_found");
  });

  test("a malformed team id or user id is 400 invalid_id and removes nothing", async () => {
    const team = await createTeam(server.api);
    const user = await createUser(server.api);
    await addMember(server.api, team.id, user.id);
    expectSdkProblem(await remove(MALFORMED_ID, user.id), 400, "invalid_id");
    const problem = expectSdkProblem(await remove(team.id, MALFORMED_ID), 400, "invalid_id");
    expect(problem?.errors?.[0]?.path).toBe("params.userId");
    expect(await roster(team.id)).toEqual([`${user.id}:member`]);
  });
});

describe("DELETE /v1/teams/{id}/members (all members)", () => {
  test("removes every member of the team and answers {data: [the removed memberships]}", async () => {
    const team = await createTeam(server.api);
    const other = await createTeam(server.api);
    const users = [await createUser(server.api), await createUser(server.api), await createUser(server.api)];
    await addMember(server.api, team.id, users[0]?.id ?? "", "admin");
    await addMember(server.api, team.id, users[1]?.id ?? "");
    await addMember(server.api, team.id, users[2]?.id ?? "");
    await addMember(server.api, other.id, users[0]?.id ?? "");

    const { data, response } = await server.api.DELETE("/v1/teams/{id}/members", {
      params: { path: { id: team.id } },
    });
    expect(response.status).toBe(200);
    expect(Object.keys(data ?? {})).toEqual(["data"]);
    expect(new Set(data?.data.map((m) => m.userId))).toEqual(new Set(users.map((user) => user.id)));
    for (const membership of data?.data ?? []) {
      expect(membership.teamId).toBe(team.id);
      expect(isRfc3339Utc(membership.deletedAt)).toBe(true);
    }
    expect(data?.data.find((m) => m.userId === users[0]?.id)?.role).toBe("admin");

    expect(await roster(team.id)).toEqual([]);
    // The other team and the team itself are untouched.
    expect(await roster(other.id)).toEqual([`${users[0]?.id}:member`]);
    expect(
      (await server.api.GET("/v1/teams/{id}", { params: { path: { id: team.id } } })).response.status,
    ).toBe(200);
    expectSdkProblem(await remove(team.id, users[1]?.id ?? ""), 404, "member_not_found");
  });

  test("a team without members answers {data: []}; removed members can rejoin", async () => {
    const team = await createTeam(server.api);
    const empty = await server.api.DELETE("/v1/teams/{id}/members", { params: { path: { id: team.id } } });
    expect(empty.response.status).toBe(200);
    expect(empty.data).toEqual({ data: [] });

    const user = await createUser(server.api);
    await addMember(server.api, team.id, user.id);
    await server.api.DELETE("/v1/teams/{id}/members", { params: { path: { id: team.id } } });
    const again = await server.api.DELETE("/v1/teams/{id}/members", { params: { path: { id: team.id } } });
    expect(again.data).toEqual({ data: [] });
    expect((await add(team.id, { userId: user.id, role: "admin" })).response.status).toBe(201);
    expect(await roster(team.id)).toEqual([`${user.id}:admin`]);
  });

  test("an unknown team is 404 team_not_found, a malformed id 400 invalid_id", async () => {
    const unknown = await server.api.DELETE("/v1/teams/{id}/members", {
      params: { path: { id: UNKNOWN_ID } },
    });
    expectSdkProblem(unknown, 404, "team_not_found");
    const malformed = await server.api.DELETE("/v1/teams/{id}/members", {
      params: { path: { id: MALFORMED_ID } },
    });
    expectSdkProblem(malformed, 400, "invalid_id");
  });
});

describe("DELETE /v1/users/{id}/memberships", () => {
  test("removes the user from every team and answers {data: [the removed memberships]}", async () => {
    const user = await createUser(server.api);
    const colleague = await createUser(server.api);
    const [a, b] = [await createTeam(server.api), await createTeam(server.api)];
    await addMember(server.api, a.id, user.id, "admin");
    await addMember(server.api, b.id, user.id);
    await addMember(server.api, a.id, colleague.id);

    const { data, response } = await server.api.DELETE("/v1/users/{id}/memberships", {
      params: { path: { id: user.id } },
    });
    expect(response.status).toBe(200);
    expect(Object.keys(data ?? {})).toEqual(["data"]);
    expect(new Set(data?.data.map((m) => m.teamId))).toEqual(new Set([a.id, b.id]));
    for (const membership of data?.data ?? []) {
      expect(membership.userId).toBe(user.id);
      expect(isRfc3339Utc(membership.deletedAt)).toBe(true);
    }

    expect(await membershipsOf(user.id)).toEqual([]);
    expect(await roster(a.id)).toEqual([`${colleague.id}:member`]);
    expect(await roster(b.id)).toEqual([]);
    expect(
      (await server.api.GET("/v1/users/{id}", { params: { path: { id: user.id } } })).response.status,
    ).toBe(200);
    expect((await add(b.id, { userId: user.id })).response.status).toBe(201);
  });

  test("a user in no team answers {data: []}", async () => {
    const user = await createUser(server.api);
    const { data, response } = await server.api.DELETE("/v1/users/{id}/memberships", {
      params: { path: { id: user.id } },
    });
    expect(response.status).toBe(200);
    expect(data).toEqual({ data: [] });
  });

  test("an unknown user is 404 user_not_found, a malformed id 400 invalid_id", async () => {
    const unknown = await server.api.DELETE("/v1/users/{id}/memberships", {
      params: { path: { id: UNKNOWN_ID } },
    });
    expectSdkProblem(unknown, 404, "user_not_found");
    const malformed = await server.api.DELETE("/v1/users/{id}/memberships", {
      params: { path: { id: MALFORMED_ID } },
    });
    expectSdkProblem(malformed, 400, "invalid_id");
  });
});

describe("GET /v1/users/{id}/teams", () => {
  let user: Schemas["User"];
  /** Joined in this order; the names sort alphabetically in another order. */
  const names = ["kilo", "hotel", "juliet", "golf", "india"];
  const roles = ["admin", "member", "member", "admin", "member"] as const;
  const teams: Schemas["Team"][] = [];
  const namesOf = (page: { data: { name: string }[] } | undefined) => page?.data.map((team) => team.name);

  beforeAll(async () => {
    user = await createUser(server.api, "Joiner");
    for (const [index, name] of names.entries()) {
      const team = await createTeam(server.api, name);
      teams.push(team);
      await addMember(server.api, team.id, user.id, roles[index]);
    }
    // A team the user is not in never shows up.
    await createTeam(server.api, "aaa-not-mine");
  });

  test("lists the user's teams with the user's role in each, newest first", async () => {
    const { data, response } = await teamsOf(user.id);
    expect(response.status).toBe(200);
    expect(namesOf(data)).toEqual([...names].reverse());
    expect(data?.skip).toBe(0);
    expect(data?.limit).toBe(20);
    expect(data?.hasMore).toBe(false);
    const kilo = data?.data.find((team) => team.name === "kilo");
    expect(kilo?.id).toBe(teams[0]?.id ?? "");
    expect(kilo?.role).toBe("admin");
    expect(kilo?.createdAt).toBe(teams[0]?.createdAt ?? "");
    expect(data?.data.map((team) => team.role)).toEqual([...roles].reverse());
  });

  test("limit, skip and hasMore page through the teams", async () => {
    const first = await teamsOf(user.id, { limit: 3 });
    expect(namesOf(first.data)).toEqual(["india", "golf", "juliet"]);
    expect(first.data?.hasMore).toBe(true);
    const rest = await teamsOf(user.id, { limit: 3, skip: 3 });
    expect(namesOf(rest.data)).toEqual(["hotel", "kilo"]);
    expect(rest.data?.hasMore).toBe(false);
  });

  test("sortBy=name sorts by team name; sort is case-insensitive", async () => {
    const asc = await teamsOf(user.id, { sortBy: "name", sort: "ASC" });
    expect(namesOf(asc.data)).toEqual(["golf", "hotel", "india", "juliet", "kilo"]);
    const desc = await teamsOf(user.id, { sortBy: "name", sort: "Desc" });
    expect(namesOf(desc.data)).toEqual(["kilo", "juliet", "india", "hotel", "golf"]);
    const oldest = await teamsOf(user.id, { sort: "asc" });
    expect(namesOf(oldest.data)).toEqual(names);
  });

  test("a role change shows up in the list", async () => {
    const hotel = teams[1];
    await changeRole(hotel?.id ?? "", user.id, "admin");
    const { data } = await teamsOf(user.id);
    expect(data?.data.find((team) => team.id === hotel?.id)?.role).toBe("admin");
    await changeRole(hotel?.id ?? "", user.id, "member");
  });

  test("an unknown sortBy is 400 invalid_sort_by, bad paging 400", async () => {
    const unknown = await server.request(`/v1/users/${user.id}/teams?sortBy=role`);
    const problem = await expectProblem(unknown, 400, "invalid_sort_by");
    expect(problem.errors?.[0]?.path).toBe("query.sortBy");
    const badSort = await server.request(`/v1/users/${user.id}/teams?sort=newest`);
    await expectProblem(badSort, 400);
    const badLimit = await server.request(`/v1/users/${user.id}/teams?limit=1000`);
    await expectProblem(badLimit, 400);
  });

  test("teams the user left or that were deleted are gone from the list", async () => {
    const [left, deleted] = [await createTeam(server.api, "left"), await createTeam(server.api, "deleted")];
    const other = await createUser(server.api);
    await addMember(server.api, left.id, other.id);
    await addMember(server.api, deleted.id, other.id, "admin");
    const kept = await createTeam(server.api, "kept");
    await addMember(server.api, kept.id, other.id);
    expect(await membershipsOf(other.id)).toHaveLength(3);

    await remove(left.id, other.id);
    await server.api.DELETE("/v1/teams/{id}", { params: { path: { id: deleted.id } } });
    expect(await membershipsOf(other.id)).toEqual([`${kept.id}:member`]);
  });

  test("an unknown user is 404 user_not_found, a malformed id 400 invalid_id", async () => {
    expectSdkProblem(await teamsOf(UNKNOWN_ID), 404, "user_not_found");
    const problem = expectSdkProblem(await teamsOf(MALFORMED_ID), 400, "invalid_id");
    expect(problem?.errors?.[0]?.path).toBe("params.id");
  });

  test("a deleted user is 404 user_not_found", async () => {
    const gone = await createUser(server.api);
    const team = await createTeam(server.api);
    await addMember(server.api, team.id, gone.id);
    await server.api.DELETE("/v1/users/{id}", { params: { path: { id: gone.id } } });
    expectSdkProblem(await teamsOf(gone.id), 404, "user_not_found");
    expect(await roster(team.id)).toEqual([]);
  });
});

describe("GET /v1/teams/{id}/members/{userId}", () => {
  test("a member: 200 with the membership and its role", async () => {
    const team = await createTeam(server.api);
    const user = await createUser(server.api);
    await addMember(server.api, team.id, user.id, "admin");
    const { data, response } = await server.api.GET("/v1/teams/{id}/members/{userId}", {
      params: { path: { id: team.id, userId: user.id } },
    });
    expect(response.status).toBe(200);
    expect(data).toMatchObject({ teamId: team.id, userId: user.id, role: "admin", deletedAt: null });
  });

  test("a user who is not (or no longer) a member: 404 member_not_found", async () => {
    const team = await createTeam(server.api);
    const stranger = await createUser(server.api);
    const former = await createUser(server.api);
    await addMember(server.api, team.id, former.id);
    await server.api.DELETE("/v1/teams/{id}/members/{userId}", {
      params: { path: { id: team.id, userId: former.id } },
    });
    for (const userId of [stranger.id, former.id, UNKNOWN_ID]) {
      const result = await server.api.GET("/v1/teams/{id}/members/{userId}", {
        params: { path: { id: team.id, userId } },
      });
      expectSdkProblem(result, 404, "member_not_found");
    }
  });

  test("an unknown team is 404 team_not_found; a malformed id is 400 invalid_id", async () => {
    const user = await createUser(server.api);
    const unknown = await server.api.GET("/v1/teams/{id}/members/{userId}", {
      params: { path: { id: UNKNOWN_ID, userId: user.id } },
    });
    expectSdkProblem(unknown, 404, "team_not_found");
    await expectProblem(
      await server.request(`/v1/teams/${MALFORMED_ID}/members/${user.id}`),
      400,
      "invalid_id",
    );
  });
});

describe("GET /v1/memberships", () => {
  test("lists every live membership, filtered by team, user and role, and pages correctly", async () => {
    const team = await createTeam(server.api);
    const other = await createTeam(server.api);
    const [ann, bob, cy] = [
      await createUser(server.api, "Ann"),
      await createUser(server.api, "Bob"),
      await createUser(server.api, "Cy"),
    ];
    await addMember(server.api, team.id, ann.id, "admin");
    await addMember(server.api, team.id, bob.id);
    await addMember(server.api, team.id, cy.id);
    await addMember(server.api, other.id, ann.id);
    await server.api.DELETE("/v1/teams/{id}/members/{userId}", {
      params: { path: { id: team.id, userId: cy.id } },
    });

    const list = (query: Record<string, string | number>) =>
      server.api.GET("/v1/memberships", { params: { query } });
    const ofTeam = await list({ teamId: team.id, sort: "asc" });
    expect(ofTeam.data?.data.map((m) => `${m.userId}:${m.role}`)).toEqual([
      `${ann.id}:admin`,
      `${bob.id}:member`,
    ]);
    const ofAnn = await list({ userId: ann.id, sort: "asc" });
    expect(ofAnn.data?.data.map((m) => m.teamId)).toEqual([team.id, other.id]);
    const admins = await list({ teamId: team.id, role: "admin" });
    expect(admins.data?.data.map((m) => m.userId)).toEqual([ann.id]);
    const firstPage = await list({ teamId: team.id, limit: 1, sort: "asc" });
    expect(firstPage.data).toMatchObject({ skip: 0, limit: 1, hasMore: true });
    const secondPage = await list({ teamId: team.id, limit: 1, skip: 1, sort: "asc" });
    expect(secondPage.data?.data.map((m) => m.userId)).toEqual([bob.id]);
    expect(secondPage.data?.hasMore).toBe(false);
    const all = await list({ limit: 100 });
    expect(all.response.status).toBe(200);
    expect(all.data?.data.some((m) => m.userId === cy.id)).toBe(false);
  });

  test("a bad filter is 400 and a role outside admin and member is refused", async () => {
    await expectProblem(await server.request(`/v1/memberships?teamId=${MALFORMED_ID}`), 400, "invalid_id");
    const role = await server.request("/v1/memberships?role=owner");
    expect(role.status).toBe(400);
    await role.arrayBuffer();
  });
});
