import { beforeAll, describe, expect, test } from "bun:test";
import {
  addMember,
  createCard,
  createTeam,
  createUser,
  createUserWallet,
  createWallet,
  topUp,
} from "../helpers/fixtures.ts";
import { expectProblem, expectSdkProblem } from "../helpers/problem-details.ts";
import { rowCount } from "../helpers/rows.ts";
import { type Schemas, uniqueEmail, useServer } from "../helpers/server.ts";
import { isRfc3339Utc, UNKNOWN_ID, UUID_PATTERN } from "../helpers/values.ts";

type User = Schemas["User"];

const server = useServer();

const MALFORMED_ID = "not-a-uuid";

const getUser = (id: string) => server.api.GET("/v1/users/{id}", { params: { path: { id } } });

/** Live users in the database: a refused request must leave this as it was. */
const liveUsers = () => rowCount(server.db, "users", { liveOnly: true });

/** Runs `refused` and asserts it stored no user and changed none. */
async function expectNoUserChange(refused: () => Promise<unknown>, unchanged: User[] = []): Promise<void> {
  const before = await liveUsers();
  await refused();
  expect(await liveUsers()).toBe(before);
  for (const user of unchanged) expect((await getUser(user.id)).data).toEqual(user);
}

describe("POST /v1/users", () => {
  test("creates a user: 201 with a UUID id, the e-mail and name trimmed, UTC timestamps", async () => {
    const email = uniqueEmail("Trim");
    const { data, response } = await server.api.POST("/v1/users", {
      body: { email: `  ${email} `, name: " Ann " },
    });
    expect(response.status).toBe(201);
    expect(data?.id).toMatch(UUID_PATTERN);
    expect(data?.email).toBe(email);
    expect(data?.name).toBe("Ann");
    expect(isRfc3339Utc(data?.createdAt)).toBe(true);
    expect(data?.updatedAt).toBe(data?.createdAt ?? "");
    expect(data?.deletedAt).toBeNull();
    expect((await getUser(data?.id ?? "")).data).toEqual(data);
  });

  test("the same e-mail in another case or with surrounding spaces is 409 email_taken and creates nothing", async () => {
    const email = uniqueEmail("dup");
    await server.api.POST("/v1/users", { body: { email, name: "First" } });
    for (const again of [email.toUpperCase(), `  ${email}  `]) {
      await expectNoUserChange(async () =>
        expectSdkProblem(
          await server.api.POST("/v1/users", { body: { email: again, name: "Second" } }),
          409,
          "email_taken",
        ),
      );
    }
  });

  test.each([
    ["no @", "not-an-email"],
    ["no domain dot", "ann@example"],
    ["a space inside", "ann smith@example.com"],
    ["over 254 characters", `${"a".repeat(243)}@example.com`],
  ])(
    "an invalid e-mail (%s) is 400 invalid_email naming body.email and creates nothing",
    async (_label, email) => {
      await expectNoUserChange(async () => {
        const problem = expectSdkProblem(
          await server.api.POST("/v1/users", { body: { email, name: "X" } }),
          400,
          "invalid_email",
        );
        expect(problem.errors?.[0]?.path).toBe("body.email");
      });
    },
  );

  test.each([
    ["an empty name", ""],
    ["a blank name", "   "],
    ["a 201-character name", "n".repeat(201)],
  ])("%s is 400 naming body.name and creates nothing", async (_label, name) => {
    await expectNoUserChange(async () => {
      const problem = expectSdkProblem(
        await server.api.POST("/v1/users", { body: { email: uniqueEmail(), name } }),
        400,
        "validation_failed",
      );
      expect(problem.errors?.map((error) => error.path)).toContain("body.name");
    });
  });

  test.each([
    ["a missing name", { email: "missing.name@example.com" }],
    ["a missing e-mail", { name: "No Mail" }],
    ["a name that is not a string", { email: "typed.name@example.com", name: 42 }],
    ["an unknown field", { email: "extra.field@example.com", name: "Extra", role: "admin" }],
  ])("%s is 400 and creates nothing", async (_label, json) => {
    await expectNoUserChange(async () =>
      expectProblem(await server.request("/v1/users", { method: "POST", json }), 400),
    );
  });

  test("the same Idempotency-Key and body replay the first answer and create one user", async () => {
    const key = `user-${crypto.randomUUID()}`;
    const body = { email: uniqueEmail("idem"), name: "Once" };
    const first = await server.api.POST("/v1/users", {
      body,
      params: { header: { "idempotency-key": key } },
    });
    expect(first.response.status).toBe(201);
    await expectNoUserChange(async () => {
      const replay = await server.api.POST("/v1/users", {
        body,
        params: { header: { "idempotency-key": key } },
      });
      expect(replay.response.status).toBe(201);
      expect(replay.response.headers.get("idempotent-replayed")).toBe("true");
      expect(replay.data).toEqual(first.data);
    });
  });

  test("the same Idempotency-Key with another body is 409 idempotency_key_reused and creates nothing", async () => {
    const key = `user-${crypto.randomUUID()}`;
    const first = await server.api.POST("/v1/users", {
      body: { email: uniqueEmail("idem"), name: "Original" },
      params: { header: { "idempotency-key": key } },
    });
    expect(first.response.status).toBe(201);
    await expectNoUserChange(async () =>
      expectSdkProblem(
        await server.api.POST("/v1/users", {
          body: { email: uniqueEmail("idem"), name: "Different" },
          params: { header: { "idempotency-key": key } },
        }),
        409,
        "idempotency_key_reused",
      ),
    );
  });
});

