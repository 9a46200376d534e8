import { createApp, createServices } from "./app.ts";
import { ConfigError, loadConfig } from "./platform/config.ts";
import { openDatabase } from "./platform/db.ts";
import { every } from "./platform/jobs.ts";
import { createLogger } from "./platform/logger.ts";
import { applyMigrations } from "./platform/migrate.ts";
import { loadSecrets } from "./platform/secrets.ts";
import { startTelemetry } from "./platform/telemetry.ts";

function readConfig() {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) console.error(`config: ${problem}`);
    process.exit(1);
  }
}

const config = readConfig();
const logger = createLogger(config);
const telemetry = startTelemetry(process.env, logger);
const db = await openDatabase(config, logger);
await applyMigrations(db, logger);
const secrets = await loadSecrets(config, logger);
const dependencies = { config, logger, db, secrets, telemetry };
const services = await createServices(dependencies);
const app = await createApp(dependencies, services);
const stopJobs = [
  every(30_000, "expire-holds", () => services.authorizations.expireHolds(), logger),
  every(60 * 60_000, "purge-idempotency-keys", () => services.idempotency.purgeExpired(), logger),
];
app.listen({ hostname: config.HOST, port: config.PORT });
logger.info(
  { url: `http://${config.HOST}:${app.server?.port}`, database: db.kind, docs: "/docs" },
  "wallet-api listening",
);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down");
  for (const stop of stopJobs) stop();
  await app.stop();
  await db.close();
  await telemetry.shutdown();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
