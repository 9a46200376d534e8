import { type Static, Type } from "@sinclair/typebox";
import { t } from "elysia";
import { EXAMPLE_ID, EXAMPLE_TIME } from "../../platform/examples.ts";
import { listQuery, modelId, Page, Timestamp, Uuid, withExamples } from "../../platform/schemas.ts";

export const AuditEvent = withExamples(
  Type.Object(
    {
      id: Uuid,
      action: Type.String({
        description: "What was done, as `<resource>.<verb>`: api_key.created, card.revealed, …",
      }),
      apiKeyId: Type.String({
        description: "The key that did it: an API key id, or `admin` for ADMIN_API_KEY",
      }),
      requestId: Type.Union([Type.String(), Type.Null()], { description: "The request's X-Request-Id" }),
      resourceType: Type.String(),
      resourceId: Type.String({ description: "The resource's id (a membership's is `<teamId>:<userId>`)" }),
      changes: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
        description:
          "What changed, `{ field: { from, to } }`, or what was deleted; never a secret, card number or CVV",
      }),
      createdAt: Timestamp,
    },
    { $id: modelId("AuditEvent") },
  ),
  [
    {
      id: EXAMPLE_ID.auditEvent,
      action: "card.updated",
      apiKeyId: EXAMPLE_ID.apiKey,
      requestId: EXAMPLE_ID.request,
      resourceType: "card",
      resourceId: EXAMPLE_ID.card,
      changes: { status: { from: "active", to: "frozen" } },
      createdAt: EXAMPLE_TIME.moved,
    },
  ],
);
export type AuditEvent = Static<typeof AuditEvent>;

export const AUDIT_SORT_FIELDS = ["createdAt"] as const;
export type AuditSortField = (typeof AUDIT_SORT_FIELDS)[number];

export const ListAuditEventsQuery = listQuery(AUDIT_SORT_FIELDS, {
  resourceType: t.Optional(t.String({ minLength: 1, maxLength: 64 })),
  resourceId: t.Optional(t.String({ minLength: 1, maxLength: 128 })),
  action: t.Optional(t.String({ minLength: 1, maxLength: 64 })),
  apiKeyId: t.Optional(t.String({ minLength: 1, maxLength: 64 })),
  from: t.Optional(t.String({ format: "date-time", description: "created at or after (RFC 3339)" })),
  to: t.Optional(t.String({ format: "date-time", description: "created before (RFC 3339)" })),
});
export type ListAuditEventsQuery = Static<typeof ListAuditEventsQuery>;

export const auditModels = { AuditEvent, AuditEventPage: Page(AuditEvent, "A page of audit events") };