describe("GET /v1/users/{id}", () => {
  test("returns the user", async () => {
    const user = await createUser(server.api, "Reader");
    const { data, response } = await getUser(user.id);
    expect(response.status).toBe(200);
    expect(data).toEqual(user);
  });

  test("an unknown id is 404 user_not_found, a malformed one 400 invalid_id", async () => {
    expectSdkProblem(await getUser(UNKNOWN_ID), 404, "user_not_found");
    expectSdkProblem(await getUser(MALFORMED_ID), 400, "invalid_id");
  });
});

describe("PATCH /v1/users/{id}", () => {
  const patch = (id: string, body: { email?: string; name?: string }) =>
    server.api.PATCH("/v1/users/{id}", { params: { path: { id } }, body });

  test("changes the e-mail and name (trimmed); GET returns the change and updatedAt moves", async () => {
    const user = await createUser(server.api, "Before");
    const email = uniqueEmail("renamed");
    await Bun.sleep(2);
    const { data, response } = await patch(user.id, { email: ` ${email} `, name: "  After " });
    expect(response.status).toBe(200);
    expect(data?.email).toBe(email);
    expect(data?.name).toBe("After");
    expect(data?.createdAt).toBe(user.createdAt);
    expect(Date.parse(data?.updatedAt ?? "")).toBeGreaterThan(Date.parse(user.updatedAt));
    expect((await getUser(user.id)).data).toEqual(data);
  });

  test("one field alone changes only that field", async () => {
    const user = await createUser(server.api, "Kept");
    const { data } = await patch(user.id, { name: "Only Name" });
    expect(data?.email).toBe(user.email);
    expect(data?.name).toBe("Only Name");
  });

  test("a user may change the case of their own e-mail", async () => {
    const user = await createUser(server.api);
    const { data, response } = await patch(user.id, { email: user.email.toUpperCase() });
    expect(response.status).toBe(200);
    expect(data?.email).toBe(user.email.toUpperCase());
  });

  test("another user's e-mail, in any case, is 409 email_taken and changes nothing", async () => {
    const taken = await createUser(server.api);
    const user = await createUser(server.api);
    await expectNoUserChange(
      async () =>
        expectSdkProblem(await patch(user.id, { email: taken.email.toUpperCase() }), 409, "email_taken"),
      [user, taken],
    );
  });

  test("an invalid e-mail is 400 invalid_email and changes nothing", async () => {
    const user = await createUser(server.api);
    await expectNoUserChange(
      async () => expectSdkProblem(await patch(user.id, { email: "nope" }), 400, "invalid_email"),
      [user],
    );
  });

  test.each([
    ["an empty body", {}],
    ["a blank name", { name: "  " }],
    ["an unknown field", { name: "Fine", deletedAt: null }],
    ["a name that is not a string", { name: 7 }],
  ])("%s is 400 and changes nothing", async (_label, json) => {
    const user = await createUser(server.api);
    await expectNoUserChange(
      async () => expectProblem(await server.request(`/v1/users/${user.id}`, { method: "PATCH", json }), 400),
      [user],
    );
  });

  test("an unknown id is 404 user_not_found, a malformed one 400 invalid_id", async () => {
    expectSdkProblem(await patch(UNKNOWN_ID, { name: "Ghost" }), 404, "user_not_found");
    expectSdkProblem(await patch(MALFORMED_ID, { name: "Ghost" }), 400, "invalid_id");
  });
});

