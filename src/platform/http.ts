import { context as otelContext } from "@opentelemetry/api";
import type { Server } from "bun";
import { type Context, Elysia, ValidationError } from "elysia";
import type { ReachGuard, RouteAccessRules } from "./access.ts";
import type { Authenticator } from "./auth.ts";
import { ApiError, badRequest, type FieldError, problemBody } from "./errors.ts";
import { ReplayedResponse } from "./idempotency.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { checkReadAfter } from "./read-routing.ts";
import { beginRequest, callerOf, contextOf } from "./request-context.ts";
import { DECIMAL_QUERY_PARAMETERS, ERROR_CODE_KEYWORD } from "./schemas.ts";
import { endServerSpan, requestTraceContext, type Telemetry } from "./telemetry.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

/** No request of this API nests deeper than a few levels; validating pathological depth could exhaust the stack. */
const MAX_JSON_DEPTH = 32;

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

interface HttpPlatformDeps {
  logger: Logger;
  metrics: Metrics;
  telemetry: Telemetry;
  /** The app's routes, to tell an unknown path (404) from a known one asked with another method (405). */
  routeMethods: RouteMethods;
}

interface ApiAccessDeps {
  authenticator: Authenticator;
  /** What each route requires of the key: its scope, and the resources that must be in reach. */
  accessRules: RouteAccessRules;
  reachGuard: ReachGuard;
  rateLimiter: RateLimiter;
  /** Milliseconds a client may take to send a whole request body. */
  bodyTimeoutMs: number;
}

interface SchemaLike {
  [ERROR_CODE_KEYWORD]?: unknown;
  description?: unknown;
  title?: unknown;
}

interface ValueErrorLike {
  path: string;
  message: string;
  schema: SchemaLike;
  value: unknown;
}

/** Turns Elysia's validation error into field errors and, where the schema names one, a specific code. */
function fromValidation(error: ValidationError): ApiError {
  // A coerced query number out of range comes as a lone "property" error; its schema's title names it.
  const location = error.type === "property" ? "query" : error.type;
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  const codes = new Set<string>();
  for (const issue of error.all as ValueErrorLike[]) {
    const named =
      issue.path === "" && typeof issue.schema.title === "string" ? `/${issue.schema.title}` : issue.path;
    const pointer = named.split("/").filter(Boolean).join(".");
    const path = pointer ? `${location}.${pointer}` : location;
    const described = typeof issue.schema.description === "string" ? issue.schema.description : undefined;
    const message =
      issue.message === "Expected union value" && described ? `Expected ${described}` : issue.message;
    // One message per field: TypeBox reports a missing property twice (required, and its type).
    if (seen.has(path)) continue;
    seen.add(path);
    errors.push({ path, message });
    // A missing field is not a malformed one: its schema's code (invalid_id, …) would mislead.
    const code = issue.value === undefined ? undefined : issue.schema[ERROR_CODE_KEYWORD];
    codes.add(typeof code === "string" ? code : "validation_failed");
  }
  const [only] = codes;
  const code = codes.size === 1 && only !== undefined ? only : "validation_failed";
  const summary = errors.map((e) => `${e.path}: ${e.message}`).join("; ");
  return new ApiError(400, code, `The request is invalid: ${summary}.`, errors);
}

/** Every failure a client can see, as an ApiError; unknown errors become an opaque 500. */
function toApiError(code: string | number, error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ValidationError) return fromValidation(error);
  switch (code) {
    case "PARSE":
      // readJsonBody's own refusals (413) arrive wrapped in Elysia's parse error.
      if (error instanceof Error && error.cause instanceof ApiError) return error.cause;
      return new ApiError(400, "malformed_json", "The request body must be well-formed JSON in UTF-8.");
    case "NOT_FOUND":
      return new ApiError(404, "route_not_found", "No such route.");
    default:
      return new ApiError(500, "internal_error", "Something went wrong on our side; it has been logged.");
  }
}

/**
 * Elysia reads query numbers with Number(), which also takes "0x10" and "1e1": paging numbers are
 * written in decimal digits or refused. A parameter given twice is refused too: validation would see
 * one of its values and the handler maybe another.
 */
