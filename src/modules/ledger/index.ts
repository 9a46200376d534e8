import { Elysia } from "elysia";
import type { Idempotency } from "../../platform/idempotency.ts";
import { gatherMetadataQuery } from "../../platform/metadata.ts";
import {
  describe,
  errorResponses,
  IdempotencyHeaders,
  IdParams,
  RETRY_MONEY_WITH_KEY,
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
        ...describe(
          tag,
          "topUpWallet",
          "Add money to a wallet",
          `Adds \`amount\` minor units (1 to 10^12) to a wallet as one topup transaction; a frozen wallet takes top-ups too. A balance that would pass 10^15 is 422 balance_limit_exceeded. ${RETRY_MONEY_WITH_KEY}`,
        ),
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
        ...describe(
          tag,
          "withdrawFromWallet",
          "Take money out of a wallet",
          `Takes \`amount\` minor units out of a wallet as one withdrawal transaction, bound by the available balance (422 insufficient_funds), not by the spend limits. A frozen wallet refuses it (422 wallet_frozen). ${RETRY_MONEY_WITH_KEY}`,
        ),
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
        ...describe(
          tag,
          "createTransfer",
          "Move money between two wallets of one currency",
          `Moves \`amount\` between two wallets of one currency as a transfer_out and a transfer_in transaction, both or neither. Refused for one wallet on both sides (400 same_wallet), two currencies (422 currency_mismatch), past the sender's available balance (422 insufficient_funds), from a frozen wallet (422 wallet_frozen) or past 10^15 at the receiver (422 balance_limit_exceeded). ${RETRY_MONEY_WITH_KEY}`,
        ),
      },
    )
    .get("/v1/wallets/:id/transactions", ({ params, query }) => ledger.listOfWallet(params.id, query), {
      params: IdParams,
      query: ListTransactionsQuery,
      transform: gatherMetadataQuery,
      response: { 200: "TransactionPage", ...errorResponses(404) },
      ...describe(
        tag,
        "listWalletTransactions",
        "List a wallet's ledger, newest first",
        "Lists a wallet's ledger, newest first by default: every top-up, withdrawal, transfer leg, card spend and refund with the balance after it. Filter by type, cardId and a creation window (`from` inclusive, `to` exclusive); sort by createdAt or amount; page with limit and skip.",
      ),
    })
    .get("/v1/transactions/:id", ({ params }) => ledger.get(params.id), {
      params: IdParams,
      response: { 200: "Transaction", ...errorResponses(404) },
      ...describe(
        tag,
        "getTransaction",
        "Get a ledger transaction",
        "Returns one ledger transaction. The ledger is append-only: a transaction never changes, and a refund is a transaction of its own.",
      ),
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
        ...describe(
          tag,
          "refundTransaction",
          "Refund all or part of a card spend",
          `Gives back all or part of a card_spend (by default all that is not refunded yet) as a refund transaction to its wallet; the refunded amount no longer counts toward the card's and wallet's limits. Refunds never add up past the spend (422 refund_exceeds_spend), any other type is 422 transaction_not_refundable, and a balance that would pass 10^15 is 422 balance_limit_exceeded. ${RETRY_MONEY_WITH_KEY}`,
        ),
      },
    );
