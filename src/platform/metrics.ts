import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Database } from "./db.ts";

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<"method" | "route" | "status_code">;
  /** Card authorization decisions: result approved or declined, and the decline reason ("none" if approved). */
  authorizations: Counter<"result" | "decline_reason">;
  /** Ledger rows written, by transaction type. */
  ledgerTransactions: Counter<"type">;
  /** POSTs answered from a stored Idempotency-Key response. */
  idempotentReplays: Counter;
  /** GET requests that read the database, by where they were read (primary or replica). */
  readRequests: Counter<"target">;
  /** Authorization hook calls: how long each took, by result (approved, declined, timeout, error). */
  hookDuration: Histogram<"result">;
  /** Card spends decided together in one transaction (group commit by wallet). */
  spendBatchSize: Histogram;
  /** Webhook delivery attempts, by result (succeeded, failed: retried later, exhausted: no retry left). */
  webhookDeliveries: Counter<"result">;
}

/** Labels hold route templates and status codes only, never ids, so cardinality stays bounded. */
export function createMetrics(db: Database): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // These three are gauges named like counters; Prometheus' own checker (promtool) refuses them.
  for (const name of [
    "nodejs_active_handles_total",
    "nodejs_active_requests_total",
    "nodejs_active_resources_total",
  ]) {
    registry.removeSingleMetric(name);
  }
  const httpDuration = new Histogram({
    name: "http_server_request_duration_seconds",
    help: "Duration of HTTP requests, by method, route template and status code",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const poolGauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  poolGauge(
    "db_pool_connections",
    "Connections open in the database pool (busy and idle)",
    () => db.pool.totalCount,
  );
  poolGauge("db_pool_connections_idle", "Idle connections in the database pool", () => db.pool.idleCount);
  poolGauge(
    "db_pool_requests_waiting",
    "Queries waiting for a pooled connection",
    () => db.pool.waitingCount,
  );
  const replicaPool = db.replicaPool;
  if (replicaPool !== undefined) {
    poolGauge(
      "db_replica_pool_connections",
      "Connections open in the read replica's pool (busy and idle)",
      () => replicaPool.totalCount,
    );
    poolGauge(
      "db_replica_pool_connections_idle",
      "Idle connections in the read replica's pool",
      () => replicaPool.idleCount,
    );
    poolGauge(
      "db_replica_pool_requests_waiting",
      "Reads waiting for a connection of the read replica's pool",
      () => replicaPool.waitingCount,
    );
    // NaN while the replica does not answer: a last known value would look healthy.
    poolGauge("db_replica_lag_seconds", "Replay lag of the read replica at its last check", () =>
      db.replicaLagMs === undefined ? Number.NaN : db.replicaLagMs / 1000,
    );
    poolGauge("db_replica_available", "1 when the read replica answered its last check, else 0", () =>
      db.replicaCheck === "unavailable" ? 0 : 1,
    );
  }
  const readRequests = new Counter({
    name: "db_read_requests_total",
    help: "GET requests that read the database, by where they were read (primary or replica)",
    labelNames: ["target"] as const,
    registers: [registry],
  });
  const authorizations = new Counter({
    name: "wallet_authorizations_total",
    help: "Card authorization decisions, by result and decline reason",
    labelNames: ["result", "decline_reason"] as const,
    registers: [registry],
  });
  const ledgerTransactions = new Counter({
    name: "wallet_ledger_transactions_total",
    help: "Ledger transactions written, by type",
    labelNames: ["type"] as const,
    registers: [registry],
  });
  const idempotentReplays = new Counter({
    name: "wallet_idempotent_replays_total",
    help: "Requests answered with the stored response of an earlier request with the same Idempotency-Key",
    registers: [registry],
  });
  const hookDuration = new Histogram({
    name: "wallet_authorization_hook_duration_seconds",
    help: "Duration of authorization hook calls, by result (approved, declined, timeout, error)",
    labelNames: ["result"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const spendBatchSize = new Histogram({
    name: "wallet_spend_batch_size",
    help: "Card spends decided together in one transaction (group commit by wallet)",
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [registry],
  });
  const webhookDeliveries = new Counter({
    name: "wallet_webhook_deliveries_total",
    help: "Webhook delivery attempts, by result (succeeded, failed and retried later, exhausted)",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  return {
    registry,
    httpDuration,
    authorizations,
    ledgerTransactions,
    idempotentReplays,
    readRequests,
    hookDuration,
    spendBatchSize,
    webhookDeliveries,
  };
}