function checkQueryParameters(query: URLSearchParams): void {
  const seen = new Set<string>();
  for (const name of query.keys()) {
    if (seen.has(name)) throw invalidQuery(name, "Expected at most one value");
    seen.add(name);
  }
  for (const name of DECIMAL_QUERY_PARAMETERS) {
    const value = query.get(name);
    if (value !== null && !/^\d{1,15}$/.test(value)) {
      throw invalidQuery(name, "Expected an integer written in decimal digits");
    }
  }
}

const invalidQuery = (name: string, message: string) =>
  badRequest("validation_failed", `The request is invalid: query.${name}: ${message}.`, [
    { path: `query.${name}`, message },
  ]);

const malformedRequest = () =>
  badRequest(
    "malformed_request",
    "The request needs a Host header of a host name or address (and optional port), and a path in normal form.",
  );

/** Which methods each route's path has: a path the app knows under other methods is 405, not 404. */
export class RouteMethods {
  private routes: { pattern: RegExp; method: string }[] = [];

  /** Takes the app's routes once they are all declared (`/v1/users/:id` matches any one segment). */
  load(routes: readonly { method: string; path: string }[]): void {
    this.routes = routes.map(({ method, path }) => ({
      method,
      pattern: new RegExp(
        `^${path
          .split("/")
          .map((segment) =>
            segment.startsWith(":") ? "[^/]+" : segment.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&"),
          )
          .join("/")}$`,
      ),
    }));
  }

  /** The methods `path` has, in a stable order; none when no route has this path. */
  of(path: string): string[] {
    const methods = new Set(
      this.routes.filter((route) => route.pattern.test(path)).map((route) => route.method),
    );
    return [...methods].sort();
  }
}

const methodNotAllowed = (method: string, allowed: string[]) =>
  new ApiError(
    405,
    "method_not_allowed",
    `${method} is not a method of this path; it has ${allowed.join(", ")}.`,
    undefined,
    { allow: allowed.join(", ") },
  );

const payloadTooLarge = () =>
  new ApiError(413, "payload_too_large", `The request body exceeds ${MAX_BODY_BYTES} bytes.`);

/**
 * Every request body is JSON, whatever its Content-Type says, at most 1 MiB however it is sent
 * (Content-Length or chunked), and sent whole within `timeoutMs`. An empty body is an empty object:
 * a POST with nothing to say needs none.
 */
async function readJsonBody(request: Request, timeoutMs: number): Promise<unknown> {
  const bytes = await readAtMost(request, MAX_BODY_BYTES, timeoutMs);
  const text = utf8.decode(bytes);
  if (text.trim() === "") return {};
  if (nestingDepth(text) > MAX_JSON_DEPTH) {
    throw new ApiError(400, "malformed_json", `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`);
  }
  // Only a number with a fraction or an exponent needs exactNumbers, and its text has a digit then
  // ".", "e" or "E": without one the reviver (a call per value) has nothing to check.
  return FRACTION_OR_EXPONENT.test(text)
    ? JSON.parse(text, exactNumbers as (key: string, value: unknown) => unknown)
    : JSON.parse(text);
}

/** Stateless when each call decodes a whole body, so one serves every request. */
const utf8 = new TextDecoder("utf-8", { fatal: true });

const FRACTION_OR_EXPONENT = /\d[.eE]/;

/**
 * JSON.parse rounds `0.99999999999999999` to the integer 1, and validation would then take it as one.
 * A number written with a fraction or exponent that parsed to an integer must denote exactly that
 * integer. (Integers written without either are exact up to 2^53, beyond every maximum of the API.)
 */
function exactNumbers(_key: string, value: unknown, context: { source?: string }): unknown {
  const source = context.source;
  if (typeof value === "number" && Number.isInteger(value) && source !== undefined && /[.eE]/.test(source)) {
    if (!denotesInteger(source, value)) {
      throw new ApiError(
        400,
        "inexact_number",
        `The number ${source.slice(0, 64)} is not exactly an integer; amounts and limits are whole minor units.`,
      );
    }
  }
  return value;
}

