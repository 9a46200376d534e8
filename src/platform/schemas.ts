/**
 * Building blocks shared by every module's model.ts. Request bodies use plain TypeBox (no coercion:
 * `"5"` is not an amount); query strings use Elysia's `t`, which converts "5" to 5 before checking.
 */
import {
  FormatRegistry,
  type IntegerOptions,
  type Static,
  type TSchema,
  type TString,
  type TUnsafe,
  Type,
} from "@sinclair/typebox";
import { t } from "elysia";
import { ACCESS_DETAIL_KEY, type RouteAccess } from "./access.ts";
import { EXAMPLE_ID, EXAMPLE_TIME } from "./examples.ts";
import { literalUnion } from "./literals.ts";

/** Custom schema keyword: the problem `code` used when this field fails validation. */
export const ERROR_CODE_KEYWORD = "x-error-code";

export const MAX_AMOUNT = 1_000_000_000_000;
export const MAX_BALANCE = 1_000_000_000_000_000;

/** Hyphenated hex only: TypeBox's "uuid" format alone would also let "urn:uuid:…" through. */
export const Uuid = Type.String({
  format: "uuid",
  pattern: "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
  [ERROR_CODE_KEYWORD]: "invalid_id",
  description: "UUID",
});

/**
 * A string a client sends that is compared case-insensitively (an id): lower-cased on the way in, so
 * that the service stores and compares one spelling of it.
 */
export const lowerCased = (schema: TString) =>
  Type.Transform(schema)
    .Decode((text) => text.toLowerCase())
    .Encode((text) => text);

/** A UUID in a path, query or body: any case is accepted, and it is lower-cased (responses use Uuid). */
export const UuidInput = lowerCased(Uuid);

const RFC3339_DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeapYear = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);

/** The number the ASCII digits of `text` from `start` to `end` (exclusive) write. */
function digitsAt(text: string, start: number, end: number): number {
  let value = 0;
  for (let index = start; index < end; index++) value = value * 10 + (text.charCodeAt(index) - 48);
  return value;
}

/**
 * An RFC 3339 date-time that names a real instant PostgreSQL's timestamptz takes: a day that exists in
 * its month (no 29 February 2026), year 0001 or later, hours 00-23, no leap second, and an offset of at
 * most ±15:59 (PostgreSQL's limit; real ones stay within ±14:00).
 */
export function isDateTime(text: string): boolean {
  // Every response's timestamps are checked too: the shape first, without captures, then each field
  // read in place (the date and time have fixed widths, the offset ends the text).
  if (!RFC3339_DATE_TIME.test(text)) return false;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 7);
  const day = digitsAt(text, 8, 10);
  const hour = digitsAt(text, 11, 13);
  const minute = digitsAt(text, 14, 16);
  const second = digitsAt(text, 17, 19);
  const utc = text.endsWith("Z") || text.endsWith("z");
  const offsetHour = utc ? 0 : digitsAt(text, text.length - 5, text.length - 3);
  const offsetMinute = utc ? 0 : digitsAt(text, text.length - 2, text.length);
  const daysInMonth = month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  return (
    year >= 1 &&
    day >= 1 &&
    day <= daysInMonth &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHour <= 15 &&
    offsetMinute <= 59
  );
}

// Elysia's own "date-time" takes whatever JavaScript's Date parses (rolling 2026-02-29 over to 1 March,
// and formats that are not RFC 3339), and PostgreSQL then refuses some of it: one strict rule for
// every date-time the API reads. Set after Elysia's import, so this one replaces Elysia's.
FormatRegistry.Set("date-time", isDateTime);

export const Timestamp = Type.String({ format: "date-time", description: "RFC 3339, UTC" });
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

/**
 * An integer of money in minor units. `format: "int64"` tells client generators it needs 64 bits
 * (amounts reach 10^12, balances 10^15); TypeBox checks formats on strings only, so validation is
 * unchanged.
 */
