/**
 * The prepared cluster (src/platform/prepared-cluster.ts) is what initdb makes: a database started
 * from it and one initdb'd from scratch have the same catalog, before and after the migrations.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { createPgConfig } from "@electric-sql/pglite/node-postgres";
import pg from "pg";
import { pgliteAssets } from "../../src/platform/assets.ts";
import { Database } from "../../src/platform/db.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { applyMigrations } from "../../src/platform/migrate.ts";
import { preparedCluster, writePreparedCluster } from "../../src/platform/prepared-cluster.ts";

/** initdb runs twice here when dist/ has no prepared cluster: a few seconds each on a busy machine. */
const SLOW = 120_000;

const scratchDirs: string[] = [];
afterAll(async () => {
  for (const dir of scratchDirs) await rm(dir, { recursive: true, force: true });
});

/** dist/'s prepared cluster, or one made now when `npm install` did not make it. */
async function tarball(): Promise<Blob> {
  const prepared = await preparedCluster();
  if (prepared !== undefined) return prepared;
  const dir = await mkdtemp(join(tmpdir(), "wallet-prepared-"));
  scratchDirs.push(dir);
  const path = join(dir, "cluster.tar.gz");
  await writePreparedCluster(path);
  return new Blob([Bun.gunzipSync(await Bun.file(path).bytes())]);
}

/** What a schema comparison looks at: databases, roles, settings, and every object outside pg_catalog. */
const CATALOG_QUERIES = {
  databases: `SELECT datname, pg_encoding_to_char(encoding) AS encoding, datcollate, datctype
              FROM pg_database ORDER BY datname`,
  roles: `SELECT rolname, rolsuper, rolcanlogin FROM pg_roles ORDER BY rolname`,
  settings: `SELECT name, setting FROM pg_settings WHERE source NOT IN ('default', 'override')
             ORDER BY name`,
  extensions: `SELECT extname, extversion FROM pg_extension ORDER BY extname`,
  columns: `SELECT table_schema, table_name, column_name, data_type, is_nullable, column_default
            FROM information_schema.columns
            WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
            ORDER BY table_schema, table_name, ordinal_position`,
  constraints: `SELECT conrelid::regclass::text AS "table", conname, pg_get_constraintdef(oid) AS definition
                FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2`,
  indexes: `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname`,
  functions: `SELECT proname, pg_get_functiondef(oid) AS definition FROM pg_proc
              WHERE pronamespace = 'public'::regnamespace ORDER BY proname`,
  triggers: `SELECT tgrelid::regclass::text AS "table", tgname FROM pg_trigger WHERE NOT tgisinternal
             ORDER BY 1, 2`,
  migrations: `SELECT id, name, hash FROM migrations ORDER BY id`,
} as const;

async function catalog(db: Database, names: (keyof typeof CATALOG_QUERIES)[]) {
  const snapshot: Record<string, unknown[]> = {};
  for (const name of names) snapshot[name] = (await db.query(CATALOG_QUERIES[name])).rows;
  return snapshot;
}

/** A Database on a PGlite engine, as openDatabase makes one. */
function onEngine(engine: PGlite): Database {
  const pool = new pg.Pool({ ...createPgConfig(engine), max: 1 });
  return new Database("pglite", pool, { close: () => engine.close(), storageFull: async () => false });
}

describe("the prepared cluster", () => {
  test(
    "gives the same catalog as initdb from scratch, before and after the migrations",
    async () => {
      const assets = await pgliteAssets();
      const logger = createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" });
      const prepared = onEngine(await PGlite.create({ ...assets, loadDataDir: await tarball() }));
      const fromScratch = onEngine(await PGlite.create({ ...assets }));
      try {
        const before = ["databases", "roles", "settings", "extensions", "columns"] as const;
        const preparedBefore = await catalog(prepared, [...before]);
        expect(preparedBefore.databases?.length).toBeGreaterThan(0);
        expect(preparedBefore).toEqual(await catalog(fromScratch, [...before]));

        expect(await applyMigrations(prepared, logger)).toBeGreaterThan(0);
        expect(await applyMigrations(fromScratch, logger)).toBeGreaterThan(0);
        const all = Object.keys(CATALOG_QUERIES) as (keyof typeof CATALOG_QUERIES)[];
        const preparedAfter = await catalog(prepared, all);
        expect(preparedAfter.constraints?.length).toBeGreaterThan(0);
        expect(preparedAfter).toEqual(await catalog(fromScratch, all));
      } finally {
        await prepared.close();
        await fromScratch.close();
      }
    },
    SLOW,
  );
});
