import { context as otelContext } from "@opentelemetry/api";
import { Elysia, ValidationError } from "elysia";
import type { Authenticator } from "./auth.ts";
import { ApiError, badRequest, type FieldError, problemBody } from "./errors.ts";
import { ReplayedResponse } from "./idempotency.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { beginRequest, contextOf } from "./request-context.ts";
import { DECIMAL_QUERY_PARAMETERS, ERROR_CODE_KEYWORD } from "./schemas.ts";
import { endServerSpan, requestTraceContext, type Telemetry } from "./telemetry.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

/** No request of this API nests deeper than a few levels; validating pathological depth could exhaust the stack. */
const MAX_JSON_DEPTH = 32;

/** Routes a load balancer or scraper polls: never authenticated nor rate limited. */
const OPERATIONAL_PATHS = new Set(["/health", "/ready", "/metrics"]);

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

interface HttpPlatformDeps {
  logger: Logger;
  metrics: Metrics;
  authenticator: Authenticator;
  rateLimiter: RateLimiter;
  telemetry: Telemetry;
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
    const code = issue.schema[ERROR_CODE_KEYWORD];
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
 * Elysia reads query numbers with Number(), which also takes "0x10" and "1e1". Paging numbers are
 * written in decimal digits or refused.
 */
function checkDecimalParameters(query: URLSearchParams): void {
  for (const name of DECIMAL_QUERY_PARAMETERS) {
    const value = query.get(name);
    if (value !== null && !/^\d{1,15}$/.test(value)) {
      const message = "Expected an integer written in decimal digits";
      throw badRequest("validation_failed", `The request is invalid: query.${name}: ${message}.`, [
        { path: `query.${name}`, message },
      ]);
    }
  }
}

const payloadTooLarge = () =>
  new ApiError(413, "payload_too_large", `The request body exceeds ${MAX_BODY_BYTES} bytes.`);

/**
 * Every request body is JSON, whatever its Content-Type says, and at most 1 MiB however it is sent
 * (Content-Length or chunked). An empty body is an empty object: a POST with nothing to say needs none.
 */
async function readJsonBody(request: Request): Promise<unknown> {
  const text = new TextDecoder("utf-8", { fatal: true }).decode(await readAtMost(request, MAX_BODY_BYTES));
  if (text.trim() === "") return {};
  if (nestingDepth(text) > MAX_JSON_DEPTH) {
    throw new ApiError(400, "malformed_json", `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`);
  }
  return JSON.parse(text);
}

/** The body's bytes, refusing with 413 as soon as it grows past `limit`, before it is all read. */
async function readAtMost(request: Request, limit: number): Promise<Uint8Array> {
  const reader = request.body?.getReader();
  if (reader === undefined) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    size += chunk.value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw payloadTooLarge();
    }
    chunks.push(chunk.value);
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
 * The cross-cutting request pipeline: request id, security headers, body size, authentication and
 * rate limiting on the way in; problem bodies, metrics and one access log line on the way out.
 */
export function httpPlatform({ logger, metrics, authenticator, rateLimiter, telemetry }: HttpPlatformDeps) {
  return new Elysia({ name: "http-platform" })
    .wrap((handle, request) => {
      // The whole request, hooks included, runs in its trace context: logs and outgoing calls find it there.
      const active = requestTraceContext(request, beginRequest(request), telemetry);
      return (...args: unknown[]) => otelContext.with(active, () => handle(...args));
    })
    .onRequest(async ({ request, set, server }) => {
      const context = contextOf(request);
      Object.assign(set.headers, SECURITY_HEADERS, { "x-request-id": context.id });
      const length = Number(request.headers.get("content-length") ?? 0);
      if (length > MAX_BODY_BYTES) throw payloadTooLarge();
      const url = new URL(request.url);
      const path = url.pathname;
      if (OPERATIONAL_PATHS.has(path)) return;
      let client = `ip:${server?.requestIP(request)?.address ?? "unknown"}`;
      if (path === "/v1" || path.startsWith("/v1/")) {
        set.headers["cache-control"] = "no-store";
        const identity = await authenticator
          .authenticate(request.headers.get("authorization"))
          .catch((error) => {
            // A failed attempt spends a token of the caller's IP, so guessing keys is rate limited too.
            if (rateLimiter.enabled) rateLimiter.take(client);
            throw error;
          });
        context.apiKeyId = identity.id;
        client = `key:${identity.id}`;
      }
      if (rateLimiter.enabled) Object.assign(set.headers, rateLimiter.take(client).headers);
      // After authentication and rate limiting: an unauthenticated caller learns nothing from a 400.
      checkDecimalParameters(url.searchParams);
    })
    .onParse({ as: "global" }, ({ request }) => readJsonBody(request))
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
      const apiError = toApiError(code, error);
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
