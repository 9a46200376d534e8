import { badRequest, conflict, notFound } from "../../platform/errors.ts";

export const apiKeyNotFound = (id: string) => notFound("api_key", id);

export const apiKeyRevoked = (id: string) => conflict("api_key_revoked", `API key ${id} is revoked already.`);

export const invalidKeyBinding = () =>
  badRequest("invalid_key_binding", "A key is bound to one team (teamId) or one user (userId), not both.");

export const boundAdminKey = () =>
  badRequest(
    "bound_key_admin_scope",
    "The admin scope reaches everything, keys included: a key bound to a team or user cannot have it.",
  );

export const invalidExpiry = () => badRequest("invalid_expiry", "expiresAt must be in the future.");
