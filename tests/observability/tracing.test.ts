/**
 * "See everything": the service, run as an operator runs it with an OTLP endpoint, exports one trace
 * per request (server span, service span, SQL spans) that continues the caller's trace, and its log
 * lines for that request carry the same trace id and request id.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { futureExpiry, uniqueCardNumber } from "../helpers/fixtures.ts";
import { type Running, startServiceProcess } from "../helpers/process.ts";
import { createScratchDatabase, uniqueEmail } from "../helpers/server.ts";
import { randomCardKey } from "../helpers/values.ts";
import {
  jsonLines,
  newTraceparent,
  type OtlpReceiver,
  type ReceivedSpan,
  SpanKindCode,
  startOtlpReceiver,
} from "./otlp-receiver.ts";

const HOOK_TIMEOUT_MS = 60_000;
const ADMIN_KEY = "observability-admin-key-0123456789";
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

let receiver: OtlpReceiver;
let service: Running;
let dropScratch: (() => Promise<void>) | undefined;

beforeAll(async () => {
  receiver = startOtlpReceiver();
  const serverUrl = process.env.DATABASE_URL;
  const scratch = serverUrl ? await createScratchDatabase(serverUrl) : undefined;
  dropScratch = scratch?.drop;
  service = await startServiceProcess({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_BSP_SCHEDULE_DELAY: "100",
    OTEL_SERVICE_NAME: "wallet-api-under-test",
    LOG_LEVEL: "info",
    DATA_DIR: "memory://",
    ADMIN_API_KEY: ADMIN_KEY,
    CARD_ENCRYPTION_KEY: randomCardKey(),
    ...(scratch ? { DATABASE_URL: scratch.url, DB_POOL_MAX: "4" } : {}),
  });
}, HOOK_TIMEOUT_MS);

afterAll(async () => {
  service?.process.kill();
  await service?.process.exited;
  await receiver?.stop();
  await dropScratch?.();
}, HOOK_TIMEOUT_MS);

/** A JSON call to the service with the admin key and whatever extra headers the test sends. */
async function call(method: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${service.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  return { response, json };
}

async function created(path: string, body: unknown): Promise<string> {
  const { response, json } = await call("POST", path, body);
  if (response.status !== 201) throw new Error(`POST ${path}: ${response.status} ${JSON.stringify(json)}`);
  if (typeof json.id !== "string") throw new Error(`POST ${path}: no id in ${JSON.stringify(json)}`);
  return json.id;
}

const serverSpanOf = (spans: ReceivedSpan[]) => spans.find((span) => span.kind === SpanKindCode.SERVER);
const sqlSpansOf = (spans: ReceivedSpan[]) =>
  spans.filter((span) => span.attributes["db.system.name"] === "postgresql");

/** The log lines the service wrote for `requestId`, once its access line ("request") is there. */
async function logLinesOf(requestId: string, timeoutMs = 10_000): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = jsonLines(service.stdout()).filter((line) => line.requestId === requestId);
    if (lines.some((line) => line.msg === "request")) return lines;
    if (Date.now() > deadline) throw new Error(`no access log line for request ${requestId}`);
    await Bun.sleep(50);
  }
}

/** The span ids from `span`'s parent up to the root of its trace. */
function ancestorIds(spans: ReceivedSpan[], span: ReceivedSpan): string[] {
  const byId = new Map(spans.map((candidate) => [candidate.spanId, candidate]));
  const ids: string[] = [];
  for (let parent = byId.get(span.parentSpanId ?? ""); parent !== undefined; ) {
    ids.push(parent.spanId);
    parent = byId.get(parent.parentSpanId ?? "");
  }
  return ids;
}

/** True when every span's parent is in the trace, or is the caller's span the trace continues. */
function isConnected(spans: ReceivedSpan[], callerSpanId: string | undefined): boolean {
  const ids = new Set(spans.map((span) => span.spanId));
  return spans.every((span) => span.parentSpanId === callerSpanId || ids.has(span.parentSpanId ?? ""));
}

