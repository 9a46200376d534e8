import { AsyncLocalStorage } from "node:async_hooks";
import { createPgConfig } from "@electric-sql/pglite/node-postgres";
import { SpanKind, type Tracer } from "@opentelemetry/api";
import pg from "pg";
import type { Config } from "./config.ts";
import {
  ApiError,
  badRequest,
  databaseUnavailable,
  FailedAfterCommit,
  isDatabaseUnavailable,
  isRetryableTransactionError,
  isStorageFull,
  outcomeUnknown,
  SqlState,
  storageFull,
} from "./errors.ts";
import type { Logger } from "./logger.ts";
import { openEmbeddedDatabase } from "./pglite.ts";
import { currentReadIntent, type ReadIntent, ReadReplica, type ReplicaCheck } from "./read-replica.ts";
import { inSpan, sqlSpanAttributes } from "./telemetry.ts";

/** Anything that runs SQL: the pool, or a client inside a transaction. Repositories take one of these. */
export interface Queryable {
  query<Row extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<Row>>;
}

/**
 * A unit of work's hold on its transaction (see {@link Database.transaction}): its statements, and
 * `commit`, which sends COMMIT right behind the statements already sent, without waiting for their
 * answers. A statement that fails turns that COMMIT into a rollback, so nothing of the unit is kept.
 */
export interface Transaction extends Queryable {
  /**
   * Commits once every statement sent so far has run; none may be sent after it, and the unit must
   * not fail after it (it would be neither rolled back nor retried).
   */
  commit(): Promise<void>;
}

const INT8_OID = 20;
const DATE_OID = 1082;

/**
 * bigint columns arrive as JavaScript numbers. Every amount this service stores is at most 10^15,
 * well inside Number's exact range; a value outside it is a corrupted row and must never be rounded.
 */
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value))
    throw new RangeError(`bigint ${text} is outside the exact range of a number`);
  return value;
}

/** A calendar date stays the "YYYY-MM-DD" it is; turning it into a Date would shift it by the host's zone. */
const parseDate = (text: string) => text;

const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === INT8_OID) return parseInt8;
    if (oid === DATE_OID) return parseDate;
    return pg.types.getTypeParser(oid, format as "text");
  }) as pg.CustomTypesConfig["getTypeParser"],
};

/** A prepared statement's name: the same text always gets the same name, on every connection. */
const statementName = (text: string) => `wallet_${Bun.hash(text).toString(36)}`;

/**
 * The transaction the current async call chain runs in, if any. Queries and nested transactions
 * join it, so an outer unit of work (an idempotent request) wraps every write a service makes.
 */
const ambientTransaction = new AsyncLocalStorage<Transaction>();

/** A statement that only reads: outside a transaction it needs none. */
const READ_ONLY_STATEMENT = /^\s*SELECT\b/i;

export type DatabaseKind = "postgres" | "pglite";

/** What a readiness probe learns of the database. */
export type DatabaseCheck = "ok" | "unavailable" | "storage_full";

/** A readiness probe answers within this, whatever the database does. */
export const PROBE_TIMEOUT_MS = 1000;

/**
 * Writable: a primary that is neither in recovery (a standby, or a crashed primary restarted as one)
 * nor read-only (a demoted primary). Either still answers SELECT 1, yet every write fails with 25006.
 */
const WRITABLE_CHECK =
  "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AS writable";

/** What the database runs on, beyond the pool. */
export interface Engine {
  close(): Promise<void>;
  /** True when the database's disk is (about to be) too full to write; false where that cannot be seen. */
  storageFull(): Promise<boolean>;
}

export class Database implements Queryable {
  /** Set when tracing is on: every statement then gets a span. */
  private tracer: Tracer | undefined;
  /** Clients whose connection failed: discarded when released, never reused. */
  private readonly brokenClients = new WeakSet<pg.ClientBase>();
  /** The streaming replica GET requests read from (DATABASE_READ_URL), if any. */
  private replica: ReadReplica | undefined;

  /** `probePool` is what readiness probes use: their own connection on PostgreSQL, so a busy `pool` cannot starve them. */
  constructor(
    readonly kind: DatabaseKind,
    readonly pool: pg.Pool,
    private readonly engine: Engine,
    private readonly probePool: pg.Pool = pool,
  ) {
    for (const each of new Set([pool, probePool])) this.listenForErrors(each);
  }

