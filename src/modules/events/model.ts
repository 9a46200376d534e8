import { type Static, Type } from "@sinclair/typebox";
import { t } from "elysia";
import { EXAMPLE_ID, EXAMPLE_TIME } from "../../platform/examples.ts";
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

/** Every kind of change an event reports (contract §7). */
export const EVENT_TYPES = [
  "user.created",
  "user.updated",
  "user.deleted",
  "team.created",
  "team.updated",
  "team.deleted",
  "member.added",
  "member.updated",
  "member.removed",
  "wallet.created",
  "wallet.updated",
  "wallet.deleted",
  "card.created",
  "card.updated",
  "card.deleted",
  "transaction.created",
  "transfer.created",
  "authorization.created",
  "authorization.updated",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const EventTypeSchema = literalUnion(EVENT_TYPES, {
  description: "an event type, such as authorization.created",
});

export const Event = withExamples(
  Type.Object(
    {
      id: Uuid,
      type: EventTypeSchema,
      createdAt: Timestamp,
      requestId: Type.Union([Type.String(), Type.Null()], {
        description: "the request that made the change; null for a change made by a background job",
      }),
      data: Type.Object(
        {
          object: Type.Record(Type.String(), Type.Unknown(), {
            description: "the resource as the API shows it after the change",
          }),
        },
        { additionalProperties: false },
      ),
    },
    { $id: modelId("Event") },
  ),
  [
    {
      id: "01a20cd5-96d2-7c1e-8f5a-2b7d33c1e0a4",
      type: "transaction.created",
      createdAt: EXAMPLE_TIME.moved,
      requestId: EXAMPLE_ID.request,
      data: {
        object: {
          id: EXAMPLE_ID.topUp,
          walletId: EXAMPLE_ID.wallet,
          type: "topup",
          amount: 50000,
          currency: "SGD",
          createdAt: EXAMPLE_TIME.moved,
        },
      },
    },
  ],
);
export type Event = Static<typeof Event>;

export const EVENT_SORT_FIELDS = ["createdAt"] as const;

export const ListEventsQuery = listQuery(EVENT_SORT_FIELDS, {
  type: t.Optional(EventTypeSchema),
  after: t.Optional(UuidInput),
});
export type ListEventsQuery = Static<typeof ListEventsQuery>;

export const eventsModels = { Event, EventPage: Page(Event, "A page of events") };
