import { AsyncLocalStorage } from "node:async_hooks";
import type pg from "pg";
import type { Logger } from "./logger.ts";

/** Where a GET request's plain reads went. */
export type ReadTarget = "primary" | "replica";

/** What readiness reports of the replica: "off" when DATABASE_READ_URL is unset. */
export type ReplicaCheck = "ok" | "lagging" | "unavailable" | "off";

/** A WAL position as PostgreSQL prints a pg_lsn: two hexadecimal halves of a 64-bit number. */
export const WAL_POSITION = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/;

/** How often the replica's lag is measured; requests read the last measurement, never measure. */
const LAG_CHECK_INTERVAL_MS = 250;

/** A GET with X-Read-After waits at most this long for the replica to replay the position (contract §9). */
const READ_AFTER_WAIT_MS = 100;

const READ_AFTER_POLL_MS = 10;

/**
 * A measurement older than this is not trusted: a stalled check (a replica that stopped answering
 * mid-query) must not keep an old "ok" alive while the real lag grows.
 */
const MEASUREMENT_FRESH_MS = 4 * LAG_CHECK_INTERVAL_MS;

const maxOf = (a: bigint, b: bigint) => (a > b ? a : b);

const parseWalPosition = (position: string): bigint => {
  const [high = "0", low = "0"] = position.split("/");
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
};

/**
 * The intent of a GET request to read, set around the whole request: `Database.query` sends a plain
 * read (outside a transaction) to the replica only inside one. Writes and money decisions run in
 * transactions, which always use the primary, so nothing a request decides on is read from here.
 */
export class ReadIntent {
  /** Decided at the first plain read and kept, so that one response is read from one place. */
  private decision: Promise<ReadTarget> | undefined;
  /** Set when any read of the request went to the primary. */
  private readFromPrimary = false;
  private readFromReplica = false;

  /** `readAfter`: the request's valid X-Read-After, a position the replica must have replayed. */
  constructor(readonly readAfter: string | undefined) {}

  target(replica: ReadReplica): Promise<ReadTarget> {
    this.decision ??= replica.choose(this.readAfter);
    return this.decision;
  }

  record(target: ReadTarget): void {
    if (target === "primary") this.readFromPrimary = true;
    else this.readFromReplica = true;
  }

  /** "replica" only when the database was read and every read came from the replica. */
  get servedBy(): ReadTarget {
    return this.readFromReplica && !this.readFromPrimary ? "replica" : "primary";
  }

  /** Whether the request read the database at all. */
  get readTheDatabase(): boolean {
    return this.readFromPrimary || this.readFromReplica;
  }
}

const readIntents = new AsyncLocalStorage<ReadIntent>();

/** Runs `work` (a whole GET request) with the intent to read from the replica where it may. */
export const withReadIntent = <T>(intent: ReadIntent, work: () => T): T => readIntents.run(intent, work);

export const currentReadIntent = (): ReadIntent | undefined => readIntents.getStore();

/** A position of the primary's WAL as the lag check read it, and when. */
interface PrimarySample {
  position: bigint;
  at: number;
}

/** What a pooled replica connection's server had replayed when last asked, and when. */
interface ConnectionReplay {
  replayed: bigint;
  at: number;
}

interface LagMeasurement {
  check: Exclude<ReplicaCheck, "off">;
  /** Replay lag in milliseconds; undefined when the replica or the primary did not answer. */
  lagMs: number | undefined;
  measuredAt: number;
}

/**
 * A streaming replica (DATABASE_READ_URL) and what is known of its lag. A background check measures
 * it every LAG_CHECK_INTERVAL_MS, so a request pays nothing for it.
 */
export class ReadReplica {
  private measurement: LagMeasurement = { check: "unavailable", lagMs: undefined, measuredAt: 0 };
  /** The highest position the replica is known to have replayed. */
  private replayed = 0n;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  /** The primary's recent positions, oldest first, covering a little more than maxLagMs. */
  private primarySamples: PrimarySample[] = [];
  /**
   * Per pooled connection. DATABASE_READ_URL may be a balancer over several replicas, so the lag
   * check's connection and a read's connection can reach different servers (one just rejoined and
   * far behind, say): every read is checked against what its own connection's server replayed.
   */
  private readonly connectionReplay = new WeakMap<pg.PoolClient, ConnectionReplay>();

  /**
   * `pool` serves the reads and the X-Read-After polls; `probePool` (one connection) the lag checks, so
   * that busy reads never delay the measurement.
   */
  constructor(
    readonly pool: pg.Pool,
    readonly probePool: pg.Pool,
    private readonly maxLagMs: number,
    private readonly logger: Logger,
  ) {}

  /**
   * Starts the background lag check, asking `primaryPosition` for the primary's WAL position; the
   * first measurement is taken at once.
   */
  start(primaryPosition: () => Promise<string>): void {
    const loop = async () => {
      await this.measure(primaryPosition);
      if (!this.stopped) this.timer = setTimeout(loop, LAG_CHECK_INTERVAL_MS);
    };
    void loop();
  }

  /** The last measurement, as readiness reports it. */
  get check(): Exclude<ReplicaCheck, "off"> {
    return this.fresh() ? this.measurement.check : "unavailable";
  }

  get lagMs(): number | undefined {
    return this.fresh() ? this.measurement.lagMs : undefined;
  }

  private fresh(): boolean {
    return performance.now() - this.measurement.measuredAt <= MEASUREMENT_FRESH_MS;
  }

