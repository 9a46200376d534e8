/**
 * Contract §9's read replicas, against a real primary and a real streaming replica that this test
 * makes for itself (initdb, pg_basebackup -R) on ports and directories of its own: a client passing
 * X-Read-After always reads its own writes, other GETs read from the replica, and a replica that
 * goes away costs nothing but the replica.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, type Running, run, startServiceProcess, stopProcess } from "../helpers/process.ts";
import { randomCardKey } from "../helpers/values.ts";
import { call, expectCall, idOf } from "./support.ts";

/** The shared server is never touched: its URL only says that PostgreSQL tests are wanted. */
const wanted = process.env.DATABASE_URL !== undefined;
const POSTGRES_BIN = "/usr/lib/postgresql/15/bin";
/** PostgreSQL refuses to run as root; the clusters belong to this system user. */
const CLUSTER_USER = "postgres";
const ADMIN_KEY = "replica-test-admin-key-0123456789";
/** The write-then-read pairs that must never read stale. */
const PAIRS = 200;

if (!wanted) console.log("replica.test.ts: skipped, it runs only with DATABASE_URL set (PostgreSQL)");

/** Runs a PostgreSQL program as CLUSTER_USER (directly when this process is not root), bounded in time. */
async function asClusterUser(program: string, args: string[], timeoutMs = 60_000): Promise<void> {
  const command = [`${POSTGRES_BIN}/${program}`, ...args];
  const asRoot = process.getuid?.() === 0;
  const finished = await run(asRoot ? ["runuser", "-u", CLUSTER_USER, "--", ...command] : command, {
    cwd: "/",
    timeoutMs,
  });
  if (finished.exitCode !== 0) {
    throw new Error(
      `${program} ${args.join(" ")} exited ${finished.exitCode}: ${finished.stderr}${finished.stdout}`,
    );
  }
}

interface Cluster {
  dataDir: string;
  port: number;
  url: string;
  start(): Promise<void>;
  /** Immediate shutdown: as abrupt as a crash, and quick. */
  stop(): Promise<void>;
}

