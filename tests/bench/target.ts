/**
 * The service under test: either one this script starts on a fresh database (the default), or one
 * already running, named by BENCH_URL + BENCH_ADMIN_KEY with DATABASE_URL pointing at its database.
 * With --pglite, also one started on embedded PGlite in a fresh temporary DATA_DIR.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import pg from "pg";
import { loadConfig } from "../../src/platform/config.ts";
import { openDatabase, type Queryable } from "../../src/platform/db.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { drain, freePort } from "../helpers/process.ts";
import { backendPids, withClient } from "./checks.ts";
import { processCpuSeconds } from "./cpu.ts";

export const DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres";
const REPO_ROOT = resolve(import.meta.dir, "../..");

/** What a load scenario needs of a service: where it answers, with which key, and where its CPU goes. */
export interface Service {
  baseUrl: string;
  adminKey: string;
  /** CPU seconds (user + system) the spawned instances have used so far; undefined when external. */
  cpuSeconds(): number | undefined;
  /** PostgreSQL backends serving the service (none on PGlite: its database runs inside the service). */
  backendPids(): Promise<number[]>;
  /** Warning and error lines the spawned service logged (empty when external: its logs are elsewhere). */
  serverLog(): ServerLog;
  /** True while the spawned service runs (always true when external). */
  alive(): boolean;
}

export interface Target extends Service {
  mode: "spawned" | "external";
  /** The service's database: the invariants and outcome counts are read from it. */
  databaseUrl: string;
  /** The PostgreSQL server, for scratch databases (pgbench). */
  serverUrl: string;
  /** Pool size of the spawned service (undefined: the service's default, or unknown when external). */
  poolMax: string | undefined;
  /** Service instances behind baseUrl (HAProxy spreads the load when more than one; 1 when external). */
  instances: number;
  stop(): Promise<void>;
}

/** One service on embedded PGlite (no DATABASE_URL) in a temporary DATA_DIR of its own. */
export interface EmbeddedTarget extends Service {
  dataDir: string;
  /**
   * Stops the service (SIGTERM), then opens its DATA_DIR in this process with the service's own
   * database code (src/platform/db.ts) for `work`, and closes it again.
   */
  openData<T>(work: (db: Queryable) => Promise<T>): Promise<T>;
  /** Stops the service if it still runs and removes the DATA_DIR. */
  stop(): Promise<void>;
}

export interface ServerLog {
  lines: string[];
  /** Lines seen in total; only the first ones are kept in `lines`. */
  total: number;
}

const randomSuffix = () => crypto.randomUUID().replaceAll("-", "").slice(0, 12);

export function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function createDatabase(serverUrl: string, prefix: string): Promise<string> {
  const name = `${prefix}_${randomSuffix()}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return name;
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

const MAX_KEPT_LINES = 200;

/** A JSON log line below warn (pino's trace 10, debug 20, info 30): the access log, start and stop. */
const ROUTINE_LINE = /^\{"level":[123]0,/;

/** Collects the warnings, errors and other unexpected lines of one output stream; keeps the first MAX_KEPT_LINES. */
async function collectLines(stream: ReadableStream<Uint8Array>, log: ServerLog): Promise<void> {
  let pending = "";
  const keep = (line: string) => {
    if (line.trim() === "" || ROUTINE_LINE.test(line)) return;
    log.total++;
    if (log.lines.length < MAX_KEPT_LINES) log.lines.push(line);
  };
  await drain(stream, (text) => {
    const lines = (pending + text).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) keep(line);
  });
  keep(pending);
}

async function waitReady(baseUrl: string, isAlive: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error("the service exited before it was ready");
    try {
      const response = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await Bun.sleep(200);
  }
  throw new Error(`the service was not ready after ${timeoutMs} ms (last: ${last})`);
}

interface Instance {
  child: Subprocess<"ignore", "pipe", "pipe">;
  readers: Promise<void>[];
  baseUrl: string;
  exited(): boolean;
}

/** One `bun src/main.ts` (or any `command`) on `port`, its output collected into `log`. */
function spawnInstance(
  command: string[],
  env: Record<string, string | undefined>,
  port: number,
  log: ServerLog,
): Instance {
  const child = Bun.spawn(command, { cwd: REPO_ROOT, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  return {
    child,
    readers: [collectLines(child.stdout, log), collectLines(child.stderr, log)],
    baseUrl: `http://127.0.0.1:${port}`,
    exited: () => exited,
  };
}

