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
        ...describe(
          tag,
          "createWallet",
          "Create a wallet for a user or a team",
          `Creates a wallet with a balance of 0 for exactly one owner, a user (\`userId\`) or a team (\`teamId\`): both or neither is 400 invalid_wallet_owner, an unknown owner 404. The currency defaults to the service's DEFAULT_CURRENCY and the time zone to UTC; both limits default to 500000 minor units, a limit given is at least 10000, and the daily limit is never above the monthly one. ${RETRY_WITH_KEY}`,
          { scope: "write", body: { userId: "user", teamId: "team" } },
        ),
      },
    )
    .get("/v1/wallets", ({ query, request }) => wallets.list(query, callerOf(request).reach), {
      query: ListWalletsQuery,
      response: { 200: "WalletPage", ...errorResponses() },
      ...describe(
        tag,
        "listWallets",
        "List wallets",
        "Lists live wallets; filter by userId, teamId and status; sort by createdAt, updatedAt, name or balance; page with limit and skip.",
        { scope: "read" },
      ),
    })
    .get("/v1/wallets/:id", ({ params }) => wallets.get(params.id), {
      params: IdParams,
      response: { 200: "Wallet", ...errorResponses(404) },
      ...describe(
        tag,
        "getWallet",
        "Get a wallet with its balances and spend",
        "Returns a live wallet: its balance, its available balance (the balance less pending holds), its limits, and the approved card spend of today and this month, measured in the wallet's time zone.",
        { scope: "read", params: { id: "wallet" } },
      ),
    })
    .patch("/v1/wallets/:id", ({ params, body }) => wallets.update(params.id, body), {
      params: IdParams,
      body: UpdateWallet,
      response: { 200: "Wallet", ...errorResponses(404) },
      ...describe(
        tag,
        "updateWallet",
        "Rename a wallet, change its limits or freeze it",
        "Renames a wallet, changes its limits (the daily one never above the monthly one), or freezes and unfreezes it. A frozen wallet still takes top-ups and incoming transfers, refuses withdrawals and outgoing transfers (422 wallet_frozen) and has its card spends declined (wallet_frozen). Balances never change here, and the owner never changes (400 wallet_owner_immutable).",
        { scope: "write", params: { id: "wallet" } },
      ),
    })
    .delete("/v1/wallets/:id", ({ params }) => wallets.delete(params.id), {
      params: IdParams,
      response: { 200: "Wallet", ...errorResponses(404, 409) },
      ...describe(
        tag,
        "deleteWallet",
        "Delete an empty wallet and its cards",
        "Soft-deletes a wallet with its cards. Refused with 409 wallet_not_empty while it holds money or pending holds: move the balance out and capture or void the holds first.",
        { scope: "write", params: { id: "wallet" } },
      ),
    })
    .delete("/v1/users/:id/wallets", ({ params }) => wallets.deleteAllOf({ userId: params.id }), {
      params: IdParams,
      response: { 200: "DeletedWallets", ...errorResponses(404, 409) },
      ...describe(
        tag,
        "deleteUserWallets",
        "Delete every wallet of a user, with their cards",
        "Soft-deletes every wallet a user owns, with their cards, and returns them; the user stays. All or nothing: refused with 409 wallet_not_empty while one of them holds money or pending holds.",
        { scope: "write", params: { id: "user" } },
      ),
    })
    .delete("/v1/teams/:id/wallets", ({ params }) => wallets.deleteAllOf({ teamId: params.id }), {
      params: IdParams,
      response: { 200: "DeletedWallets", ...errorResponses(404, 409) },
      ...describe(
        tag,
        "deleteTeamWallets",
        "Delete every wallet of a team, with their cards",
        "Soft-deletes every wallet of a team, with their cards, and returns them; the team stays. All or nothing: refused with 409 wallet_not_empty while one of them holds money or pending holds.",
        { scope: "write", params: { id: "team" } },
      ),
    });
