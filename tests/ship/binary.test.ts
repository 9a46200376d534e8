/**
 * The compiled binary, alone in an empty directory, is the whole product: it migrates, serves on
 * embedded PGlite and on PostgreSQL, answers its command line, and carries its OpenAPI document and
 * API reference assets. Prints its size, start-up time and idle memory.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import {
  buildBinary,
  freePort,
  ROOT,
  type Running,
  run,
  SYSTEM_PATH,
  startProcess,
  stopProcess,
} from "../helpers/process.ts";
import { rawRequest, requestText } from "../helpers/raw-http.ts";
import { createScratchDatabase } from "../helpers/server.ts";
import { randomCardKey } from "../helpers/values.ts";
import { call, expectCall, idOf, mib, rssKiB } from "./support.ts";

const serverUrl = process.env.DATABASE_URL;
/** Building takes a second or two, a first start on PGlite a few more on a busy machine. */
const SLOW = 120_000;

let dir = "";
let binary = "";
const running = new Set<Running>();

/** Only PATH: whatever else the service needs, each test adds. */
const baseEnv = () => ({ PATH: SYSTEM_PATH });

async function serve(env: Record<string, string>): Promise<Running> {
  const service = await startProcess([binary, "serve"], { cwd: dir, env: { ...baseEnv(), ...env } });
  running.add(service);
  return service;
}

async function stop(service: Running): Promise<number | null> {
  const code = await stopProcess(service.process);
  running.delete(service);
  return code;
}

/** create team → wallet → card → top-up → authorization, over HTTP; returns the wallet id. */
async function walkTheMoneyPath(baseUrl: string, key: string): Promise<string> {
  const team = await expectCall(201, baseUrl, key, "POST", "/v1/teams", { name: "Ship team" });
  const wallet = await expectCall(201, baseUrl, key, "POST", "/v1/wallets", {
    teamId: idOf(team),
    name: "Ship wallet",
  });
  const walletId = idOf(wallet);
  expect(wallet.balance).toBe(0);
  const card = await expectCall(201, baseUrl, key, "POST", "/v1/cards", {
    walletId,
    dailyLimit: 100_000,
    monthlyLimit: 500_000,
  });
  expect(card.status).toBe("active");
  const topUp = await expectCall(201, baseUrl, key, "POST", `/v1/wallets/${walletId}/topups`, {
    amount: 50_000,
  });
  expect(topUp.type).toBe("topup");
  const authorization = await expectCall(
    201,
    baseUrl,
    key,
    "POST",
    `/v1/cards/${idOf(card)}/authorizations`,
    {
      amount: 12_345,
      merchant: { name: "Ship shop" },
    },
  );
  expect(authorization.status).toBe("captured");
  const after = await expectCall(200, baseUrl, key, "GET", `/v1/wallets/${walletId}`);
  expect(after.balance).toBe(50_000 - 12_345);
  return walletId;
}

/** GET /docs and its script answer 200 from the binary, with no file of the project around it. */
async function expectDocs(baseUrl: string): Promise<void> {
  const page = await fetch(`${baseUrl}/docs`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain("/docs/swagger-ui-bundle.js");
  const script = await fetch(`${baseUrl}/docs/swagger-ui-bundle.js`);
  expect(script.status).toBe(200);
  expect(script.headers.get("content-type") ?? "").toContain("javascript");
  expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
}

async function healthcheck(port: number): Promise<number | null> {
  return (await run([binary, "healthcheck"], { cwd: dir, env: { ...baseEnv(), PORT: String(port) } }))
    .exitCode;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wallet-ship-"));
  binary = join(dir, "wallet");
  await buildBinary(binary);
  // Alone: the directory holds the binary and nothing else.
  expect(await readdir(dir)).toEqual(["wallet"]);
  const { size } = await stat(binary);
  console.log(`[ship] binary size: ${mib(size)} (${size} bytes)`);
}, SLOW);

afterAll(async () => {
  for (const service of running) await stopProcess(service.process, 5_000);
  if (dir !== "") await rm(dir, { recursive: true, force: true });
}, SLOW);

describe("the binary's command line", () => {
  test("--version prints the version; -v too", async () => {
    for (const flag of ["--version", "-v"]) {
      const result = await run([binary, flag], { cwd: dir, env: baseEnv() });
      expect(result.exitCode).toBe(0);
      expect(result.stdout.trim()).toBe(packageJson.version);
    }
  });

  test("--help lists every command and exits 0", async () => {
    for (const flag of ["--help", "-h"]) {
      const result = await run([binary, flag], { cwd: dir, env: baseEnv() });
      expect(result.exitCode).toBe(0);
      for (const command of ["serve", "migrate", "seed", "openapi", "healthcheck"]) {
        expect(result.stdout).toContain(command);
      }
      // It says where to read, and every document it names is in the repo.
      for (const document of ["README.md", "docs/api.md", "docs/security.md", "docs/deploy.md"]) {
        expect(result.stdout).toContain(document);
        expect(await Bun.file(new URL(`../../${document}`, import.meta.url)).exists(), document).toBe(true);
      }
    }
  });

  test("an unknown command prints the help to stderr and exits 2", async () => {
    for (const args of [["frobnicate"], ["--nope"], ["serve", "extra"]]) {
      const result = await run([binary, ...args], { cwd: dir, env: baseEnv() });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain("unknown command");
      expect(result.stderr).toContain("Usage: wallet");
      expect(result.stdout).toBe("");
    }
  });

  test("openapi prints a document byte-identical to openapi/openapi.json", async () => {
    const result = await run([binary, "openapi"], { cwd: dir, env: baseEnv() });
    expect(result.exitCode).toBe(0);
    const committed = await Bun.file(join(ROOT, "openapi/openapi.json")).text();
    expect(result.stdout === committed).toBe(true);
    // Printing the document touches no disk: no ./data appeared next to the binary.
    expect(await readdir(dir)).toEqual(["wallet"]);
  });

  test("healthcheck exits 1 when nothing answers on PORT", async () => {
    expect(await healthcheck(freePort())).toBe(1);
  });
});

