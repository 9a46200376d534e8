import { filterPaths, registerSchemaPath } from "@elysiajs/swagger/utils";
import type { TSchema } from "@sinclair/typebox";
import { Elysia, type HTTPMethod, type InternalRoute } from "elysia";
import packageJson from "../../package.json" with { type: "json" };
import { ACCESS_DETAIL_KEY } from "./access.ts";
import { docsAssets } from "./assets.ts";
import { ApiError } from "./errors.ts";
import { CSV_EXAMPLE_EXTENSION } from "./schemas.ts";

const RESPONSE_DESCRIPTIONS: Record<string, string> = {
  "200": "OK",
  "201": "Created",
  "400": "Malformed JSON, bad parameters, a schema violation, or a Host or path that cannot be read",
  "401": "Missing or wrong API key (on /metrics: METRICS_TOKEN)",
  "403": "The key lacks the scope this operation needs (insufficient_scope)",
  "404": "No such resource",
  "408": "The request body did not arrive in time",
  "409":
    "Conflict with the current state (duplicate, wrong state), or an Idempotency-Key reused with another request or still running",
  "413": "Request body over 1 MiB",
  "422": "Refused by a business rule",
  "429": "Rate limited; see Retry-After",
  "500": "Unexpected error",
  "503":
    "Database unavailable (database_unavailable), a write's outcome unknown (outcome_unknown) or the database's disk full (storage_full); see Retry-After",
};

const TAGS = [
  { name: "users", description: "People who hold cards and own wallets" },
  { name: "teams", description: "Groups of users that share wallets" },
  { name: "members", description: "Who belongs to which team, and with which role" },
  { name: "wallets", description: "Balances with daily and monthly spend limits" },
  { name: "cards", description: "Cards that spend from a wallet" },
  {
    name: "ledger",
    description: "Top-ups, withdrawals, transfers and refunds: the append-only ledger of every wallet",
  },
  {
    name: "authorizations",
    description: "Card spends: decided against limits and balance, captured, held, voided",
  },
  { name: "api-keys", description: "Keys with scopes, bound to a team or a user, revocable" },
  { name: "audit", description: "Who did what: the append-only audit trail" },
  {
    name: "authorization hook",
    description: "Your service's real-time say on every card spend the service's own checks approve",
  },
  { name: "events", description: "Every committed change, in order, for 30 days or more" },
  { name: "webhooks", description: "Events pushed to your URLs, signed (Standard Webhooks) and retried" },
  { name: "operations", description: "Health, readiness and metrics" },
];

/**
 * The API is served from the root of wherever the service runs (the same origin as this document):
 * a client sets its base URL to that host, e.g. http://localhost:3000 with the default PORT.
 */
const SERVERS = [
  {
    url: "/",
    description: "The service this document was read from, local, staging or production alike",
    "x-internal": false,
  },
];

/** What the document says about the API as a whole; the paths and schemas come from the routes. */
const DOCUMENTATION = {
  info: {
    title: "Wallet API",
    description:
      "Wallets for teams and individuals, many cards per wallet, every card spend checked against balance and limits. Money is in integer minor units.",
    version: packageJson.version,
    contact: { name: "The Wallet API team" },
    license: { name: "UNLICENSED", identifier: "LicenseRef-Proprietary" },
  },
  tags: TAGS,
  components: {
    securitySchemes: {
      bearerAuth: {
        type: "http",
        scheme: "bearer",
        description:
          "The admin key (ADMIN_API_KEY), or a key made with POST /v1/api-keys; each operation names the scope it needs",
      },
    },
  },
  security: [{ bearerAuth: [] }],
};

/** Methods a document describes (Elysia also keeps OPTIONS, HEAD and catch-all routes). */
const DOCUMENTED_METHODS = new Set(["GET", "PUT", "POST", "DELETE", "PATCH"]);

/**
 * The document as @elysiajs/swagger derives it from the routes' schemas, built here from the routes
 * themselves rather than fetched from the plugin's own endpoint: nothing but /openapi.json serves it,
 * and building it is no request (no access log line, metric or span).
 */
