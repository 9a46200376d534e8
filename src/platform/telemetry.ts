import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from "@opentelemetry/semantic-conventions";
import packageJson from "../../package.json" with { type: "json" };
import type { Logger } from "./logger.ts";
import type { RequestContext } from "./request-context.ts";

/** The baggage entry (and span attribute) that carries the request id across processes. */
export const REQUEST_ID_KEY = "app.request_id";

const REQUEST_CONTEXT = createContextKey("wallet-api request context");

export interface Telemetry {
  /** True when spans are recorded and exported; false means no span is ever created. */
  enabled: boolean;
  tracer: Tracer;
  shutdown(): Promise<void>;
}

let propagationReady = false;

const setOrUndefined = (value: string | undefined) => (value?.trim() ? value : undefined);

/**
 * Context and W3C propagation (traceparent, baggage) always work, so an incoming trace id and the
 * request id travel on through outgoing calls and logs. Spans are recorded only when an OTLP endpoint
 * is configured by the standard OTEL_* variables; otherwise tracing costs nothing.
 */
export async function startTelemetry(
  env: Record<string, string | undefined>,
  logger: Logger,
): Promise<Telemetry> {
  // The specification reads an empty variable as unset: an empty traces endpoint falls back to the
  // general one.
  const endpoint =
    setOrUndefined(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ?? setOrUndefined(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const off =
    env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true" ||
    env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === "none";
  if (!endpoint || off) {
    if (!propagationReady) {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      propagation.setGlobalPropagator(
        new CompositePropagator({
          propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
        }),
      );
      propagationReady = true;
    }
    return { enabled: false, tracer: trace.getTracer("wallet-api"), shutdown: async () => {} };
  }
  // The SDK reads the exporter, protocol, sampler and resource from OTEL_*; it also installs the same
  // AsyncLocalStorage context manager and W3C propagators. The resource given here is the base the
  // SDK merges OTEL_RESOURCE_ATTRIBUTES and then OTEL_SERVICE_NAME over, so "wallet-api" is only the
  // default, in the order of precedence the specification gives. The SDK is loaded only here: loading
  // it takes a good part of start-up, for a service that mostly runs without tracing.
  const [{ NodeSDK }, { defaultResource, resourceFromAttributes }] = await Promise.all([
    import("@opentelemetry/sdk-node"),
    import("@opentelemetry/resources"),
  ]);
  const sdk = new NodeSDK({
    resource: defaultResource().merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: "wallet-api",
        [ATTR_SERVICE_VERSION]: packageJson.version,
      }),
    ),
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  propagationReady = true;
  logger.info({ endpoint }, "tracing: exporting spans over OTLP");
  return {
    enabled: true,
    tracer: trace.getTracer("wallet-api", packageJson.version),
    shutdown: () => sdk.shutdown(),
  };
}

const headerGetter = {
  keys: (headers: Headers) => {
    const keys: string[] = [];
    headers.forEach((_, key) => {
      keys.push(key);
    });
    return keys;
  },
  get: (headers: Headers, key: string) => headers.get(key) ?? undefined,
};

/**
 * The context a request runs in: the caller's trace (from traceparent) and baggage, plus the request id
 * as baggage and the request's own context. With tracing on, a SERVER span named by the method is
 * started here and named by its route template when the response is known (`endServerSpan`).
 */
export function requestTraceContext(
  request: Request,
  requestContext: RequestContext,
  telemetry: Telemetry,
): Context {
  let active = propagation.extract(ROOT_CONTEXT, request.headers, headerGetter);
  const baggage = (propagation.getBaggage(active) ?? propagation.createBaggage()).setEntry(REQUEST_ID_KEY, {
    value: requestContext.id,
  });
  active = propagation.setBaggage(active, baggage).setValue(REQUEST_CONTEXT, requestContext);
  if (!telemetry.enabled) return active;
  const attributes: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: request.method,
    [REQUEST_ID_KEY]: requestContext.id,
  };
  // A request without a usable Host has no URL; it is refused with 400 before any route runs.
  const url = requestContext.url;
  if (url !== undefined) {
    attributes[ATTR_URL_PATH] = url.pathname;
    attributes[ATTR_URL_SCHEME] = url.protocol.replace(":", "");
  }
  const userAgent = request.headers.get("user-agent");
  if (userAgent !== null) attributes[ATTR_USER_AGENT_ORIGINAL] = userAgent;
  const span = telemetry.tracer.startSpan(request.method, { kind: SpanKind.SERVER, attributes }, active);
  requestContext.span = span;
  return trace.setSpan(active, span);
}