  private listenForErrors(pool: pg.Pool): void {
    // From its first moment to its last, a client's "error" has a listener: pg-pool listens only while
    // the client is idle, and a FATAL arriving in the same chunk as the ReadyForQuery that handed it
    // to a waiting request came between the two listeners and, unheard, ended the process.
    pool.on("connect", (client) => {
      client.on("error", () => this.brokenClients.add(client));
    });
  }

  traceWith(tracer: Tracer): void {
    this.tracer = tracer;
  }

  /** True inside a unit of work of {@link transaction}: a statement then joins its transaction. */
  get inTransaction(): boolean {
    return ambientTransaction.getStore() !== undefined;
  }

  async query<Row extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<Row>> {
    const ambient = ambientTransaction.getStore();
    // A write of its own is a one-statement transaction: only a lost answer to its COMMIT then leaves
    // its outcome unknown, and is told apart from a failure that certainly changed nothing.
    if (ambient === undefined && !READ_ONLY_STATEMENT.test(text)) {
      return this.transaction(async (tx) => {
        const [result] = await Promise.all([tx.query<Row>(text, values), tx.commit()]);
        return result;
      });
    }
    const intent = ambient === undefined ? currentReadIntent() : undefined;
    if (intent !== undefined && this.replica !== undefined) {
      return this.routedRead<Row>(intent, this.replica, text, values);
    }
    try {
      // The ambient transaction's session is traced already (see transaction()); the pool is not.
      return await (ambient ?? this.session(this.pool)).query<Row>(text, values);
    } catch (error) {
      throw translateUnavailable(error);
    }
  }

  /**
   * A GET's plain read: on the replica when the request's intent chose it, on the primary otherwise.
   * A read the replica fails is read again from the primary: a replica going away costs no request.
   */
  private async routedRead<Row extends pg.QueryResultRow>(
    intent: ReadIntent,
    replica: ReadReplica,
    text: string,
    values: unknown[] | undefined,
  ): Promise<pg.QueryResult<Row>> {
    if ((await intent.target(replica)) === "replica") {
      try {
        // Checked per connection: behind a balancer, this read's server may not be the lag check's.
        const client = await replica.freshConnection(intent.readAfter);
        if (client !== undefined) {
          let failed = false;
          try {
            const result = await this.session(client).query<Row>(text, values);
            intent.record("replica");
            return result;
          } catch (error) {
            failed = true;
            throw error;
          } finally {
            client.release(failed);
          }
        }
      } catch (error) {
        if (isUnavailable(error)) replica.markUnavailable();
      }
    }
    intent.record("primary");
    return this.session(this.pool).query<Row>(text, values);
  }

  /** Reads go to `replica` where contract §9 allows; its lag checks start now. */
  readFrom(replica: ReadReplica): void {
    this.replica = replica;
    this.listenForErrors(replica.pool);
    this.listenForErrors(replica.probePool);
    // The primary's side of the measurement is on the probe connection: a saturated request pool
    // must not starve the lag check into calling a healthy replica unavailable.
    replica.start(() => this.walPosition(this.probePool));
  }

  /** The replica's pool, for its gauges; undefined without DATABASE_READ_URL. */
  get replicaPool(): pg.Pool | undefined {
    return this.replica?.pool;
  }

  /** The replica's last measured replay lag in milliseconds; undefined when unknown or off. */
  get replicaLagMs(): number | undefined {
    return this.replica?.lagMs;
  }

  /** What readiness reports of the replica, from the last lag check (no query of its own). */
  get replicaCheck(): ReplicaCheck {
    return this.replica?.check ?? "off";
  }

  /**
   * The primary's WAL position, for X-Read-After after a write has committed; undefined without a
   * replica (nobody needs it, and it costs a query) or when the primary does not answer.
   */
  async positionAfterWrite(): Promise<string | undefined> {
    if (this.replica === undefined) return undefined;
    return this.walPosition(this.pool).catch(() => undefined);
  }

  /** The primary's current WAL position, as PostgreSQL prints a pg_lsn. */
  private async walPosition(pool: pg.Pool): Promise<string> {
    const { rows } = await pool.query<{ position: string }>("SELECT pg_current_wal_lsn()::text AS position");
    const position = rows[0]?.position;
    if (position === undefined) throw new Error("pg_current_wal_lsn() returned no row");
    return position;
  }

