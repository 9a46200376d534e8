import { describe, expect, test } from "bun:test";
import { createTeam, createUser, createWallet } from "../helpers/fixtures.ts";
import { expectSdkProblem } from "../helpers/problem-details.ts";
import { uniqueEmail, useServer } from "../helpers/server.ts";

const server = useServer();

describe("users", () => {
  test("create trims the e-mail and name and returns 201 with timestamps", async () => {
    const email = uniqueEmail("Trim");
    const { data, response } = await server.api.POST("/v1/users", {
      body: { email: `  ${email} `, name: " Ann " },
    });
    expect(response.status).toBe(201);
    expect(data?.email).toBe(email);
    expect(data?.name).toBe("Ann");
    expect(data?.deletedAt).toBeNull();
    expect(new Date(data?.createdAt ?? "").toISOString()).toBe(data?.createdAt ?? "");
  });

  test("the same e-mail in another case is 409 email_taken", async () => {
    const email = uniqueEmail("dup");
    await server.api.POST("/v1/users", { body: { email, name: "First" } });
    expectSdkProblem(
      await server.api.POST("/v1/users", { body: { email: email.toUpperCase(), name: "Second" } }),
      409,
      "email_taken",
    );
  });

  test("an invalid e-mail is 400 invalid_email and creates nothing", async () => {
    const { error, response } = await server.api.POST("/v1/users", {
      body: { email: "not-an-email", name: "X" },
    });
    expect(response.status).toBe(400);
    expect(error?.code).toBe("invalid_email");
    expect(error?.errors?.[0]?.path).toBe("body.email");
    const list = await server.api.GET("/v1/users", { params: { query: { email: "not-an-email" } } });
    expect(list.data?.data).toHaveLength(0);
  });

  test("delete soft-deletes: 200 with deletedAt, then 404, and the e-mail is free again", async () => {
    const user = await createUser(server.api);
    const deleted = await server.api.DELETE("/v1/users/{id}", { params: { path: { id: user.id } } });
    expect(deleted.response.status).toBe(200);
    expect(deleted.data?.deletedAt).not.toBeNull();
    const after = await server.api.GET("/v1/users/{id}", { params: { path: { id: user.id } } });
    expect(after.response.status).toBe(404);
    expect(after.error?.code).toBe("user_not_found");
    const again = await server.api.POST("/v1/users", { body: { email: user.email, name: "Reborn" } });
    expect(again.response.status).toBe(201);
  });

  test("deleting a user removes their memberships and wallets", async () => {
    const user = await createUser(server.api);
    const team = await createTeam(server.api);
    await server.api.POST("/v1/teams/{id}/members", {
      params: { path: { id: team.id } },
      body: { userId: user.id },
    });
    const wallet = await createWallet(server.api, { userId: user.id });
    await server.api.DELETE("/v1/users/{id}", { params: { path: { id: user.id } } });
    const members = await server.api.GET("/v1/teams/{id}/members", { params: { path: { id: team.id } } });
    expect(members.data?.data).toHaveLength(0);
    const walletAfter = await server.api.GET("/v1/wallets/{id}", { params: { path: { id: wallet.id } } });
    expect(walletAfter.response.status).toBe(404);
  });
});
