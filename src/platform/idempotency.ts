import type { Clock } from "./clock.ts";
import type { Database } from "./db.ts";
import { ApiError, conflict, problemBody } from "./errors.ts";
import { deriveHmacKey, hmacHex } from "./key-derivation.ts";
import type { Metrics } from "./metrics.ts";
import { contextOf } from "./request-context.ts";

/** Thrown to answer a retried request with the response its first attempt got. */
export class ReplayedResponse extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super("idempotent replay");
  }
}

const inProgress = () =>
  conflict("idempotency_key_in_progress", "A request with this Idempotency-Key is still being processed.");

/** The status and body stored for a key: the response, a problem, or the in-progress mark. */
function storedResponse<T, Held>(
  result: Outcome<T, Held>,
  successStatus: number,
  requestId: string,
  kept: (result: T) => unknown,
): [number, string] {
  if (result.kind === "refused") {
    return [result.error.status, JSON.stringify(problemBody(result.error, requestId))];
  }
  if (result.kind === "pending") return [IN_PROGRESS_STATUS, ""];
  return [successStatus, JSON.stringify(result.kind === "done" ? kept(result.value) : null)];
}

/** Keys are kept at least this long; older ones are purged. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/** JSON with object keys sorted, so that the same body sent with keys in another order hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * The key of request hashes, derived from a card encryption key. Keyed, because a request body may
 * carry a card number and CVV: a bare SHA-256 of it could be brute-forced from the stored hash.
 */
export const requestHashKey = (cardEncryptionKey: Uint8Array<ArrayBuffer>) =>
  deriveHmacKey(cardEncryptionKey, "wallet-api idempotency request hash v1");

/**
 * A unit of work done in two stages: `done` when the first stage decided everything, `pending` with
 * what the second stage, run after the first has committed and with no transaction open, needs.
 */
export type Staged<Done, Held> = { done: Done } | { pending: Held };

/** The stored status of a key whose request is between its two stages. */
const IN_PROGRESS_STATUS = 0;

interface StoredResponse {
  request_hash: string;
  response_status: number;
  response_body: string;
}

type Outcome<T, Held> =
  | { kind: "replay"; stored: StoredResponse }
  | { kind: "done"; value: T }
  | { kind: "pending"; held: Held }
  | { kind: "refused"; error: ApiError };

/**
 * Idempotency-Key on POST (contract §1). The key, the hash of the request and the response are
 * stored in the same database transaction as the effect, so there is never an effect without its
 * record nor a record without its effect. A transaction-scoped advisory lock on the key tells a
 * concurrent retry that the first attempt is still running.
 */
