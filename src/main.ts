/**
 * The command line of the service, as `bun src/main.ts …` and as the compiled binary `wallet …`.
 */
import packageJson from "../package.json" with { type: "json" };
import { cardVaultOf, createApp, createServices, loadVerifiedSecrets } from "./app.ts";
import { rotateCardKey } from "./modules/cards/card-keys.ts";
import { keyIdOf } from "./modules/cards/vault.ts";
import { type Config, ConfigError, loadConfig } from "./platform/config.ts";
import { DataDirLockedError } from "./platform/data-dir-lock.ts";
import { openDatabase } from "./platform/db.ts";
import { createLogger } from "./platform/logger.ts";
import { applyMigrations } from "./platform/migrate.ts";
import { loadSecrets } from "./platform/secrets.ts";
import { startTelemetry } from "./platform/telemetry.ts";
import { seedDemoData } from "./seed.ts";
import { serve } from "./server.ts";

const HELP = `wallet ${packageJson.version}: the wallet and card API

Usage: wallet [command]

Commands:
  serve         migrate, then serve the API (the default)
  migrate       apply pending database migrations and exit
  seed          insert the demo data (one team, five users, three wallets, three cards) and exit
  rotate-card-key
                re-encrypt every card under CARD_ENCRYPTION_KEY that is still under
                CARD_ENCRYPTION_KEY_PREVIOUS, and exit (see docs/deploy.md)
  openapi       print the OpenAPI document and exit
  healthcheck   exit 0 when GET /health on this host's PORT answers 200 (for container health checks)

Options:
  -h, --help      show this help
  -v, --version   print the version

Configuration is read from the environment (PORT, DATABASE_URL, DATA_DIR, ADMIN_API_KEY, …).
Where to read: README.md (start, configuration), docs/api.md (the API: conventions, resources,
money, every error code), docs/security.md, docs/deploy.md; on a running service, /docs.
`;

/** A configuration problem (a bad variable, a wrong or missing key) stops the command: one line each, exit 1. */
function exitOnConfigError(error: unknown): never {
  if (!(error instanceof ConfigError)) throw error;
  for (const problem of error.problems) console.error(`config: ${problem}`);
  process.exit(1);
}

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    exitOnConfigError(error);
  }
}

/** Opens the configured database, runs `work` on it, closes it. */
async function withDatabase(
  work: (context: { config: Config; db: Awaited<ReturnType<typeof openDatabase>> }) => Promise<void>,
) {
  const config = readConfig();
  const logger = createLogger(config);
  const db = await openDatabase(config, logger);
  try {
    await work({ config, db });
  } finally {
    await db.close();
  }
}

const commands: Record<string, () => Promise<void>> = {
  async serve() {
    const config = readConfig();
    const logger = createLogger(config);
    await serve(config, logger, await startTelemetry(process.env, logger));
  },
  async migrate() {
    await withDatabase(async ({ config, db }) => {
      const applied = await applyMigrations(db, createLogger(config));
      console.log(applied === 0 ? "the database is up to date" : `applied ${applied} migration(s)`);
    });
  },
  async seed() {
    await withDatabase(async ({ config, db }) => {
      const logger = createLogger(config);
      await applyMigrations(db, logger);
      const secrets = await loadVerifiedSecrets(config, logger, db);
      const result = await seedDemoData(db, await createServices({ config, logger, db, secrets }));
      console.log(result.created ? "demo data inserted" : "demo data already present; nothing changed");
    });
  },
  async "rotate-card-key"() {
    await withDatabase(async ({ config, db }) => {
      const logger = createLogger(config);
      await applyMigrations(db, logger);
      const vault = await cardVaultOf(await loadSecrets(config, logger, db));
      // Verifies the keys against the stored cards before it touches one.
      const rotated = await rotateCardKey(db, vault, logger);
      console.log(
        `re-encrypted ${rotated} card(s) under card key ${keyIdOf(vault.currentKeyCheckValue)}; CARD_ENCRYPTION_KEY_PREVIOUS may now be removed`,
      );
    });
  },
  async openapi() {
    // The document depends on the routes only: an in-memory database stands in for the real one.
    const config = loadConfig({ DATA_DIR: "memory://", LOG_LEVEL: "silent" });
    const logger = createLogger(config);
    const db = await openDatabase(config, logger);
    try {
      const secrets = { adminApiKey: "unused-while-printing", cardEncryptionKey: new Uint8Array(32) };
      const app = await createApp({ config, logger, db, secrets });
      process.stdout.write(await (await app.handle(new Request("http://localhost/openapi.json"))).text());
    } finally {
      await db.close();
    }
  },
  async healthcheck() {
    const port = process.env.PORT?.trim() || "3000";
    const response = await fetch(`http://127.0.0.1:${port}/health`, {
      signal: AbortSignal.timeout(3000),
    }).catch(() => undefined);
    process.exit(response?.status === 200 ? 0 : 1);
  },
};

const [argument, ...rest] = process.argv.slice(2);
if (argument === "-h" || argument === "--help") {
  process.stdout.write(HELP);
} else if (argument === "-v" || argument === "--version") {
  console.log(packageJson.version);
} else {
  const command = commands[argument ?? "serve"];
  if (command === undefined || rest.length > 0) {
    process.stderr.write(`wallet: unknown command or option: ${[argument, ...rest].join(" ")}\n\n${HELP}`);
    process.exit(2);
  }
  await command().catch((error: unknown) => {
    // Another process has DATA_DIR: one line saying which, as for a bad configuration.
    if (!(error instanceof DataDirLockedError)) exitOnConfigError(error);
    console.error(`wallet: ${error.message}`);
    process.exit(1);
  });
}
