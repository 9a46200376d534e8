import { Elysia } from "elysia";
import { acceptsCsv, CSV_MEDIA_TYPE } from "../../platform/csv.ts";
import type { Idempotency } from "../../platform/idempotency.ts";
import { gatherMetadataQuery } from "../../platform/metadata.ts";
import { callerOf } from "../../platform/request-context.ts";
import {
  describe,
  errorResponses,
  IdempotencyHeaders,
  IdParams,
  RETRY_MONEY_WITH_KEY,
  sharedModels,
  withCsvAlternative,
} from "../../platform/schemas.ts";
import {
  BalanceQuery,
  CreateRefund,
  CreateTransfer,
  ListTransactionsQuery,
  ledgerModels,
  MAX_STATEMENT_TRANSACTIONS,
  MoneyMovement,
  StatementQuery,
} from "./model.ts";
import type { LedgerService } from "./service.ts";
import { STATEMENT_CSV_EXAMPLE, statementCsv } from "./statement-csv.ts";

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
          { scope: "money", params: { id: "wallet" } },
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
          { scope: "money", params: { id: "wallet" } },
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
          { scope: "money", body: { fromWalletId: "wallet", toWalletId: "wallet" } },
        ),
      },
    )
    .get(
      "/v1/wallets/:id/transactions",
      ({ params, query, request }) => ledger.listOfWallet(params.id, query, callerOf(request).reach),
      {
        params: IdParams,
        query: ListTransactionsQuery,
        transform: gatherMetadataQuery,
        response: { 200: "TransactionPage", ...errorResponses(404) },
        ...describe(
          tag,
          "listWalletTransactions",
          "List a wallet's ledger, newest first",
          "Lists a wallet's ledger, newest first by default: every top-up, withdrawal, transfer leg, card spend and refund with the balance after it. Filter by type, cardId and a creation window (`from` inclusive, `to` exclusive); sort by createdAt or amount; page with limit and skip.",
          { scope: "read", params: { id: "wallet" } },
        ),
      },
    )
    .get("/v1/wallets/:id/balance", ({ params, query }) => ledger.balanceAt(params.id, query), {
      params: IdParams,
      query: BalanceQuery,
      response: { 200: "BalanceAt", ...errorResponses(404) },
      ...describe(
        tag,
        "getWalletBalanceAt",
        "A wallet's balance at an instant, from its ledger",
        "Returns the wallet's balance as of `at` (RFC 3339, default now): the balance after the last ledger transaction created at or before that instant, 0 before the first. Pending holds are not in it (they never moved money).",
        { scope: "read", params: { id: "wallet" } },
      ),
    })
    .get("/v1/wallets/:id/statement", ({ params, query }) => ledger.statement(params.id, query), {
      params: IdParams,
      query: StatementQuery,
      response: { 200: "Statement", ...errorResponses(404, 422) },
      // After the statement is validated: the same transactions as CSV when the client asks for them.
      mapResponse: ({ responseValue, request }) =>
        acceptsCsv(request) && "openingBalance" in responseValue
          ? new Response(statementCsv(responseValue), {
              headers: {
                "content-type": CSV_MEDIA_TYPE,
                "content-disposition": `attachment; filename="statement-${responseValue.walletId}.csv"`,
              },
            })
          : undefined,
      ...withCsvAlternative(
        describe(
          tag,
          "getWalletStatement",
          "A wallet's statement for a period, as JSON or CSV",
          `Returns the wallet's statement for [\`from\`, \`to\`): the opening balance (before \`from\`), the period's transactions oldest first, the total amount of each type and the closing balance, read in one snapshot, so opening + credits − debits = closing. \`from\` must be before \`to\` (400 invalid_period); a period of more than ${MAX_STATEMENT_TRANSACTIONS} transactions is 422 statement_too_large. With \`Accept: text/csv\` the same transactions come as CSV (RFC 4180, header row, CRLF, amounts in minor units, metadata as JSON text).`,
          { scope: "read", params: { id: "wallet" } },
        ),
        STATEMENT_CSV_EXAMPLE,
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
        { scope: "read", params: { id: "transaction" } },
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
          { scope: "money", params: { id: "transaction" } },
        ),
      },
    );