async function stopInstance(instance: Instance): Promise<void> {
  if (!instance.exited()) {
    instance.child.kill("SIGTERM");
    const timer = setTimeout(() => instance.child.kill("SIGKILL"), 20_000);
    await instance.child.exited;
    clearTimeout(timer);
  }
  await Promise.allSettled(instance.readers);
}

/** HAProxy's configuration (round robin over `backends`, as in deploy/cluster/haproxy.cfg.in) in `dir`. */
async function balancerConfig(dir: string, port: number, backends: string[]): Promise<string> {
  const path = join(dir, "haproxy.cfg");
  const servers = backends.map((url, index) => `    server api${index + 1} ${new URL(url).host}`).join("\n");
  await writeFile(
    path,
    `global
    maxconn 4000
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
frontend wallet_api
    bind 127.0.0.1:${port}
    default_backend wallet_api_instances
backend wallet_api_instances
    balance roundrobin
${servers}
`,
  );
  return path;
}

/** Why a service did not start, with the last lines it logged. */
function startFailure(error: unknown, log: ServerLog): Error {
  const output = log.lines.slice(-20).join("\n");
  return new Error(`${error instanceof Error ? error.message : String(error)}\n${output}`);
}

/** A fresh admin key and card encryption key for a spawned service. */
function serviceKeys(): { adminKey: string; cardKey: string } {
  return {
    adminKey: `bench-${crypto.randomUUID().replaceAll("-", "")}`,
    cardKey: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"),
  };
}

/**
 * `bun src/main.ts` on `port` with the environment of this process, rate limiting off and `database`
 * (DATABASE_URL, or DATA_DIR with DATABASE_URL unset) on top.
 */
function spawnService(
  database: Record<string, string | undefined>,
  keys: { adminKey: string; cardKey: string },
  port: number,
  log: ServerLog,
): Instance {
  return spawnInstance(
    [process.execPath, "src/main.ts"],
    {
      ...process.env,
      ...database,
      ADMIN_API_KEY: keys.adminKey,
      CARD_ENCRYPTION_KEY: keys.cardKey,
      HOST: "127.0.0.1",
      PORT: String(port),
      RATE_LIMIT_PER_SECOND: "0",
      // As in production: one access log line per request, read from the pipe like a log collector would.
      LOG_LEVEL: "info",
      LOG_FORMAT: "json",
    },
    port,
    log,
  );
}

/**
 * Starts `instances` × `bun src/main.ts` on a new database `wallet_bench_<random>` of `serverUrl`;
 * with more than one, HAProxy spreads the load over them (the bench then talks to HAProxy).
 */
export async function spawnTarget(serverUrl: string, keep: boolean, instances = 1): Promise<Target> {
  const database = await createDatabase(serverUrl, "wallet_bench");
  const databaseUrl = withDatabase(serverUrl, database);
  const keys = serviceKeys();
  const poolMax = process.env.DB_POOL_MAX;
  const log: ServerLog = { lines: [], total: 0 };
  const started: Instance[] = [];
  const scratch = await mkdtemp(join(tmpdir(), "wallet-bench-"));
  const stop = async () => {
    await Promise.all(started.map(stopInstance));
    await rm(scratch, { recursive: true, force: true });
    if (keep) console.error(`bench: kept database ${database} (${databaseUrl})`);
    else await dropDatabase(serverUrl, database);
  };
  const services: Instance[] = [];
  try {
    // One after the other: the first applies the migrations.
    for (let index = 0; index < instances; index++) {
      const port = freePort();
      const instance = spawnService(
        { DATABASE_URL: databaseUrl, ...(poolMax === undefined ? {} : { DB_POOL_MAX: poolMax }) },
        keys,
        port,
        log,
      );
      started.push(instance);
      services.push(instance);
      await waitReady(instance.baseUrl, () => !instance.exited(), 60_000);
    }
    let baseUrl = services[0]?.baseUrl ?? "";
    if (instances > 1) {
      const port = freePort();
      const config = await balancerConfig(
        scratch,
        port,
        services.map((service) => service.baseUrl),
      );
      const balancer = spawnInstance(["haproxy", "-db", "-f", config], { PATH: process.env.PATH }, port, log);
      started.push(balancer);
      baseUrl = balancer.baseUrl;
      await waitReady(baseUrl, () => !balancer.exited(), 10_000);
    }
    return {
      mode: "spawned",
      baseUrl,
      adminKey: keys.adminKey,
      databaseUrl,
      serverUrl,
      poolMax,
      instances,
      serverLog: () => log,
      cpuSeconds: () => {
        const each = services.map((service) => processCpuSeconds(service.child.pid));
        return each.some((seconds) => seconds === undefined)
          ? undefined
          : each.reduce((sum: number, seconds) => sum + (seconds ?? 0), 0);
      },
      backendPids: () => withClient(databaseUrl, backendPids),
      alive: () => started.every((instance) => !instance.exited()),
      stop,
    };
  } catch (error) {
    await stop();
    throw startFailure(error, log);
  }
}