describe("DELETE /v1/users/{id}", () => {
  const remove = (id: string) => server.api.DELETE("/v1/users/{id}", { params: { path: { id } } });

  test("soft-deletes: 200 with deletedAt, then 404 everywhere, and the e-mail is free again", async () => {
    const user = await createUser(server.api);
    const deleted = await remove(user.id);
    expect(deleted.response.status).toBe(200);
    expect(deleted.data?.id).toBe(user.id);
    expect(isRfc3339Utc(deleted.data?.deletedAt)).toBe(true);
    expect(deleted.data?.updatedAt).toBe(deleted.data?.deletedAt ?? "");
    expectSdkProblem(await getUser(user.id), 404, "user_not_found");
    expectSdkProblem(
      await server.api.PATCH("/v1/users/{id}", {
        params: { path: { id: user.id } },
        body: { name: "Zombie" },
      }),
      404,
      "user_not_found",
    );
    expectSdkProblem(await remove(user.id), 404, "user_not_found");
    const listed = await server.api.GET("/v1/users", { params: { query: { email: user.email } } });
    expect(listed.data?.data).toEqual([]);
    const again = await server.api.POST("/v1/users", { body: { email: user.email, name: "Reborn" } });
    expect(again.response.status).toBe(201);
    expect(again.data?.id).not.toBe(user.id);
  });

  test("cascades: the user's memberships, wallets with their cards, and the cards they hold on team wallets", async () => {
    const { user, wallet } = await createUserWallet(server.api);
    const ownCard = await createCard(server.api, { walletId: wallet.id });
    const team = await createTeam(server.api);
    await addMember(server.api, team.id, user.id);
    const teamWallet = await createWallet(server.api, { teamId: team.id });
    const heldCard = await createCard(server.api, { walletId: teamWallet.id, cardholderId: user.id });
    const otherCard = await createCard(server.api, { walletId: teamWallet.id });

    expect((await remove(user.id)).response.status).toBe(200);

    const members = await server.api.GET("/v1/teams/{id}/members", { params: { path: { id: team.id } } });
    expect(members.data?.data).toEqual([]);
    expect(
      (await server.api.GET("/v1/wallets/{id}", { params: { path: { id: wallet.id } } })).response.status,
    ).toBe(404);
    for (const card of [ownCard, heldCard]) {
      const after = await server.api.GET("/v1/cards/{id}", { params: { path: { id: card.id } } });
      expect(after.response.status).toBe(404);
    }
    // What is not the user's stays: the team, its wallet and the card someone else holds.
    expect(
      (await server.api.GET("/v1/teams/{id}", { params: { path: { id: team.id } } })).response.status,
    ).toBe(200);
    const teamWalletAfter = await server.api.GET("/v1/wallets/{id}", {
      params: { path: { id: teamWallet.id } },
    });
    expect(teamWalletAfter.response.status).toBe(200);
    const otherAfter = await server.api.GET("/v1/cards/{id}", { params: { path: { id: otherCard.id } } });
    expect(otherAfter.response.status).toBe(200);
  });

  test("is refused with 409 wallet_not_empty while a wallet of theirs holds money, and deletes nothing", async () => {
    const { user, wallet } = await createUserWallet(server.api);
    const card = await createCard(server.api, { walletId: wallet.id });
    const team = await createTeam(server.api);
    await addMember(server.api, team.id, user.id);
    await topUp(server.api, wallet.id, 500);
    const current = (await getUser(user.id)).data;
    await expectNoUserChange(
      async () => expectSdkProblem(await remove(user.id), 409, "wallet_not_empty"),
      current === undefined ? [] : [current],
    );
    expect(
      (await server.api.GET("/v1/wallets/{id}", { params: { path: { id: wallet.id } } })).data?.balance,
    ).toBe(500);
    expect(
      (await server.api.GET("/v1/cards/{id}", { params: { path: { id: card.id } } })).response.status,
    ).toBe(200);
    const members = await server.api.GET("/v1/teams/{id}/members", { params: { path: { id: team.id } } });
    expect(members.data?.data.map((member) => member.userId)).toEqual([user.id]);
  });

  test("is refused with 409 card_has_pending_holds while a card they hold on a team wallet has a hold", async () => {
    const user = await createUser(server.api);
    const team = await createTeam(server.api);
    await addMember(server.api, team.id, user.id);
    const teamWallet = await createWallet(server.api, { teamId: team.id });
    const card = await createCard(server.api, { walletId: teamWallet.id, cardholderId: user.id });
    await topUp(server.api, teamWallet.id, 1000);
    const hold = await server.api.POST("/v1/cards/{id}/authorizations", {
      params: { path: { id: card.id } },
      body: { amount: 400, merchant: { name: "Hotel" }, capture: false },
    });
    expect(hold.data?.status).toBe("pending");
    await expectNoUserChange(async () =>
      expectSdkProblem(await remove(user.id), 409, "card_has_pending_holds"),
    );
    expect((await getUser(user.id)).response.status).toBe(200);
    expect(
      (await server.api.GET("/v1/cards/{id}", { params: { path: { id: card.id } } })).response.status,
    ).toBe(200);
  });

  test("an unknown id is 404 user_not_found, a malformed one 400 invalid_id; nothing is deleted", async () => {
    await expectNoUserChange(async () => {
      expectSdkProblem(await remove(UNKNOWN_ID), 404, "user_not_found");
      expectSdkProblem(await remove(MALFORMED_ID), 400, "invalid_id");
    });
  });
});

