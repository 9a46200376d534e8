import { Elysia } from "elysia";
import type { Idempotency } from "../../platform/idempotency.ts";
import {
  describe,
  errorResponses,
  IdempotencyHeaders,
  IdParams,
  sharedModels,
} from "../../platform/schemas.ts";
import { CreateRefund, CreateTransfer, ListTransactionsQuery, ledgerModels, MoneyMovement } from "./model.ts";
import type { LedgerService } from "./service.ts";

const tag = "ledger";

export const ledgerController = (ledger: LedgerService, idempotency: Idempotency) =>
  new Elysia({ name: "ledger" })
    .model({ ...sharedModels, ...ledgerModels })
    .post(
      "/v1/wallets/:id/topups",
      async ({ params, body, request, status }) =>
        status(201, await idempotency.run(request, body, () => ledger.topUp(params.id, body), 201)),
      {
        headers: IdempotencyHeaders,
        params: IdParams,
        body: MoneyMovement,
        response: { 201: "Transaction", ...errorResponses(404, 409, 422) },
        ...describe(tag, "topUpWallet", "Add money to a wallet"),
      },
    )
    .post(
      "/v1/wallets/:id/withdrawals",
      async ({ params, body, request, status }) =>
        status(201, await idempotency.run(request, body, () => ledger.withdraw(params.id, body), 201)),
      {
        headers: IdempotencyHeaders,
        params: IdParams,
        body: MoneyMovement,
        response: { 201: "Transaction", ...errorResponses(404, 409, 422) },
        ...describe(tag, "withdrawFromWallet", "Take money out of a wallet"),
      },
    )
    .post(
      "/v1/transfers",
      async ({ body, request, status }) =>
        status(201, await idempotency.run(request, body, () => ledger.transfer(body), 201)),
      {
        headers: IdempotencyHeaders,
        body: CreateTransfer,
        response: { 201: "Transfer", ...errorResponses(404, 409, 422) },
        ...describe(tag, "createTransfer", "Move money between two wallets of one currency"),
      },
    )
    .get("/v1/wallets/:id/transactions", ({ params, query }) => ledger.listOfWallet(params.id, query), {
      params: IdParams,
      query: ListTransactionsQuery,
      response: { 200: "TransactionPage", ...errorResponses(404) },
      ...describe(tag, "listWalletTransactions", "List a wallet's ledger, newest first"),
    })
    .get("/v1/transactions/:id", ({ params }) => ledger.get(params.id), {
      params: IdParams,
      response: { 200: "Transaction", ...errorResponses(404) },
      ...describe(tag, "getTransaction", "Get a ledger transaction"),
    })
    .post(
      "/v1/transactions/:id/refunds",
      async ({ params, body, request, status }) =>
        status(201, await idempotency.run(request, body, () => ledger.refund(params.id, body), 201)),
      {
        headers: IdempotencyHeaders,
        params: IdParams,
        body: CreateRefund,
        response: { 201: "Transaction", ...errorResponses(404, 409, 422) },
        ...describe(tag, "refundTransaction", "Refund all or part of a card spend"),
      },
    );