  /**
   * Runs `work` in one READ COMMITTED transaction. A serialization failure or deadlock rolls back and
   * runs it again (up to 3 attempts), so `work` must only touch the database. Inside another
   * transaction it joins that one, and the outermost transaction owns commit and retry.
   *
   * On PostgreSQL the connections pipeline: BEGIN goes out with the first statement, and COMMIT
   * (`tx.commit()`, or after `work` returns) with the last, each in one round trip rather than one
   * of its own. PGlite runs the same statements one after the other.
   */
  async transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const outer = ambientTransaction.getStore();
    // Joined: the outermost unit commits, once all of its work is done.
    if (outer !== undefined) return work({ query: outer.query, commit: async () => {} });
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (error) {
        throw translateUnavailable(error);
      }
      const tx = this.transactionOn(client);
      try {
        const result = await ambientTransaction.run(tx, () => work(tx));
        await tx.commit();
        return result;
      } catch (error) {
        // Committed already: a failure after it must not roll back or run the work again, nor may
        // its caller serve the requests of the unit again (a batch of spends).
        if (tx.committed) throw new FailedAfterCommit(error);
        const failure = translateUnavailable(error);
        if (this.brokenClients.has(client) || isUnavailable(failure)) {
          // No ROLLBACK on a dead connection (it would wait out another time-out): PostgreSQL rolls
          // back a transaction whose connection is gone, and the client is discarded.
          this.brokenClients.add(client);
          // Sent but unanswered, a COMMIT may have been applied: a blind retry could apply it twice.
          // statement_timeout never cancels it: PostgreSQL lifts the time-out before the commit work
          // (deferred triggers, the wait for a synchronous standby), so a 2xx means replicated; only
          // query_timeout bounds the wait, and its expiry is outcome_unknown. The same holds for a
          // statement the COMMIT was sent behind: the server may have run both.
          if (tx.committing) throw outcomeUnknown();
        } else {
          await tx.rollback().catch(() => this.brokenClients.add(client));
        }
        if (attempt < 3 && isRetryableTransactionError(error)) continue;
        throw failure;
      } finally {
        client.release(this.brokenClients.has(client));
      }
    }
  }

  /**
   * The transaction of one unit of work on `client`: BEGIN sent at once, every statement sent in
   * order (at once where the connection pipelines, after the one before otherwise), and COMMIT once;
   * or ROLLBACK, behind whatever was sent.
   *
   * With statements still running, COMMIT goes out one turn of the event loop after `commit()` (once
   * they have run, where they run one after the other), and only if none of them has failed by then,
   * nor the unit given up: a statement can fail before it reaches the server (a value that cannot be
   * sent, a unit that failed building its next one), and PostgreSQL would then commit the statements
   * sent around it. A turn costs less than the round trip it saves: the answers it would wait for
   * need the event loop too.
   */
  private transactionOn(client: pg.PoolClient): Transaction & {
    readonly committing: boolean;
    readonly committed: boolean;
    rollback(): Promise<unknown>;
  } {
    const session = this.session(client);
    const pipelined = this.kind === "postgres";
    // What the next statement waits for where the connection does not pipeline (PGlite).
    let previous: Promise<unknown> = Promise.resolve();
    const running = new Set<Promise<unknown>>();
    // The statements running when COMMIT was asked for, while it waits for its turn.
    let awaited: Set<Promise<unknown>> | undefined;
    let failedMeanwhile = false;
    let givenUp = false;
    let commit: Promise<void> | undefined;
    let committing = false;
    let committed = false;
    const send = <Row extends pg.QueryResultRow>(text: string, values?: unknown[]) => {
      const sent = pipelined
        ? session.query<Row>(text, values)
        : previous.then(
            () => session.query<Row>(text, values),
            () => session.query<Row>(text, values),
          );
      previous = sent;
      running.add(sent);
      sent.then(
        () => running.delete(sent),
        () => {
          running.delete(sent);
          if (awaited?.has(sent)) failedMeanwhile = true;
        },
      );
      return sent;
    };
    const begun = send("BEGIN");
    // Its failure reaches the unit through the statements behind it, or through commit().
    begun.catch(() => {});
    const sendCommit = async () => {
      awaited = new Set(running);
      // With nothing running, nothing can fail unseen: COMMIT goes at once. Where statements run one
      // after the other, waiting for them costs nothing.
      if (awaited.size > 0) {
        await (pipelined ? new Promise((turn) => setImmediate(turn)) : Promise.allSettled(awaited));
      }
      if (failedMeanwhile || givenUp)
        throw new Error("not committed: the unit failed before its COMMIT was sent");
      committing = true;
      const [, result] = await Promise.all([begun, send("COMMIT")]);
      // A COMMIT after a statement failed is a ROLLBACK: that statement's error tells why.
      if (result.command !== "COMMIT") throw new Error(`the transaction ended with ${result.command}`);
      committed = true;
    };
    return {
      get committing() {
        return committing;
      },
      get committed() {
        return committed;
      },
      query<Row extends pg.QueryResultRow>(text: string, values?: unknown[]) {
        if (commit !== undefined) throw new Error("a statement was sent after its transaction's COMMIT");
        return send<Row>(text, values);
      },
      commit() {
        if (commit === undefined) {
          commit = sendCommit();
          // The unit hears of a failure through what it awaits; this only keeps it from going unheard.
          commit.catch(() => {});
        }
        return commit;
      },
      rollback() {
        givenUp = true;
        return send("ROLLBACK");
      },
    };
  }

  /**
   * How the service talks to `target`. A statement with parameters is prepared once per connection,
   * under a name derived from its text, so PostgreSQL parses and plans it once rather than per call;
   * with tracing on, each statement is a span.
   */
  private session(target: pg.Pool | pg.PoolClient): Queryable {
    // Errors become the client's (400 invalid_text) or the database's (503) where they happen, so
    // that an idempotent unit of work sees the same ApiError whichever path the statement took.
    const run = <Row extends pg.QueryResultRow>(text: string, values?: unknown[]) =>
      (values === undefined
        ? target.query<Row>(text)
        : target.query<Row>({ name: statementName(text), text, values })
      ).catch((error: unknown) => {
        throw translateUnavailable(error);
      });
    const tracer = this.tracer;
    if (tracer === undefined) return { query: run };
    return {
      query<Row extends pg.QueryResultRow>(text: string, values?: unknown[]) {
        const span = sqlSpanAttributes(text);
        return inSpan(tracer, span.name, span.attributes, () => run<Row>(text, values), SpanKind.CLIENT);
      },
    };
  }

  /**
   * "ok" when the database takes writes (see WRITABLE_CHECK) and has room for them, within
   * PROBE_TIMEOUT_MS; a probe must not hang with the database.
   */
  async check(): Promise<DatabaseCheck> {
    const checked = this.writable().then(
      async (writable) => {
        if (!writable) return "unavailable";
        return (await this.engine.storageFull()) ? "storage_full" : "ok";
      },
      () => "unavailable" as const,
    );
    const gaveUp = Bun.sleep(PROBE_TIMEOUT_MS).then(() => "unavailable" as const);
    return Promise.race([checked, gaveUp]);
  }

  private async writable(): Promise<boolean> {
    const client = await this.probePool.connect();
    let writable = false;
    try {
      const result = await client.query<{ writable: boolean }>(WRITABLE_CHECK);
      writable = result.rows[0]?.writable === true;
      return writable;
    } finally {
      // An unwritable server is not asked again on this connection: behind a proxy (HAProxy), a new
      // one reaches whichever node is the primary by then, and a new session reads the server's
      // read-only setting afresh.
      client.release(!writable || this.brokenClients.has(client));
    }
  }

  async close(): Promise<void> {
    await this.replica?.close();
    await this.pool.end();
    if (this.probePool !== this.pool) await this.probePool.end();
    await this.engine.close();
  }
}

