/**
 * SIGTERM while 50 slow requests are in flight: every one of them completes with 2xx, new
 * connections are refused at once, and the process exits 0. The requests are slow for real reasons,
 * with no hook in the service: a row lock held by another session (PostgreSQL), or clients that
 * upload their bodies slowly (both databases).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "bun";
import pg from "pg";
import { BUN, ROOT, type Running, SYSTEM_PATH, startProcess, stopProcess } from "../helpers/process.ts";
import { createScratchDatabase } from "../helpers/server.ts";
import { randomCardKey } from "../helpers/values.ts";
import { connectionRefused, expectCall, idOf } from "./support.ts";

const serverUrl = process.env.DATABASE_URL;
const ADMIN_KEY = "shutdown-test-admin-key-0123456789";
const REQUESTS = 50;
const SLOW = 120_000;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** The service from source, on the database this run uses (a scratch PostgreSQL one, or PGlite in a temp dir). */
async function startService(
  env: Record<string, string>,
): Promise<{ service: Running; databaseUrl: string; balanceOf(walletId: string): Promise<number> }> {
  const scratch = serverUrl === undefined ? undefined : await createScratchDatabase(serverUrl);
  const dataDir = await mkdtemp(join(tmpdir(), "wallet-shutdown-"));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  if (scratch !== undefined) cleanups.push(() => scratch.drop());
  const fullEnv = {
    PATH: SYSTEM_PATH,
    // info: the "draining" line tells the test the signal was handled.
    LOG_LEVEL: "info",
    RATE_LIMIT_PER_SECOND: "0",
    ADMIN_API_KEY: ADMIN_KEY,
    CARD_ENCRYPTION_KEY: randomCardKey(),
    SHUTDOWN_TIMEOUT: "30000",
    ...(scratch === undefined ? { DATA_DIR: dataDir } : { DATABASE_URL: scratch.url }),
    ...env,
  };
  const launch = async () => {
    const started = await startProcess([BUN, "src/main.ts"], { cwd: ROOT, env: fullEnv, timeoutMs: 60_000 });
    cleanups.push(() => stopProcess(started.process, 5_000));
    return started;
  };
  const service = await launch();
  return {
    service,
    databaseUrl: scratch?.url ?? "",
    async balanceOf(walletId) {
      if (scratch !== undefined) {
        const client = new pg.Client({ connectionString: scratch.url });
        await client.connect();
        try {
          const result = await client.query<{ balance: string }>(
            "SELECT balance::text AS balance FROM wallets WHERE id = $1",
            [walletId],
          );
          return Number(result.rows[0]?.balance);
        } finally {
          await client.end();
        }
      }
      // PGlite belongs to one process: ask a new instance on the same DATA_DIR.
      const again = await launch();
      try {
        const wallet = await expectCall(200, again.baseUrl, ADMIN_KEY, "GET", `/v1/wallets/${walletId}`);
        return Number(wallet.balance);
      } finally {
        expect(await stopProcess(again.process)).toBe(0);
      }
    },
  };
}

async function createWallet(baseUrl: string): Promise<string> {
  const team = await expectCall(201, baseUrl, ADMIN_KEY, "POST", "/v1/teams", { name: "Drain team" });
  return idOf(await expectCall(201, baseUrl, ADMIN_KEY, "POST", "/v1/wallets", { teamId: idOf(team) }));
}

/** Resolves once the service logged that it is draining (it handled the signal). */
async function draining(service: Running, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!service.stdout().includes("draining")) {
    if (Date.now() > deadline)
      throw new Error(`no "draining" log line: ${service.stdout()}${service.stderr()}`);
    await Bun.sleep(10);
  }
}

/**
 * While draining, nobody new gets in: /ready, if it still answers at all, says 503 draining, and a
 * new TCP connection is refused.
 */
async function expectRefusingNewClients(service: Running): Promise<void> {
  const ready = await fetch(`${service.baseUrl}/ready`, { keepalive: false }).then(
    async (response) => ({ status: response.status, body: await response.text() }),
    () => undefined,
  );
  if (ready !== undefined) {
    expect(ready.status).toBe(503);
    expect(ready.body).toContain("draining");
  }
  expect(await connectionRefused(service.port)).toBe(true);
}

const topUpPath = (walletId: string) => `/v1/wallets/${walletId}/topups`;
const amounts = Array.from({ length: REQUESTS }, (_, i) => 100 + i);
const total = amounts.reduce((sum, amount) => sum + amount, 0);