function sourceDocument(routes: readonly InternalRoute[], models: Record<string, TSchema>): JsonObject {
  const paths: Parameters<typeof registerSchemaPath>[0]["schema"] = {};
  for (const route of routes) {
    const detail = route.hooks.detail as { hide?: boolean } | undefined;
    if (detail?.hide === true || !DOCUMENTED_METHODS.has(route.method)) continue;
    registerSchemaPath({
      schema: paths,
      hook: route.hooks,
      method: route.method as HTTPMethod,
      path: route.path,
      models,
      contentType: route.hooks.type,
    });
  }
  return JSON.parse(
    JSON.stringify({
      openapi: "3.0.3",
      ...DOCUMENTATION,
      paths: filterPaths(paths, { excludeStaticFile: true, exclude: [] }),
      components: { ...DOCUMENTATION.components, schemas: models },
    }),
  ) as JsonObject;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Elysia's query coercion describes an integer parameter as "integer, or a string holding one";
 * a client sends an integer, so the document says just that.
 */
function simplifySchema(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(simplifySchema);
  if (!isObject(schema)) return schema;
  const anyOf = schema.anyOf;
  if (Array.isArray(anyOf)) {
    const integer = anyOf.find((branch) => isObject(branch) && branch.type === "integer");
    const coerced = anyOf.some(
      (branch) => isObject(branch) && branch.type === "string" && branch.format === "integer",
    );
    if (isObject(integer) && coerced && anyOf.length === 2) {
      const { anyOf: _, ...rest } = schema;
      return simplifySchema({ ...rest, ...integer });
    }
  }
  const simplified = Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [key, simplifySchema(value)]),
  );
  return simplified.type === "integer" && simplified.format === undefined
    ? { ...simplified, format: integerFormat(simplified) }
    : simplified;
}

const INT32_MAX = 2 ** 31 - 1;

/**
 * The width a generated client must give an integer: int32 when its bounds fit (paging numbers),
 * int64 otherwise. Amounts reach 10^12 and balances 10^15: a 32-bit integer would overflow.
 */
function integerFormat(schema: JsonObject): "int32" | "int64" {
  const { minimum, maximum } = schema;
  const fits =
    typeof maximum === "number" &&
    maximum <= INT32_MAX &&
    typeof minimum === "number" &&
    minimum >= -INT32_MAX - 1;
  return fits ? "int32" : "int64";
}

const PROBLEM_REF = "#/components/schemas/Problem";

/**
 * Elysia stamps `$id` and `additionalProperties: false` onto response models once it has validated a
 * response with them; the document must read the same before and after, so neither is published.
 */
function withoutServingMarks(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(withoutServingMarks);
  if (!isObject(schema)) return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key]) => key !== "$id" && key !== "additionalProperties")
      .map(([key, value]) => [key, withoutServingMarks(value)]),
  );
}

/** What the platform adds to an operation, whatever its route declares. */
interface OperationTraits {
  /** Under /v1: authenticated, rate limited per key, on the database. */
  api: boolean;
  /** It reads a request body. */
  hasBody: boolean;
  /** A POST: it takes an Idempotency-Key. */
  idempotent: boolean;
  /** GET /metrics, which asks for METRICS_TOKEN when one is set. */
  metrics: boolean;
  /** A GET: it may be read from a replica, and says where it was read. */
  read: boolean;
  /** An example of the CSV its 200 also answers with `Accept: text/csv`, if it does. */
  csvExample?: string;
}

const problemResponse = () => ({ content: { "application/json": { schema: { $ref: PROBLEM_REF } } } });

/**
 * The statuses the platform can answer on an operation beyond those its route declares: a Host or path
 * it cannot read (400) and a bug (500) anywhere; a body too slow or too large on a body route; a reused
 * or busy Idempotency-Key on a POST; a missing key, an empty bucket and an unreachable database under
 * /v1; a missing METRICS_TOKEN on /metrics.
 */
function platformStatuses(traits: OperationTraits): string[] {
  return [
    "400",
    "500",
    ...(traits.hasBody ? ["408", "413"] : []),
    ...(traits.idempotent ? ["409"] : []),
    ...(traits.api ? ["401", "429", "503"] : []),
    ...(traits.metrics ? ["401"] : []),
  ];
}

/** A primary WAL position, as X-Read-After carries it. */
const WAL_POSITION = { type: "string", pattern: "^[0-9A-F]{1,8}/[0-9A-F]{1,8}$", examples: ["0/3A1B2C8"] };

