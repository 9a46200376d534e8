import type { Span } from "@opentelemetry/api";

/** What the platform knows about one request while it is served. */
export interface RequestContext {
  id: string;
  startedAt: number;
  /** A loggable id of the API key that authenticated the request; never the key itself. */
  apiKeyId?: string;
  /** The SERVER span, when tracing is on. */
  span?: Span;
}

const contexts = new WeakMap<Request, RequestContext>();

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's X-Request-Id when it is 1-128 chars of [A-Za-z0-9._:-], otherwise a new UUID. */
export function requestIdFrom(header: string | null): string {
  return header !== null && CLIENT_REQUEST_ID.test(header) ? header : crypto.randomUUID();
}

export function beginRequest(request: Request): RequestContext {
  const context = { id: requestIdFrom(request.headers.get("x-request-id")), startedAt: performance.now() };
  contexts.set(request, context);
  return context;
}

/** The request's context; a request the platform never saw (it cannot happen in practice) gets a fresh one. */
export const contextOf = (request: Request): RequestContext => contexts.get(request) ?? beginRequest(request);
