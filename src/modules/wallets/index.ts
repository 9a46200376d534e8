import { Elysia } from "elysia";
import type { Idempotency } from "../../platform/idempotency.ts";
import {
  describe,
  errorResponses,
  IdempotencyHeaders,
  IdParams,
  sharedModels,
} from "../../platform/schemas.ts";
import { CreateWallet, ListWalletsQuery, UpdateWallet, walletsModels } from "./model.ts";
import type { WalletsService } from "./service.ts";

const tag = "wallets";

export const walletsController = (wallets: WalletsService, idempotency: Idempotency) =>
  new Elysia({ name: "wallets" })
    .model({ ...sharedModels, ...walletsModels })
    .post(
      "/v1/wallets",
      async ({ body, request, status }) =>
        status(201, await idempotency.run(request, body, () => wallets.create(body), 201)),
      {
        headers: IdempotencyHeaders,
        body: CreateWallet,
        response: { 201: "Wallet", ...errorResponses(404) },
        ...describe(tag, "createWallet", "Create a wallet for a user or a team"),
      },
    )
    .get("/v1/wallets", ({ query }) => wallets.list(query), {
      query: ListWalletsQuery,
      response: { 200: "WalletPage", ...errorResponses() },
      ...describe(tag, "listWallets", "List wallets"),
    })
    .get("/v1/wallets/:id", ({ params }) => wallets.get(params.id), {
      params: IdParams,
      response: { 200: "Wallet", ...errorResponses(404) },
      ...describe(tag, "getWallet", "Get a wallet with its balances and spend"),
    })
    .patch("/v1/wallets/:id", ({ params, body }) => wallets.update(params.id, body), {
      params: IdParams,
      body: UpdateWallet,
      response: { 200: "Wallet", ...errorResponses(404) },
      ...describe(tag, "updateWallet", "Rename a wallet, change its limits or freeze it"),
    })
    .delete("/v1/wallets/:id", ({ params }) => wallets.delete(params.id), {
      params: IdParams,
      response: { 200: "Wallet", ...errorResponses(404, 409) },
      ...describe(tag, "deleteWallet", "Delete an empty wallet and its cards"),
    })
    .delete("/v1/users/:id/wallets", ({ params }) => wallets.deleteAllOf({ userId: params.id }), {
      params: IdParams,
      response: { 200: "DeletedWallets", ...errorResponses(404, 409) },
      ...describe(tag, "deleteUserWallets", "Delete every wallet of a user, with their cards"),
    })
    .delete("/v1/teams/:id/wallets", ({ params }) => wallets.deleteAllOf({ teamId: params.id }), {
      params: IdParams,
      response: { 200: "DeletedWallets", ...errorResponses(404, 409) },
      ...describe(tag, "deleteTeamWallets", "Delete every wallet of a team, with their cards"),
    });
