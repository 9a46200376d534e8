/**
 * A minimal OTLP/HTTP trace receiver for tests: it accepts `POST /v1/traces` in the JSON encoding
 * (OTEL_EXPORTER_OTLP_PROTOCOL=http/json) and keeps every span it is sent, flattened.
 */
/** OTLP span kinds, as numbers on the wire. */
export const SpanKindCode = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4 } as const;

export type AttributeValue = string | number | boolean;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Undefined for a root span. */
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  attributes: Record<string, AttributeValue>;
  /** The status code (0 unset, 1 ok, 2 error). */
  statusCode: number;
  /** `service.name` of the resource that sent it. */
  serviceName: string | undefined;
  /** The span as it arrived, to check that nothing in it (events included) leaks a secret. */
  raw: unknown;
}

interface OtlpAnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}

interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  attributes?: OtlpKeyValue[];
  status?: { code?: number };
}

interface ExportTraceServiceRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

function attributeMap(attributes: OtlpKeyValue[] | undefined): Record<string, AttributeValue> {
  const map: Record<string, AttributeValue> = {};
  for (const { key, value } of attributes ?? []) {
    if (value?.stringValue !== undefined) map[key] = value.stringValue;
    else if (value?.intValue !== undefined) map[key] = Number(value.intValue);
    else if (value?.doubleValue !== undefined) map[key] = value.doubleValue;
    else if (value?.boolValue !== undefined) map[key] = value.boolValue;
  }
  return map;
}

export interface OtlpReceiver {
  /** The value for OTEL_EXPORTER_OTLP_ENDPOINT. */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Export requests that were not JSON (a protocol mix-up would show here). */
  rejected: number;
  /** The spans of `traceId`, once `ready(spans)` holds; throws after `timeoutMs`. */
  waitForTrace(
    traceId: string,
    ready: (spans: ReceivedSpan[]) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedSpan[]>;
  stop(): Promise<void>;
}

export function startOtlpReceiver(): OtlpReceiver {
  const spans: ReceivedSpan[] = [];
  const receiver = {
    rejected: 0,
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      if (request.method !== "POST" || url.pathname !== "/v1/traces") {
        return new Response("not found", { status: 404 });
      }
      let bytes = new Uint8Array(await request.arrayBuffer());
      if (request.headers.get("content-encoding") === "gzip") bytes = Bun.gunzipSync(bytes);
      let body: ExportTraceServiceRequest;
      try {
        body = JSON.parse(new TextDecoder().decode(bytes)) as ExportTraceServiceRequest;
      } catch {
        receiver.rejected++;
        return new Response("expected OTLP JSON", { status: 400 });
      }
      for (const resourceSpans of body.resourceSpans ?? []) {
        const serviceName = attributeMap(resourceSpans.resource?.attributes)["service.name"];
        for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
          for (const span of scopeSpans.spans ?? []) {
            spans.push({
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId ? span.parentSpanId : undefined,
              name: span.name,
              kind: span.kind ?? 0,
              attributes: attributeMap(span.attributes),
              statusCode: span.status?.code ?? 0,
              serviceName: typeof serviceName === "string" ? serviceName : undefined,
              raw: span,
            });
          }
        }
      }
      return Response.json({});
    },
  });
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    spans,
    get rejected() {
      return receiver.rejected;
    },
    async waitForTrace(traceId, ready, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const trace = spans.filter((span) => span.traceId === traceId);
        if (ready(trace)) return trace;
        if (Date.now() > deadline) {
          const names = trace.map((span) => span.name).join(", ");
          throw new Error(`trace ${traceId} incomplete after ${timeoutMs} ms; spans so far: [${names}]`);
        }
        await Bun.sleep(50);
      }
    },
    stop: () => server.stop(true),
  };
}

/** A fresh W3C trace id and parent span id, and the `traceparent` that carries them (sampled). */
export function newTraceparent(): { traceId: string; parentSpanId: string; traceparent: string } {
  const traceId = crypto.getRandomValues(new Uint8Array(16)).toHex();
  const parentSpanId = crypto.getRandomValues(new Uint8Array(8)).toHex();
  return { traceId, parentSpanId, traceparent: `00-${traceId}-${parentSpanId}-01` };
}

/** The JSON lines of a log stream (non-JSON lines, if any, are skipped). */
export function jsonLines(text: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line cut mid-write; the next read completes it.
    }
  }
  return lines;
}
