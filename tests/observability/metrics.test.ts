/**
 * /metrics after a known mixed load: the request histogram and the business counters count exactly
 * what was done, per route template and reason, no label holds an id, and the exposition passes
 * `promtool check metrics` (when promtool is installed: Debian package `prometheus`).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { futureExpiry, uniqueCardNumber } from "../helpers/fixtures.ts";
import { run } from "../helpers/process.ts";
import { startServer, type TestServer, uniqueEmail } from "../helpers/server.ts";

const HOOK_TIMEOUT_MS = 60_000;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const promtool = Bun.which("promtool");

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Exposition {
  text: string;
  samples: Sample[];
  /** `# TYPE` of each metric family. */
  types: Map<string, string>;
}

function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type?.[1] !== undefined && type[2] !== undefined) types.set(type[1], type[2]);
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
    if (match?.[1] === undefined || match[3] === undefined) throw new Error(`unparsable sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      if (label[1] !== undefined) labels[label[1]] = label[2] ?? "";
    }
    const value = match[3] === "+Inf" ? Number.POSITIVE_INFINITY : Number(match[3]);
    samples.push({ name: match[1], labels, value });
  }
  return { text, samples, types };
}

/** The value of the one sample named `name` whose labels are exactly `labels`; 0 when there is none. */
function sampleValue(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const matches = exposition.samples.filter(
    (sample) =>
      sample.name === name &&
      JSON.stringify(Object.entries(sample.labels).sort()) === wanted &&
      !Number.isNaN(sample.value),
  );
  if (matches.length > 1) throw new Error(`${matches.length} samples of ${name} ${wanted}`);
  return matches[0]?.value ?? 0;
}

let server: TestServer;
let before: Exposition;
let after: Exposition;

async function readMetrics(): Promise<Exposition> {
  const response = await fetch(`${server.baseUrl}/metrics`);
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

/** A call with the admin key; returns status and JSON body. */
async function send(method: string, path: string, json?: unknown, headers: Record<string, string> = {}) {
  const response = await server.request(path, { method, json, headers });
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body };
}

async function idOf(method: string, path: string, json: unknown): Promise<string> {
  const { status, body } = await send(method, path, json);
  if (status !== 201 || typeof body.id !== "string") {
    throw new Error(`${method} ${path}: ${status} ${JSON.stringify(body)}`);
  }
  return body.id;
}

// The load, and what it must count.
const WALLET_GETS = 7;
const MISSING_WALLET_GETS = 3;
const PLAIN_TOPUPS = 3;
const TOPUP_AMOUNT = 20_000;

beforeAll(async () => {
  server = await startServer();
  before = await readMetrics();

  const userId = await idOf("POST", "/v1/users", { email: uniqueEmail("metrics"), name: "Metrics" });
  const walletId = await idOf("POST", "/v1/wallets", { userId });
  for (let i = 0; i < WALLET_GETS; i++) {
    expect((await send("GET", `/v1/wallets/${walletId}`)).status).toBe(200);
  }
  for (let i = 0; i < MISSING_WALLET_GETS; i++) {
    expect((await send("GET", `/v1/wallets/${crypto.randomUUID()}`)).status).toBe(404);
  }
  expect((await send("GET", "/v1/wallets/not-a-uuid")).status).toBe(400);
  expect((await send("GET", `/v1/no-such-route/${crypto.randomUUID()}`)).status).toBe(404);
  expect((await fetch(`${server.baseUrl}/v1/wallets/${walletId}`)).status).toBe(401);

  // 3 top-ups, then one with an Idempotency-Key sent twice: 4 ledger rows, 1 replay.
  for (let i = 0; i < PLAIN_TOPUPS; i++) {
    await idOf("POST", `/v1/wallets/${walletId}/topups`, { amount: TOPUP_AMOUNT });
  }
  const key = { "idempotency-key": `metrics-${crypto.randomUUID()}` };
  const first = await send("POST", `/v1/wallets/${walletId}/topups`, { amount: TOPUP_AMOUNT }, key);
  const replay = await send("POST", `/v1/wallets/${walletId}/topups`, { amount: TOPUP_AMOUNT }, key);
  expect(first.status).toBe(201);
  expect(replay).toEqual(first);
  await idOf("POST", `/v1/wallets/${walletId}/withdrawals`, { amount: 5_000 });
  // Balance 75 000.

  const cardId = await idOf("POST", "/v1/cards", {
    walletId,
    cardNo: uniqueCardNumber(),
    cvv: "123",
    ...futureExpiry(),
    dailyLimit: 300_000,
    monthlyLimit: 300_000,
  });
  const spend = async (amount: number, capture: boolean, expected: string, reason: string | null) => {
    const { status, body } = await send("POST", `/v1/cards/${cardId}/authorizations`, {
      amount,
      capture,
      merchant: { name: "Metrics shop" },
    });
    expect(status).toBe(201);
    expect(body.status).toBe(expected);
    expect(body.declineReason).toBe(reason);
    return String(body.id);
  };
  await spend(10_000, true, "captured", null);
  await spend(20_000, true, "captured", null);
  const hold = await spend(30_000, false, "pending", null);
  // Available 15 000: within every limit, more than the wallet has.
  await spend(25_000, true, "declined", "insufficient_funds");
  await spend(25_000, true, "declined", "insufficient_funds");
  // 60 000 spent today + 250 000 > the card's 300 000 a day.
  await spend(250_000, true, "declined", "card_daily_limit_exceeded");
  const captured = await send("POST", `/v1/authorizations/${hold}/capture`, {});
  expect(captured.status).toBe(200);
  expect(captured.body.status).toBe("captured");

  after = await readMetrics();
}, HOOK_TIMEOUT_MS);

afterAll(() => server?.stop(), HOOK_TIMEOUT_MS);

/** How much `name{labels}` grew during the load. */
const delta = (name: string, labels: Record<string, string> = {}) =>
  sampleValue(after, name, labels) - sampleValue(before, name, labels);

const requests = (method: string, route: string, statusCode: number) =>
  delta("http_server_request_duration_seconds_count", { method, route, status_code: String(statusCode) });

describe("/metrics after a mixed load", () => {
  test("each metric family has the documented type", () => {
    expect(after.types.get("http_server_request_duration_seconds")).toBe("histogram");
    expect(after.types.get("wallet_authorizations_total")).toBe("counter");
    expect(after.types.get("wallet_ledger_transactions_total")).toBe("counter");
    expect(after.types.get("wallet_idempotent_replays_total")).toBe("counter");
    expect(after.types.get("wallet_spend_batch_size")).toBe("histogram");
    // Three pool gauges: open connections, idle connections, queries waiting for one.
    const pool = [...after.types].filter(([name]) => name.startsWith("db_pool_"));
    expect(pool.map(([, type]) => type)).toEqual(["gauge", "gauge", "gauge"]);
    expect(after.types.get("db_pool_connections_idle")).toBe("gauge");
    expect(after.types.get("db_pool_requests_waiting")).toBe("gauge");
    // Process and runtime metrics come with prom-client's defaults.
    expect(after.types.get("process_cpu_seconds_total")).toBe("counter");
    expect(after.types.get("nodejs_eventloop_lag_seconds")).toBe("gauge");
  });

  test("the request histogram counts each route template and status", () => {
    expect(requests("GET", "/v1/wallets/:id", 200)).toBe(WALLET_GETS);
    expect(requests("GET", "/v1/wallets/:id", 404)).toBe(MISSING_WALLET_GETS);
    expect(requests("GET", "/v1/wallets/:id", 400)).toBe(1);
    expect(requests("POST", "/v1/users", 201)).toBe(1);
    expect(requests("POST", "/v1/wallets", 201)).toBe(1);
    // The replay is answered with the stored 201 and counted as a request like any other.
    expect(requests("POST", "/v1/wallets/:id/topups", 201)).toBe(PLAIN_TOPUPS + 2);
    expect(requests("POST", "/v1/wallets/:id/withdrawals", 201)).toBe(1);
    expect(requests("POST", "/v1/cards", 201)).toBe(1);
    expect(requests("POST", "/v1/cards/:id/authorizations", 201)).toBe(6);
    expect(requests("POST", "/v1/authorizations/:id/capture", 200)).toBe(1);
    // A path no route matches is one bounded label value, whatever the path was.
    expect(requests("GET", "unmatched", 404)).toBe(1);
    // Refused before routing (no API key): counted with its status; the route is not known yet.
    const unauthorized = after.samples.filter(
      (sample) =>
        sample.name === "http_server_request_duration_seconds_count" && sample.labels.status_code === "401",
    );
    expect(unauthorized.reduce((sum, sample) => sum + sample.value, 0)).toBe(1);
    // /metrics itself: the first read happened before the load.
    expect(requests("GET", "/metrics", 200)).toBe(1);
  });

  test("histogram buckets are cumulative and +Inf equals the count", () => {
    const labels = { method: "GET", route: "/v1/wallets/:id", status_code: "200" };
    const buckets = after.samples
      .filter(
        (sample) =>
          sample.name === "http_server_request_duration_seconds_bucket" &&
          sample.labels.route === labels.route &&
          sample.labels.method === labels.method &&
          sample.labels.status_code === labels.status_code,
      )
      .map((sample) => ({
        le: sample.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(sample.labels.le),
        value: sample.value,
      }))
      .sort((a, b) => a.le - b.le);
    expect(buckets.length).toBe(14);
    for (let i = 1; i < buckets.length; i++) {
      expect(buckets[i]?.value ?? 0).toBeGreaterThanOrEqual(buckets[i - 1]?.value ?? 0);
    }
    expect(buckets.at(-1)).toEqual({ le: Number.POSITIVE_INFINITY, value: WALLET_GETS });
    expect(sampleValue(after, "http_server_request_duration_seconds_sum", labels)).toBeGreaterThan(0);
  });

  test("authorizations are counted by result and decline reason", () => {
    expect(delta("wallet_authorizations_total", { result: "approved", decline_reason: "none" })).toBe(3);
    expect(
      delta("wallet_authorizations_total", { result: "declined", decline_reason: "insufficient_funds" }),
    ).toBe(2);
    expect(
      delta("wallet_authorizations_total", {
        result: "declined",
        decline_reason: "card_daily_limit_exceeded",
      }),
    ).toBe(1);
    const all = after.samples
      .filter((sample) => sample.name === "wallet_authorizations_total")
      .reduce((sum, sample) => sum + sample.value, 0);
    expect(all).toBe(6);
  });

  test("spend batches are measured: spends sent one after the other are decided alone", () => {
    expect(delta("wallet_spend_batch_size_count")).toBe(6);
    expect(delta("wallet_spend_batch_size_sum")).toBe(6);
    expect(delta("wallet_spend_batch_size_bucket", { le: "1" })).toBe(6);
  });

  test("ledger rows are counted by type, and the idempotent replay once", () => {
    expect(delta("wallet_ledger_transactions_total", { type: "topup" })).toBe(PLAIN_TOPUPS + 1);
    expect(delta("wallet_ledger_transactions_total", { type: "withdrawal" })).toBe(1);
    // Two captured at once, one hold captured later.
    expect(delta("wallet_ledger_transactions_total", { type: "card_spend" })).toBe(3);
    expect(delta("wallet_ledger_transactions_total", { type: "transfer_out" })).toBe(0);
    expect(delta("wallet_idempotent_replays_total")).toBe(1);
    expect(sampleValue(after, "wallet_idempotent_replays_total")).toBe(1);
  });

  test("no label value is an id, so cardinality stays bounded", () => {
    const leaks = after.samples.filter((sample) => Object.values(sample.labels).some((v) => UUID.test(v)));
    expect(leaks).toEqual([]);
    expect(after.text).not.toMatch(UUID);
    const routes = new Set(
      after.samples
        .filter((sample) => sample.name === "http_server_request_duration_seconds_count")
        .map((sample) => String(sample.labels.route)),
    );
    for (const route of routes) expect(route === "unmatched" || route.startsWith("/")).toBe(true);
    expect(routes.has("/v1/wallets/not-a-uuid")).toBe(false);
  });

  test("the pool gauges read the database pool", () => {
    const open = [...after.types.keys()].find(
      (name) => name.startsWith("db_pool_connections") && name !== "db_pool_connections_idle",
    );
    expect(sampleValue(after, open ?? "db_pool_connections")).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, "db_pool_connections_idle")).toBeLessThanOrEqual(
      sampleValue(after, open ?? ""),
    );
    expect(sampleValue(after, "db_pool_requests_waiting")).toBe(0);
  });

  // pg-pool would close a connection idle for 10 s; the service keeps its connections (PGlite: one, in process).
  test.skipIf(process.env.DATABASE_URL === undefined)(
    "on PostgreSQL the pool keeps the connections it opened, however long they are idle",
    async () => {
      await Promise.all(Array.from({ length: 4 }, () => server.db.query("SELECT pg_sleep(0.05)")));
      const opened = sampleValue(await readMetrics(), "db_pool_connections");
      expect(opened).toBeGreaterThanOrEqual(4);
      await Bun.sleep(11_000);
      // The total, not the idle count: the webhook poll may hold one connection at that moment.
      expect(sampleValue(await readMetrics(), "db_pool_connections")).toBe(opened);
    },
    30_000,
  );

  test("/metrics answers in the Prometheus text format without an API key", async () => {
    const response = await fetch(`${server.baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    expect(response.headers.get("content-type")).toContain("version=0.0.4");
  });

  test("no gauge is named like a counter (the `_total` suffix is for counters)", () => {
    const misnamed = [...after.types]
      .filter(([name, type]) => type !== "counter" && name.endsWith("_total"))
      .map(([name]) => name);
    expect(misnamed).toEqual([]);
  });

  test.skipIf(promtool === null)("promtool check metrics accepts the exposition", async () => {
    const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
    const { exitCode, stdout, stderr } = await run([promtool ?? "promtool", "check", "metrics"], {
      stdin: new TextEncoder().encode(text),
    });
    expect({ exitCode, output: `${stdout}${stderr}`.trim() }).toEqual({ exitCode: 0, output: "" });
  });
});
