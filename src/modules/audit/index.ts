import { Elysia } from "elysia";
import { describe, errorResponses, sharedModels } from "../../platform/schemas.ts";
import { auditModels, ListAuditEventsQuery } from "./model.ts";
import type { AuditService } from "./service.ts";

const tag = "audit";

export const auditController = (audit: AuditService) =>
  new Elysia({ name: "audit" })
    .model({ ...sharedModels, ...auditModels })
    .get("/v1/audit-events", ({ query }) => audit.list(query), {
      query: ListAuditEventsQuery,
      response: { 200: "AuditEventPage", ...errorResponses() },
      ...describe(
        tag,
        "listAuditEvents",
        "List the audit trail, newest first",
        "Lists audit events, newest first by default: keys created and revoked, card numbers revealed, cards, wallets and roles changed, and every delete, each with the key and request that did it. Filter by resourceType, resourceId, action, apiKeyId and a creation window (`from` inclusive, `to` exclusive); page with limit and skip. Events are appended in the transaction of their change and never altered.",
        { scope: "admin" },
      ),
    });
