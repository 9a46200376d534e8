import { beforeAll, describe, expect, test } from "bun:test";
import { addMember, createCard, createTeam, createUser, createWallet } from "../helpers/fixtures.ts";
import { expectProblem, expectSdkProblem } from "../helpers/problem-details.ts";
import { rowCount } from "../helpers/rows.ts";
import { type Schemas, useServer } from "../helpers/server.ts";
import { isRfc3339Utc, UNKNOWN_ID, UUID_PATTERN } from "../helpers/values.ts";

type Team = Schemas["Team"];

const server = useServer();

const MALFORMED_ID = "not-a-uuid";

/** The newest teams, as a client would see them: used to show a refused request created nothing. */
async function newestTeams(api = server.api): Promise<Team[]> {
  const { data, response } = await api.GET("/v1/teams", { params: { query: { limit: 10 } } });
  expect(response.status).toBe(200);
  return data?.data ?? [];
}

async function getTeam(id: string) {
  return server.api.GET("/v1/teams/{id}", { params: { path: { id } } });
}

describe("POST /v1/teams", () => {
  test("creates a team: 201 with a UUID id, the trimmed name and UTC timestamps", async () => {
    const { data, response } = await server.api.POST("/v1/teams", { body: { name: "  Platform Team " } });
    expect(response.status).toBe(201);
    expect(data?.id).toMatch(UUID_PATTERN);
    expect(data?.name).toBe("Platform Team");
    expect(isRfc3339Utc(data?.createdAt)).toBe(true);
    expect(isRfc3339Utc(data?.updatedAt)).toBe(true);
    expect(data?.deletedAt).toBeNull();
    const fetched = await getTeam(data?.id ?? "");
    expect(fetched.response.status).toBe(200);
    expect(fetched.data).toEqual(data);
  });

  test("a name a live team has, in any case and with spaces around it, is 409 team_name_taken and creates nothing", async () => {
    await createTeam(server.api, "Same Name");
    const before = await rowCount(server.db, "teams");
    for (const name of ["Same Name", "same name", "  SAME NAME  "]) {
      const taken = await server.api.POST("/v1/teams", { body: { name } });
      expectSdkProblem(taken, 409, "team_name_taken");
    }
    expect(await rowCount(server.db, "teams")).toBe(before);
  });

  test("the name of a deleted team is free again", async () => {
    const gone = await createTeam(server.api, "Reborn");
    await server.api.DELETE("/v1/teams/{id}", { params: { path: { id: gone.id } } });
    const again = await server.api.POST("/v1/teams", { body: { name: "reborn" } });
    expect(again.response.status).toBe(201);
  });

  test("a 200-character name is accepted, 201 characters is 400 and creates nothing", async () => {
    const longest = await server.api.POST("/v1/teams", { body: { name: "n".repeat(200) } });
    expect(longest.response.status).toBe(201);
    expect(longest.data?.name).toHaveLength(200);

    const before = await newestTeams();
    const tooLong = await server.api.POST("/v1/teams", { body: { name: "n".repeat(201) } });
    const problem = expectSdkProblem(tooLong, 400, "validation_failed");
    expect(problem?.errors?.[0]?.path).toBe("body.name");
    expect(await newestTeams()).toEqual(before);
  });

  test.each([
    ["an empty name", ""],
    ["a blank name", "   "],
  ])("%s is 400 naming body.name and creates nothing", async (_label, name) => {
    const before = await newestTeams();
    const result = await server.api.POST("/v1/teams", { body: { name } });
    const problem = expectSdkProblem(result, 400, "validation_failed");
    expect(problem?.errors?.map((error) => error.path)).toContain("body.name");
    expect(await newestTeams()).toEqual(before);
  });

  test("a missing name is 400 and creates nothing", async () => {
    const before = await newestTeams();
    const response = await server.request("/v1/teams", { method: "POST", json: {} });
    const problem = await expectProblem(response, 400);
    expect(problem.errors?.map((error) => error.path)).toContain("body.name");
    expect(await newestTeams()).toEqual(before);
  });

  test("a name that is not a string is 400 and creates nothing", async () => {
    const before = await newestTeams();
    const response = await server.request("/v1/teams", { method: "POST", json: { name: 42 } });
    const problem = await expectProblem(response, 400);
    expect(problem.errors?.map((error) => error.path)).toContain("body.name");
    expect(await newestTeams()).toEqual(before);
  });

  test("an unknown field is 400 and creates nothing", async () => {
    const before = await newestTeams();
    const response = await server.request("/v1/teams", {
      method: "POST",
      json: { name: "Sneaky", ownerId: UNKNOWN_ID },
    });
    const problem = await expectProblem(response, 400);
    expect(problem.errors?.length).toBeGreaterThan(0);
    expect(await newestTeams()).toEqual(before);
  });

  test("malformed JSON is 400 malformed_json and creates nothing", async () => {
    const before = await newestTeams();
    const response = await server.request("/v1/teams", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"name": "Broken"',
    });
    await expectProblem(response, 400, "malformed_json");
    expect(await newestTeams()).toEqual(before);
  });

  test("without an API key it is 401 and creates nothing", async () => {
    const before = await newestTeams();
    const response = await server.request("/v1/teams", {
      method: "POST",
      headers: { authorization: "" },
      json: { name: "Anonymous" },
    });
    await expectProblem(response, 401);
    expect(await newestTeams()).toEqual(before);
  });
});