describe("a traced request", () => {
  test("POST /v1/users: server, service and SQL spans in the caller's trace, and logs that name it", async () => {
    const { traceId, parentSpanId, traceparent } = newTraceparent();
    const requestId = `obs-users-${crypto.randomUUID().slice(0, 8)}`;
    const email = uniqueEmail("traced");
    const name = "Traced Person";
    const { response, json } = await call(
      "POST",
      "/v1/users",
      { email, name },
      // With an Idempotency-Key the request also runs the idempotency statements (whose values include
      // the whole response body, e-mail and all) in one transaction around the insert.
      {
        traceparent,
        "x-request-id": requestId,
        "idempotency-key": requestId,
        "user-agent": "observability-test/1",
      },
    );
    expect(response.status).toBe(201);
    expect(response.headers.get("x-request-id")).toBe(requestId);

    const spans = await receiver.waitForTrace(traceId, (trace) => {
      const server = serverSpanOf(trace);
      return server !== undefined && trace.some((span) => span.parentSpanId === server.spanId);
    });
    // Everything in the trace arrived together: the server span ends last, after its children.
    expect(receiver.rejected).toBe(0);

    const server = serverSpanOf(spans);
    if (server === undefined) throw new Error("no server span");
    expect(server.name).toBe("POST /v1/users");
    expect(server.parentSpanId).toBe(parentSpanId);
    expect(server.serviceName).toBe("wallet-api-under-test");
    expect(server.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.route": "/v1/users",
      "http.response.status_code": 201,
      "url.path": "/v1/users",
      "url.scheme": "http",
      "user_agent.original": "observability-test/1",
      "app.request_id": requestId,
    });
    expect(server.statusCode).not.toBe(2);

    const serviceSpan = spans.find((span) => span.name === "users.create");
    if (serviceSpan === undefined) throw new Error(`no users.create span in ${spans.map((s) => s.name)}`);
    expect(serviceSpan.kind).toBe(SpanKindCode.INTERNAL);
    expect(serviceSpan.parentSpanId).toBe(server.spanId);

    const sql = sqlSpansOf(spans);
    const names = sql.map((span) => span.name);
    expect(names).toContain("BEGIN");
    expect(names).toContain("SELECT");
    expect(names).toContain("SAVEPOINT");
    expect(names).toContain("INSERT");
    expect(names).toContain("COMMIT");
    for (const span of sql) {
      expect(span.kind).toBe(SpanKindCode.CLIENT);
      // The service's statements are below its span; the idempotency wrapper's, below the server span.
      expect(ancestorIds(spans, span)).toContain(server.spanId);
      expect(span.attributes["db.operation.name"]).toBe(span.name);
      expect(String(span.attributes["db.query.text"]).length).toBeGreaterThan(0);
    }
    const statement = (pattern: RegExp) => {
      const span = sql.find((candidate) => pattern.test(String(candidate.attributes["db.query.text"])));
      if (span === undefined) throw new Error(`no SQL span matching ${pattern}`);
      return span;
    };
    const insertUser = statement(/^INSERT INTO users\b/i);
    expect(ancestorIds(spans, insertUser)).toContain(serviceSpan.spanId);
    expect(String(insertUser.attributes["db.query.text"])).toContain("$1");
    const storeResponse = statement(/^INSERT INTO idempotency_keys\b/i);
    expect(storeResponse.parentSpanId).toBe(server.spanId);
    expect(String(storeResponse.attributes["db.query.text"])).toContain("$5");

    // One trace, whole: every span has this trace id and hangs off the caller's span.
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([traceId]));
    expect(isConnected(spans, parentSpanId)).toBe(true);
    // No value the client sent, nor the new user's id, is anywhere in the exported spans.
    const exported = JSON.stringify(spans.map((span) => span.raw));
    expect(exported).not.toContain(email);
    expect(exported).not.toContain(name);
    expect(exported).not.toContain(String(json.id));
    expect(exported).not.toContain(ADMIN_KEY);

    // The same request's log lines: same trace id and request id; the access line names the server span.
    const lines = await logLinesOf(requestId);
    for (const line of lines) {
      expect(line.traceId).toBe(traceId);
      expect(line.requestId).toBe(requestId);
    }
    const access = lines.find((line) => line.msg === "request");
    expect(access).toMatchObject({
      level: 30,
      service: "wallet-api",
      method: "POST",
      route: "/v1/users",
      status: 201,
      requestId,
      traceId,
      spanId: server.spanId,
      apiKeyId: "admin",
    });
    expect(typeof access?.durationMs).toBe("number");
    expect(JSON.stringify(lines)).not.toContain(email);
  });

  test("each SQL statement is exported once: no SQL span is the child of another SQL span", async () => {
    // Inside a transaction a service may query through the Database (not the transaction client it was
    // handed); the statement joins the ambient transaction and must still get exactly one span.
    const { traceId, traceparent } = newTraceparent();
    const requestId = `obs-once-${crypto.randomUUID().slice(0, 8)}`;
    const { response } = await call(
      "POST",
      "/v1/users",
      { email: uniqueEmail("once"), name: "Once" },
      { traceparent, "x-request-id": requestId, "idempotency-key": requestId },
    );
    expect(response.status).toBe(201);
    const spans = await receiver.waitForTrace(traceId, (trace) => serverSpanOf(trace) !== undefined);
    const sqlIds = new Set(sqlSpansOf(spans).map((span) => span.spanId));
    const nested = sqlSpansOf(spans)
      .filter((span) => sqlIds.has(span.parentSpanId ?? ""))
      .map((span) => String(span.attributes["db.query.text"]));
    expect(nested).toEqual([]);
    const inserts = sqlSpansOf(spans).filter((span) =>
      /^INSERT INTO users\b/.test(String(span.attributes["db.query.text"])),
    );
    expect(inserts).toHaveLength(1);
    expect(inserts[0]?.parentSpanId).toBe(spans.find((span) => span.name === "users.create")?.spanId);
  });

  test("a request without traceparent starts its own trace, rooted at the server span", async () => {
    const userId = await created("/v1/users", { email: uniqueEmail("root"), name: "Root" });
    const requestId = `obs-root-${crypto.randomUUID().slice(0, 8)}`;
    const { response } = await call("GET", `/v1/users/${userId}`, undefined, { "x-request-id": requestId });
    expect(response.status).toBe(200);

    const access = (await logLinesOf(requestId)).find((line) => line.msg === "request");
    const traceId = access?.traceId;
    if (typeof traceId !== "string")
      throw new Error(`access line without traceId: ${JSON.stringify(access)}`);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(access?.route).toBe("/v1/users/:id");

    const spans = await receiver.waitForTrace(traceId, (trace) => {
      const server = serverSpanOf(trace);
      return server !== undefined && trace.some((span) => span.name === "users.get");
    });
    const server = serverSpanOf(spans);
    expect(server?.parentSpanId).toBeUndefined();
    expect(server?.name).toBe("GET /v1/users/:id");
    expect(server?.attributes["http.route"]).toBe("/v1/users/:id");
    expect(server?.attributes["app.request_id"]).toBe(requestId);
    expect(server?.spanId).toBe(String(access?.spanId));
    expect(isConnected(spans, undefined)).toBe(true);
    // The SQL that found the user names it by a placeholder, never by its id.
    const sql = sqlSpansOf(spans);
    expect(sql.length).toBeGreaterThan(0);
    for (const span of sql) expect(String(span.attributes["db.query.text"])).not.toMatch(UUID);
  });

  test("creating and revealing a card: no SQL span or log line holds the card number or CVV", async () => {
    const userId = await created("/v1/users", { email: uniqueEmail("card"), name: "Card Holder" });
    const walletId = await created("/v1/wallets", { userId });
    const cardNo = uniqueCardNumber();
    const cvv = "739";

    const create = newTraceparent();
    const createRequestId = `obs-card-${crypto.randomUUID().slice(0, 8)}`;
    const { response, json } = await call(
      "POST",
      "/v1/cards",
      { walletId, cardNo, cvv, ...futureExpiry() },
      {
        traceparent: create.traceparent,
        "x-request-id": createRequestId,
        "idempotency-key": createRequestId,
      },
    );
    expect(response.status).toBe(201);
    const cardId = String(json.id);

    const reveal = newTraceparent();
    const revealRequestId = `obs-reveal-${crypto.randomUUID().slice(0, 8)}`;
    const revealed = await call("GET", `/v1/cards/${cardId}/sensitive`, undefined, {
      traceparent: reveal.traceparent,
      "x-request-id": revealRequestId,
    });
    // The reveal may be refused by policy; either way its spans must hold no secret.
    expect([200, 403]).toContain(revealed.response.status);

    for (const { traceId, parentSpanId } of [create, reveal]) {
      const spans = await receiver.waitForTrace(traceId, (trace) => {
        const server = serverSpanOf(trace);
        return server !== undefined && sqlSpansOf(trace).length > 0;
      });
      const server = serverSpanOf(spans);
      expect(server?.parentSpanId).toBe(parentSpanId);
      expect(isConnected(spans, parentSpanId)).toBe(true);
      const exported = JSON.stringify(spans.map((span) => span.raw));
      expect(exported).not.toContain(cardNo);
      expect(exported).not.toContain(cardNo.slice(0, 12));
      for (const span of spans) {
        for (const value of Object.values(span.attributes)) {
          expect(String(value)).not.toMatch(new RegExp(`\\b${cvv}\\b`));
        }
      }
    }
    const createSpans = receiver.spans.filter((span) => span.traceId === create.traceId);
    expect(createSpans.map((span) => span.name)).toContain("cards.create");
    const createServer = serverSpanOf(createSpans);
    expect(createServer?.name).toBe("POST /v1/cards");
    expect(createServer?.attributes["app.request_id"]).toBe(createRequestId);
    // The idempotency statements are traced too, still without their values.
    const idempotencySql = sqlSpansOf(createSpans).filter((span) =>
      String(span.attributes["db.query.text"]).includes("idempotency_keys"),
    );
    expect(idempotencySql.length).toBeGreaterThan(0);

    for (const requestId of [createRequestId, revealRequestId]) {
      const lines = await logLinesOf(requestId);
      const text = JSON.stringify(lines);
      expect(text).not.toContain(cardNo);
      expect(text).not.toMatch(new RegExp(`\\b${cvv}\\b`));
    }
  });
});