describe("GET /v1/users (on a database of its own)", () => {
  const own = useServer();
  /** Created in this order; names and e-mails sort in other orders, e-mails regardless of case. */
  const people = [
    { name: "delta", email: "Carol@example.com" },
    { name: "alpha", email: "erin@example.com" },
    { name: "echo", email: "alice@example.com" },
    { name: "charlie", email: "Dave@example.com" },
    { name: "bravo", email: "bob@example.com" },
  ];
  const users: User[] = [];
  const namesOf = (page: { data: User[] } | undefined) => page?.data.map((user) => user.name);

  beforeAll(async () => {
    for (const person of people) {
      const { data } = await own.api.POST("/v1/users", { body: person });
      if (data === undefined) throw new Error(`creating ${person.name} failed`);
      users.push(data);
      // Distinct createdAt instants, so "newest first" has one answer.
      await Bun.sleep(2);
    }
  });

  const list = (query: {
    limit?: number;
    skip?: number;
    sortBy?: "createdAt" | "updatedAt" | "email" | "name";
    sort?: string;
    email?: string;
  }) => own.api.GET("/v1/users", { params: { query } });

  test("defaults: newest first, skip 0, limit 20, hasMore false", async () => {
    const { data, response } = await list({});
    expect(response.status).toBe(200);
    expect(namesOf(data)).toEqual(people.map((person) => person.name).reverse());
    expect(data?.skip).toBe(0);
    expect(data?.limit).toBe(20);
    expect(data?.hasMore).toBe(false);
  });

  test("limit and skip page through the list and hasMore tells whether there is more", async () => {
    const first = await list({ limit: 2 });
    expect(namesOf(first.data)).toEqual(["bravo", "charlie"]);
    expect(first.data?.hasMore).toBe(true);
    const last = await list({ limit: 2, skip: 4 });
    expect(namesOf(last.data)).toEqual(["delta"]);
    expect(last.data?.hasMore).toBe(false);
    const beyond = await list({ skip: 10 });
    expect(beyond.data?.data).toEqual([]);
  });

  test("sortBy=email ignores case; sortBy=name sorts by name, in either direction", async () => {
    const byEmail = await list({ sortBy: "email", sort: "asc" });
    expect(byEmail.data?.data.map((user) => user.email)).toEqual([
      "alice@example.com",
      "bob@example.com",
      "Carol@example.com",
      "Dave@example.com",
      "erin@example.com",
    ]);
    expect(namesOf((await list({ sortBy: "name", sort: "ASC" })).data)).toEqual([
      "alpha",
      "bravo",
      "charlie",
      "delta",
      "echo",
    ]);
    expect(namesOf((await list({ sortBy: "name" })).data)).toEqual([
      "echo",
      "delta",
      "charlie",
      "bravo",
      "alpha",
    ]);
  });

  test("sortBy=updatedAt puts the most recently changed user first", async () => {
    const alpha = users[1];
    if (alpha === undefined) throw new Error("no alpha");
    await own.api.PATCH("/v1/users/{id}", { params: { path: { id: alpha.id } }, body: { name: "alpha" } });
    const { data } = await list({ sortBy: "updatedAt", limit: 1 });
    expect(data?.data[0]?.id).toBe(alpha.id);
  });

  test("email filters by the exact address in any case, trimmed", async () => {
    for (const email of ["dave@example.com", "DAVE@EXAMPLE.COM", "  Dave@example.com "]) {
      expect(namesOf((await list({ email })).data)).toEqual(["charlie"]);
    }
    expect((await list({ email: "dave@example" })).data?.data).toEqual([]);
  });

  test("an unknown sortBy, a bad sort, or a limit out of 1-100 is 400", async () => {
    const bad = [
      ["sortBy=password", "invalid_sort_by"],
      ["sort=sideways", undefined],
      ["limit=0", undefined],
      ["limit=101", undefined],
      ["skip=-1", undefined],
      ["role=admin", undefined],
    ] as const;
    for (const [query, code] of bad) await expectProblem(await own.request(`/v1/users?${query}`), 400, code);
  });

  test("a deleted user is gone from the list", async () => {
    const echo = users[2];
    if (echo === undefined) throw new Error("no echo");
    await own.api.DELETE("/v1/users/{id}", { params: { path: { id: echo.id } } });
    expect(namesOf((await list({ sortBy: "name", sort: "asc" })).data)).toEqual([
      "alpha",
      "bravo",
      "charlie",
      "delta",
    ]);
  });
});