describe("graceful shutdown with 50 slow requests in flight", () => {
  test.skipIf(serverUrl === undefined)(
    "top-ups blocked on a row lock all complete 201 after SIGTERM; new connections are refused; exit 0",
    async () => {
      const { service, databaseUrl, balanceOf } = await startService({
        // Long enough that neither the pool nor PostgreSQL gives up on the blocked top-ups.
        DB_POOL_MAX: String(REQUESTS + 10),
        DB_QUERY_TIMEOUT: "30000",
      });
      const walletId = await createWallet(service.baseUrl);
      const locker = new pg.Client({ connectionString: databaseUrl });
      await locker.connect();
      cleanups.push(() => locker.end());
      await locker.query("BEGIN");
      await locker.query("SELECT id FROM wallets WHERE id = $1 FOR UPDATE", [walletId]);

      const requests = amounts.map((amount) =>
        fetch(`${service.baseUrl}${topUpPath(walletId)}`, {
          method: "POST",
          headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
          body: JSON.stringify({ amount }),
        }).then(
          async (response) => ({ status: response.status, body: await response.text() }),
          (error: unknown) => ({ status: 0, body: String(error) }),
        ),
      );
      // Every one of them is inside the service, waiting for the lock. (Watched from a third session:
      // inside the locker's transaction pg_stat_activity is a snapshot that never changes.)
      const watcher = new pg.Client({ connectionString: databaseUrl });
      await watcher.connect();
      cleanups.push(() => watcher.end());
      const deadline = Date.now() + 20_000;
      for (;;) {
        const waiting = await watcher.query<{ count: string }>(
          `SELECT count(*)::text AS count FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'wallet-api' AND wait_event_type = 'Lock'`,
        );
        if (Number(waiting.rows[0]?.count) === REQUESTS) break;
        if (Date.now() > deadline) throw new Error(`only ${waiting.rows[0]?.count} top-ups are waiting`);
        await Bun.sleep(50);
      }

      service.process.kill("SIGTERM");
      await draining(service);
      await expectRefusingNewClients(service);
      // Still draining, not stopped: the blocked requests hold it open.
      await Bun.sleep(500);
      expect(service.process.exitCode).toBeNull();
      await expectRefusingNewClients(service);

      await locker.query("COMMIT");
      const results = await Promise.all(requests);
      expect(results.filter((result) => result.status !== 201)).toEqual([]);
      expect(await service.process.exited).toBe(0);
      expect(service.stdout()).toContain('"stopped"');
      expect(await balanceOf(walletId)).toBe(total);
    },
    SLOW,
  );

  test(
    "top-ups whose bodies are still uploading all complete 201 after SIGTERM; new connections are refused; exit 0",
    async () => {
      const { service, balanceOf } = await startService({ DB_POOL_MAX: "10" });
      const walletId = await createWallet(service.baseUrl);

      // Each client sends its headers and half its body, then stalls: a slow upload is a slow request.
      const clients = await Promise.all(
        amounts.map((amount) => openSlowUpload(service.port, walletId, amount)),
      );
      // Give the server the moment it needs to accept all of them and start reading.
      await Bun.sleep(500);

      service.process.kill("SIGTERM");
      await draining(service);
      await expectRefusingNewClients(service);
      await Bun.sleep(500);
      expect(service.process.exitCode).toBeNull();
      await expectRefusingNewClients(service);

      for (const client of clients) client.finish();
      const statuses = await Promise.all(clients.map((client) => client.status));
      expect(statuses.filter((status) => status !== 201)).toEqual([]);
      expect(await service.process.exited).toBe(0);
      expect(await balanceOf(walletId)).toBe(total);
    },
    SLOW,
  );
});

interface SlowUpload {
  finish(): void;
  /** The HTTP status of the answer, 0 when the connection ended without one. */
  status: Promise<number>;
}

/** A raw HTTP/1.1 POST of a top-up that sends all but the last part of its body, until finish(). */
async function openSlowUpload(port: number, walletId: string, amount: number): Promise<SlowUpload> {
  const body = JSON.stringify({ amount });
  const head =
    `POST ${topUpPath(walletId)} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
    `Authorization: Bearer ${ADMIN_KEY}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  const split = Math.floor(body.length / 2);
  let answer = "";
  let settle: (status: number) => void = () => {};
  const status = new Promise<number>((resolve) => {
    settle = resolve;
  });
  const parse = () => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
  const socket: Socket<undefined> = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_socket, chunk) {
        answer += new TextDecoder().decode(chunk);
      },
      close() {
        settle(parse());
      },
      error() {
        settle(parse());
      },
    },
  });
  socket.write(head + body.slice(0, split));
  return {
    finish() {
      socket.write(body.slice(split));
    },
    status,
  };
}
