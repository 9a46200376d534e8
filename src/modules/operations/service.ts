import type { Database } from "../../platform/db.ts";
import type { Metrics } from "../../platform/metrics.ts";

export interface ReadinessReport {
  ready: boolean;
  body: { status: "ok" | "unavailable"; checks: { database: "ok" | "unavailable" } };
}

/** What a load balancer and a scraper ask of the process. */
export class OperationsService {
  constructor(
    private readonly db: Database,
    private readonly metrics: Metrics,
  ) {}

  /** Ready when the database answers; migrations ran before the server started listening. */
  async readiness(): Promise<ReadinessReport> {
    const database = (await this.db.ping()) ? "ok" : "unavailable";
    return { ready: database === "ok", body: { status: database, checks: { database } } };
  }

  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }

  get metricsContentType(): string {
    return this.metrics.registry.contentType;
  }
}
