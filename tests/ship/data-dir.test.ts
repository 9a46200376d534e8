/**
 * The embedded DATA_DIR belongs to one process at a time (a second `serve`, a `seed` or a `migrate`
 * is refused, naming the owner; a lock left by a dead process is taken over; SIGTERM releases it),
 * its files are the owner's only, and PGlite runs with fsync on, down to the disk.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/platform/config.ts";
import { openDatabase } from "../../src/platform/db.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { BUN, ROOT, type Running, run, SYSTEM_PATH, startProcess, stopProcess } from "../helpers/process.ts";
import { call, expectCall, idOf } from "./support.ts";

const skipReason =
  process.env.DATABASE_URL !== undefined ? "DATABASE_URL is set: DATA_DIR is embedded PGlite's" : undefined;
if (skipReason !== undefined) console.warn(`[data-dir] skipped: ${skipReason}`);
const SLOW = 120_000;

const cleanups: (() => Promise<unknown>)[] = [];
const cleanUp = async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
};

async function newDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "wallet-data-dir-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** No ADMIN_API_KEY nor CARD_ENCRYPTION_KEY: both are generated into DATA_DIR, as on a first start. */
const envFor = (dataDir: string) => ({
  PATH: SYSTEM_PATH,
  LOG_LEVEL: "warn",
  RATE_LIMIT_PER_SECOND: "0",
  DATA_DIR: dataDir,
});

async function serve(dataDir: string): Promise<Running> {
  const service = await startProcess([BUN, "src/main.ts"], {
    cwd: ROOT,
    env: envFor(dataDir),
    timeoutMs: 60_000,
  });
  cleanups.push(() => stopProcess(service.process, 5_000));
  return service;
}

/** Runs `bun src/main.ts <command>` on `dataDir` to its end. */
const command = (dataDir: string, name: string) =>
  run([BUN, "src/main.ts", name], { cwd: ROOT, env: { ...envFor(dataDir), PORT: "0" }, timeoutMs: 60_000 });

const lockFile = (dataDir: string) => join(dataDir, "wallet.lock");

/** A pid no process has: one that just exited and was reaped. */
async function deadPid(): Promise<number> {
  const child = Bun.spawn(["true"]);
  await child.exited;
  return child.pid;
}

describe.skipIf(skipReason !== undefined)("one process on a DATA_DIR", () => {
  let dataDir = "";
  let first: Running;
  let key = "";
  const firstCleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    dataDir = await newDataDir();
    first = await serve(dataDir);
    firstCleanups.push(...cleanups.splice(0));
    key = (await readFile(join(dataDir, "admin-api-key"), "utf8")).trim();
  }, SLOW);
  afterAll(async () => {
    for (const cleanup of firstCleanups.reverse()) await cleanup().catch(() => undefined);
  }, SLOW);
  afterEach(cleanUp);

  test(
    "a second serve exits 1 with one line naming the first's pid, and the first keeps serving",
    async () => {
      const second = await run([BUN, "src/main.ts"], {
        cwd: ROOT,
        env: { ...envFor(dataDir), PORT: "0" },
        timeoutMs: 60_000,
      });
      expect(second.exitCode).toBe(1);
      expect(second.stderr.trim()).toBe(
        `wallet: DATA_DIR ${dataDir} is in use by process ${first.process.pid}: stop it first`,
      );

      const user = await expectCall(201, first.baseUrl, key, "POST", "/v1/users", {
        email: "still.serving@example.com",
        name: "Still Serving",
      });
      const wallet = idOf(
        await expectCall(201, first.baseUrl, key, "POST", "/v1/wallets", { userId: idOf(user) }),
      );
      await expectCall(201, first.baseUrl, key, "POST", `/v1/wallets/${wallet}/topups`, { amount: 300 });
      expect((await expectCall(200, first.baseUrl, key, "GET", `/v1/wallets/${wallet}`)).balance).toBe(300);
    },
    SLOW,
  );

  test(
    "seed and migrate while serving are refused the same way",
    async () => {
      for (const name of ["seed", "migrate"]) {
        const refused = await command(dataDir, name);
        expect(refused.exitCode).toBe(1);
        expect(refused.stderr).toContain(`is in use by process ${first.process.pid}`);
        expect(refused.stdout).toBe("");
      }
      expect((await call(first.baseUrl, key, "GET", "/ready")).status).toBe(200);
      expect(JSON.parse(await readFile(lockFile(dataDir), "utf8")).pid).toBe(first.process.pid);
    },
    SLOW,
  );

  test("no file or directory under DATA_DIR is open to group or others", async () => {
    const open: string[] = [];
    for (const name of await readdir(dataDir, { recursive: true })) {
      const stats = await lstat(join(dataDir, name));
      if (!stats.isSymbolicLink() && (stats.mode & 0o077) !== 0) {
        open.push(`${(stats.mode & 0o777).toString(8)} ${name}`);
      }
    }
    expect(open).toEqual([]);
  });
});

