/**
 * The admin key and the card key kept in DATA_DIR (embedded mode): a generated admin key is never
 * written to the log, and a key file holding no valid key stops start-up instead of locking every
 * caller out or failing later. These are files of embedded mode, so these tests run on PGlite.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/platform/config.ts";
import { type Database, openDatabase } from "../../src/platform/db.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { applyMigrations } from "../../src/platform/migrate.ts";
import { loadSecrets } from "../../src/platform/secrets.ts";
import { BUN, ROOT, run, SYSTEM_PATH, startProcess, stopProcess } from "../helpers/process.ts";
import { SERVER_HOOK_TIMEOUT_MS } from "../helpers/server.ts";
import { randomCardKey } from "../helpers/values.ts";
import { expectCall } from "./support.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function newDataDir(): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), "wallet-secrets-"));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  return dataDir;
}

/** The environment of `bun src/main.ts` on PGlite: only what is given, none of the test run's. */
const embeddedEnv = (env: Record<string, string>) => ({
  PATH: SYSTEM_PATH,
  LOG_LEVEL: "info",
  RATE_LIMIT_PER_SECOND: "0",
  ...env,
});

const logger = createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" });

/** An empty database: whether one holds cards decides only whether a missing card key may be made. */
let emptyDb: Database | undefined;
beforeAll(async () => {
  emptyDb = await openDatabase(loadConfig({ DATA_DIR: "memory://", LOG_LEVEL: "silent" }), logger);
  await applyMigrations(emptyDb, logger);
}, SERVER_HOOK_TIMEOUT_MS);
afterAll(() => emptyDb?.close());

/** What `loadSecrets` refuses the files in `dataDir` with (undefined when it accepts them). */
async function secretsProblem(dataDir: string, env: Record<string, string>): Promise<string | undefined> {
  if (emptyDb === undefined) throw new Error("the database is used before its beforeAll hook ran");
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: "silent", ...env });
  return loadSecrets(config, logger, emptyDb).then(
    () => undefined,
    (error: unknown) => {
      if (error instanceof ConfigError) return error.problems.join("\n");
      throw error;
    },
  );
}

describe("the admin key", () => {
  test("a generated key is kept in its 0600 file and never logged; the log says where it is", async () => {
    const dataDir = await newDataDir();
    const service = await startProcess([BUN, "src/main.ts"], {
      cwd: ROOT,
      env: embeddedEnv({ DATA_DIR: dataDir }),
      timeoutMs: 60_000,
    });
    cleanups.push(() => stopProcess(service.process, 5_000));
    const path = join(dataDir, "admin-api-key");
    const adminKey = (await Bun.file(path).text()).trim();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await expectCall(200, service.baseUrl, adminKey, "GET", "/v1/teams");
    await stopProcess(service.process);

    const output = service.stdout() + service.stderr();
    expect(output).not.toContain(adminKey);
    expect(output).not.toContain(adminKey.slice("wk_admin_".length));
    const line = output.split("\n").find((text) => text.includes("generated an admin API key"));
    expect(line).toBeDefined();
    expect(line).toContain(path);
  }, 120_000);

  test("an admin key file that is empty, blank, too short, too long or holds a space is refused, naming the file and not its content", async () => {
    const dataDir = await newDataDir();
    const path = join(dataDir, "admin-api-key");
    for (const content of ["", "  \n\n", "short-key", "a key with spaces in it", "k".repeat(513)]) {
      await writeFile(path, content);
      const problem = await secretsProblem(dataDir, { CARD_ENCRYPTION_KEY: randomCardKey() });
      expect(problem, JSON.stringify(content)).toStartWith(
        `ADMIN_API_KEY: the key file ${path} holds no valid key`,
      );
      if (content.trim() !== "") expect(problem).not.toContain(content.trim());
    }
    await writeFile(path, "a-good-admin-key-0123456789\n");
    expect(await secretsProblem(dataDir, { CARD_ENCRYPTION_KEY: randomCardKey() })).toBeUndefined();
  });

  test("an empty admin key file stops serve with exit code 1 and one line naming it", async () => {
    const dataDir = await newDataDir();
    await writeFile(join(dataDir, "admin-api-key"), "\n");
    const finished = await run([BUN, "src/main.ts"], { cwd: ROOT, env: embeddedEnv({ DATA_DIR: dataDir }) });
    expect(finished.exitCode).toBe(1);
    const lines = finished.stderr.split("\n").filter((line) => line.startsWith("config: ADMIN_API_KEY:"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(join(dataDir, "admin-api-key"));
  }, 60_000);

  test("with DATA_DIR=memory:// there is no file to keep a generated key in: ADMIN_API_KEY is required", async () => {
    const finished = await run([BUN, "src/main.ts"], {
      cwd: ROOT,
      env: embeddedEnv({ DATA_DIR: "memory://", LOG_LEVEL: "trace" }),
    });
    expect(finished.exitCode).toBe(1);
    expect(finished.stderr).toContain("config: ADMIN_API_KEY: required when DATA_DIR=memory://");
    expect(finished.stdout + finished.stderr).not.toContain("wk_admin_");
  }, 60_000);
});

describe("the card key file", () => {
  test("a card key file that is not 32 bytes of base64 is refused, naming the file and not its content", async () => {
    const dataDir = await newDataDir();
    const path = join(dataDir, "card-encryption-key");
    const sixteenBytes = crypto.getRandomValues(new Uint8Array(16)).toBase64();
    for (const content of ["", "not base64 at all", sixteenBytes]) {
      await writeFile(path, content);
      const problem = await secretsProblem(dataDir, { ADMIN_API_KEY: "a-good-admin-key-0123456789" });
      expect(problem, JSON.stringify(content)).toStartWith(
        `CARD_ENCRYPTION_KEY: the key file ${path} holds no valid key`,
      );
      if (content !== "") expect(problem).not.toContain(content);
    }
  });
});
