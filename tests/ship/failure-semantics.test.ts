/**
 * Contract §9's failure semantics, one failure at a time, through a TCP proxy the test controls (and
 * PostgreSQL's own pg_terminate_backend and default_transaction_read_only): every failure of the
 * database is `503 database_unavailable` with `Retry-After` (never 500), the connection is dropped,
 * nothing is half-applied, and the service recovers by itself, as the same process.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import pg from "pg";
import { brokenInvariants } from "../helpers/invariants.ts";
import type { Running } from "../helpers/process.ts";
import { call, expectCall, idOf, type Reply, startServiceBehindProxy, type TcpProxy } from "./support.ts";

const serverUrl = process.env.DATABASE_URL;
const ADMIN_KEY = "failure-semantics-admin-key-0123456789";
const DB_QUERY_TIMEOUT = 1_000;

/** Every 503 the service answers because of the database: a problem body with Retry-After. */
function expectUnavailable(reply: Reply, code = "database_unavailable"): void {
  expect(reply.status, reply.text).toBe(503);
  expect(reply.headers.get("content-type") ?? "").toContain("application/problem+json");
  expect(reply.body.code).toBe(code);
  expect(reply.headers.get("retry-after")).toBe("1");
}

/** What a failure may answer: success, or a 503 that says why and when to retry. */
function expectNoServerError(replies: Reply[], successStatus: number): void {
  const unexpected = replies.filter(
    (reply) =>
      reply.status !== successStatus &&
      !(
        reply.status === 503 &&
        (reply.body.code === "database_unavailable" || reply.body.code === "outcome_unknown") &&
        reply.headers.get("retry-after") === "1"
      ),
  );
  expect(unexpected.map((reply) => `${reply.status} ${reply.text.slice(0, 200)}`)).toEqual([]);
}

/** A service behind its proxy, with helpers over its API and its database. */
async function startFixture(env: Record<string, string>, cleanups: (() => Promise<unknown>)[]) {
  const { service, proxy, direct } = await startServiceBehindProxy(serverUrl ?? "", ADMIN_KEY, env, cleanups);
  const base = service.baseUrl;
  const newTeam = async () =>
    idOf(
      await expectCall(201, base, ADMIN_KEY, "POST", "/v1/teams", { name: `Team ${crypto.randomUUID()}` }),
    );
  const newWallet = async () =>
    idOf(await expectCall(201, base, ADMIN_KEY, "POST", "/v1/wallets", { teamId: await newTeam() }));
  const topUp = (walletId: string, body: { amount: number; description?: string }) =>
    call(base, ADMIN_KEY, "POST", `/v1/wallets/${walletId}/topups`, body);
  const stored = async (walletId: string) => {
    const result = await direct.query<{ balance: string; topups: string }>(
      `SELECT w.balance::text AS balance,
              (SELECT count(*) FROM transactions t WHERE t.wallet_id = w.id)::text AS topups
         FROM wallets w WHERE w.id = $1`,
      [walletId],
    );
    return { balance: Number(result.rows[0]?.balance), topups: Number(result.rows[0]?.topups) };
  };
  const ready = async () => {
    const started = performance.now();
    const response = await fetch(`${base}/ready`, { signal: AbortSignal.timeout(10_000) });
    return { status: response.status, body: await response.text(), ms: performance.now() - started };
  };
  /** Polls /ready until it answers `status` (or `withinMs` passes); gives back the last answer. */
  const readyBecomes = async (status: number, withinMs = 5_000) => {
    const deadline = performance.now() + withinMs;
    let last = await ready();
    while (last.status !== status && performance.now() < deadline) {
      await Bun.sleep(50);
      last = await ready();
    }
    return last;
  };
  const expectSameProcess = () => {
    expect(service.process.exitCode).toBeNull();
    expect(service.process.signalCode).toBeNull();
  };
  /** Ready again, a top-up of 100 goes through on `walletId` (its first), and it is the same process. */
  const expectRecoveredWithOneTopUp = async (walletId: string) => {
    expect((await readyBecomes(200)).status).toBe(200);
    expect((await topUp(walletId, { amount: 100 })).status).toBe(201);
    expect(await stored(walletId)).toEqual({ balance: 100, topups: 1 });
    expectSameProcess();
  };
  return {
    service,
    proxy,
    direct,
    newTeam,
    newWallet,
    topUp,
    stored,
    ready,
    readyBecomes,
    expectSameProcess,
    expectRecoveredWithOneTopUp,
  };
}

