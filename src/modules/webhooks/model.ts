import { type Static, Type } from "@sinclair/typebox";
import { t } from "elysia";
import { EXAMPLE_TIME } from "../../platform/examples.ts";
import { literalUnion } from "../../platform/literals.ts";
import {
  listQuery,
  modelId,
  Page,
  Timestamp,
  Uuid,
  UuidInput,
  withExamples,
} from "../../platform/schemas.ts";
import { HookUrl } from "../authorization-hook/model.ts";
import { EventTypeSchema } from "../events/model.ts";

const EXAMPLE_ENDPOINT_ID = "01a20cd6-8521-7f33-9d0e-5c1f2a7b9e10";
const EXAMPLE_EVENT_ID = "01a20cd5-96d2-7c1e-8f5a-2b7d33c1e0a4";

export const ENDPOINT_STATUSES = ["enabled", "disabled"] as const;
const EndpointStatus = literalUnion(ENDPOINT_STATUSES, { description: "enabled or disabled" });

/** "*" for every event type, or a list of types. */
export const EventTypes = Type.Union(
  [
    literalUnion(["*"], { description: "every event type" }),
    Type.Array(EventTypeSchema, { minItems: 1, maxItems: 50, uniqueItems: true }),
  ],
  { description: '"*" for every event type, or a list of event types' },
);
export type EventTypes = Static<typeof EventTypes>;

const endpointFields = {
  id: Uuid,
  url: Type.String(),
  eventTypes: EventTypes,
  description: Type.Union([Type.String(), Type.Null()]),
  status: EndpointStatus,
  createdAt: Timestamp,
  updatedAt: Timestamp,
};

const exampleEndpoint = {
  id: EXAMPLE_ENDPOINT_ID,
  url: "https://hooks.example.com/wallet",
  eventTypes: ["authorization.created", "transaction.created"] as (
    | "authorization.created"
    | "transaction.created"
  )[],
  description: "Ledger sync",
  status: "enabled" as const,
  createdAt: EXAMPLE_TIME.created,
  updatedAt: EXAMPLE_TIME.created,
};

export const WebhookEndpoint = withExamples(
  Type.Object(endpointFields, { $id: modelId("WebhookEndpoint") }),
  [exampleEndpoint],
);
export type WebhookEndpoint = Static<typeof WebhookEndpoint>;

export const CreatedWebhookEndpoint = withExamples(
  Type.Object(
    {
      ...endpointFields,
      secret: Type.String({ description: "the signing secret (whsec_…): shown in this response only" }),
    },
    { $id: modelId("CreatedWebhookEndpoint") },
  ),
  [{ ...exampleEndpoint, secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD" }],
);
export type CreatedWebhookEndpoint = Static<typeof CreatedWebhookEndpoint>;

const Description = Type.String({ maxLength: 500, description: "up to 500 characters" });

export const CreateWebhookEndpoint = withExamples(
  Type.Object(
    { url: HookUrl, eventTypes: EventTypes, description: Type.Optional(Description) },
    { additionalProperties: false },
  ),
  [{ url: "https://hooks.example.com/wallet", eventTypes: "*", description: "Ledger sync" }],
);
export type CreateWebhookEndpoint = Static<typeof CreateWebhookEndpoint>;

export const UpdateWebhookEndpoint = withExamples(
  Type.Object(
    {
      url: Type.Optional(HookUrl),
      eventTypes: Type.Optional(EventTypes),
      description: Type.Optional(Type.Union([Description, Type.Null()])),
      status: Type.Optional(EndpointStatus),
    },
    { additionalProperties: false, minProperties: 1, description: "At least one field to change" },
  ),
  [{ status: "disabled" }, { eventTypes: ["transaction.created"] }],
);
export type UpdateWebhookEndpoint = Static<typeof UpdateWebhookEndpoint>;

export const DELIVERY_STATUSES = ["succeeded", "failed", "pending"] as const;

export const WebhookDelivery = withExamples(
  Type.Object(
    {
      id: Uuid,
      eventId: Uuid,
      attempt: Type.Integer({ minimum: 1 }),
      status: literalUnion(DELIVERY_STATUSES, {
        description: "succeeded or failed (an attempt made), pending (the first attempt is still to come)",
      }),
      responseStatus: Type.Union([Type.Integer(), Type.Null()]),
      error: Type.Union([Type.String(), Type.Null()]),
      nextAttemptAt: Type.Union([Timestamp, Type.Null()], {
        description: "when the next attempt is due; null when none will be made",
      }),
      createdAt: Timestamp,
    },
    { $id: modelId("WebhookDelivery") },
  ),
  [
    {
      id: "01a20cd7-7370-7a44-8c2b-9d4e6f1a3b21",
      eventId: EXAMPLE_EVENT_ID,
      attempt: 1,
      status: "failed",
      responseStatus: 503,
      error: "HTTP 503",
      nextAttemptAt: "2026-11-24T10:15:06.000Z",
      createdAt: "2026-11-24T10:15:01.000Z",
    },
  ],
);
export type WebhookDelivery = Static<typeof WebhookDelivery>;

export const ListWebhookEndpointsQuery = listQuery(["createdAt"] as const, {});
export type ListWebhookEndpointsQuery = Static<typeof ListWebhookEndpointsQuery>;

export const ListDeliveriesQuery = listQuery(["createdAt"] as const, {
  eventId: t.Optional(UuidInput),
});
export type ListDeliveriesQuery = Static<typeof ListDeliveriesQuery>;

export const webhooksModels = {
  WebhookEndpoint,
  CreatedWebhookEndpoint,
  WebhookEndpointPage: Page(WebhookEndpoint, "A page of webhook endpoints"),
  WebhookDelivery,
  WebhookDeliveryPage: Page(WebhookDelivery, "A page of webhook delivery attempts, newest first"),
};