export const MinorUnits = (options: IntegerOptions) => Type.Integer({ ...options, format: "int64" });

/** A balance or a limit in minor units. */
export const MoneyValue = MinorUnits({ minimum: 0, maximum: MAX_BALANCE, description: "minor units" });

/**
 * `model` with `examples` for the document (the OpenAPI 3.1 JSON Schema keyword), typed as the model's
 * values so that the compiler checks them; a unit test checks them against the schema itself.
 */
export function withExamples<Model extends TSchema>(model: Model, examples: readonly Static<Model>[]): Model {
  return { ...model, examples };
}

const examplesOf = (model: TSchema): unknown[] => (Array.isArray(model.examples) ? model.examples : []);

export const Problem = withExamples(
  Type.Object(
    {
      type: Type.String({ description: "URI identifying the problem type" }),
      title: Type.String(),
      status: Type.Integer(),
      detail: Type.String(),
      code: Type.String({ description: "stable snake_case error code" }),
      requestId: Type.String(),
      errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    },
    { description: "RFC 9457 problem details" },
  ),
  [
    {
      type: "urn:wallet-api:problem:insufficient_funds",
      title: "Insufficient funds",
      status: 422,
      detail: `Wallet ${EXAMPLE_ID.wallet} has 137500 available; 150000 was asked for.`,
      code: "insufficient_funds",
      requestId: EXAMPLE_ID.request,
    },
    {
      type: "urn:wallet-api:problem:validation_failed",
      title: "Validation failed",
      status: 400,
      detail: "The request is invalid: body.amount: Expected integer.",
      code: "validation_failed",
      requestId: EXAMPLE_ID.request,
      errors: [{ path: "body.amount", message: "Expected integer" }],
    },
  ],
);

/** Models every module may reference by name; each becomes a named schema in the OpenAPI document. */
export const sharedModels = { Problem };

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 500 | 503;

/**
 * The problem responses a route declares: the ones every /v1 route can give (403 insufficient_scope
 * among them), plus `statuses`.
 */
export function errorResponses<Extra extends ErrorStatus>(...statuses: Extra[]) {
  const all = [400, 401, 403, 429, 500, 503, ...statuses] as const;
  return Object.fromEntries(all.map((status) => [status, "Problem"])) as Record<
    400 | 401 | 403 | 429 | 500 | 503 | Extra,
    "Problem"
  >;
}

export const IdParams = t.Object({ id: UuidInput });

/** Every POST takes an optional Idempotency-Key (contract §1); other headers pass untouched. */
export const IdempotencyHeaders = t.Object(
  {
    "idempotency-key": t.Optional(
      t.String({
        minLength: 1,
        maxLength: 255,
        [ERROR_CODE_KEYWORD]: "invalid_idempotency_key",
        description: "1-255 characters; a retry with the same key and body replays the first response",
      }),
    ),
  },
  { additionalProperties: true },
);

/** The integer query parameters of every list; the HTTP pipeline insists on decimal digits for them. */
export const DECIMAL_QUERY_PARAMETERS = ["limit", "skip"] as const;

/** Query parameters of a list: paging, a whitelisted sort field and any resource filters. */
export function listQuery<Sort extends string, Filters extends Record<string, TSchema>>(
  sortFields: readonly [Sort, ...Sort[]],
  filters: Filters,
) {
  return t.Object(
    {
      // The titles name the parameter in errors: Elysia reports a coerced number out of range without a path.
      limit: t.Optional(
        t.Integer({
          title: "limit",
          minimum: 1,
          maximum: 100,
          default: 20,
          description: "1-100, default 20",
        }),
      ),
      skip: t.Optional(
        t.Integer({ title: "skip", minimum: 0, default: 0, description: "rows to skip, default 0" }),
      ),
      sortBy: t.Optional(
        literalUnion(sortFields, {
          default: "createdAt",
          [ERROR_CODE_KEYWORD]: "invalid_sort_by",
          description: `one of ${sortFields.join(", ")}`,
        }),
      ),
      sort: t.Optional(
        t.String({
          pattern: "^([aA][sS][cC]|[dD][eE][sS][cC])$",
          default: "desc",
          description: "asc or desc, any case",
        }),
      ),
      ...filters,
    },
    { additionalProperties: false },
  );
}