const UNSTORABLE_TEXT = new Set<unknown>([
  SqlState.characterNotInRepertoire,
  SqlState.untranslatableCharacter,
]);

/**
 * Database failures that are not the service's fault: an unreachable database or a full disk is 503,
 * text PostgreSQL cannot store (a NUL character) is the client's 400. A full disk leaves the
 * connection sound, so its transaction is rolled back as usual.
 */
const isUnavailable = (error: unknown) =>
  error instanceof ApiError && error.status === 503 && error.code !== "storage_full";

function translateUnavailable(error: unknown): unknown {
  if (isDatabaseUnavailable(error)) return databaseUnavailable();
  if (isStorageFull(error)) return storageFull();
  if (UNSTORABLE_TEXT.has((error as { code?: unknown } | null)?.code)) {
    return badRequest("invalid_text", "Text may not contain NUL characters or bytes that are not UTF-8.");
  }
  return error;
}

/** A pool on a PostgreSQL server, named in pg_stat_activity, whose idle clients may die quietly. */
function poolTo(url: string, applicationName: string, logger: Logger, limits: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    keepAlive: true,
    application_name: applicationName,
    types: typeParsers,
    ...limits,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on("error", (error) => logger.warn({ err: error, applicationName }, "idle database connection lost"));
  return pool;
}

