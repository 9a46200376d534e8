/**
 * A request that calls out through the outgoing fetch wrapper arrives downstream in the same trace,
 * with the request id both as baggage and as X-Request-Id, and the wrapper never waits forever.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Database } from "../../src/platform/db.ts";
import { openDatabase } from "../../src/platform/db.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createOutgoingFetch } from "../../src/platform/outgoing.ts";
import { startTelemetry, type Telemetry } from "../../src/platform/telemetry.ts";
import { type Running, startServiceProcess } from "../helpers/process.ts";
import { createCallingApp } from "./calling-app.ts";
import {
  jsonLines,
  newTraceparent,
  type OtlpReceiver,
  SpanKindCode,
  startOtlpReceiver,
} from "./otlp-receiver.ts";

const HOOK_TIMEOUT_MS = 60_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Received {
  method: string;
  path: string;
  headers: Record<string, string>;
}

/** A downstream service that records what arrives; `/hang` never answers. */
function startDownstream() {
  const received: Received[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    // Longer than any test waits: only the caller's timeout may end a hanging call.
    idleTimeout: 60,
    fetch(request) {
      const path = new URL(request.url).pathname;
      received.push({ method: request.method, path, headers: request.headers.toJSON() });
      if (path === "/hang") return new Promise<Response>(() => {});
      return Response.json({ ok: true });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, received, stop: () => server.stop(true) };
}

/** The entries of a W3C `baggage` header. */
function baggageEntries(header: string | undefined): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const member of (header ?? "").split(",")) {
    const [pair = ""] = member.split(";");
    const separator = pair.indexOf("=");
    if (separator <= 0) continue;
    entries[pair.slice(0, separator).trim()] = decodeURIComponent(pair.slice(separator + 1).trim());
  }
  return entries;
}

/** The trace id and parent span id of a `traceparent` header. */
function parseTraceparent(header: string | undefined): { traceId: string; parentSpanId: string } {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(header ?? "");
  if (match?.[1] === undefined || match[2] === undefined) throw new Error(`not a traceparent: ${header}`);
  return { traceId: match[1], parentSpanId: match[2] };
}

describe("outgoing calls, in process (tracing off: propagation only)", () => {
  let downstream: ReturnType<typeof startDownstream>;
  let db: Database;
  let telemetry: Telemetry;
  let baseUrl: string;
  let stopApp: () => Promise<void>;

  beforeAll(async () => {
    downstream = startDownstream();
    const logger = createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" });
    telemetry = await startTelemetry({}, logger);
    db = await openDatabase(
      { DATA_DIR: "memory://", DATABASE_URL: undefined, DB_POOL_MAX: 1, DB_QUERY_TIMEOUT: 5_000 },
      logger,
    );
    const app = await createCallingApp({ logger, db, telemetry, downstreamUrl: downstream.url });
    app.listen({ hostname: "127.0.0.1", port: 0 });
    baseUrl = `http://127.0.0.1:${app.server?.port}`;
    stopApp = async () => {
      await app.stop(true);
    };
  }, HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await stopApp?.();
    await db?.close();
    await downstream?.stop();
  }, HOOK_TIMEOUT_MS);

  test("tracing is off here, so what arrives downstream is exactly the caller's trace context", () => {
    expect(telemetry.enabled).toBe(false);
  });

  test("downstream gets the same traceparent, baggage with the request id (and the caller's), and X-Request-Id", async () => {
    const { traceId, parentSpanId, traceparent } = newTraceparent();
    const requestId = `obs-out-${crypto.randomUUID().slice(0, 8)}`;
    const response = await fetch(`${baseUrl}/call-out`, {
      headers: { traceparent, "x-request-id": requestId, baggage: "tenant=acme" },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ downstreamStatus: 200 });
    expect(response.headers.get("x-request-id")).toBe(requestId);

    const arrived = downstream.received.filter((call) => call.headers["x-request-id"] === requestId);
    expect(arrived).toHaveLength(1);
    const [call] = arrived;
    expect(call?.method).toBe("POST");
    expect(call?.path).toBe("/downstream");
    // No span of our own: the caller's span is the parent downstream sees.
    expect(parseTraceparent(call?.headers.traceparent)).toEqual({ traceId, parentSpanId });
    expect(baggageEntries(call?.headers.baggage)).toEqual({ tenant: "acme", "app.request_id": requestId });
    // The call's own headers are kept.
    expect(call?.headers["content-type"]).toBe("application/json");
  });

  test("a request that brings no ids: the generated request id travels downstream, no trace is made up", async () => {
    const response = await fetch(`${baseUrl}/call-out`);
    expect(response.status).toBe(200);
    const requestId = response.headers.get("x-request-id");
    expect(requestId).toMatch(UUID);
    const call = downstream.received.find((candidate) => candidate.headers["x-request-id"] === requestId);
    if (call === undefined) throw new Error(`downstream never saw request ${requestId}`);
    expect(call.headers.traceparent).toBeUndefined();
    expect(baggageEntries(call.headers.baggage)).toEqual({ "app.request_id": String(requestId) });
  });

  test("a baggage value that needs escaping arrives intact", async () => {
    const requestId = "obs:weird.id_1-2";
    await fetch(`${baseUrl}/call-out`, { headers: { "x-request-id": requestId } });
    const call = downstream.received.find((candidate) => candidate.headers["x-request-id"] === requestId);
    expect(baggageEntries(call?.headers.baggage)["app.request_id"]).toBe(requestId);
  });

  test("outside any request the wrapper adds no request id", async () => {
    const before = downstream.received.length;
    const response = await createOutgoingFetch(telemetry)(`${downstream.url}/plain`);
    expect(response.status).toBe(200);
    const call = downstream.received[before];
    expect(call?.path).toBe("/plain");
    expect(call?.headers["x-request-id"]).toBeUndefined();
    expect(call?.headers.traceparent).toBeUndefined();
    expect(call?.headers.baggage).toBeUndefined();
  });

  test("a downstream that never answers is aborted after timeoutMs", async () => {
    const outgoingFetch = createOutgoingFetch(telemetry);
    const started = performance.now();
    const error = await outgoingFetch(`${downstream.url}/hang`, { timeoutMs: 300 }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe("TimeoutError");
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3_000);
    expect(downstream.received.some((call) => call.path === "/hang")).toBe(true);
  });
});

