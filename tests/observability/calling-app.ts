/**
 * A small app on the service's real request pipeline (httpPlatform) with one route that calls a
 * downstream service through the outgoing fetch wrapper. The propagation tests use it in process;
 * run as a script (`bun tests/observability/calling-app.ts`, PORT and DOWNSTREAM_URL set, OTEL_* as
 * for the service) it is a separate process with tracing on, like the service itself.
 */
import { Elysia } from "elysia";
import { type Database, openDatabase } from "../../src/platform/db.ts";
import { httpPlatform, RouteMethods } from "../../src/platform/http.ts";
import { createLogger, type Logger } from "../../src/platform/logger.ts";
import { createMetrics } from "../../src/platform/metrics.ts";
import { createOutgoingFetch } from "../../src/platform/outgoing.ts";
import { startTelemetry, type Telemetry } from "../../src/platform/telemetry.ts";

export interface CallingAppDeps {
  logger: Logger;
  db: Database;
  telemetry: Telemetry;
  /** Base URL of the downstream service; `/call-out` calls `${downstreamUrl}/downstream`. */
  downstreamUrl: string;
}

export async function createCallingApp({ logger, db, telemetry, downstreamUrl }: CallingAppDeps) {
  const outgoingFetch = createOutgoingFetch(telemetry);
  return new Elysia()
    .use(
      httpPlatform({
        logger,
        metrics: createMetrics(db),
        telemetry,
        routeMethods: new RouteMethods(),
      }),
    )
    .get("/ready", () => ({ status: "ok" }))
    .get("/call-out", async () => {
      logger.info("calling downstream");
      const response = await outgoingFetch(`${downstreamUrl}/downstream`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
        timeoutMs: 5_000,
      });
      return { downstreamStatus: response.status };
    });
}

if (import.meta.main) {
  const logger = createLogger({ LOG_LEVEL: "info", LOG_FORMAT: "json" });
  const telemetry = await startTelemetry(process.env, logger);
  const db = await openDatabase(
    { DATA_DIR: "memory://", DATABASE_URL: undefined, DB_POOL_MAX: 1, DB_QUERY_TIMEOUT: 5_000 },
    logger,
  );
  const app = await createCallingApp({
    logger,
    db,
    telemetry,
    downstreamUrl: process.env.DOWNSTREAM_URL ?? "http://127.0.0.1:9",
  });
  app.listen({ hostname: "127.0.0.1", port: Number(process.env.PORT) });
  const stop = async () => {
    await app.stop();
    await db.close();
    await telemetry.shutdown();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
}
