/**
 * Starts the real service on a fresh database for one test file and gives back an SDK client
 * generated from openapi/openapi.json, exactly as a client of the API would use it.
 *
 * With DATABASE_URL set, a new database is created on that server and dropped afterwards; otherwise
 * the service runs on an in-memory PGlite.
 */
import { afterAll, afterEach, beforeAll } from "bun:test";
import createClient from "openapi-fetch";
import pg from "pg";
import { createApp, createServices, loadVerifiedSecrets } from "../../src/app.ts";
import { type Config, loadConfig } from "../../src/platform/config.ts";
import { type Database, openDatabase } from "../../src/platform/db.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { applyMigrations } from "../../src/platform/migrate.ts";
import { startBackgroundJobs } from "../../src/server.ts";
import type { components, paths } from "../sdk/schema";
import { recordServedStatuses } from "./documented-statuses.ts";
import { randomCardKey } from "./values.ts";

export type Schemas = components["schemas"];
export type ApiClient = ReturnType<typeof createClient<paths>>;

export const TEST_ADMIN_KEY = "test-admin-key-0123456789";

export interface TestServer {
  baseUrl: string;
  /** The SDK, authenticated with the admin key. */
  api: ApiClient;
  /** Plain fetch against the server (for hostile input the SDK would not let you send). */
  request(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  /** Direct SQL, for assertions about what is stored. */
  db: Database;
  config: Config;
  stop(): Promise<void>;
}

/** Creates a uniquely named database on the DATABASE_URL server; returns its URL and a dropper. */
export async function createScratchDatabase(
  serverUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `wallet_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * For a test file that works on the database directly: the function it returns opens a migrated
 * database of its own (a scratch database on the DATABASE_URL server, or an in-memory PGlite) and
 * gives it back with the settings it was opened with; each is closed and dropped after its test.
 */
export function useMigratedDatabases(): () => Promise<{ db: Database; env: Record<string, string> }> {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return async () => {
    const serverUrl = process.env.DATABASE_URL;
    const scratch = serverUrl === undefined ? undefined : await createScratchDatabase(serverUrl);
    const env = {
      DATA_DIR: "memory://",
      ADMIN_API_KEY: TEST_ADMIN_KEY,
      LOG_LEVEL: "silent",
      ...(scratch === undefined ? {} : { DATABASE_URL: scratch.url, CARD_ENCRYPTION_KEY: randomCardKey() }),
    };
    const config = loadConfig(env);
    const logger = createLogger(config);
    const db = await openDatabase(config, logger);
    cleanups.push(async () => {
      await db.close();
      await scratch?.drop();
    });
    await applyMigrations(db, logger);
    return { db, env };
  };
}

/** A clock a test can set and move; the service reads "now" from it. */
export class TestClock {
  constructor(private current = new Date()) {}
  readonly now = (): Date => new Date(this.current);
  set(instant: string | Date): void {
    this.current = new Date(instant);
  }
  advance(milliseconds: number): void {
    this.current = new Date(this.current.getTime() + milliseconds);
  }
}

export interface ServerOptions {
  clock?: TestClock;
  /** Run the background jobs (webhook deliveries, hold expiry, purges) as `serve` does. */
  jobs?: boolean;
}

export async function startServer(
  env: Record<string, string> = {},
  options: ServerOptions = {},
): Promise<TestServer> {
  const serverUrl = process.env.DATABASE_URL;
  const scratch = serverUrl ? await createScratchDatabase(serverUrl) : undefined;
  const config = loadConfig({
    DATA_DIR: "memory://",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    CARD_ENCRYPTION_KEY: randomCardKey(),
    RATE_LIMIT_PER_SECOND: "0",
    ...(scratch ? { DATABASE_URL: scratch.url, DB_POOL_MAX: "10" } : {}),
    ...env,
  });
  const logger = createLogger(config);
  const db = await openDatabase(config, logger);
  await applyMigrations(db, logger);
  const secrets = await loadVerifiedSecrets(config, logger, db);
  const dependencies = { config, logger, db, secrets, clock: options.clock?.now };
  const services = await createServices(dependencies);
  const app = await createApp(dependencies, services);
  const stopJobs = options.jobs === true ? startBackgroundJobs(services, logger) : [];
  app.listen({ hostname: "127.0.0.1", port: 0 });
  const baseUrl = `http://127.0.0.1:${app.server?.port}`;
  const api = createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
  return {
    baseUrl,
    api,
    db,
    config,
    request(path, init = {}) {
      const { json, headers, ...rest } = init;
      return fetch(`${baseUrl}${path}`, {
        ...rest,
        headers: {
          authorization: `Bearer ${TEST_ADMIN_KEY}`,
          ...(json === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      });
    },
    async stop() {
      const token = config.METRICS_TOKEN;
      const metrics = await fetch(`${baseUrl}/metrics`, {
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      });
      recordServedStatuses(await metrics.text());
      await app.stop(true);
      await Promise.all(stopJobs.map((stop) => stop()));
      await db.close();
      await scratch?.drop();
    },
  };
}

/** Starting PGlite (or a scratch PostgreSQL database) can outlast the default 5 s hook timeout on a busy machine. */
export const SERVER_HOOK_TIMEOUT_MS = 60_000;

/**
 * Starts a server (as {@link startServer}) before the tests of the enclosing file or describe block
 * and stops it after them, and gives back an accessor to it: each property reads the running server,
 * so the accessor can be captured at load time and used once the tests run.
 */
export function useServer(env: Record<string, string> = {}, options: ServerOptions = {}): TestServer {
  let started: TestServer | undefined;
  const current = (): TestServer => {
    if (started === undefined) throw new Error("the test server is used before its beforeAll hook ran");
    return started;
  };
  beforeAll(async () => {
    started = await startServer(env, options);
  }, SERVER_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await started?.stop();
    started = undefined;
  }, SERVER_HOOK_TIMEOUT_MS);
  return {
    get baseUrl() {
      return current().baseUrl;
    },
    get api() {
      return current().api;
    },
    get db() {
      return current().db;
    },
    get config() {
      return current().config;
    },
    request: (path, init) => current().request(path, init),
    stop: () => current().stop(),
  };
}

/** A unique e-mail address, so tests never collide on the unique index. */
export const uniqueEmail = (prefix = "user") => `${prefix}.${crypto.randomUUID().slice(0, 8)}@example.com`;
