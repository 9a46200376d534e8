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
        ...describe(
          tag,
          "createUser",
          "Create a user",
          `Creates a user from an e-mail address and a name, both trimmed. The e-mail must not belong to another live user in any letter case (409 email_taken). ${RETRY_WITH_KEY}`,
          { scope: "write" },
        ),
      },
    )
    .get("", ({ query, request }) => users.list(query, callerOf(request).reach), {
      query: ListUsersQuery,
      response: { 200: "UserPage", ...errorResponses() },
      ...describe(
        tag,
        "listUsers",
        "List users",
        "Lists live users, newest first by default. Filter by `email` (exact, any case); sort by createdAt, updatedAt, email or name; page with limit and skip.",
        { scope: "read" },
      ),
    })
    .get("/:id", ({ params }) => users.get(params.id), {
      params: IdParams,
      response: { 200: "User", ...errorResponses(404) },
      ...describe(
        tag,
        "getUser",
        "Get a user",
        "Returns a live user; a deleted or unknown id is 404 user_not_found.",
        { scope: "read", params: { id: "user" } },
      ),
    })
    .patch("/:id", ({ params, body }) => users.update(params.id, body), {
      params: IdParams,
      body: UpdateUser,
      response: { 200: "User", ...errorResponses(404, 409) },
      ...describe(
        tag,
        "updateUser",
        "Update a user's e-mail or name",
        "Changes a user's e-mail, name or both; the body names at least one. A new e-mail must not belong to another live user in any letter case (409 email_taken).",
        { scope: "write", params: { id: "user" } },
      ),
    })
    .delete("/:id", ({ params }) => users.delete(params.id), {
      params: IdParams,
      response: { 200: "User", ...errorResponses(404, 409) },
      ...describe(
        tag,
        "deleteUser",
        "Delete a user, their memberships, wallets and cards",
        "Soft-deletes a user (`deletedAt` set; afterwards 404 and gone from lists) with what exists only through them: their memberships, the wallets they own with those wallets' cards, and the cards they hold on team wallets. All or nothing: refused with 409 wallet_not_empty while one of their wallets holds money or pending holds, and 409 card_has_pending_holds while one of those cards has a pending hold.",
        { scope: "write", params: { id: "user" } },
      ),
    });