const HEADERS: JsonObject = {
  "X-Request-Id": {
    description:
      "The request's id: the client's X-Request-Id when it is 1-128 characters of [A-Za-z0-9._:-], otherwise a new UUID",
    schema: { type: "string", maxLength: 128 },
  },
  RateLimit: {
    description: 'What is left of the caller\'s bucket: "default";r=<remaining>;t=<seconds until full>',
    schema: { type: "string" },
  },
  "RateLimit-Policy": {
    description: 'The caller\'s bucket: "default";q=<burst>;w=<seconds to refill>',
    schema: { type: "string" },
  },
  "Retry-After": {
    description: "Seconds to wait before trying again",
    schema: { type: "integer", minimum: 1 },
  },
  "X-Read-After": {
    description:
      "The primary's WAL position after this write committed; send it back as X-Read-After on a GET to read your own write. Present only when a read replica is deployed",
    schema: WAL_POSITION,
  },
  "X-Served-By": {
    description:
      "Where this GET was read: the primary, or a streaming replica within DATABASE_READ_MAX_LAG_MS",
    schema: { type: "string", enum: ["primary", "replica"] },
  },
  "Idempotent-Replayed": {
    description: "true when this is the stored answer to an earlier request with the same Idempotency-Key",
    schema: { type: "string", enum: ["true"] },
  },
};

const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });

/** Every GET takes the X-Read-After a write answered with, to read its own writes from a replica. */
const READ_AFTER_PARAMETER: JsonObject = {
  in: "header",
  name: "x-read-after",
  required: false,
  description:
    "The X-Read-After of an earlier write: the answer includes that write (read from the replica once it has replayed it, waiting at most 100 ms, otherwise from the primary). A malformed value is 400 validation_failed",
  schema: WAL_POSITION,
};

/** The headers a response of this operation may carry. */
function responseHeaders(status: string, traits: OperationTraits): JsonObject {
  const names = ["X-Request-Id"];
  if (traits.api) names.push("RateLimit", "RateLimit-Policy");
  if (status === "429" || status === "503") names.push("Retry-After");
  if (traits.idempotent && status !== "429" && !status.startsWith("5")) names.push("Idempotent-Replayed");
  if (traits.read) names.push("X-Served-By");
  if (!traits.read && status.startsWith("2")) names.push("X-Read-After");
  return Object.fromEntries(names.map((name) => [name, headerRef(name)]));
}

/** Keeps only the JSON media type, naming it problem+json where the body is a problem. */
function finishResponses(responses: JsonObject, traits: OperationTraits): JsonObject {
  const finished: JsonObject = {};
  const all: JsonObject = { ...responses };
  for (const status of platformStatuses(traits)) all[status] ??= problemResponse();
  for (const [status, response] of Object.entries(all).sort(([a], [b]) => a.localeCompare(b))) {
    if (!isObject(response)) continue;
    const content = isObject(response.content) ? response.content : undefined;
    const json = content?.["application/json"];
    const isProblem = isObject(json) && isObject(json.schema) && json.schema.$ref === PROBLEM_REF;
    const mediaType = isProblem ? "application/problem+json" : "application/json";
    const csv: JsonObject =
      status === "200" && traits.csvExample !== undefined
        ? { "text/csv": { schema: { type: "string" }, example: traits.csvExample } }
        : {};
    finished[status] = {
      description: RESPONSE_DESCRIPTIONS[status] ?? "Response",
      headers: responseHeaders(status, traits),
      ...(json === undefined ? {} : { content: { [mediaType]: json, ...csv } }),
    };
  }
  return finished;
}

/**
 * A body is required unless the empty object is a valid one (capture all, void): an empty body is
 * read as `{}`, so a generated client need not send any.
 */
function bodyIsRequired(mediaType: Json): boolean {
  const schema = isObject(mediaType) ? mediaType.schema : undefined;
  if (!isObject(schema) || schema.type !== "object") return true;
  const requiredFields = Array.isArray(schema.required) ? schema.required.length : 0;
  const minProperties = typeof schema.minProperties === "number" ? schema.minProperties : 0;
  return requiredFields > 0 || minProperties > 0;
}

/** A query parameter that is an object is sent as `name[key]=value`: OpenAPI's deepObject style. */
function deepObjectQuery(parameter: Json): Json {
  const objectInQuery =
    isObject(parameter) &&
    parameter.in === "query" &&
    isObject(parameter.schema) &&
    parameter.schema.type === "object";
  return objectInQuery ? { ...parameter, style: "deepObject", explode: true } : parameter;
}