export class Idempotency {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly metrics: Pick<Metrics, "idempotentReplays">,
    /** The first hashes new requests; a stored hash made under any of them still matches (key rotation). */
    private readonly requestHashKeys: readonly [CryptoKey, ...CryptoKey[]],
  ) {}

  /**
   * Runs `work` at most once per API key and Idempotency-Key. A business refusal (a 4xx ApiError) is
   * stored and replayed like a success, its partial writes rolled back; a 5xx is not stored, so the
   * client may retry. `kept` is what a replay answers with (the result itself unless told: a created
   * key's secret is shown once and never stored).
   */
  run<T>(
    request: Request,
    body: unknown,
    work: () => Promise<T>,
    successStatus: number,
    kept: (result: T) => unknown = (result) => result,
  ): Promise<T> {
    return this.runStaged(
      request,
      body,
      async () => ({ done: await work() }),
      (never: never) => never,
      successStatus,
      kept,
    );
  }

  /**
   * As {@link run}, for work in two stages: `first` in the key's transaction, then, when it leaves
   * work `pending`, `then` after that transaction committed, outside any transaction (an outgoing call
   * that must hold no lock). Between the two the key is stored as in progress, so a retry meanwhile is
   * 409 idempotency_key_in_progress; the response of `then` is stored when it returns.
   */
  async runStaged<T, Held>(
    request: Request,
    body: unknown,
    first: () => Promise<Staged<T, Held>>,
    then: (held: Held) => Promise<T>,
    successStatus: number,
    kept: (result: T) => unknown = (result) => result,
  ): Promise<T> {
    const key = request.headers.get("idempotency-key");
    if (key === null) {
      const staged = await first();
      return "done" in staged ? staged.done : then(staged.pending);
    }
    const context = contextOf(request);
    const scope = context.apiKeyId ?? "anonymous";
    const requestText = `${request.method} ${new URL(request.url).pathname}\n${canonicalJson(body)}`;
    const [currentKey, ...previousKeys] = this.requestHashKeys;
    const requestHash = await hmacHex(currentKey, requestText);
    const matchingHashes = [
      requestHash,
      ...(await Promise.all(previousKeys.map((hashKey) => hmacHex(hashKey, requestText)))),
    ];

    const outcome = await this.db.transaction<Outcome<T, Held>>(async (tx) => {
      const lock = await tx.query<{ locked: boolean }>(
        "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked",
        // Length-prefixed, so no (scope, key) pair can be spelled like another.
        [`idempotency:${scope.length}:${scope}:${key}`],
      );
      if (lock.rows[0]?.locked !== true) throw inProgress();
      const stored = await tx.query<StoredResponse>(
        "SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE api_key_id = $1 AND key = $2",
        [scope, key],
      );
      const previous = stored.rows[0];
      if (previous !== undefined) {
        if (!matchingHashes.includes(previous.request_hash)) {
          throw conflict("idempotency_key_reused", "This Idempotency-Key was used with a different request.");
        }
        if (previous.response_status === IN_PROGRESS_STATUS) throw inProgress();
        return { kind: "replay", stored: previous };
      }
      await tx.query("SAVEPOINT idempotent_effect");
      let result: Outcome<T, Held>;
      try {
        const staged = await first();
        result =
          "done" in staged ? { kind: "done", value: staged.done } : { kind: "pending", held: staged.pending };
      } catch (error) {
        if (!(error instanceof ApiError) || error.status >= 500) throw error;
        await tx.query("ROLLBACK TO SAVEPOINT idempotent_effect");
        result = { kind: "refused", error };
      }
      const [status, responseBody] = storedResponse(result, successStatus, context.id, kept);
      await tx.query(
        `INSERT INTO idempotency_keys (api_key_id, key, request_hash, response_status, response_body, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [scope, key, requestHash, status, responseBody, this.clock()],
      );
      return result;
    });

    if (outcome.kind === "replay") {
      this.metrics.idempotentReplays.inc();
      throw new ReplayedResponse(outcome.stored.response_status, outcome.stored.response_body);
    }
    if (outcome.kind === "refused") throw outcome.error;
    if (outcome.kind === "done") return outcome.value;
    // A failure here (other than a refusal) leaves the key in progress: the first stage's effect
    // stands, and a retry must not repeat it.
    const finish = (result: Outcome<T, Held>) =>
      this.db.query(
        "UPDATE idempotency_keys SET response_status = $3, response_body = $4 WHERE api_key_id = $1 AND key = $2",
        [scope, key, ...storedResponse(result, successStatus, context.id, kept)],
      );
    let value: T;
    try {
      value = await then(outcome.held);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status >= 500) throw error;
      await finish({ kind: "refused", error });
      throw error;
    }
    await finish({ kind: "done", value });
    return value;
  }

  /** Deletes every key past its time, in short batches so no statement holds locks for long. */
  async purgeExpired(batchSize = 1000): Promise<number> {
    const cutoff = new Date(this.clock().getTime() - IDEMPOTENCY_KEY_TTL_MS);
    let purged = 0;
    for (;;) {
      const result = await this.db.query(
        `DELETE FROM idempotency_keys WHERE ctid IN (
           SELECT ctid FROM idempotency_keys WHERE created_at < $1 LIMIT $2)`,
        [cutoff, batchSize],
      );
      const deleted = result.rowCount ?? 0;
      purged += deleted;
      if (deleted < batchSize) return purged;
    }
  }
}
