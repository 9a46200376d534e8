import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import {
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
    return inSpan(
      telemetry.tracer,
      method,
      { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_URL_FULL]: String(url) },
      async () => {
        const response = await call();
        trace.getActiveSpan()?.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, response.status);
        return response;
      },
      SpanKind.CLIENT,
    );
  };
}

export type OutgoingFetch = ReturnType<typeof createOutgoingFetch>;
