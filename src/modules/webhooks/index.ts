import { Elysia } from "elysia";
import type { Idempotency } from "../../platform/idempotency.ts";
import {
  describe,
  errorResponses,
  IdempotencyHeaders,
  IdParams,
  RETRY_WITH_KEY,
  sharedModels,
} from "../../platform/schemas.ts";
import {
  CreateWebhookEndpoint,
  ListDeliveriesQuery,
  ListWebhookEndpointsQuery,
  UpdateWebhookEndpoint,
  webhooksModels,
} from "./model.ts";
import type { WebhooksService } from "./service.ts";

const tag = "webhooks";

const URL_RULE =
  "The URL must be http or https; unless WEBHOOK_ALLOW_PRIVATE_TARGETS=true, one whose host resolves to a loopback, private, link-local or unspecified address is 400 webhook_url_not_allowed (and is checked again before every delivery).";

export const webhooksController = (webhooks: WebhooksService, idempotency: Idempotency) =>
  new Elysia({ name: "webhooks", prefix: "/v1/webhook-endpoints" })
    .model({ ...sharedModels, ...webhooksModels })
    .post(
      "",
      async ({ body, request, status }) =>
        status(201, await idempotency.run(request, body, () => webhooks.create(body), 201)),
      {
        headers: IdempotencyHeaders,
        body: CreateWebhookEndpoint,
        response: { 201: "CreatedWebhookEndpoint", ...errorResponses(409) },
        ...describe(
          tag,
          "createWebhookEndpoint",
          "Subscribe a URL to events",
          `Subscribes a URL to every event (\`"*"\`) or to the listed types, from now on. The answer carries the signing secret (\`whsec_…\`), shown this once. Each event is POSTed with Standard Webhooks headers (\`webhook-id\` = the event id, \`webhook-timestamp\`, \`webhook-signature\`), \`traceparent\` and \`X-Request-Id\` of the request that made it; a 2xx within 10 s is success, anything else is retried on WEBHOOK_RETRY_DELAYS. ${URL_RULE} ${RETRY_WITH_KEY}`,
          { scope: "admin" },
        ),
      },
    )
    .get("", ({ query }) => webhooks.list(query), {
      query: ListWebhookEndpointsQuery,
      response: { 200: "WebhookEndpointPage", ...errorResponses() },
      ...describe(
        tag,
        "listWebhookEndpoints",
        "List webhook endpoints",
        "Lists live webhook endpoints, newest first by default; never their secrets.",
        { scope: "admin" },
      ),
    })
    .get("/:id", ({ params }) => webhooks.get(params.id), {
      params: IdParams,
      response: { 200: "WebhookEndpoint", ...errorResponses(404) },
      ...describe(
        tag,
        "getWebhookEndpoint",
        "Get a webhook endpoint",
        "Returns a webhook endpoint without its secret; an unknown or deleted id is 404 webhook_endpoint_not_found.",
        { scope: "admin" },
      ),
    })
    .patch("/:id", ({ params, body }) => webhooks.update(params.id, body), {
      params: IdParams,
      body: UpdateWebhookEndpoint,
      response: { 200: "WebhookEndpoint", ...errorResponses(404) },
      ...describe(
        tag,
        "updateWebhookEndpoint",
        "Change a webhook endpoint",
        `Changes the URL, the event types, the description or the status. A disabled endpoint is sent nothing; the events made while it was disabled are sent once it is enabled again. ${URL_RULE}`,
        { scope: "admin" },
      ),
    })
    .delete("/:id", ({ params }) => webhooks.delete(params.id), {
      params: IdParams,
      response: { 200: "WebhookEndpoint", ...errorResponses(404) },
      ...describe(
        tag,
        "deleteWebhookEndpoint",
        "Delete a webhook endpoint",
        "Deletes the endpoint: it gets no further events, and deliveries not yet made to it are given up.",
        { scope: "admin" },
      ),
    })
    .get("/:id/deliveries", ({ params, query }) => webhooks.deliveries(params.id, query), {
      params: IdParams,
      query: ListDeliveriesQuery,
      response: { 200: "WebhookDeliveryPage", ...errorResponses(404) },
      ...describe(
        tag,
        "listWebhookDeliveries",
        "List the delivery attempts of a webhook endpoint",
        "The attempts log of an endpoint, newest first by default: every attempt made (succeeded or failed, with the response status or the error, and when the next attempt is due), and each delivery whose first attempt is still to come (pending). Filter by `eventId`.",
        { scope: "admin" },
      ),
    });
