import { createApp, createServices, loadVerifiedSecrets, type Services } from "./app.ts";
import type { Lifecycle } from "./modules/operations/service.ts";
import type { Config } from "./platform/config.ts";
import { openDatabase, openReadReplica } from "./platform/db.ts";
import { every } from "./platform/jobs.ts";
import type { Logger } from "./platform/logger.ts";
import { applyMigrations } from "./platform/migrate.ts";
import type { Telemetry } from "./platform/telemetry.ts";

/** How often each instance looks for webhook deliveries that are due. */
export const WEBHOOK_POLL_INTERVAL_MS = 250;

/**
 * The background jobs every instance runs (each safe to run in many instances at once); returns the
 * functions that stop them.
 */
export function startBackgroundJobs(services: Services, logger: Logger): (() => Promise<void>)[] {
  return [
    every(30_000, "expire-holds", () => services.authorizations.expireHolds(), logger),
    every(60 * 60_000, "purge-idempotency-keys", () => services.idempotency.purgeExpired(), logger),
    every(60 * 60_000, "purge-events", () => services.events.purgeExpired(), logger),
    every(WEBHOOK_POLL_INTERVAL_MS, "deliver-webhooks", () => services.webhooks.deliverDue(), logger),
  ];
}

/**
 * `serve`: migrate, then serve until SIGTERM or SIGINT. Then /ready turns 503, no new connection is
 * accepted, requests in flight finish (for at most SHUTDOWN_TIMEOUT), background jobs stop, the pool
 * closes and traces are flushed; the process exits 0.
 */
export async function serve(config: Config, logger: Logger, telemetry: Telemetry): Promise<void> {
  const db = await openDatabase(config, logger);
  const replica = openReadReplica(config, logger);
  if (replica !== undefined) db.readFrom(replica);
  await applyMigrations(db, logger);
  const secrets = await loadVerifiedSecrets(config, logger, db);
  const lifecycle: Lifecycle = { draining: false };
  const dependencies = { config, logger, db, secrets, telemetry, lifecycle };
  const services = await createServices(dependencies);
  const app = await createApp(dependencies, services);
  const stopJobs = startBackgroundJobs(services, logger);
  app.listen({ hostname: config.HOST, port: config.PORT });
  logger.info(
    { url: `http://${config.HOST}:${app.server?.port}`, database: db.kind, docs: "/docs" },
    "wallet-api listening",
  );

  const shutdown = async (signal: string) => {
    if (lifecycle.draining) return;
    lifecycle.draining = true;
    logger.info({ signal, timeoutMs: config.SHUTDOWN_TIMEOUT }, "draining: finishing requests in flight");
    const jobsStopped = Promise.all(stopJobs.map((stop) => stop()));
    const server = app.server;
    // stop(false) refuses new connections at once and resolves when the requests in flight are done.
    const drained = server ? server.stop(false).then(() => true) : Promise.resolve(true);
    const finished = await Promise.race([drained, Bun.sleep(config.SHUTDOWN_TIMEOUT).then(() => false)]);
    if (!finished) {
      logger.warn("shutdown timeout: closing the connections still open");
      await server?.stop(true);
    }
    await jobsStopped;
    await db.close();
    await telemetry.shutdown();
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}
