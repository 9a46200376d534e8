/**
 * `bun run seed`: inserts the demo data into the configured database (DATABASE_URL, or the embedded
 * one in DATA_DIR). In embedded mode stop the server first: PGlite's files have one owner at a time.
 */
import { createServices } from "../src/app.ts";
import { ConfigError, loadConfig } from "../src/platform/config.ts";
import { openDatabase } from "../src/platform/db.ts";
import { createLogger } from "../src/platform/logger.ts";
import { applyMigrations } from "../src/platform/migrate.ts";
import { loadSecrets } from "../src/platform/secrets.ts";
import { seedDemoData } from "../src/seed.ts";

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  for (const problem of error.problems) console.error(`config: ${problem}`);
  process.exit(1);
}
const logger = createLogger(config);
const db = await openDatabase(config, logger);
try {
  await applyMigrations(db, logger);
  const secrets = await loadSecrets(config, logger);
  const result = await seedDemoData(db, await createServices({ config, logger, db, secrets }));
  logger.info(result, result.created ? "demo data inserted" : "demo data already present; nothing changed");
} finally {
  await db.close();
}