describe.skipIf(skipReason !== undefined)("the DATA_DIR lock", () => {
  afterEach(cleanUp);

  test(
    "is released on SIGTERM, and a restart on the same DATA_DIR serves",
    async () => {
      const dataDir = await newDataDir();
      const service = await serve(dataDir);
      expect(await stopProcess(service.process)).toBe(0);
      expect(await Bun.file(lockFile(dataDir)).exists()).toBe(false);
      const again = await serve(dataDir);
      expect(JSON.parse(await readFile(lockFile(dataDir), "utf8")).pid).toBe(again.process.pid);
    },
    SLOW,
  );

  test(
    "left by a dead process, or by a pid now used by another process, is taken over",
    async () => {
      const dataDir = await newDataDir();
      expect((await command(dataDir, "migrate")).exitCode).toBe(0);
      // A crash (SIGKILL) leaves the lock file of a process that is gone.
      await writeFile(
        lockFile(dataDir),
        JSON.stringify({ pid: await deadPid(), hostname: hostname(), startTime: null }),
      );
      const migrated = await command(dataDir, "migrate");
      expect(migrated.exitCode, migrated.stderr).toBe(0);
      expect(migrated.stdout).toContain("the database is up to date");
      expect(migrated.stdout).toContain("took over the lock of a process that is gone");
      expect(await Bun.file(lockFile(dataDir)).exists()).toBe(false);

      // This test process is alive, but it is not the process that wrote the lock: it started at
      // another time, so its pid was reused.
      await writeFile(
        lockFile(dataDir),
        JSON.stringify({ pid: process.pid, hostname: hostname(), startTime: "1" }),
      );
      const service = await serve(dataDir);
      expect(JSON.parse(await readFile(lockFile(dataDir), "utf8")).pid).toBe(service.process.pid);
    },
    SLOW,
  );

  test(
    "held on another host is refused: its process cannot be seen from here",
    async () => {
      const dataDir = await newDataDir();
      const lock = JSON.stringify({ pid: await deadPid(), hostname: "another-host", startTime: null });
      await writeFile(lockFile(dataDir), lock);
      const refused = await command(dataDir, "migrate");
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain("is in use by process");
      expect(refused.stderr).toContain("on host another-host");
      expect(refused.stderr).toContain(`remove ${lockFile(dataDir)}`);
      expect(await readFile(lockFile(dataDir), "utf8")).toBe(lock);
    },
    SLOW,
  );
});

