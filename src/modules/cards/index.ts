import { Elysia } from "elysia";
import type { Idempotency } from "../../platform/idempotency.ts";
import {
  describe,
  errorResponses,
  IdempotencyHeaders,
  IdParams,
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
        ...describe(tag, "createCard", "Add a card to a wallet, with a given number or an issued one"),
      },
    )
    .get("/v1/cards", ({ query }) => cards.list(query), {
      query: ListCardsQuery,
      response: { 200: "CardPage", ...errorResponses() },
      ...describe(tag, "listCards", "List cards"),
    })
    .get("/v1/cards/:id", ({ params }) => cards.get(params.id), {
      params: IdParams,
      response: { 200: "Card", ...errorResponses(404) },
      ...describe(tag, "getCard", "Get a card (never its number or CVV)"),
    })
    .get("/v1/cards/:id/sensitive", ({ params }) => cards.reveal(params.id), {
      params: IdParams,
      response: { 200: "SensitiveCard", ...errorResponses(403, 404) },
      ...describe(tag, "getCardSensitive", "Reveal a card's full number and CVV"),
    })
    .patch("/v1/cards/:id", ({ params, body }) => cards.update(params.id, body), {
      params: IdParams,
      body: UpdateCard,
      response: { 200: "Card", ...errorResponses(404, 409, 422) },
      ...describe(tag, "updateCard", "Change a card's details, limits, status or cardholder"),
    })
    .delete("/v1/cards/:id", ({ params }) => cards.delete(params.id), {
      params: IdParams,
      response: { 200: "Card", ...errorResponses(404, 409) },
      ...describe(tag, "deleteCard", "Delete a card (refused while it has pending holds)"),
    })
    .delete("/v1/wallets/:id/cards", ({ params }) => cards.deleteAllOfWallet(params.id), {
      params: IdParams,
      response: { 200: "DeletedCards", ...errorResponses(404, 409) },
      ...describe(
        tag,
        "deleteWalletCards",
        "Delete every card of a wallet (refused while one has pending holds)",
      ),
    });
