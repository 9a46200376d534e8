import type { Span } from "@opentelemetry/api";
import type { Caller } from "./auth.ts";

/** What the platform knows about one request while it is served. */
export interface RequestContext {
  id: string;
  startedAt: number;
  /**
   * The request target, parsed once from a well-formed Host header and the path; undefined when the
   * two do not make a URL (no Host, an empty one, or one with characters a host cannot have).
   */
  url: URL | undefined;
  /** A loggable id of the API key that authenticated the request; never the key itself. */
  apiKeyId?: string;
  /** Set once the request has passed authentication and rate limiting (see `apiAccess`). */
  caller?: Caller;
  /** The SERVER span, when tracing is on. */
  span?: Span;
}

const contexts = new WeakMap<Request, RequestContext>();

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A host name or IPv4 address, or a bracketed IPv6 literal, and an optional port (RFC 9110 §7.2). */
const HOST_HEADER = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The client's X-Request-Id when it is 1-128 chars of [A-Za-z0-9._:-], otherwise a new UUID. */
export function requestIdFrom(header: string | null): string {
  return header !== null && CLIENT_REQUEST_ID.test(header) ? header : crypto.randomUUID();
}

/**
 * The request's URL, or undefined when its Host header is malformed or the target does not make an
 * absolute URL (HTTP/1.0 without Host). A Host such as `a/xx` would otherwise move part of the path
 * into the "host" and make the URL disagree with the route.
 */
function requestTarget(request: Request): URL | undefined {
  const host = request.headers.get("host");
  if (host !== null && !HOST_HEADER.test(host)) return undefined;
  const url = URL.parse(request.url);
  return url === null || url.host === "" ? undefined : url;
}

export function beginRequest(request: Request): RequestContext {
  const context: RequestContext = {
    id: requestIdFrom(request.headers.get("x-request-id")),
    startedAt: performance.now(),
    url: requestTarget(request),
  };
  contexts.set(request, context);
  return context;
}

/** The request's context; a request the platform never saw (it cannot happen in practice) gets a fresh one. */
export const contextOf = (request: Request): RequestContext => contexts.get(request) ?? beginRequest(request);

/** The caller of an admitted `/v1` request: its key's id, scopes and reach. */
export function callerOf(request: Request): Caller {
  const caller = contextOf(request).caller;
  // Every /v1 route runs behind apiAccess, which sets the caller before any handler runs.
  if (caller === undefined) throw new Error("callerOf: the request was not admitted by apiAccess");
  return caller;
}