describe("POST /v1/teams with an Idempotency-Key (contract §1)", () => {
  test("the same key and body replay the first answer and create one team", async () => {
    const key = `team-${crypto.randomUUID()}`;
    const name = `Idempotent ${crypto.randomUUID().slice(0, 8)}`;
    const first = await server.api.POST("/v1/teams", {
      body: { name },
      params: { header: { "idempotency-key": key } },
    });
    expect(first.response.status).toBe(201);
    const replay = await server.api.POST("/v1/teams", {
      body: { name },
      params: { header: { "idempotency-key": key } },
    });
    expect(replay.response.status).toBe(201);
    expect(replay.response.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.data).toEqual(first.data);
    expect((await newestTeams()).filter((team) => team.name === name)).toHaveLength(1);
  });

  test("the same key with another body is 409 idempotency_key_reused and creates nothing", async () => {
    const key = `team-${crypto.randomUUID()}`;
    const first = await server.api.POST("/v1/teams", {
      body: { name: "Original" },
      params: { header: { "idempotency-key": key } },
    });
    expect(first.response.status).toBe(201);
    const before = await newestTeams();
    const reused = await server.api.POST("/v1/teams", {
      body: { name: "Different" },
      params: { header: { "idempotency-key": key } },
    });
    expectSdkProblem(reused, 409, "idempotency_key_reused");
    expect(await newestTeams()).toEqual(before);
  });

  test("a key longer than 255 characters is 400 and creates nothing", async () => {
    const before = await newestTeams();
    const result = await server.api.POST("/v1/teams", {
      body: { name: "Long key" },
      params: { header: { "idempotency-key": "k".repeat(256) } },
    });
    expectSdkProblem(result, 400, "invalid_idempotency_key");
    expect(await newestTeams()).toEqual(before);
  });
});

describe("GET /v1/teams/{id}", () => {
  test("returns the team", async () => {
    const team = await createTeam(server.api, "Readers");
    const { data, response } = await getTeam(team.id);
    expect(response.status).toBe(200);
    expect(data).toEqual(team);
  });

  test("an unknown id is 404 team_not_found", async () => {
    expectSdkProblem(await getTeam(UNKNOWN_ID), 404, "team_not_found");
  });

  test.each([
    ["a word", MALFORMED_ID],
    ["a number", "42"],
    ["a truncated UUID", "01a20f8d-ab96-7535-9c4e-9e5812645"],
    ["a UUID with non-hex digits", "zzzzzzzz-ab96-7535-9c4e-9e581264548e"],
    ["a UUID in braces", "{01a20f8d-ab96-7535-9c4e-9e581264548e}"],
    ["a URN", "urn:uuid:01a20f8d-ab96-7535-9c4e-9e581264548e"],
  ])("%s as id is 400 invalid_id naming params.id", async (_label, id) => {
    const problem = expectSdkProblem(await getTeam(id), 400, "invalid_id");
    expect(problem?.errors?.[0]?.path).toBe("params.id");
  });
});

