import { Elysia, ValidationError } from "elysia";
import type { Authenticator } from "./auth.ts";
import { ApiError, type FieldError, problemType, titleOf } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { beginRequest, contextOf } from "./request-context.ts";
import { ERROR_CODE_KEYWORD } from "./schemas.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

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
}

interface SchemaLike {
  [ERROR_CODE_KEYWORD]?: unknown;
  description?: unknown;
}

interface ValueErrorLike {
  path: string;
  message: string;
  schema: SchemaLike;
}

/** Turns Elysia's validation error into field errors and, where the schema names one, a specific code. */
function fromValidation(error: ValidationError): ApiError {
  const location = error.type;
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  const codes = new Set<string>();
  for (const issue of error.all as ValueErrorLike[]) {
    const pointer = issue.path.split("/").filter(Boolean).join(".");
    const path = pointer ? `${location}.${pointer}` : location;
    const described = typeof issue.schema.description === "string" ? issue.schema.description : undefined;
    const message =
      issue.message === "Expected union value" && described ? `Expected ${described}` : issue.message;
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
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
      return new ApiError(400, "malformed_json", "The request body must be a well-formed JSON object.");
    case "NOT_FOUND":
      return new ApiError(404, "route_not_found", "No such route.");
    default:
      return new ApiError(500, "internal_error", "Something went wrong on our side; it has been logged.");
  }
}

/** RFC 9457 problem body with the request id, as the contract's every error looks. */
function problemBody(apiError: ApiError, requestId: string) {
  return {
    type: problemType(apiError.code),
    title: titleOf(apiError.code),
    status: apiError.status,
    detail: apiError.detail,
    code: apiError.code,
    requestId,
    ...(apiError.errors ? { errors: apiError.errors } : {}),
  };
}

/**
 * The cross-cutting request pipeline: request id, security headers, body size, authentication and
 * rate limiting on the way in; problem bodies, metrics and one access log line on the way out.
 */
export function httpPlatform({ logger, metrics, authenticator, rateLimiter }: HttpPlatformDeps) {
  return new Elysia({ name: "http-platform" })
    .onRequest(async ({ request, set, server }) => {
      const context = beginRequest(request);
      Object.assign(set.headers, SECURITY_HEADERS, { "x-request-id": context.id });
      const length = Number(request.headers.get("content-length") ?? 0);
      if (length > MAX_BODY_BYTES) {
        throw new ApiError(413, "payload_too_large", `The request body exceeds ${MAX_BODY_BYTES} bytes.`);
      }
      const path = new URL(request.url).pathname;
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
    })
    .onError({ as: "global" }, ({ code, error, request, set }) => {
      const context = contextOf(request);
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