describe("outgoing calls from a separate process with tracing on", () => {
  let downstream: ReturnType<typeof startDownstream>;
  let receiver: OtlpReceiver;
  let caller: Running;

  beforeAll(async () => {
    downstream = startDownstream();
    receiver = startOtlpReceiver();
    caller = await startServiceProcess(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_BSP_SCHEDULE_DELAY: "100",
        DOWNSTREAM_URL: downstream.url,
      },
      30_000,
      "tests/observability/calling-app.ts",
    );
  }, HOOK_TIMEOUT_MS);

  afterAll(async () => {
    caller?.process.kill();
    await caller?.process.exited;
    await receiver?.stop();
    await downstream?.stop();
  }, HOOK_TIMEOUT_MS);

  test("downstream's parent is the exported CLIENT span, a child of the server span, all in the caller's trace", async () => {
    const { traceId, parentSpanId, traceparent } = newTraceparent();
    const requestId = `obs-client-${crypto.randomUUID().slice(0, 8)}`;
    const response = await fetch(`${caller.baseUrl}/call-out`, {
      headers: { traceparent, "x-request-id": requestId },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toBe(requestId);

    const call = downstream.received.find((candidate) => candidate.headers["x-request-id"] === requestId);
    if (call === undefined) throw new Error(`downstream never saw request ${requestId}`);
    const downstreamParent = parseTraceparent(call.headers.traceparent);
    expect(downstreamParent.traceId).toBe(traceId);
    expect(baggageEntries(call.headers.baggage)).toEqual({ "app.request_id": requestId });

    const spans = await receiver.waitForTrace(
      traceId,
      (trace) =>
        trace.some((span) => span.kind === SpanKindCode.SERVER) &&
        trace.some((span) => span.kind === SpanKindCode.CLIENT),
    );
    const server = spans.find((span) => span.kind === SpanKindCode.SERVER);
    const client = spans.find((span) => span.kind === SpanKindCode.CLIENT);
    expect(server?.name).toBe("GET /call-out");
    expect(server?.parentSpanId).toBe(parentSpanId);
    expect(server?.attributes["app.request_id"]).toBe(requestId);
    expect(client?.name).toBe("POST");
    expect(client?.parentSpanId).toBe(server?.spanId);
    expect(client?.attributes).toMatchObject({
      "http.request.method": "POST",
      "url.full": `${downstream.url}/downstream`,
      "http.response.status_code": 200,
    });
    // The downstream service's spans would hang off the CLIENT span.
    expect(downstreamParent.parentSpanId).toBe(String(client?.spanId));

    // The log line written inside the handler names the same trace and request.
    const line = jsonLines(caller.stdout()).find(
      (candidate) => candidate.msg === "calling downstream" && candidate.requestId === requestId,
    );
    expect(line?.traceId).toBe(traceId);
    expect(line?.spanId).toBe(String(server?.spanId));
  });

  test("a failed outgoing call is a CLIENT span with error status, and the request still ends its server span", async () => {
    // Stop answering: the downstream test double is gone, so the call fails to connect.
    const { traceId, traceparent } = newTraceparent();
    await downstream.stop();
    const response = await fetch(`${caller.baseUrl}/call-out`, { headers: { traceparent } });
    expect(response.status).toBe(500);
    const spans = await receiver.waitForTrace(
      traceId,
      (trace) =>
        trace.some((span) => span.kind === SpanKindCode.SERVER) &&
        trace.some((span) => span.kind === SpanKindCode.CLIENT),
    );
    const server = spans.find((span) => span.kind === SpanKindCode.SERVER);
    const client = spans.find((span) => span.kind === SpanKindCode.CLIENT);
    expect(client?.statusCode).toBe(2);
    expect(server?.statusCode).toBe(2);
    expect(server?.attributes["http.response.status_code"]).toBe(500);
    expect(server?.attributes["error.type"]).toBe("500");
  });
});
