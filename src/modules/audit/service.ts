import type { Database } from "../../platform/db.ts";
import { listOptions, type Page, toPage } from "../../platform/pagination.ts";
import type { AuditEvent, ListAuditEventsQuery } from "./model.ts";
import { auditRepository } from "./repository.ts";

export class AuditService {
  constructor(private readonly db: Database) {}

  async list(query: ListAuditEventsQuery): Promise<Page<AuditEvent>> {
    const options = listOptions(query, "createdAt");
    const { resourceType, resourceId, action, apiKeyId, from, to } = query;
    const rows = await auditRepository.list(
      this.db,
      { resourceType, resourceId, action, apiKeyId, from, to },
      options,
    );
    return toPage(rows, options, (event) => event);
  }
}
