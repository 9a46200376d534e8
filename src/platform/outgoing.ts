import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_URL_FULL,
} from "@opentelemetry/semantic-conventions";
import { currentRequest, inSpan, type Telemetry } from "./telemetry.ts";

export interface OutgoingInit extends RequestInit {
  /** Milliseconds before the call is aborted; default 10 s. */
  timeoutMs?: number;
}

const headerSetter = {
  set: (headers: Headers, key: string, value: string) => headers.set(key, value),
};

/**
 * Every outgoing HTTP call goes through here. It carries the current trace (`traceparent`), the
 * baggage with the request id, and `X-Request-Id`, so the callee's logs and spans join this request's;
 * it always has a timeout; with tracing on, the call is a CLIENT span.
 */
export function createOutgoingFetch(telemetry: Telemetry) {
  return async function outgoingFetch(url: string | URL, init: OutgoingInit = {}): Promise<Response> {
    const { timeoutMs = 10_000, ...requestInit } = init;
    const method = requestInit.method ?? "GET";
    const call = () => {
      const headers = new Headers(requestInit.headers);
      propagation.inject(context.active(), headers, headerSetter);
      const request = currentRequest();
      if (request !== undefined) headers.set("x-request-id", request.id);
      return fetch(url, { ...requestInit, headers, signal: AbortSignal.timeout(timeoutMs) });
    };
    if (!telemetry.enabled) return call();
    // No query string or credentials in the span: they may carry secrets.
    const target = new URL(url);
    return inSpan(
      telemetry.tracer,
      method,
      { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_URL_FULL]: `${target.origin}${target.pathname}` },
      async () => {
        const response = await call();
        const span = trace.getActiveSpan();
        span?.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, response.status);
        // For a client, any 4xx or 5xx answer is a failed call.
        if (response.status >= 400) {
          span?.setStatus({ code: SpanStatusCode.ERROR });
          span?.setAttribute(ATTR_ERROR_TYPE, String(response.status));
        }
        return response;
      },
      SpanKind.CLIENT,
    );
  };
}

export type OutgoingFetch = ReturnType<typeof createOutgoingFetch>;
