import { conflict, notFound, unprocessable } from "../../platform/errors.ts";

export const cardNotFound = (id: string) => notFound("card", id);

export const cardNumberTaken = () => conflict("card_number_taken", "A live card already has this number.");

export const cardholderNotAllowed = () =>
  unprocessable(
    "cardholder_not_allowed",
    "The cardholder must be the wallet's owner or a member of the wallet's team.",
  );

export const cardHasPendingHolds = (cardId: string) =>
  conflict(
    "card_has_pending_holds",
    `Card ${cardId} has pending authorizations; capture or void them (or let them expire) before deleting it.`,
  );
