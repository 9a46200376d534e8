import { Elysia } from "elysia";
import { describe, errorResponses, sharedModels } from "../../platform/schemas.ts";
import { authorizationHookModels, SetAuthorizationHook } from "./model.ts";
import type { AuthorizationHookService } from "./service.ts";

const tag = "authorization hook";

export const authorizationHookController = (hook: AuthorizationHookService) =>
  new Elysia({ name: "authorization-hook", prefix: "/v1/authorization-hook" })
    .model({ ...sharedModels, ...authorizationHookModels })
    .put("", ({ body }) => hook.set(body), {
      body: SetAuthorizationHook,
      response: { 200: "AuthorizationHook", ...errorResponses() },
      ...describe(
        tag,
        "setAuthorizationHook",
        "Set the real-time authorization hook",
        'Sets (or changes) the URL every card spend the service\'s own checks approve is sent to for a decision, with its time-out (100-5000 ms, default 1500) and what a failed call decides (`onTimeout`). The answer carries the signing secret (`whsec_…`) only when this request first sets the hook; a change keeps the secret. The call is a signed POST (Standard Webhooks headers, `traceparent`, `X-Request-Id`) of `{ authorization, card, wallet }`, answered `{ "approved": true }` or `{ "approved": false, "reason": "…" }`. A URL that is not http(s), or whose host resolves to a private, loopback, link-local or unspecified address (unless WEBHOOK_ALLOW_PRIVATE_TARGETS=true), is 400 webhook_url_not_allowed. Other instances apply a change within 1 second.',
        { scope: "admin" },
      ),
    })
    .get("", () => hook.get(), {
      response: { 200: "AuthorizationHook", ...errorResponses(404) },
      ...describe(
        tag,
        "getAuthorizationHook",
        "Get the authorization hook",
        "Returns the hook's settings without its secret; 404 authorization_hook_not_found when none is set.",
        { scope: "admin" },
      ),
    })
    .delete("", () => hook.delete(), {
      response: { 200: "AuthorizationHook", ...errorResponses(404) },
      ...describe(
        tag,
        "deleteAuthorizationHook",
        "Remove the authorization hook",
        "Removes the hook: spends are decided by the service's own checks alone again (on other instances within 1 second). 404 authorization_hook_not_found when none is set.",
        { scope: "admin" },
      ),
    });