describe("PATCH /v1/teams/{id}", () => {
  test("renames the team (trimmed) and the new name is what GET returns", async () => {
    const team = await createTeam(server.api, "Old Name");
    const { data, response } = await server.api.PATCH("/v1/teams/{id}", {
      params: { path: { id: team.id } },
      body: { name: " New Name  " },
    });
    expect(response.status).toBe(200);
    expect(data?.id).toBe(team.id);
    expect(data?.name).toBe("New Name");
    expect(data?.createdAt).toBe(team.createdAt);
    expect(new Date(data?.updatedAt ?? 0).getTime()).toBeGreaterThanOrEqual(
      new Date(team.updatedAt).getTime(),
    );
    expect((await getTeam(team.id)).data?.name).toBe("New Name");
  });

  test("renaming to another live team's name is 409 team_name_taken and changes nothing; a new case of its own name is fine", async () => {
    await createTeam(server.api, "Taken Name");
    const team = await createTeam(server.api, "Mine");
    const taken = await server.api.PATCH("/v1/teams/{id}", {
      params: { path: { id: team.id } },
      body: { name: "TAKEN name" },
    });
    expectSdkProblem(taken, 409, "team_name_taken");
    expect((await getTeam(team.id)).data?.name).toBe("Mine");
    const recased = await server.api.PATCH("/v1/teams/{id}", {
      params: { path: { id: team.id } },
      body: { name: "MINE" },
    });
    expect(recased.data?.name).toBe("MINE");
  });

  test("an empty body is 400 (nothing to change) and the team is unchanged", async () => {
    const team = await createTeam(server.api, "Untouched");
    const result = await server.api.PATCH("/v1/teams/{id}", {
      params: { path: { id: team.id } },
      body: {},
    });
    expectSdkProblem(result, 400, "validation_failed");
    expect((await getTeam(team.id)).data).toEqual(team);
  });

  test.each([
    ["an empty name", ""],
    ["a blank name", " \t "],
    ["a 201-character name", "x".repeat(201)],
  ])("%s is 400 and the team keeps its name", async (_label, name) => {
    const team = await createTeam(server.api);
    const result = await server.api.PATCH("/v1/teams/{id}", {
      params: { path: { id: team.id } },
      body: { name },
    });
    const problem = expectSdkProblem(result, 400, "validation_failed");
    expect(problem?.errors?.map((error) => error.path)).toContain("body.name");
    expect((await getTeam(team.id)).data).toEqual(team);
  });

  test("an unknown field is 400 and the team is unchanged", async () => {
    const team = await createTeam(server.api, "Strict");
    const response = await server.request(`/v1/teams/${team.id}`, {
      method: "PATCH",
      json: { name: "Changed", deletedAt: null },
    });
    await expectProblem(response, 400);
    expect((await getTeam(team.id)).data).toEqual(team);
  });

  test("a name of the wrong type is 400 and the team is unchanged", async () => {
    const team = await createTeam(server.api, "Typed");
    const response = await server.request(`/v1/teams/${team.id}`, {
      method: "PATCH",
      json: { name: ["Changed"] },
    });
    await expectProblem(response, 400);
    expect((await getTeam(team.id)).data).toEqual(team);
  });

  test("an unknown id is 404 team_not_found", async () => {
    const result = await server.api.PATCH("/v1/teams/{id}", {
      params: { path: { id: UNKNOWN_ID } },
      body: { name: "Ghost" },
    });
    expectSdkProblem(result, 404, "team_not_found");
  });

  test("a malformed id is 400 invalid_id", async () => {
    const result = await server.api.PATCH("/v1/teams/{id}", {
      params: { path: { id: MALFORMED_ID } },
      body: { name: "Ghost" },
    });
    expectSdkProblem(result, 400, "invalid_id");
  });
});