/** Turns what @elysiajs/swagger derives into the published document: OpenAPI 3.1, JSON only, described. */
export function finishDocument(source: JsonObject): JsonObject {
  const paths: JsonObject = {};
  for (const [path, item] of Object.entries(isObject(source.paths) ? source.paths : {})) {
    if (!isObject(item)) continue;
    const operations: JsonObject = {};
    for (const [method, operation] of Object.entries(item)) {
      if (!isObject(operation)) continue;
      const {
        requestBody,
        responses,
        parameters,
        [ACCESS_DETAIL_KEY]: _access,
        [CSV_EXAMPLE_EXTENSION]: csvExample,
        ...rest
      } = operation;
      const body =
        isObject(requestBody) && isObject(requestBody.content)
          ? requestBody.content["application/json"]
          : undefined;
      const read = method === "get";
      const allParameters = [
        ...(Array.isArray(parameters) ? parameters.map(deepObjectQuery) : []),
        ...(read ? [READ_AFTER_PARAMETER] : []),
      ];
      operations[method] = {
        ...rest,
        ...(allParameters.length > 0 ? { parameters: allParameters } : {}),
        ...(body === undefined
          ? {}
          : { requestBody: { required: bodyIsRequired(body), content: { "application/json": body } } }),
        responses: finishResponses(isObject(responses) ? responses : {}, {
          csvExample: typeof csvExample === "string" ? csvExample : undefined,
          api: path.startsWith("/v1/"),
          hasBody: body !== undefined,
          idempotent: method === "post",
          metrics: path === "/metrics",
          read,
        }),
      };
    }
    paths[path] = operations;
  }
  const components = isObject(source.components) ? source.components : {};
  const schemas = isObject(components.schemas) ? components.schemas : {};
  return simplifySchema({
    ...source,
    openapi: "3.1.0",
    servers: SERVERS,
    paths,
    components: { ...components, schemas: withoutServingMarks(schemas), headers: HEADERS },
  }) as JsonObject;
}

/** The finished document as served at /openapi.json and committed as openapi/openapi.json. */
export function renderOpenApi(routes: readonly InternalRoute[], models: Record<string, TSchema>): string {
  return `${JSON.stringify(finishDocument(sourceDocument(routes, models)), null, 2)}\n`;
}

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Wallet API reference</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

/**
 * Starts Swagger UI. The key typed into "Authorize" stays in the page's memory only: it is gone when
 * the tab closes or reloads, never written to localStorage where any script of the origin could read it.
 */
const DOCS_INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: false,
});
`;

/**
 * The page may load scripts, styles, images and data from this service only, and no other page may
 * frame it. Swagger UI sets inline styles and draws its icons as data: images.
 */
const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const docsResponse = (body: string | Blob, contentType: string, cacheControl = "no-cache") =>
  new Response(body, {
    headers: {
      "content-type": contentType,
      "cache-control": cacheControl,
      "content-security-policy": DOCS_CONTENT_SECURITY_POLICY,
    },
  });

/** The interactive reference at /docs, with its assets served from the program itself (no CDN). */
export function docsPage() {
  return new Elysia({ name: "docs" })
    .get("/docs", () => docsResponse(DOCS_PAGE, "text/html; charset=utf-8"), { detail: { hide: true } })
    .get(
      "/docs/:asset",
      ({ params }) => {
        if (params.asset === "init.js")
          return docsResponse(DOCS_INIT_SCRIPT, "text/javascript; charset=utf-8");
        const asset = docsAssets[params.asset as keyof typeof docsAssets];
        if (asset === undefined) throw new ApiError(404, "route_not_found", "No such route.");
        return docsResponse(Bun.file(asset.path), asset.type, "public, max-age=86400");
      },
      { detail: { hide: true } },
    );
}

/**
 * Serves the finished document. It is rendered once, before the first request (Elysia annotates the
 * shared schema objects while it serves, which would otherwise leak into it); the route exists
 * before rendering because Elysia fixes its routes at the first request it handles.
 */
export function openapiDocument(document: () => string) {
  return new Elysia({ name: "openapi-document" }).get(
    "/openapi.json",
    () => new Response(document(), { headers: { "content-type": "application/json; charset=utf-8" } }),
    { detail: { hide: true } },
  );
}
