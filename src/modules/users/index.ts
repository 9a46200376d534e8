import { Elysia } from "elysia";
import type { Idempotency } from "../../platform/idempotency.ts";
import {
  describe,
  errorResponses,
  IdempotencyHeaders,
  IdParams,
  sharedModels,
} from "../../platform/schemas.ts";
import { CreateUser, ListUsersQuery, UpdateUser, usersModels } from "./model.ts";
import type { UsersService } from "./service.ts";

const tag = "users";

export const usersController = (users: UsersService, idempotency: Idempotency) =>
  new Elysia({ name: "users", prefix: "/v1/users" })
    .model({ ...sharedModels, ...usersModels })
    .post(
      "",
      async ({ body, request, status }) =>
        status(201, await idempotency.run(request, body, () => users.create(body), 201)),
      {
        headers: IdempotencyHeaders,
        body: CreateUser,
        response: { 201: "User", ...errorResponses(409) },
        ...describe(tag, "createUser", "Create a user"),
      },
    )
    .get("", ({ query }) => users.list(query), {
      query: ListUsersQuery,
      response: { 200: "UserPage", ...errorResponses() },
      ...describe(tag, "listUsers", "List users"),
    })
    .get("/:id", ({ params }) => users.get(params.id), {
      params: IdParams,
      response: { 200: "User", ...errorResponses(404) },
      ...describe(tag, "getUser", "Get a user"),
    })
    .patch("/:id", ({ params, body }) => users.update(params.id, body), {
      params: IdParams,
      body: UpdateUser,
      response: { 200: "User", ...errorResponses(404, 409) },
      ...describe(tag, "updateUser", "Update a user's e-mail or name"),
    })
    .delete("/:id", ({ params }) => users.delete(params.id), {
      params: IdParams,
      response: { 200: "User", ...errorResponses(404, 409) },
      ...describe(tag, "deleteUser", "Delete a user, their memberships, wallets and cards"),
    });