describe.skipIf(serverUrl === undefined)("each failure of the database is 503 with Retry-After", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  let fixture: Awaited<ReturnType<typeof startFixture>>;
  let proxy: TcpProxy;
  let service: Running;
  /** On the server's maintenance database: what a test does to the scratch database from outside. */
  let admin: pg.Pool;
  let scratchName: string;

  /** Ends the service's sessions the way an administrator or a switchover does (FATAL 57P01). */
  const terminateServiceSessions = async () => {
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'wallet-api%'",
      [scratchName],
    );
  };

  beforeAll(async () => {
    fixture = await startFixture({ DB_QUERY_TIMEOUT: String(DB_QUERY_TIMEOUT), DB_POOL_MAX: "4" }, cleanups);
    ({ proxy, service } = fixture);
    admin = new pg.Pool({ connectionString: serverUrl, max: 1 });
    cleanups.push(() => admin.end());
    const current = await fixture.direct.query<{ name: string }>("SELECT current_database() AS name");
    scratchName = current.rows[0]?.name ?? "";
  }, 90_000);

  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  const midRequestBreaks = [
    { name: "the connection closes mid-request (Connection terminated unexpectedly)", sqlState: undefined },
    { name: "FATAL 57P01 (admin shutdown) mid-request", sqlState: "57P01" },
    { name: "FATAL 57P02 (crash shutdown) mid-request", sqlState: "57P02" },
  ];
  for (const { name, sqlState } of midRequestBreaks) {
    test(`${name}: 503 database_unavailable, nothing applied, and a retry succeeds`, async () => {
      const walletId = await fixture.newWallet();
      // The description is a parameter of the ledger statement: on the wire when it is executed.
      const body = { amount: 400, description: `break-${crypto.randomUUID()}` };
      proxy.breakAnswerTo(body.description, sqlState);
      expectUnavailable(await fixture.topUp(walletId, body));
      expect(await fixture.stored(walletId)).toEqual({ balance: 0, topups: 0 });
      expect((await fixture.topUp(walletId, body)).status).toBe(201);
      expect(await fixture.stored(walletId)).toEqual({ balance: 400, topups: 1 });
      expect(await brokenInvariants(fixture.direct)).toEqual([]);
      fixture.expectSameProcess();
    }, 30_000);
  }

  test("refused connections: 503 with Retry-After, /health 200 without the database, /ready 503, then recovery", async () => {
    const walletId = await fixture.newWallet();
    proxy.cut();
    try {
      expectUnavailable(await fixture.topUp(walletId, { amount: 100 }));
      const wallet = await call(service.baseUrl, ADMIN_KEY, "GET", `/v1/wallets/${walletId}`);
      expectUnavailable(wallet);
      // Liveness never asks the database: a load balancer must not restart a process the database failed.
      const health = await fetch(`${service.baseUrl}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok" });
      expect((await fixture.ready()).status).toBe(503);
    } finally {
      proxy.restore();
    }
    await fixture.expectRecoveredWithOneTopUp(walletId);
  }, 30_000);

  test("FATAL 57P03 (starting up) on connect: 503 with Retry-After, then recovery", async () => {
    const walletId = await fixture.newWallet();
    proxy.refuseStartup("57P03");
    try {
      expectUnavailable(await fixture.topUp(walletId, { amount: 100 }));
      expect((await fixture.ready()).status).toBe(503);
    } finally {
      proxy.restore();
    }
    await fixture.expectRecoveredWithOneTopUp(walletId);
  }, 30_000);

  test("a read-only primary (25006): writes 503 with Retry-After, reads served, /ready 503; writable again, all recover", async () => {
    const walletId = await fixture.newWallet();
    expect((await fixture.topUp(walletId, { amount: 100 })).status).toBe(201);
    await admin.query(`ALTER DATABASE ${scratchName} SET default_transaction_read_only = on`);
    try {
      // A demoted primary is reached on new connections: the old ones end, as in a failover, and
      // the pool has heard of it before the next request.
      await terminateServiceSessions();
      await Bun.sleep(200);
      const writes = await Promise.all(
        Array.from({ length: 6 }, () => fixture.topUp(walletId, { amount: 100 })),
      );
      for (const write of writes) expectUnavailable(write);
      const wallet = await expectCall(200, service.baseUrl, ADMIN_KEY, "GET", `/v1/wallets/${walletId}`);
      expect(wallet.balance).toBe(100);
      const notReady = await fixture.readyBecomes(503);
      expect(notReady.status).toBe(503);
      expect(JSON.parse(notReady.body)).toEqual({
        status: "unavailable",
        checks: { database: "unavailable", replica: "off" },
      });
    } finally {
      await admin.query(`ALTER DATABASE ${scratchName} RESET default_transaction_read_only`);
    }
    // The primary is writable again (on new sessions: a restart or a promotion ends the old ones).
    await terminateServiceSessions();
    await Bun.sleep(200);
    expect((await fixture.readyBecomes(200)).status).toBe(200);
    const after = await Promise.all(
      Array.from({ length: 6 }, () => fixture.topUp(walletId, { amount: 100 })),
    );
    expectNoServerError(after, 201);
    // Connections opened while the database was read-only are gone: every write succeeds at once.
    expect(after.map((reply) => reply.status)).toEqual(Array(6).fill(201));
    expect(await fixture.stored(walletId)).toEqual({ balance: 700, topups: 7 });
    expect(await brokenInvariants(fixture.direct)).toEqual([]);
    fixture.expectSameProcess();
  }, 30_000);

  test("pg_terminate_backend on the service's sessions, idle and as transactions start, many times: never a 500 or a crash", async () => {
    const walletId = await fixture.newWallet();
    const replies: Reply[] = [];
    for (let round = 0; round < 25; round++) {
      const burst = Array.from({ length: 6 }, () => fixture.topUp(walletId, { amount: 10 }));
      await Bun.sleep(Math.random() * 15);
      await terminateServiceSessions();
      replies.push(...(await Promise.all(burst)));
      // Also while idle: the pool drops what died and reconnects for the next request.
      await terminateServiceSessions();
    }
    expectNoServerError(replies, 201);
    fixture.expectSameProcess();
    // A request in the milliseconds before the pool hears of the last termination is 503 too.
    await Bun.sleep(200);
    expect((await fixture.readyBecomes(200)).status).toBe(200);
    expect((await fixture.topUp(walletId, { amount: 10 })).status).toBe(201);
    // Every 201 is in the balance; a 503 outcome_unknown may have committed; nothing else did.
    const succeeded = replies.filter((reply) => reply.status === 201).length + 1;
    const unknown = replies.filter((reply) => reply.body.code === "outcome_unknown").length;
    const { balance, topups } = await fixture.stored(walletId);
    expect(balance).toBe(topups * 10);
    expect(topups).toBeGreaterThanOrEqual(succeeded);
    expect(topups).toBeLessThanOrEqual(succeeded + unknown);
    expect(await brokenInvariants(fixture.direct)).toEqual([]);
  }, 60_000);

  test("a COMMIT is not cancelled by statement_timeout: it commits, and the client waits only DB_QUERY_TIMEOUT", async () => {
    // Work PostgreSQL does at COMMIT and that outlasts statement_timeout, where the wait for a
    // synchronous standby happens: a deferred constraint trigger sleeping longer than DB_QUERY_TIMEOUT.
    // Cancelled, the standby's wait would leave a commit that is local only, reported as a success.
    await fixture.direct.query(`
      CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.name LIKE 'slow-commit-%' THEN PERFORM pg_sleep(${(DB_QUERY_TIMEOUT * 1.5) / 1000}); END IF;
          RETURN NULL;
        END $$;
      CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON teams
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();
    `);
    try {
      const name = `slow-commit-${crypto.randomUUID()}`;
      const reply = await call(service.baseUrl, ADMIN_KEY, "POST", "/v1/teams", { name });
      // The client's own time-out (query_timeout) still bounds the wait: the outcome is unknown to it.
      expectUnavailable(reply, "outcome_unknown");
      expect(reply.ms).toBeLessThan(DB_QUERY_TIMEOUT * 1.5);
      // A cancelled COMMIT would have rolled back; this one commits once the trigger is done.
      const deadline = performance.now() + 5_000;
      let committed = 0;
      while (committed === 0 && performance.now() < deadline) {
        await Bun.sleep(100);
        committed = (await fixture.direct.query("SELECT 1 FROM teams WHERE name = $1", [name])).rowCount ?? 0;
      }
      expect(committed).toBe(1);
    } finally {
      await fixture.direct.query("DROP TRIGGER slow_commit ON teams; DROP FUNCTION slow_commit()");
    }
  }, 30_000);
});

describe.skipIf(serverUrl === undefined)(
  "a FATAL that arrives with the answer that hands a connection on",
  () => {
    const cleanups: (() => Promise<unknown>)[] = [];
    afterAll(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    });

    test("57P01 in the same chunk as ReadyForQuery, with requests waiting for the connection: the process survives and serves", async () => {
      // One connection: each request waits for it, and gets it the moment the previous answer is read.
      const fixture = await startFixture({ DB_QUERY_TIMEOUT: "2000", DB_POOL_MAX: "1" }, cleanups);
      const base = fixture.service.baseUrl;
      const walletId = await fixture.newWallet();
      // A team the top-ups never name: its id on the wire marks the GET's statement alone.
      const teamId = await fixture.newTeam();
      const replies: Reply[] = [];
      for (let round = 0; round < 10; round++) {
        fixture.proxy.breakAfterAnswerTo(teamId, "57P01");
        const before = Array.from({ length: 3 }, () => fixture.topUp(walletId, { amount: 10 }));
        // A read outside a transaction: pg-pool hands its connection on inside the answer's callback.
        const read = call(base, ADMIN_KEY, "GET", `/v1/teams/${teamId}`).catch((error: unknown) => {
          throw new Error(
            `GET failed (${String(error)}); the service's output:\n${fixture.service.stderr()}`,
          );
        });
        const after = Array.from({ length: 3 }, () => fixture.topUp(walletId, { amount: 10 }));
        expect((await read).status).toBe(200);
        replies.push(...(await Promise.all([...before, ...after])));
      }
      fixture.expectSameProcess();
      expectNoServerError(replies, 201);
      expect((await fixture.readyBecomes(200)).status).toBe(200);
      expect((await fixture.topUp(walletId, { amount: 10 })).status).toBe(201);
      const { balance, topups } = await fixture.stored(walletId);
      expect(balance).toBe(topups * 10);
      expect(await brokenInvariants(fixture.direct)).toEqual([]);
    }, 90_000);
  },
);

