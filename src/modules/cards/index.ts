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
import { CreateCard, cardsModels, ListCardsQuery, UpdateCard } from "./model.ts";
import type { CardsService } from "./service.ts";

const tag = "cards";

export const cardsController = (cards: CardsService, idempotency: Idempotency) =>
  new Elysia({ name: "cards" })
    .model({ ...sharedModels, ...cardsModels })
    .post(
      "/v1/cards",
      async ({ body, request, status }) =>
        status(201, await idempotency.run(request, body, () => cards.create(body), 201)),
      {
        headers: IdempotencyHeaders,
        body: CreateCard,
        response: { 201: "Card", ...errorResponses(404, 409, 422) },
        ...describe(
          tag,
          "createCard",
          "Add a card to a wallet, with a given number or an issued one",
          `Adds a card to a live wallet: give \`cardNo\` (13-19 digits passing the Luhn check) with \`expiryMonth\`, \`expiryYear\` and \`cvv\`, or none of them to have a number, an expiry three years ahead and a CVV issued. A number on another live card is 409 card_number_taken; a cardholder must be the wallet's user or a member of its team (422 cardholder_not_allowed). Limits default to 500000 minor units. ${RETRY_WITH_KEY}`,
          { scope: "write", body: { walletId: "wallet" } },
        ),
      },
    )
    .get("/v1/cards", ({ query, request }) => cards.list(query, callerOf(request).reach), {
      query: ListCardsQuery,
      response: { 200: "CardPage", ...errorResponses() },
      ...describe(
        tag,
        "listCards",
        "List cards",
        "Lists live cards, never with their numbers or CVVs; filter by walletId, cardholderId and status; sort by createdAt, updatedAt or status; page with limit and skip.",
        { scope: "read" },
      ),
    })
    .get("/v1/cards/:id", ({ params }) => cards.get(params.id), {
      params: IdParams,
      response: { 200: "Card", ...errorResponses(404) },
      ...describe(
        tag,
        "getCard",
        "Get a card (never its number or CVV)",
        "Returns a live card: brand, last four digits, expiry, status, limits and approved spend of today and this month, never the full number or the CVV.",
        { scope: "read", params: { id: "card" } },
      ),
    })
    .get("/v1/cards/:id/sensitive", ({ params }) => cards.reveal(params.id), {
      params: IdParams,
      response: { 200: "SensitiveCard", ...errorResponses(404) },
      ...describe(
        tag,
        "getCardSensitive",
        "Reveal a card's full number and CVV",
        "Returns a card's full number, CVV and expiry, decrypted from storage. This is the only route that shows them; they are in no other body, log line or trace.",
        { scope: "cards:reveal", params: { id: "heldCard" } },
      ),
    })
    .patch("/v1/cards/:id", ({ params, body }) => cards.update(params.id, body), {
      params: IdParams,
      body: UpdateCard,
      response: { 200: "Card", ...errorResponses(404, 409, 422) },
      ...describe(
        tag,
        "updateCard",
        "Change a card's details, limits, status or cardholder",
        "Changes a card's number, expiry, CVV, limits, status or cardholder, with the same checks as when it was created. A card never moves to another wallet (400 card_wallet_immutable), and `cancelled` is final (409 card_cancelled). A frozen or cancelled card's spends are declined (card_inactive).",
        { scope: "write", params: { id: "card" } },
      ),
    })
    .delete("/v1/cards/:id", ({ params }) => cards.delete(params.id), {
      params: IdParams,
      response: { 200: "Card", ...errorResponses(404, 409) },
      ...describe(
        tag,
        "deleteCard",
        "Delete a card (refused while it has pending holds)",
        "Soft-deletes a card. Refused with 409 card_has_pending_holds while it has a pending hold: capture or void it, or let it expire, first.",
        { scope: "write", params: { id: "card" } },
      ),
    })
    .delete("/v1/wallets/:id/cards", ({ params }) => cards.deleteAllOfWallet(params.id), {
      params: IdParams,
      response: { 200: "DeletedCards", ...errorResponses(404, 409) },
      ...describe(
        tag,
        "deleteWalletCards",
        "Delete every card of a wallet (refused while one has pending holds)",
        "Soft-deletes every card of a wallet and returns them; the wallet stays. All or nothing: refused with 409 card_has_pending_holds while one of them has a pending hold.",
        { scope: "write", params: { id: "wallet" } },
      ),
    });