/** The pool requests use on a PostgreSQL server. */
function requestPool(
  url: string,
  config: Pick<Config, "DB_POOL_MAX" | "DB_QUERY_TIMEOUT">,
  applicationName: string,
  logger: Logger,
): pg.Pool {
  // No request waits on the database longer than DB_QUERY_TIMEOUT: not for a pooled connection
  // (a queue slot or a new one), not for a statement on the server, nor for an answer that a
  // cut network never delivers (query_timeout, on the client).
  return poolTo(url, applicationName, logger, {
    max: config.DB_POOL_MAX,
    // A statement goes out without waiting for the answer to the one before (see transaction()).
    pipeline: true,
    // A connection once opened stays open (pg-pool closes an idle one after 10 s by default): load
    // after a quiet spell would otherwise pay for new connections, new server processes with cold
    // caches and every statement prepared again. Connections that break are dropped as before.
    idleTimeoutMillis: 0,
    connectionTimeoutMillis: config.DB_QUERY_TIMEOUT,
    statement_timeout: config.DB_QUERY_TIMEOUT,
    query_timeout: config.DB_QUERY_TIMEOUT,
    idle_in_transaction_session_timeout: config.DB_QUERY_TIMEOUT * 2,
  });
}

/** One connection for probes (readiness, lag checks), every wait on it bounded by PROBE_TIMEOUT_MS. */
function probeConnection(url: string, applicationName: string, logger: Logger): pg.Pool {
  return poolTo(url, applicationName, logger, {
    max: 1,
    connectionTimeoutMillis: PROBE_TIMEOUT_MS,
    statement_timeout: PROBE_TIMEOUT_MS,
    query_timeout: PROBE_TIMEOUT_MS,
  });
}

/**
 * The streaming replica of DATABASE_READ_URL, which GET requests may read from (contract §9); pass it
 * to `Database.readFrom`. Its read pool has the request pool's size and limits; a replica that does
 * not answer within them costs a read its retry on the primary, never an error.
 */
export function openReadReplica(
  config: Pick<Config, "DATABASE_READ_URL" | "DATABASE_READ_MAX_LAG_MS" | "DB_POOL_MAX" | "DB_QUERY_TIMEOUT">,
  logger: Logger,
): ReadReplica | undefined {
  if (config.DATABASE_READ_URL === undefined) return undefined;
  return new ReadReplica(
    requestPool(config.DATABASE_READ_URL, config, "wallet-api-reads", logger),
    probeConnection(config.DATABASE_READ_URL, "wallet-api-replica-probe", logger),
    config.DATABASE_READ_MAX_LAG_MS,
    logger,
  );
}

/**
 * PostgreSQL when DATABASE_URL is set, otherwise embedded PGlite in DATA_DIR. Both are reached through
 * the same pg.Pool, so every query in the service is one code path.
 */
export async function openDatabase(
  config: Pick<Config, "DATABASE_URL" | "DATA_DIR" | "DB_POOL_MAX" | "DB_QUERY_TIMEOUT">,
  logger: Logger,
): Promise<Database> {
  if (config.DATABASE_URL !== undefined) {
    const pool = requestPool(config.DATABASE_URL, config, "wallet-api", logger);
    // Readiness has a connection of its own, so that a request pool that is busy (every connection
    // waiting on a lock) or just recovering never makes every instance look down at once.
    const probePool = probeConnection(config.DATABASE_URL, "wallet-api-probe", logger);
    // The server's disk cannot be seen from here; a full one shows as storage_full on the writes.
    return new Database(
      "postgres",
      pool,
      { close: async () => {}, storageFull: async () => false },
      probePool,
    );
  }
  const embedded = await openEmbeddedDatabase(config.DATA_DIR, logger);
  // PGlite is a single connection: one pooled client serialises every transaction, which keeps
  // the locking rules trivially true in embedded mode.
  const pool = new pg.Pool({ ...createPgConfig(embedded.engine), max: 1, types: typeParsers });
  return new Database("pglite", pool, embedded);
}
