/** One field that failed validation, as listed in a problem body's `errors`. */
export interface FieldError {
  path: string;
  message: string;
}

/**
 * An error a client is meant to see: it becomes an RFC 9457 problem body with this status and code.
 * Anything else thrown is a bug and answers 500 without detail.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.name = "ApiError";
  }
}

export const badRequest = (code: string, detail: string, errors?: FieldError[]) =>
  new ApiError(400, code, detail, errors);

export const notFound = (resource: string, id?: string) =>
  new ApiError(404, `${resource}_not_found`, id ? `No ${resource} with id ${id}.` : `No such ${resource}.`);

export const conflict = (code: string, detail: string) => new ApiError(409, code, detail);

export const unprocessable = (code: string, detail: string) => new ApiError(422, code, detail);

/**
 * Retry-After on a 503 whose cause passes by itself (a failover, a restart, a network break): the pool
 * reconnects as soon as the database answers, so a longer wait only adds latency, and a client backs
 * off further on each failure anyway. A full disk waits for an operator: minutes, not seconds.
 */
const RETRY_AFTER_SECONDS = { transient: 1, storageFull: 30 } as const;

const retryAfter = (seconds: number) => ({ "retry-after": String(seconds) });

/** Thrown when the database cannot be reached, does not answer in time, or cannot take writes now. */
export const databaseUnavailable = () =>
  new ApiError(
    503,
    "database_unavailable",
    "The database is unavailable; retry shortly.",
    undefined,
    retryAfter(RETRY_AFTER_SECONDS.transient),
  );

/**
 * Thrown when the database's disk is full: nothing was written, and the same request may succeed once
 * room is made.
 */
export const storageFull = () =>
  new ApiError(
    503,
    "storage_full",
    "The database has no room left to write; retry later.",
    undefined,
    retryAfter(RETRY_AFTER_SECONDS.storageFull),
  );

/**
 * Thrown when a COMMIT was sent but its answer never came: the change may be applied or not. Unlike
 * database_unavailable, a blind retry could apply it twice, so the advice is the Idempotency-Key.
 */
export const outcomeUnknown = () =>
  new ApiError(
    503,
    "outcome_unknown",
    "The database did not confirm the commit in time: the change may or may not have been applied. " +
      "Retry only with the same Idempotency-Key, or check whether it was applied before retrying.",
    undefined,
    retryAfter(RETRY_AFTER_SECONDS.transient),
  );

/**
 * A unit of work that failed after its COMMIT succeeded (Database.transaction): what it committed
 * stays, so neither the unit nor any request it served may be run again. A bug, not the client's or
 * the database's: the client gets 500 internal_error and the cause is logged.
 */
export class FailedAfterCommit extends Error {
  constructor(cause: unknown) {
    super("the unit of work failed after its COMMIT succeeded", { cause });
    this.name = "FailedAfterCommit";
  }
}

/**
 * A failure every request of a batch shares (any 503: the database unavailable, full, or a commit's
 * outcome unknown; or a failure after the batch committed): serving the batch's requests again one by
 * one would not help, or could apply them twice.
 */
export const sharedByBatch = (error: unknown) =>
  (error instanceof ApiError && error.status === 503) || error instanceof FailedAfterCommit;

/** PostgreSQL's SQLSTATE codes this service reacts to. */
export const SqlState = {
  uniqueViolation: "23505",
  foreignKeyViolation: "23503",
  checkViolation: "23514",
  invalidParameterValue: "22023",
  characterNotInRepertoire: "22021",
  untranslatableCharacter: "22P05",
  serializationFailure: "40001",
  deadlockDetected: "40P01",
  readOnlySqlTransaction: "25006",
  queryCanceled: "57014",
  adminShutdown: "57P01",
  crashShutdown: "57P02",
  cannotConnectNow: "57P03",
  diskFull: "53100",
} as const;

interface PgErrorLike {
  code?: unknown;
  constraint?: unknown;
}

const sqlStateOf = (error: unknown): string | undefined => {
  const code = (error as PgErrorLike | null)?.code;
  return typeof code === "string" ? code : undefined;
};

/** True when `error` is a unique violation of the named index or constraint. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  return sqlStateOf(error) === SqlState.uniqueViolation && (error as PgErrorLike).constraint === constraint;
}

export function isRetryableTransactionError(error: unknown): boolean {
  const state = sqlStateOf(error);
  return state === SqlState.serializationFailure || state === SqlState.deadlockDetected;
}

const CONNECTION_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ConnectionRefused",
  SqlState.queryCanceled,
  SqlState.adminShutdown,
  SqlState.crashShutdown,
  SqlState.cannotConnectNow,
  // A demoted primary (or a standby) still reached after a failover: no write can succeed on this
  // connection, and a new one may reach the new primary.
  SqlState.readOnlySqlTransaction,
  "08000",
  "08003",
  "08006",
  "08001",
  "08004",
]);

/**
 * Connection loss, refused connections, a server shutting down, starting up or read-only, pool and
 * statement time-outs: the database is the problem, not the request.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const state = sqlStateOf(error);
  if (state !== undefined && CONNECTION_ERROR_CODES.has(state)) return true;
  const message = error instanceof Error ? error.message : "";
  return /timeout exceeded when trying to connect|Connection terminated|Query read timeout|connect ECONNREFUSED|Client has encountered a connection error|Client was closed and is not queryable/i.test(
    message,
  );
}

/** PostgreSQL's disk_full, or the file system's ENOSPC where it reaches the service unwrapped. */
export function isStorageFull(error: unknown): boolean {
  const code = sqlStateOf(error);
  return code === SqlState.diskFull || code === "ENOSPC";
}

/** Words of a code that are written in capitals in a title. */
const ACRONYMS: Record<string, string> = { json: "JSON", id: "ID", cvv: "CVV", url: "URL" };

/** "insufficient_funds" → "Insufficient funds", "malformed_json" → "Malformed JSON": the stable title of a problem type. */
export const titleOf = (code: string): string => {
  const words = code.split("_").map((word) => ACRONYMS[word] ?? word);
  const title = words.join(" ");
  return title.charAt(0).toUpperCase() + title.slice(1);
};

export const problemType = (code: string) => `urn:wallet-api:problem:${code}`;

/** `value`, or the error `orElse` makes when there is none (a lookup that found nothing). */
export function found<T>(value: T | undefined, orElse: () => Error): T {
  if (value === undefined) throw orElse();
  return value;
}

/** The RFC 9457 body of an ApiError, with the request id, as every error response carries it. */
export function problemBody(apiError: ApiError, requestId: string) {
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