/** True when the JSON number text `source` is exactly `integer` (e.g. "1.0" or "1e2", never "0.999…9"). */
function denotesInteger(source: string, integer: number): boolean {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(source);
  if (match === null) return false;
  const [, sign = "", whole = "", fraction = "", exponentText = "0"] = match;
  const exponent = Number(exponentText);
  // An exponent this large could not give an integer a payment API takes; it is not worth expanding.
  if (Math.abs(exponent) > 400) return false;
  const digits = `${whole}${fraction}`;
  const scale = fraction.length - exponent;
  if (scale > 0) {
    // The last `scale` digits are after the decimal point: they must all be zero.
    if (!/^0*$/.test(digits.slice(Math.max(0, digits.length - scale)))) return false;
    const kept = digits.slice(0, Math.max(0, digits.length - scale)) || "0";
    return BigInt(`${sign}${kept}`) === BigInt(integer);
  }
  return BigInt(`${sign}${digits}${"0".repeat(-scale)}`) === BigInt(integer);
}

const requestTimeout = () =>
  new ApiError(408, "request_timeout", "The request body was not received in time.", undefined, {
    connection: "close",
  });

/**
 * The body's bytes, refusing with 413 as soon as it grows past `limit`, before it is all read, and
 * with 408 when it has not all arrived within `timeoutMs`: a client dripping bytes holds no
 * connection for ever.
 */
async function readAtMost(request: Request, limit: number, timeoutMs: number): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"expired">((resolve) => {
    timer = setTimeout(() => resolve("expired"), timeoutMs);
  });
  // A body sent with a Content-Length of at most `limit` (and not chunked) cannot grow past it: read
  // it whole, natively, rather than chunk by chunk through a stream reader, which costs several times more.
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared <= limit && !request.headers.has("transfer-encoding")) {
    const whole = request.arrayBuffer();
    // Once the time is up the connection is closed, and the read fails: nobody waits for it any more.
    whole.catch(() => undefined);
    try {
      const read = await Promise.race([whole, expired]);
      if (read === "expired") throw requestTimeout();
      return new Uint8Array(read);
    } finally {
      clearTimeout(timer);
    }
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const chunk = await Promise.race([reader.read(), expired]);
      if (chunk === "expired") {
        await reader.cancel();
        throw requestTimeout();
      }
      if (chunk.done) break;
      size += chunk.value.byteLength;
      if (size > limit) {
        await reader.cancel();
        throw payloadTooLarge();
      }
      chunks.push(chunk.value);
    }
  } finally {
    clearTimeout(timer);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Deepest nesting of arrays and objects in JSON text (brackets inside strings do not count). */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === "{" || char === "[") deepest = Math.max(deepest, ++depth);
    else if (char === "}" || char === "]") depth--;
  }
  return deepest;
}

/**
 * The cross-cutting request pipeline: request id, security headers, a well-formed request target and
 * the body size on the way in; problem bodies, metrics and one access log line on the way out.
 * Authentication and rate limiting belong to the routes that need them (`apiAccess`, `publicAccess`).
 */