/**
 * Starts `bun src/main.ts` with no DATABASE_URL (nor DATABASE_READ_URL): embedded PGlite in a DATA_DIR
 * under a new temporary directory, which `stop` removes.
 */
export async function spawnEmbeddedTarget(): Promise<EmbeddedTarget> {
  const scratch = await mkdtemp(join(tmpdir(), "wallet-bench-pglite-"));
  const dataDir = join(scratch, "data");
  const keys = serviceKeys();
  const log: ServerLog = { lines: [], total: 0 };
  const port = freePort();
  const service = spawnService(
    { DATABASE_URL: undefined, DATABASE_READ_URL: undefined, DATA_DIR: dataDir },
    keys,
    port,
    log,
  );
  const stop = async () => {
    await stopInstance(service);
    await rm(scratch, { recursive: true, force: true });
  };
  try {
    // The first start creates the cluster and applies every migration.
    await waitReady(service.baseUrl, () => !service.exited(), 120_000);
  } catch (error) {
    await stop();
    throw startFailure(error, log);
  }
  return {
    baseUrl: service.baseUrl,
    adminKey: keys.adminKey,
    dataDir,
    serverLog: () => log,
    cpuSeconds: () => processCpuSeconds(service.child.pid),
    backendPids: async () => [],
    alive: () => !service.exited(),
    async openData(work) {
      await stopInstance(service);
      const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: "silent" });
      const db = await openDatabase(config, createLogger(config));
      try {
        return await work(db);
      } finally {
        await db.close();
      }
    },
    stop,
  };
}

/** The read ceiling (tests/bench/ceiling.ts) on `databaseUrl`, in its own process. */
export async function spawnCeiling(
  databaseUrl: string,
): Promise<{ baseUrl: string; cpuSeconds(): number | undefined; stop(): Promise<void> }> {
  const port = freePort();
  const log: ServerLog = { lines: [], total: 0 };
  const ceiling = spawnInstance(
    [process.execPath, "tests/bench/ceiling.ts"],
    {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      DB_POOL_MAX: process.env.DB_POOL_MAX,
    },
    port,
    log,
  );
  try {
    await waitReady(ceiling.baseUrl, () => !ceiling.exited(), 10_000);
  } catch (error) {
    await stopInstance(ceiling);
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${log.lines.join("\n")}`);
  }
  return {
    baseUrl: ceiling.baseUrl,
    cpuSeconds: () => processCpuSeconds(ceiling.child.pid),
    stop: () => stopInstance(ceiling),
  };
}

/** An already running service; nothing is started or stopped, and its data is left in place. */
export async function externalTarget(
  baseUrl: string,
  adminKey: string,
  databaseUrl: string,
): Promise<Target> {
  const trimmed = baseUrl.replace(/\/+$/, "");
  await waitReady(trimmed, () => true, 10_000);
  return {
    mode: "external",
    baseUrl: trimmed,
    adminKey,
    databaseUrl,
    serverUrl: databaseUrl,
    poolMax: undefined,
    instances: 1,
    serverLog: () => ({ lines: [], total: 0 }),
    cpuSeconds: () => undefined,
    backendPids: () => withClient(databaseUrl, backendPids),
    alive: () => true,
    stop: async () => {},
  };
}