/** Names the server span by its route template and closes it with the response status. */
export function endServerSpan(
  requestContext: RequestContext,
  method: string,
  route: string | undefined,
  status: number,
) {
  const span = requestContext.span;
  if (span === undefined) return;
  if (route) {
    span.updateName(`${method} ${route}`);
    span.setAttribute(ATTR_HTTP_ROUTE, route);
  }
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  if (status >= 500) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.setAttribute(ATTR_ERROR_TYPE, String(status));
  }
  span.end();
}

/** The context of the request being served, wherever in its async chain this is called from. */
export function currentRequest(): RequestContext | undefined {
  return context.active().getValue(REQUEST_CONTEXT) as RequestContext | undefined;
}

/** Ids that tie a log line to its trace: the active span's, when there is a trace. */
export function currentTraceIds(): { traceId: string; spanId: string } | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (spanContext === undefined || !trace.isSpanContextValid(spanContext)) return undefined;
  return { traceId: spanContext.traceId, spanId: spanContext.spanId };
}

/** Runs `work` in a child span that ends (with the error recorded, if any) when it settles. */
export function inSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  return tracer.startActiveSpan(name, { kind, attributes }, async (span: Span) => {
    try {
      return await work();
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Span name and attributes per statement text; the service runs a fixed set of statements. */
const sqlSpans = new Map<string, { name: string; attributes: Attributes }>();

/** Attributes of a SQL span: the statement text with its $n placeholders, never the values. */
export function sqlSpanAttributes(text: string): { name: string; attributes: Attributes } {
  let span = sqlSpans.get(text);
  if (span === undefined) {
    const statement = text.replace(/\s+/g, " ").trim();
    const operation = statement.split(" ", 1)[0]?.toUpperCase() ?? "SQL";
    span = {
      name: operation,
      attributes: {
        [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL,
        [ATTR_DB_OPERATION_NAME]: operation,
        [ATTR_DB_QUERY_TEXT]: statement,
      },
    };
    sqlSpans.set(text, span);
  }
  return span;
}

/**
 * `service` with a span around each of its methods (`wallets.create`, …). Used only with tracing on,
 * so services themselves stay free of tracing code.
 */
export function traceService<Service extends object>(
  tracer: Tracer,
  name: string,
  service: Service,
): Service {
  return new Proxy(service, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || typeof property !== "string") return value;
      return (...args: unknown[]) =>
        inSpan(tracer, `${name}.${property}`, {}, async () => value.apply(target, args));
    },
  });
}

/**
 * The W3C `traceparent` naming the request being served: its SERVER span when tracing is on, else the
 * caller's span it arrived with; undefined outside a traced request. Stored with what the request
 * causes later (an event), so that work can continue the request's trace.
 */
export function currentTraceparent(): string | undefined {
  const span = currentRequest()?.span;
  const active = span === undefined ? context.active() : trace.setSpan(context.active(), span);
  const carrier: Record<string, string> = {};
  propagation.inject(active, carrier);
  return carrier.traceparent;
}

/**
 * Runs `work` in the trace of an earlier request (its stored `traceparent`, which becomes the parent
 * of the spans `work` starts) with that request's id as baggage, as if still inside it.
 */
export function inTraceOf<T>(traceparent: string | null, requestId: string | null, work: () => T): T {
  let active = propagation.extract(ROOT_CONTEXT, traceparent === null ? {} : { traceparent });
  if (requestId !== null) {
    const baggage = propagation.createBaggage({ [REQUEST_ID_KEY]: { value: requestId } });
    active = propagation.setBaggage(active, baggage);
  }
  return context.with(active, work);
}