describe.skipIf(serverUrl === undefined)("/ready while every pooled connection is busy", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  test("answers 200 quickly on its own connection while requests wait for a row lock", async () => {
    const fixture = await startFixture({ DB_QUERY_TIMEOUT: "5000", DB_POOL_MAX: "2" }, cleanups);
    const walletId = await fixture.newWallet();
    const locker = await fixture.direct.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("SELECT 1 FROM wallets WHERE id = $1 FOR UPDATE", [walletId]);
      // Both pooled connections wait on the lock; the rest of the requests wait for a connection.
      const waiting = Array.from({ length: 4 }, () => fixture.topUp(walletId, { amount: 10 }));
      await Bun.sleep(300);
      const probes = [];
      for (let i = 0; i < 3; i++) probes.push(await fixture.ready());
      await locker.query("COMMIT");
      const replies = await Promise.all(waiting);
      for (const probe of probes) {
        expect(probe.status, probe.body).toBe(200);
        expect(probe.ms).toBeLessThan(500);
      }
      // The requests did wait the whole time (the pool was exhausted while /ready answered).
      expect(replies.map((reply) => reply.status)).toEqual([201, 201, 201, 201]);
      for (const reply of replies) expect(reply.ms).toBeGreaterThan(300);
    } finally {
      await locker.query("ROLLBACK").catch(() => undefined);
      locker.release();
    }
  }, 60_000);
});