function cluster(root: string, name: string): Cluster {
  const dataDir = join(root, name);
  const port = freePort();
  return {
    dataDir,
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () =>
      asClusterUser("pg_ctl", ["-D", dataDir, "-l", join(root, `${name}.log`), "-w", "-t", "30", "start"]),
    stop: () => asClusterUser("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "-t", "30", "stop"]),
  };
}

/** Settings for a throwaway cluster on its own port and socket directory; `fsync` off: nothing here must survive a crash of the host. */
const settings = (root: string, port: number) =>
  [
    `port = ${port}`,
    "listen_addresses = '127.0.0.1'",
    `unix_socket_directories = '${root}'`,
    "wal_level = replica",
    "max_wal_senders = 5",
    "fsync = off",
    "",
  ].join("\n");

describe.skipIf(!wanted)("read replicas (contract §9)", () => {
  let root = "";
  let primary: Cluster | undefined;
  let replica: Cluster | undefined;
  let service: Running | undefined;
  let writing = true;
  let writeLoad: Promise<void> = Promise.resolve();

  const base = () => service?.baseUrl ?? "";
  const get = (path: string, headers: Record<string, string> = {}) =>
    call(base(), ADMIN_KEY, "GET", path, undefined, headers);
  const readyBody = async () => {
    const response = await fetch(`${base()}/ready`, { signal: AbortSignal.timeout(5_000) });
    return { status: response.status, body: (await response.json()) as { checks: { replica: string } } };
  };
  /** Polls until `condition` holds, or fails after `withinMs`. */
  const eventually = async (what: string, condition: () => Promise<boolean>, withinMs = 15_000) => {
    const deadline = performance.now() + withinMs;
    while (!(await condition())) {
      if (performance.now() > deadline) throw new Error(`not within ${withinMs} ms: ${what}`);
      await Bun.sleep(50);
    }
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "wallet-replica-"));
    const owner = Bun.spawnSync(["id", "-u", CLUSTER_USER]).stdout.toString().trim();
    const group = Bun.spawnSync(["id", "-g", CLUSTER_USER]).stdout.toString().trim();
    if (process.getuid?.() === 0) await chown(root, Number(owner), Number(group));
    primary = cluster(root, "primary");
    replica = cluster(root, "replica");
    await asClusterUser("initdb", ["-D", primary.dataDir, "-U", "postgres", "--auth=trust", "--no-sync"]);
    await Bun.write(
      join(primary.dataDir, "postgresql.conf"),
      `${await Bun.file(join(primary.dataDir, "postgresql.conf")).text()}\n${settings(root, primary.port)}`,
    );
    await primary.start();
    await asClusterUser("pg_basebackup", [
      ...["-h", "127.0.0.1", "-p", String(primary.port), "-U", "postgres"],
      ...["-D", replica.dataDir, "-R", "-X", "stream", "-c", "fast", "--no-sync"],
    ]);
    // The copy has the primary's port; a later line wins.
    await Bun.write(
      join(replica.dataDir, "postgresql.conf"),
      `${await Bun.file(join(replica.dataDir, "postgresql.conf")).text()}\n${settings(root, replica.port)}`,
    );
    await replica.start();
    service = await startServiceProcess({
      DATABASE_URL: primary.url,
      DATABASE_READ_URL: replica.url,
      ADMIN_API_KEY: ADMIN_KEY,
      CARD_ENCRYPTION_KEY: randomCardKey(),
      DB_QUERY_TIMEOUT: "2000",
    });
    await eventually("the replica is in use", async () => (await readyBody()).body.checks.replica === "ok");
    // Writes from other clients all along: the replica always has something to replay.
    writeLoad = (async () => {
      const writers = Array.from({ length: 4 }, async () => {
        while (writing) {
          await call(base(), ADMIN_KEY, "POST", "/v1/teams", { name: `Load ${crypto.randomUUID()}` });
        }
      });
      await Promise.all(writers);
    })();
  }, 120_000);

  afterAll(async () => {
    writing = false;
    await writeLoad;
    if (service !== undefined) await stopProcess(service.process);
    for (const each of [replica, primary]) await each?.stop().catch(() => undefined);
    if (root !== "") await rm(root, { recursive: true, force: true });
  }, 60_000);

  test("a write answers X-Read-After; a GET without it reads from the replica", async () => {
    const created = await call(base(), ADMIN_KEY, "POST", "/v1/users", {
      email: `replica-${crypto.randomUUID()}@example.com`,
      name: "Replica Reader",
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("x-read-after") ?? "").toMatch(/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/);
    const list = await get("/v1/users");
    expect(list.status).toBe(200);
    expect(list.headers.get("x-served-by")).toBe("replica");
  });

  test(`${PAIRS} write-then-read pairs with X-Read-After under write load: not one stale read`, async () => {
    const user = await expectCall(201, base(), ADMIN_KEY, "POST", "/v1/users", {
      email: `pairs-${crypto.randomUUID()}@example.com`,
      name: "Pair 0",
    });
    const userId = idOf(user);
    const stale: string[] = [];
    const servedBy = { primary: 0, replica: 0 };
    for (let pair = 1; pair <= PAIRS; pair++) {
      const name = `Pair ${pair}`;
      const written = await call(base(), ADMIN_KEY, "PATCH", `/v1/users/${userId}`, { name });
      expect(written.status, written.text).toBe(200);
      const position = written.headers.get("x-read-after") ?? "";
      const read = await get(`/v1/users/${userId}`, { "x-read-after": position });
      expect(read.status, read.text).toBe(200);
      if (read.body.name !== name) stale.push(`${name}: read ${String(read.body.name)}`);
      const where = read.headers.get("x-served-by");
      if (where === "primary" || where === "replica") servedBy[where]++;
    }
    expect(stale).toEqual([]);
    expect(servedBy.primary + servedBy.replica).toBe(PAIRS);
    // Passing the header must not simply mean "read the primary": most replays take far under 100 ms.
    expect(servedBy.replica).toBeGreaterThan(PAIRS / 2);
  }, 120_000);

  test("the replica stops: reads go to the primary without an error, /ready stays 200; it restarts: reads return to it", async () => {
    await replica?.stop();
    // At once, before any lag check has noticed: a read the replica fails is read from the primary.
    const reads = await Promise.all(Array.from({ length: 20 }, () => get("/v1/users")));
    expect(reads.map((reply) => reply.status)).toEqual(reads.map(() => 200));
    await eventually("/ready reports the replica unavailable", async () => {
      const ready = await readyBody();
      expect(ready.status).toBe(200);
      return ready.body.checks.replica === "unavailable";
    });
    const later = await get("/v1/users");
    expect(later.status).toBe(200);
    expect(later.headers.get("x-served-by")).toBe("primary");
    const metrics = await (await fetch(`${base()}/metrics`)).text();
    expect(metrics).toMatch(/^db_replica_available 0$/m);
    // prom-client writes NaN as "Nan"; Prometheus reads it in any case.
    expect(metrics).toMatch(/^db_replica_lag_seconds nan$/im);
    expect(metrics).toMatch(/^db_replica_pool_connections \d+$/m);
    expect(metrics).toMatch(/^db_read_requests_total\{target="replica"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^db_read_requests_total\{target="primary"\} [1-9]\d*$/m);

    await replica?.start();
    await eventually(
      "reads are served by the replica again",
      async () => (await get("/v1/users")).headers.get("x-served-by") === "replica",
    );
    expect((await readyBody()).body.checks.replica).toBe("ok");
  }, 60_000);
});