describe("DELETE /v1/teams/{id}", () => {
  test("soft-deletes: 200 with deletedAt, then 404 everywhere and gone from the list", async () => {
    const team = await createTeam(server.api, "Doomed");
    const deleted = await server.api.DELETE("/v1/teams/{id}", { params: { path: { id: team.id } } });
    expect(deleted.response.status).toBe(200);
    expect(deleted.data?.id).toBe(team.id);
    expect(deleted.data?.name).toBe("Doomed");
    expect(isRfc3339Utc(deleted.data?.deletedAt)).toBe(true);

    expectSdkProblem(await getTeam(team.id), 404, "team_not_found");
    const renamed = await server.api.PATCH("/v1/teams/{id}", {
      params: { path: { id: team.id } },
      body: { name: "Zombie" },
    });
    expectSdkProblem(renamed, 404, "team_not_found");
    const again = await server.api.DELETE("/v1/teams/{id}", { params: { path: { id: team.id } } });
    expectSdkProblem(again, 404, "team_not_found");
    const user = await createUser(server.api);
    const joined = await server.api.POST("/v1/teams/{id}/members", {
      params: { path: { id: team.id } },
      body: { userId: user.id },
    });
    expectSdkProblem(joined, 404, "team_not_found");
    expect((await newestTeams()).map((t) => t.id)).not.toContain(team.id);
  });

  test("removes the team's memberships; the users themselves stay", async () => {
    const team = await createTeam(server.api, "Disbanded");
    const other = await createTeam(server.api, "Survivor");
    const alice = await createUser(server.api, "Alice");
    const bob = await createUser(server.api, "Bob");
    await addMember(server.api, team.id, alice.id, "admin");
    await addMember(server.api, team.id, bob.id);
    await addMember(server.api, other.id, alice.id);

    const deleted = await server.api.DELETE("/v1/teams/{id}", { params: { path: { id: team.id } } });
    expect(deleted.response.status).toBe(200);

    const aliceTeams = await server.api.GET("/v1/users/{id}/teams", { params: { path: { id: alice.id } } });
    expect(aliceTeams.data?.data.map((t) => t.id)).toEqual([other.id]);
    const bobTeams = await server.api.GET("/v1/users/{id}/teams", { params: { path: { id: bob.id } } });
    expect(bobTeams.data?.data).toEqual([]);
    const bobAfter = await server.api.GET("/v1/users/{id}", { params: { path: { id: bob.id } } });
    expect(bobAfter.response.status).toBe(200);
    const survivorMembers = await server.api.GET("/v1/teams/{id}/members", {
      params: { path: { id: other.id } },
    });
    expect(survivorMembers.data?.data.map((m) => m.userId)).toEqual([alice.id]);
  });

  test("deletes the team's wallets and their cards, and nothing owned by anyone else", async () => {
    const team = await createTeam(server.api, "Spenders");
    const member = await createUser(server.api, "Cardholder");
    await addMember(server.api, team.id, member.id);
    const teamWallet = await createWallet(server.api, { teamId: team.id, name: "Team ops" });
    const secondTeamWallet = await createWallet(server.api, { teamId: team.id, name: "Team travel" });
    const teamCard = await createCard(server.api, { walletId: teamWallet.id, cardholderId: member.id });
    const secondTeamCard = await createCard(server.api, { walletId: secondTeamWallet.id });
    const personalWallet = await createWallet(server.api, { userId: member.id });
    const personalCard = await createCard(server.api, { walletId: personalWallet.id });

    const deleted = await server.api.DELETE("/v1/teams/{id}", { params: { path: { id: team.id } } });
    expect(deleted.response.status).toBe(200);

    for (const id of [teamWallet.id, secondTeamWallet.id]) {
      const wallet = await server.api.GET("/v1/wallets/{id}", { params: { path: { id } } });
      expectSdkProblem(wallet, 404, "wallet_not_found");
    }
    for (const id of [teamCard.id, secondTeamCard.id]) {
      const card = await server.api.GET("/v1/cards/{id}", { params: { path: { id } } });
      expectSdkProblem(card, 404, "card_not_found");
    }
    const teamWallets = await server.api.GET("/v1/wallets", { params: { query: { teamId: team.id } } });
    expect(teamWallets.data?.data).toEqual([]);
    const walletCards = await server.api.GET("/v1/cards", { params: { query: { walletId: teamWallet.id } } });
    expect(walletCards.data?.data).toEqual([]);

    const personal = await server.api.GET("/v1/wallets/{id}", {
      params: { path: { id: personalWallet.id } },
    });
    expect(personal.response.status).toBe(200);
    expect(personal.data?.deletedAt).toBeNull();
    const card = await server.api.GET("/v1/cards/{id}", { params: { path: { id: personalCard.id } } });
    expect(card.response.status).toBe(200);
    expect(card.data?.status).toBe("active");
  });

  test("is refused with 409 wallet_not_empty while a team wallet holds money, and changes nothing", async () => {
    const team = await createTeam(server.api, "Funded");
    const member = await createUser(server.api);
    await addMember(server.api, team.id, member.id, "admin");
    const empty = await createWallet(server.api, { teamId: team.id, name: "Empty" });
    const funded = await createWallet(server.api, { teamId: team.id, name: "Funded" });
    const card = await createCard(server.api, { walletId: empty.id });
    const topup = await server.api.POST("/v1/wallets/{id}/topups", {
      params: { path: { id: funded.id } },
      body: { amount: 2500 },
    });
    expect(topup.response.status).toBe(201);

    const result = await server.api.DELETE("/v1/teams/{id}", { params: { path: { id: team.id } } });
    expectSdkProblem(result, 409, "wallet_not_empty");

    expect((await getTeam(team.id)).data).toEqual(team);
    const members = await server.api.GET("/v1/teams/{id}/members", { params: { path: { id: team.id } } });
    expect(members.data?.data.map((m) => m.userId)).toEqual([member.id]);
    const wallets = await server.api.GET("/v1/wallets", {
      params: { query: { teamId: team.id, sortBy: "createdAt", sort: "asc" } },
    });
    expect(wallets.data?.data.map((w) => w.id)).toEqual([empty.id, funded.id]);
    expect(wallets.data?.data.map((w) => w.balance)).toEqual([0, 2500]);
    const cardAfter = await server.api.GET("/v1/cards/{id}", { params: { path: { id: card.id } } });
    expect(cardAfter.response.status).toBe(200);
    expect(cardAfter.data?.deletedAt).toBeNull();

    // Once the money is out, the same delete goes through.
    const withdrawal = await server.api.POST("/v1/wallets/{id}/withdrawals", {
      params: { path: { id: funded.id } },
      body: { amount: 2500 },
    });
    expect(withdrawal.response.status).toBe(201);
    const retried = await server.api.DELETE("/v1/teams/{id}", { params: { path: { id: team.id } } });
    expect(retried.response.status).toBe(200);
    expectSdkProblem(await getTeam(team.id), 404, "team_not_found");
    const walletAfter = await server.api.GET("/v1/wallets/{id}", { params: { path: { id: funded.id } } });
    expectSdkProblem(walletAfter, 404, "wallet_not_found");
  });

  test("is refused with 409 wallet_not_empty while a team card has a pending hold", async () => {
    const team = await createTeam(server.api, "Holding");
    const wallet = await createWallet(server.api, { teamId: team.id });
    const card = await createCard(server.api, { walletId: wallet.id });
    await server.api.POST("/v1/wallets/{id}/topups", {
      params: { path: { id: wallet.id } },
      body: { amount: 1000 },
    });
    const hold = await server.api.POST("/v1/cards/{id}/authorizations", {
      params: { path: { id: card.id } },
      body: { amount: 1000, merchant: { name: "Hotel" }, capture: false },
    });
    expect(hold.data?.status).toBe("pending");

    expectSdkProblem(
      await server.api.DELETE("/v1/teams/{id}", { params: { path: { id: team.id } } }),
      409,
      "wallet_not_empty",
    );
    expect((await getTeam(team.id)).response.status).toBe(200);
    const cardAfter = await server.api.GET("/v1/cards/{id}", { params: { path: { id: card.id } } });
    expect(cardAfter.data?.status).toBe("active");
    const authorization = await server.api.GET("/v1/authorizations/{id}", {
      params: { path: { id: hold.data?.id ?? "" } },
    });
    expect(authorization.data?.status).toBe("pending");
  });

  test("an unknown id is 404 team_not_found", async () => {
    const result = await server.api.DELETE("/v1/teams/{id}", { params: { path: { id: UNKNOWN_ID } } });
    expectSdkProblem(result, 404, "team_not_found");
  });

  test("a malformed id is 400 invalid_id and deletes nothing", async () => {
    const before = await newestTeams();
    const result = await server.api.DELETE("/v1/teams/{id}", { params: { path: { id: MALFORMED_ID } } });
    expectSdkProblem(result, 400, "invalid_id");
    expect(await newestTeams()).toEqual(before);
  });
});