/**
 * The $id of the model the document lists as `name`: its place in the document, which is also the $id
 * Elysia's `.model()` gives a model registered as `name`.
 */
export const modelId = (name: string) => `#/components/schemas/${name}`;

/**
 * A reference to a model with a `modelId`, typed as that model: the document shows a `$ref` rather than
 * a copy, and validation resolves it by the $id among the models the route's plugin registers.
 */
export function refTo<Model extends TSchema>(model: Model): TUnsafe<Static<Model>> {
  if (model.$id === undefined) throw new TypeError("refTo takes a model that has a modelId as its $id");
  return Type.Unsafe<Static<Model>>(Type.Ref(model.$id));
}

/** The envelope of every list response; its example is a page of the item's examples. */
export function Page<Item extends TSchema>(item: Item, description: string) {
  return Type.Object(
    {
      data: Type.Array(refTo(item)),
      skip: Type.Integer({ minimum: 0 }),
      limit: Type.Integer({ minimum: 1 }),
      hasMore: Type.Boolean(),
    },
    { description, examples: [{ data: examplesOf(item), skip: 0, limit: 20, hasMore: false }] },
  );
}

/**
 * The envelope of a bulk delete: every resource it deleted. Its example is the item's examples as
 * deleted, so `item` is a resource with `updatedAt` and `deletedAt`.
 */
export function Deleted<Item extends TSchema>(item: Item, description: string) {
  const deleted = examplesOf(item).map((example) => ({
    ...(typeof example === "object" ? example : {}),
    updatedAt: EXAMPLE_TIME.deleted,
    deletedAt: EXAMPLE_TIME.deleted,
  }));
  return Type.Object({ data: Type.Array(refTo(item)) }, { description, examples: [{ data: deleted }] });
}

/**
 * Route metadata for the OpenAPI document: a tag, a stable operationId, a one-line summary, a
 * description of what the operation does and the rules a client meets, and what it requires of the
 * key: its scope (shown as the operation's `security` and in its description) and the resources that
 * must be in the key's reach (read by the gate, not published).
 */
export const describe = (
  tag: string,
  operationId: string,
  summary: string,
  description: string,
  access?: RouteAccess,
) => ({
  detail:
    access === undefined
      ? { tags: [tag], operationId, summary, description }
      : {
          tags: [tag],
          operationId,
          summary,
          description: `${description}\n\nRequires an API key with the scope \`${access.scope}\`${access.scope === "admin" ? "" : " (or `admin`)"}.`,
          security: [{ bearerAuth: [access.scope] }],
          [ACCESS_DETAIL_KEY]: access,
        },
});

/** The operation extension that carries a CSV example until the document is finished (see openapi.ts). */
export const CSV_EXAMPLE_EXTENSION = "x-csv-example";

/** Route metadata of a read that answers CSV too, with `Accept: text/csv`: its 200 lists text/csv. */
export const withCsvAlternative = (described: ReturnType<typeof describe>, example: string) => ({
  detail: { ...described.detail, [CSV_EXAMPLE_EXTENSION]: example },
});

/** The idempotency rule, in the description of every POST that creates or changes something. */
export const RETRY_WITH_KEY =
  "A retry with the same Idempotency-Key and body replays the first answer instead of acting twice.";

/** The idempotency rule, in the description of every POST that moves money. */
export const RETRY_MONEY_WITH_KEY =
  "Send an Idempotency-Key: a retry with the same key and body replays the first answer and moves no money twice, and after 503 outcome_unknown only such a retry is safe.";
