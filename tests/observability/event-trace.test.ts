/**
 * One trace across services: a card spend's request, the authorization hook it calls and the webhook
 * deliveries of the events it made are one trace (the deliveries' spans children of the request's
 * server span), and each call out carries the request's id.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Running, startServiceProcess } from "../helpers/process.ts";
import { type Receiver, startReceiver } from "../helpers/receiver.ts";
import { createScratchDatabase, uniqueEmail } from "../helpers/server.ts";
import { randomCardKey } from "../helpers/values.ts";
import { newTraceparent, type OtlpReceiver, SpanKindCode, startOtlpReceiver } from "./otlp-receiver.ts";

const HOOK_TIMEOUT_MS = 60_000;
const ADMIN_KEY = "event-trace-admin-key-0123456789";

let otlp: OtlpReceiver;
let hook: Receiver;
let webhooks: Receiver;
let service: Running;
let dropScratch: (() => Promise<void>) | undefined;

beforeAll(async () => {
  otlp = startOtlpReceiver();
  hook = startReceiver();
  webhooks = startReceiver();
  hook.respondWith(() => Response.json({ approved: true }));
  const serverUrl = process.env.DATABASE_URL;
  const scratch = serverUrl ? await createScratchDatabase(serverUrl) : undefined;
  dropScratch = scratch?.drop;
  service = await startServiceProcess({
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_BSP_SCHEDULE_DELAY: "100",
    DATA_DIR: "memory://",
    ADMIN_API_KEY: ADMIN_KEY,
    CARD_ENCRYPTION_KEY: randomCardKey(),
    WEBHOOK_ALLOW_PRIVATE_TARGETS: "true",
    ...(scratch ? { DATABASE_URL: scratch.url, DB_POOL_MAX: "4" } : {}),
  });
}, HOOK_TIMEOUT_MS);

afterAll(async () => {
  service?.process.kill();
  await service?.process.exited;
  await Promise.all([otlp?.stop(), hook?.stop(), webhooks?.stop()]);
  await dropScratch?.();
}, HOOK_TIMEOUT_MS);

async function call(method: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${service.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  expect(response.status).toBeLessThan(300);
  return (await response.json()) as { id: string };
}

const traceIdOf = (traceparent: string | undefined) => /^00-([0-9a-f]{32})-/.exec(traceparent ?? "")?.[1];

describe("a spend's trace across service, hook and webhook receiver", () => {
  test("one trace id and one request id from the API request through the hook call to the webhook deliveries", async () => {
    const user = await call("POST", "/v1/users", { email: uniqueEmail(), name: "Tracy" });
    const wallet = await call("POST", "/v1/wallets", { userId: user.id });
    await call("POST", `/v1/wallets/${wallet.id}/topups`, { amount: 10_000 });
    const card = await call("POST", "/v1/cards", { walletId: wallet.id });
    await call("POST", "/v1/webhook-endpoints", {
      url: `${webhooks.url}/events`,
      eventTypes: ["authorization.created", "authorization.updated"],
    });
    await call("PUT", "/v1/authorization-hook", { url: `${hook.url}/authorize`, onTimeout: "decline" });

    const { traceId, traceparent } = newTraceparent();
    const requestId = `trace-${crypto.randomUUID().slice(0, 8)}`;
    const authorization = await call(
      "POST",
      `/v1/cards/${card.id}/authorizations`,
      { amount: 1_000, merchant: { name: "Traced Shop" } },
      { traceparent, "x-request-id": requestId },
    );

    const [hookCall] = hook.received.filter((request) => request.headers["webhook-id"] === authorization.id);
    expect(traceIdOf(hookCall?.headers.traceparent)).toBe(traceId);
    expect(hookCall?.headers["x-request-id"]).toBe(requestId);

    const deliveries = await webhooks.waitFor(
      (all) => all.filter((request) => request.body.includes(authorization.id)).length >= 2,
    );
    for (const delivery of deliveries.filter((request) => request.body.includes(authorization.id))) {
      expect(traceIdOf(delivery.headers.traceparent)).toBe(traceId);
      expect(delivery.headers["x-request-id"]).toBe(requestId);
      expect((JSON.parse(delivery.body) as { requestId: string }).requestId).toBe(requestId);
    }

    const spans = await otlp.waitForTrace(
      traceId,
      (trace) => trace.filter((span) => span.kind === SpanKindCode.PRODUCER).length >= 2,
    );
    const server = spans.find((span) => span.kind === SpanKindCode.SERVER);
    expect(server?.name).toBe("POST /v1/cards/:id/authorizations");
    expect(server?.attributes["app.request_id"]).toBe(requestId);
    const hookSpan = spans.find(
      (span) => span.kind === SpanKindCode.CLIENT && span.attributes["url.full"] === `${hook.url}/authorize`,
    );
    expect(hookSpan?.attributes["http.response.status_code"]).toBe(200);
    const producers = spans.filter((span) => span.kind === SpanKindCode.PRODUCER);
    expect(producers.map((span) => span.name).toSorted()).toEqual([
      "webhook authorization.created",
      "webhook authorization.updated",
    ]);
    for (const producer of producers) {
      // A child of the request's server span, carrying its request id.
      expect(producer.parentSpanId).toBe(String(server?.spanId));
      expect(producer.attributes["app.request_id"]).toBe(requestId);
      const send = spans.find(
        (span) => span.kind === SpanKindCode.CLIENT && span.parentSpanId === producer.spanId,
      );
      expect(send?.attributes["url.full"]).toBe(`${webhooks.url}/events`);
    }
  });
});