describe("GET /v1/teams (on a database of its own)", () => {
  const own = useServer();
  /** Created in this order; the names sort alphabetically in yet another order. */
  const names = ["delta", "alpha", "echo", "charlie", "bravo"];
  const teams: Team[] = [];
  const byName = (name: string) => teams.find((team) => team.name === name);
  const namesOf = (page: { data: Team[] } | undefined) => page?.data.map((team) => team.name);

  beforeAll(async () => {
    for (const name of names) teams.push(await createTeam(own.api, name));
  });

  const list = (query: {
    limit?: number;
    skip?: number;
    sortBy?: "createdAt" | "updatedAt" | "name";
    sort?: string;
  }) => own.api.GET("/v1/teams", { params: { query } });

  test("defaults: newest first, skip 0, limit 20, hasMore false", async () => {
    const { data, response } = await list({});
    expect(response.status).toBe(200);
    expect(namesOf(data)).toEqual([...names].reverse());
    expect(data?.skip).toBe(0);
    expect(data?.limit).toBe(20);
    expect(data?.hasMore).toBe(false);
  });

  test("limit and skip page through the list and hasMore tells whether there is more", async () => {
    const first = await list({ limit: 2 });
    expect(namesOf(first.data)).toEqual(["bravo", "charlie"]);
    expect(first.data?.hasMore).toBe(true);
    expect(first.data?.limit).toBe(2);

    const second = await list({ limit: 2, skip: 2 });
    expect(namesOf(second.data)).toEqual(["echo", "alpha"]);
    expect(second.data?.hasMore).toBe(true);
    expect(second.data?.skip).toBe(2);

    const last = await list({ limit: 2, skip: 4 });
    expect(namesOf(last.data)).toEqual(["delta"]);
    expect(last.data?.hasMore).toBe(false);

    const exact = await list({ limit: 5 });
    expect(exact.data?.data).toHaveLength(5);
    expect(exact.data?.hasMore).toBe(false);

    const beyond = await list({ skip: 50 });
    expect(beyond.response.status).toBe(200);
    expect(beyond.data?.data).toEqual([]);
    expect(beyond.data?.hasMore).toBe(false);
  });

  test("limit 1 and limit 100 are accepted", async () => {
    const one = await list({ limit: 1 });
    expect(one.data?.data).toHaveLength(1);
    expect(one.data?.hasMore).toBe(true);
    const hundred = await list({ limit: 100 });
    expect(hundred.data?.data).toHaveLength(5);
  });

  test.each(["asc", "ASC", "Asc"])("sort=%s lists oldest first", async (sort) => {
    const { data, response } = await list({ sort });
    expect(response.status).toBe(200);
    expect(namesOf(data)).toEqual(names);
  });

  test.each(["desc", "DESC", "dEsC"])("sort=%s lists newest first", async (sort) => {
    const { data } = await list({ sort });
    expect(namesOf(data)).toEqual([...names].reverse());
  });

  test("sortBy=name sorts by name, descending by default and ascending on request", async () => {
    const desc = await list({ sortBy: "name" });
    expect(namesOf(desc.data)).toEqual(["echo", "delta", "charlie", "bravo", "alpha"]);
    const asc = await list({ sortBy: "name", sort: "ASC" });
    expect(namesOf(asc.data)).toEqual(["alpha", "bravo", "charlie", "delta", "echo"]);
    const page = await list({ sortBy: "name", sort: "asc", limit: 2, skip: 1 });
    expect(namesOf(page.data)).toEqual(["bravo", "charlie"]);
    expect(page.data?.hasMore).toBe(true);
  });

  test("sortBy=updatedAt puts the most recently renamed team first", async () => {
    const alpha = byName("alpha");
    const renamed = await own.api.PATCH("/v1/teams/{id}", {
      params: { path: { id: alpha?.id ?? "" } },
      body: { name: "alpha" },
    });
    expect(renamed.response.status).toBe(200);
    const { data } = await list({ sortBy: "updatedAt" });
    expect(data?.data[0]?.id).toBe(alpha?.id ?? "");
    const asc = await list({ sortBy: "updatedAt", sort: "asc" });
    expect(asc.data?.data.at(-1)?.id).toBe(alpha?.id ?? "");
  });

  test.each([
    ["an unknown field", "password"],
    ["SQL", "name; DROP TABLE teams"],
    ["a column name", "created_at"],
  ])("sortBy as %s is 400 invalid_sort_by and the list is intact", async (_label, sortBy) => {
    const response = await own.request(`/v1/teams?sortBy=${encodeURIComponent(sortBy)}`);
    const problem = await expectProblem(response, 400, "invalid_sort_by");
    expect(problem.errors?.[0]?.path).toBe("query.sortBy");
    const after = await list({ sort: "asc" });
    expect(after.data?.data.map((team) => team.id)).toEqual(teams.map((team) => team.id));
  });

  test.each([
    ["limit=0", "limit=0", "query.limit"],
    ["limit=101", "limit=101", "query.limit"],
    ["limit=-5", "limit=-5", "query.limit"],
    ["limit=abc", "limit=abc", "query.limit"],
    ["limit=2.5", "limit=2.5", "query.limit"],
    ["skip=-1", "skip=-1", "query.skip"],
    ["skip=xyz", "skip=xyz", "query.skip"],
    ["sort=sideways", "sort=sideways", "query.sort"],
  ])("%s is 400 naming the parameter", async (_label, query, path) => {
    const response = await own.request(`/v1/teams?${query}`);
    const problem = await expectProblem(response, 400);
    expect(problem.errors?.map((error) => error.path)).toContain(path);
  });

  test("a deleted team is gone from the list", async () => {
    const charlie = byName("charlie");
    const deleted = await own.api.DELETE("/v1/teams/{id}", { params: { path: { id: charlie?.id ?? "" } } });
    expect(deleted.response.status).toBe(200);
    const { data } = await list({ sortBy: "name", sort: "asc" });
    expect(namesOf(data)).toEqual(["alpha", "bravo", "delta", "echo"]);
    const paged = await list({ sortBy: "name", sort: "asc", limit: 2, skip: 2 });
    expect(namesOf(paged.data)).toEqual(["delta", "echo"]);
    expect(paged.data?.hasMore).toBe(false);
  });
});
