import { badRequest, notFound } from "../../platform/errors.ts";

export const authorizationHookNotFound = () => notFound("authorization_hook");

/** A webhook or hook URL the service may not call (contract §7). */
export const urlNotAllowed = (detail: string) => badRequest("webhook_url_not_allowed", detail);