  /**
   * Lag: zero when the replica has replayed the primary's position as read just before; otherwise the
   * age of the last transaction it replayed. That age alone would grow on an idle primary, where the
   * positions are equal; it is only consulted while the replica is behind.
   */
  private async measure(primaryPosition: () => Promise<string>): Promise<void> {
    let measurement: LagMeasurement;
    try {
      const primary = parseWalPosition(await primaryPosition());
      this.notePrimary(primary);
      const { rows } = await this.probePool.query<{ replayed: string | null; age_ms: number | null }>(
        `SELECT pg_last_wal_replay_lsn()::text AS replayed,
                (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::float8 AS age_ms`,
      );
      const row = rows[0];
      // Not a standby (replay position NULL): nothing says it follows the primary.
      if (row?.replayed == null) throw new Error("DATABASE_READ_URL is not a streaming replica");
      const replayed = parseWalPosition(row.replayed);
      this.noteReplayed(replayed);
      const lagMs = replayed >= primary ? 0 : Math.max(0, row.age_ms ?? Number.POSITIVE_INFINITY);
      measurement = {
        check: lagMs <= this.maxLagMs ? "ok" : "lagging",
        lagMs,
        measuredAt: performance.now(),
      };
    } catch (error) {
      if (this.measurement.check !== "unavailable") {
        this.logger.warn({ err: error }, "read replica unavailable: reads go to the primary");
      }
      measurement = { check: "unavailable", lagMs: undefined, measuredAt: performance.now() };
    }
    if (measurement.check === "ok" && this.measurement.check !== "ok") {
      this.logger.info({ lagMs: measurement.lagMs }, "read replica in use");
    }
    this.measurement = measurement;
  }

  private notePrimary(position: bigint): void {
    const now = performance.now();
    this.primarySamples.push({ position, at: now });
    // Keep the newest sample at least maxLagMs old, and everything after it.
    const cutoff = now - this.maxLagMs;
    while ((this.primarySamples[1]?.at ?? Number.POSITIVE_INFINITY) <= cutoff) this.primarySamples.shift();
  }

  /**
   * The position a replica must have replayed to be within the bound: the primary's position of
   * maxLagMs ago (or of the oldest sample, which is newer: stricter). Undefined before any sample.
   */
  private boundPosition(): bigint | undefined {
    const cutoff = performance.now() - this.maxLagMs;
    let bound = this.primarySamples[0]?.position;
    for (const sample of this.primarySamples) if (sample.at <= cutoff) bound = sample.position;
    return bound;
  }

  /**
   * A connection of the read pool whose server has replayed what the read needs: the primary's
   * position of DATABASE_READ_MAX_LAG_MS ago, and `readAfter` when given. Its replay position is
   * asked on the connection itself, at most every LAG_CHECK_INTERVAL_MS (or again when the last
   * answer falls short). Undefined when it falls short: the read goes to the primary. The caller
   * releases the connection.
   */
  async freshConnection(readAfter: string | undefined): Promise<pg.PoolClient | undefined> {
    const bound = this.boundPosition();
    if (bound === undefined) return undefined;
    const needed = readAfter === undefined ? bound : maxOf(bound, parseWalPosition(readAfter));
    const client = await this.pool.connect();
    try {
      let known = this.connectionReplay.get(client);
      if (
        known === undefined ||
        known.replayed < needed ||
        performance.now() - known.at > LAG_CHECK_INTERVAL_MS
      ) {
        const { rows } = await client.query<{ replayed: string | null }>(
          "SELECT pg_last_wal_replay_lsn()::text AS replayed",
        );
        const replayed = rows[0]?.replayed;
        known = { replayed: replayed == null ? -1n : parseWalPosition(replayed), at: performance.now() };
        this.connectionReplay.set(client, known);
      }
      if (known.replayed >= needed) return client;
      client.release();
      return undefined;
    } catch (error) {
      client.release(true);
      throw error;
    }
  }

  private noteReplayed(position: bigint): void {
    if (position > this.replayed) this.replayed = position;
  }

  /** A read failed on the replica: until the next check says otherwise, reads go to the primary. */
  markUnavailable(): void {
    this.measurement = { check: "unavailable", lagMs: undefined, measuredAt: performance.now() };
  }

  /**
   * Where a GET's reads go: the replica while its lag is within the bound and, with `readAfter`, once
   * it has replayed that position (waiting at most READ_AFTER_WAIT_MS); otherwise the primary.
   */
  async choose(readAfter: string | undefined): Promise<ReadTarget> {
    if (this.check !== "ok") return "primary";
    if (readAfter === undefined) return "replica";
    const wanted = parseWalPosition(readAfter);
    const deadline = performance.now() + READ_AFTER_WAIT_MS;
    for (;;) {
      if (this.replayed >= wanted) return "replica";
      if (performance.now() >= deadline) return "primary";
      const replayed = await this.replayPosition();
      if (replayed === undefined) return "primary";
      this.noteReplayed(replayed);
      if (this.replayed >= wanted) return "replica";
      await Bun.sleep(Math.min(READ_AFTER_POLL_MS, Math.max(0, deadline - performance.now())));
    }
  }

  private async replayPosition(): Promise<bigint | undefined> {
    // On the read pool: many GETs may wait at once, and the lag check keeps its own connection.
    const asked = this.pool
      .query<{ replayed: string | null }>("SELECT pg_last_wal_replay_lsn()::text AS replayed")
      .then((result) => result.rows[0]?.replayed ?? undefined)
      .catch(() => undefined);
    // The wait is bounded even when the replica stops answering mid-poll.
    const gaveUp = Bun.sleep(READ_AFTER_WAIT_MS).then(() => undefined);
    const replayed = await Promise.race([asked, gaveUp]);
    return replayed === undefined ? undefined : parseWalPosition(replayed);
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.pool.end();
    await this.probePool.end();
  }
}