describe("the binary on embedded PGlite", () => {
  test(
    "migrate, then serve on a fresh DATA_DIR with a generated admin key: the money path works over HTTP",
    async () => {
      // migrate on its own data directory: applies everything once, then finds nothing to do.
      const migrateEnv = { ...baseEnv(), DATA_DIR: join(dir, "migrated") };
      const first = await run([binary, "migrate"], { cwd: dir, env: migrateEnv });
      expect(first.exitCode, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/^applied \d+ migration\(s\)$/m);
      // The binary carries the prepared cluster: no initdb on a first start.
      expect(first.stdout).toContain("creating the embedded database in");
      expect(first.stdout).toContain('"source":"prepared cluster"');
      const second = await run([binary, "migrate"], { cwd: dir, env: migrateEnv });
      expect(second.exitCode, second.stderr).toBe(0);
      expect(second.stdout).toContain("the database is up to date");

      // serve with nothing configured but the port: DATA_DIR defaults to ./data, which does not exist yet.
      const dataDir = join(dir, "data");
      expect(await Bun.file(join(dataDir, "admin-api-key")).exists()).toBe(false);
      const service = await serve({ LOG_LEVEL: "warn" });
      const idleRss = await rssKiB(service.process.pid);
      console.log(
        `[ship] PGlite, fresh DATA_DIR: first 200 on /ready after ${service.startupMs.toFixed(0)} ms`,
      );
      const adminKey = (await Bun.file(join(dataDir, "admin-api-key")).text()).trim();
      expect(adminKey).toMatch(/^wk_admin_/);
      expect((await stat(join(dataDir, "admin-api-key"))).mode & 0o777).toBe(0o600);

      const walletId = await walkTheMoneyPath(service.baseUrl, adminKey);
      await expectDocs(service.baseUrl);
      expect(await healthcheck(service.port)).toBe(0);
      // The key is only accepted as itself.
      expect((await call(service.baseUrl, `${adminKey}x`, "GET", "/v1/teams")).status).toBe(401);
      // No short Host and path prefix reaches a /v1 handler without it, nor a missing Host anything.
      const bypass = await rawRequest(service.baseUrl, requestText("GET", "/xx/v1/teams", { host: "a" }));
      expect(bypass.status).toBe(404);
      const noHost = await rawRequest(
        service.baseUrl,
        requestText("GET", "/health", { version: "HTTP/1.0" }),
      );
      expect(noHost.status).toBe(400);
      expect(noHost.headers["content-type"]).toBe("application/problem+json");
      await Bun.sleep(500);
      const rssAfter = await rssKiB(service.process.pid);
      console.log(
        `[ship] PGlite RSS: ${(idleRss / 1024).toFixed(1)} MiB idle after start, ${(rssAfter / 1024).toFixed(1)} MiB idle after the walk`,
      );
      expect(await stop(service)).toBe(0);

      // A restart on the same DATA_DIR keeps the key and the money.
      const again = await serve({ LOG_LEVEL: "warn" });
      console.log(
        `[ship] PGlite, existing DATA_DIR: first 200 on /ready after ${again.startupMs.toFixed(0)} ms`,
      );
      const wallet = await expectCall(200, again.baseUrl, adminKey, "GET", `/v1/wallets/${walletId}`);
      expect(wallet.balance).toBe(50_000 - 12_345);
      expect(await stop(again)).toBe(0);
    },
    SLOW,
  );
});

describe("the binary on PostgreSQL", () => {
  test.skipIf(serverUrl === undefined)(
    "migrate, then serve with ADMIN_API_KEY and CARD_ENCRYPTION_KEY: the money path works over HTTP",
    async () => {
      const scratch = await createScratchDatabase(serverUrl ?? "");
      try {
        const before = (await readdir(dir)).sort();
        const adminKey = `ship-admin-${crypto.randomUUID()}`;
        const env = {
          DATABASE_URL: scratch.url,
          ADMIN_API_KEY: adminKey,
          CARD_ENCRYPTION_KEY: randomCardKey(),
          LOG_LEVEL: "warn",
        };
        const first = await run([binary, "migrate"], { cwd: dir, env: { ...baseEnv(), ...env } });
        expect(first.exitCode, first.stderr).toBe(0);
        expect(first.stdout).toMatch(/^applied \d+ migration\(s\)$/m);
        const second = await run([binary, "migrate"], { cwd: dir, env: { ...baseEnv(), ...env } });
        expect(second.stdout).toContain("the database is up to date");

        const service = await serve(env);
        const idleRss = await rssKiB(service.process.pid);
        console.log(`[ship] PostgreSQL: first 200 on /ready after ${service.startupMs.toFixed(0)} ms`);
        await walkTheMoneyPath(service.baseUrl, adminKey);
        await expectDocs(service.baseUrl);
        expect(await healthcheck(service.port)).toBe(0);
        await Bun.sleep(500);
        const rssAfter = await rssKiB(service.process.pid);
        console.log(
          `[ship] PostgreSQL RSS: ${(idleRss / 1024).toFixed(1)} MiB idle after start, ${(rssAfter / 1024).toFixed(1)} MiB idle after the walk`,
        );
        expect(await stop(service)).toBe(0);
        // With DATABASE_URL, nothing is written next to the binary.
        expect((await readdir(dir)).sort()).toEqual(before);
      } finally {
        await scratch.drop();
      }
    },
    SLOW,
  );
});