describe.skipIf(skipReason !== undefined)("embedded PGlite on disk", () => {
  afterEach(cleanUp);

  test(
    "runs with fsync on, synchronous commits, full page writes and a WAL flush that is an fsync",
    async () => {
      const config = loadConfig({ DATA_DIR: await newDataDir(), LOG_LEVEL: "silent" });
      const db = await openDatabase(config, createLogger(config));
      try {
        const settings: Record<string, string> = {};
        for (const name of ["fsync", "synchronous_commit", "full_page_writes", "wal_sync_method"]) {
          const result = await db.query<{ value: string }>("SELECT current_setting($1) AS value", [name]);
          settings[name] = result.rows[0]?.value ?? "";
        }
        expect(settings).toEqual({
          fsync: "on",
          synchronous_commit: "on",
          full_page_writes: "on",
          wal_sync_method: "fsync",
        });
      } finally {
        await db.close();
      }
    },
    SLOW,
  );

  const strace = Bun.which("strace", { PATH: SYSTEM_PATH });
  if (strace === null) console.warn("[data-dir] skipped the fsync system call test: strace is not installed");
  test.skipIf(strace === null)(
    "flushes the WAL with a real fsync(2) on the file: a commit reaches the disk",
    async () => {
      const dataDir = await newDataDir();
      const trace = join(dataDir, "fsync.trace");
      // -y names each descriptor's file; the trace file itself is outside the cluster directory.
      const traced = await run(
        [
          strace ?? "strace",
          "-f",
          "-y",
          "-e",
          "trace=fsync,fdatasync",
          "-o",
          trace,
          BUN,
          "src/main.ts",
          "migrate",
        ],
        { cwd: ROOT, env: { ...envFor(dataDir), PORT: "0" }, timeoutMs: 90_000 },
      );
      expect(traced.exitCode, traced.stderr).toBe(0);
      const walSyncs = (await readFile(trace, "utf8"))
        .split("\n")
        .filter((line) => /fsync\(\d+<[^>]*\/pglite\/pg_wal\/[0-9A-F]{24}>\) = 0/.test(line));
      // Each migration commits: at least one flush of the WAL to the disk each.
      expect(walSyncs.length).toBeGreaterThanOrEqual(2);
      // The new cluster reached the disk file by file, directories too, before it was renamed into place.
      const creatingSynced = new Set(
        (await readFile(trace, "utf8"))
          .split("\n")
          .map((line) => /fsync\(\d+<[^>]*\/pglite\.creating(\/[^>]*)?>/.exec(line))
          .filter((match) => match !== null)
          .map((match) => match[1] ?? ""),
      );
      for (const path of ["", "/PG_VERSION", "/global/pg_control", "/base"]) {
        expect(creatingSynced.has(path), path).toBe(true);
      }
    },
    SLOW,
  );

  test(
    "a first start says where it creates the database before it does; a restart does not",
    async () => {
      const dataDir = await newDataDir();
      const env = { ...envFor(dataDir), LOG_LEVEL: "info" };
      const first = await startProcess([BUN, "src/main.ts"], { cwd: ROOT, env, timeoutMs: 60_000 });
      cleanups.push(() => stopProcess(first.process, 5_000));
      const creating = `creating the embedded database in ${join(dataDir, "pglite")} (first start)`;
      const lines = first.stdout().split("\n");
      const creatingAt = lines.findIndex((line) => line.includes(creating));
      expect(creatingAt, first.stdout()).toBeGreaterThanOrEqual(0);
      expect(JSON.parse(lines[creatingAt] ?? "{}").level).toBe(30);
      expect(creatingAt).toBeLessThan(
        lines.findIndex((line) => line.includes("applied database migrations")),
      );
      expect(await stopProcess(first.process)).toBe(0);
      expect(await readdir(dataDir)).not.toContain("pglite.creating");
      expect((await lstat(join(dataDir, "pglite"))).mode & 0o777).toBe(0o700);

      const again = await startProcess([BUN, "src/main.ts"], { cwd: ROOT, env, timeoutMs: 60_000 });
      cleanups.push(() => stopProcess(again.process, 5_000));
      expect(again.stdout()).not.toContain("creating the embedded database");
      expect(again.stdout()).toContain("wallet-api listening");
    },
    SLOW,
  );

  test(
    "a creation cut short (a crash, a power cut) is started over on the next start",
    async () => {
      const dataDir = await newDataDir();
      // What an interrupted first start may leave: half a new cluster beside an empty pglite/.
      await mkdir(join(dataDir, "pglite.creating", "base"), { recursive: true });
      await writeFile(join(dataDir, "pglite.creating", "base", "half-a-file"), "x");
      await mkdir(join(dataDir, "pglite"));
      const migrated = await command(dataDir, "migrate");
      expect(migrated.exitCode, migrated.stderr).toBe(0);
      expect(migrated.stdout).toMatch(/applied \d+ migration\(s\)/);
      expect(await readdir(dataDir)).toEqual(["pglite"]);
      expect(await Bun.file(join(dataDir, "pglite", "PG_VERSION")).exists()).toBe(true);
    },
    SLOW,
  );
});
