import type { Database, DatabaseCheck } from "../../platform/db.ts";
import type { Metrics } from "../../platform/metrics.ts";
import type { ReplicaCheck } from "../../platform/read-replica.ts";

export interface ReadinessReport {
  ready: boolean;
  body: {
    status: "ok" | "unavailable" | "draining";
    checks: { database: DatabaseCheck; replica: ReplicaCheck };
  };
}

/** Set when the process starts shutting down. */
export interface Lifecycle {
  draining: boolean;
}

/** What a load balancer and a scraper ask of the process. */
export class OperationsService {
  constructor(
    private readonly db: Database,
    private readonly metrics: Metrics,
    private readonly lifecycle: Lifecycle,
  ) {}

  /**
   * Ready when the database takes writes and has room for them, and the process is not draining;
   * migrations ran before the server started listening. The replica is reported, never required:
   * without it reads go to the primary.
   */
  async readiness(): Promise<ReadinessReport> {
    const database = await this.db.check();
    const status = this.lifecycle.draining ? "draining" : database === "ok" ? "ok" : "unavailable";
    return { ready: status === "ok", body: { status, checks: { database, replica: this.db.replicaCheck } } };
  }

  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }

  get metricsContentType(): string {
    return this.metrics.registry.contentType;
  }
}