export function httpPlatform({ logger, metrics, telemetry, routeMethods }: HttpPlatformDeps) {
  return new Elysia({ name: "http-platform" })
    .wrap((handle, request) => {
      // The whole request, hooks included, runs in its trace context: logs and outgoing calls find it there.
      const active = requestTraceContext(request, beginRequest(request), telemetry);
      return (...args: unknown[]) => otelContext.with(active, () => handle(...args));
    })
    .onRequest(({ request, set }) => {
      const context = contextOf(request);
      Object.assign(set.headers, SECURITY_HEADERS, { "x-request-id": context.id });
      if (context.url === undefined) throw malformedRequest();
      const length = Number(request.headers.get("content-length") ?? 0);
      if (length > MAX_BODY_BYTES) throw payloadTooLarge();
      checkReadAfter(request);
    })
    .onTransform({ as: "global" }, ({ request, path }) => {
      // The route was matched on `path`. A request whose URL has another path (dot segments, a
      // scheme the matcher did not expect) is refused before any handler or validation runs.
      if (contextOf(request).url?.pathname !== path) throw malformedRequest();
    })
    .onError({ as: "global" }, ({ code, error, request, set }) => {
      const context = contextOf(request);
      if (error instanceof ReplayedResponse) {
        set.status = error.status;
        Object.assign(set.headers, {
          "x-request-id": context.id,
          "idempotent-replayed": "true",
          "content-type": error.status >= 400 ? "application/problem+json" : "application/json",
        });
        return error.body;
      }
      const allowed = code === "NOT_FOUND" ? routeMethods.of(context.url?.pathname ?? "") : [];
      const apiError =
        allowed.length > 0 ? methodNotAllowed(request.method, allowed) : toApiError(code, error);
      if (apiError.status >= 500 && apiError.code === "internal_error") {
        logger.error({ err: error, requestId: context.id }, "unhandled error");
      }
      set.status = apiError.status;
      Object.assign(set.headers, SECURITY_HEADERS, apiError.headers, {
        "x-request-id": context.id,
        "content-type": "application/problem+json",
      });
      return problemBody(apiError, context.id);
    })
    .onAfterResponse({ as: "global" }, ({ request, route, set }) => {
      const context = contextOf(request);
      const status = typeof set.status === "number" ? set.status : 200;
      const durationMs = performance.now() - context.startedAt;
      const template = route || "unmatched";
      endServerSpan(context, request.method, route, status);
      metrics.httpDuration.observe(
        { method: request.method, route: template, status_code: String(status) },
        durationMs / 1000,
      );
      logger.info(
        {
          method: request.method,
          route: template,
          status,
          durationMs: Math.round(durationMs * 100) / 100,
          requestId: context.id,
          apiKeyId: context.apiKeyId,
        },
        "request",
      );
    });
}

/** The caller's IP, the rate limit's client when no key identifies it. */
const ipOf = (request: Request, server: Server<unknown> | null) =>
  `ip:${server?.requestIP(request)?.address ?? "unknown"}`;

/**
 * The gate of every `/v1` route, as hooks scoped to the instance that holds those routes: the route
 * that will run decides that a key is needed, never a second reading of the path. The key is checked,
 * the caller's token taken and the route's scope required before the body is read (parse) or, for a
 * request without a body, before anything is validated (transform); then the query is checked. Once
 * the parameters and body are valid, every resource they name must be in the key's reach (404).
 */
export function apiAccess({
  authenticator,
  accessRules,
  reachGuard,
  rateLimiter,
  bodyTimeoutMs,
}: ApiAccessDeps) {
  const admit = async (
    request: Request,
    route: string,
    set: Context["set"],
    server: Server<unknown> | null,
  ) => {
    const context = contextOf(request);
    if (context.caller !== undefined) return;
    set.headers["cache-control"] = "no-store";
    const caller = await authenticator.authenticate(request.headers.get("authorization")).catch((error) => {
      // A failed attempt spends a token of the caller's IP, so guessing keys is rate limited too.
      if (rateLimiter.enabled) rateLimiter.take(ipOf(request, server));
      throw error;
    });
    context.apiKeyId = caller.id;
    context.caller = caller;
    if (rateLimiter.enabled) Object.assign(set.headers, rateLimiter.take(`key:${caller.id}`).headers);
    accessRules.checkScope(caller, request.method, route);
  };
  return new Elysia({ name: "api-access" })
    .onParse({ as: "scoped" }, async ({ request, route, set, server }) => {
      await admit(request, route, set, server);
      return readJsonBody(request, bodyTimeoutMs);
    })
    .onTransform({ as: "scoped" }, async ({ request, route, set, server }) => {
      await admit(request, route, set, server);
      // After authentication and rate limiting: an unauthenticated caller learns nothing from a 400.
      const url = contextOf(request).url;
      if (url !== undefined) checkQueryParameters(url.searchParams);
    })
    .onBeforeHandle({ as: "scoped" }, ({ request, route, params, body }) =>
      accessRules.checkReach(reachGuard, callerOf(request), request.method, route, { params, body }),
    );
}

/** The gate of the public reference routes (/docs, /openapi.json): no key, a token of the caller's IP. */
export function publicAccess(rateLimiter: RateLimiter) {
  return new Elysia({ name: "public-access" }).onTransform({ as: "scoped" }, ({ request, set, server }) => {
    if (rateLimiter.enabled) Object.assign(set.headers, rateLimiter.take(ipOf(request, server)).headers);
  });
}
