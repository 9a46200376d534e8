/**
 * Group commit: requests that arrive while earlier ones are being decided wait in a queue, and the
 * next free slot takes all of them (up to `maxBatch`) into one unit of work, so one transaction, one
 * set of statements and one commit serve many requests. Under no load a request is taken at once,
 * alone. Each request still gets its own outcome.
 *
 * Each request has a key (the wallet it spends from): a request waits while a running batch holds its
 * key, so batches that run at the same time never share one and never queue on each other's row
 * locks, and all the requests of a busy key go together into its next batch, in arrival order.
 *
 * With `spillAfterMs`, while a batch runs the next one waits for it, so that everything that arrived
 * meanwhile is decided together; only once the oldest running batch has run that long does another
 * start beside it (up to `maxInFlight`), so that a stuck batch (waiting for a row lock another
 * instance holds, say) does not hold up spends on other wallets for longer than that. With 0 (the
 * default) a batch starts whenever a slot is free.
 *
 * With `lingerMs`, when a batch ends the next one waits up to that long for as many requests as the
 * service held at once while it ran (queued and in batches, less those still in other batches): clients that send their next request as
 * soon as they have an answer (a card processor's connection pool) are then decided together, rather
 * than split into two half batches that take turns. It starts as soon as that many are queued, so a
 * request under no load, or after a batch of one, never waits.
 *
 * A unit of work that fails is retried one request at a time, so one request's bad input cannot fail
 * the others; except when the database is unavailable or the commit's outcome is unknown (any 503):
 * then every request of the batch gets that error, and none is retried here (a retry could apply a
 * committed batch twice; clients retry with their Idempotency-Key).
 */
import { type Context, context } from "@opentelemetry/api";
import { ApiError } from "./errors.ts";

interface Queued<Request, Outcome> {
  request: Request;
  key: string;
  /** The trace context of the request: a batch runs in its first request's. */
  context: Context;
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
}

/** A failure that every request of a batch shares: retrying them one by one would not help, or could harm. */
const sharedByAll = (error: unknown) => error instanceof ApiError && error.status === 503;

export class GroupCommit<Request, Outcome> {
  private queue: Queued<Request, Outcome>[] = [];
  /** When each running batch started (performance.now()). */
  private readonly running = new Set<{ startedAt: number }>();
  /** The keys of the running batches. */
  private readonly busy = new Set<string>();
  /** A dispatch due when the oldest running batch reaches `spillAfterMs`, or a linger ends. */
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Requests in the running batches. */
  private deciding = 0;
  /** The most requests held at once (queued and deciding) since a batch last ended. */
  private mostHeld = 0;
  /** After a batch ends: how many queued requests the next one waits for, and until when (performance.now()). */
  private linger = { requests: 0, until: 0 };

  /**
   * `work` decides a batch and returns one outcome per request, in order. At most `maxInFlight`
   * batches run at once (each holds a database connection), each of at most `maxBatch` requests;
   * a batch starts beside a running one only after that one has run `spillAfterMs`, and after a
   * batch ends the next waits up to `lingerMs` for as many requests as were held meanwhile.
   */
  constructor(
    private readonly work: (requests: Request[]) => Promise<Outcome[]>,
    private readonly limits: {
      maxInFlight: number;
      maxBatch: number;
      spillAfterMs?: number;
      lingerMs?: number;
    },
  ) {}

  submit(request: Request, key: string): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.queue.push({ request, key, context: context.active(), resolve, reject });
      this.mostHeld = Math.max(this.mostHeld, this.queue.length + this.deciding);
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.running.size < this.limits.maxInFlight && this.queue.length > 0) {
      const wait = Math.max(this.spillWait(), this.lingerWait());
      if (wait > 0) {
        // Set anew: the wait is worked out from deadlines, and a linger may end before a spill.
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.dispatch(), wait);
        return;
      }
      const batch = this.nextBatch();
      if (batch.length === 0) return;
      const keys = new Set(batch.map((queued) => queued.key));
      for (const key of keys) this.busy.add(key);
      const started = { startedAt: performance.now() };
      this.running.add(started);
      this.deciding += batch.length;
      void this.run(batch).finally(() => {
        for (const key of keys) this.busy.delete(key);
        this.running.delete(started);
        this.deciding -= batch.length;
        // Those still deciding in another batch cannot be queued again before it ends.
        this.linger = {
          requests: Math.min(this.mostHeld - this.deciding, this.limits.maxBatch),
          until: performance.now() + (this.limits.lingerMs ?? 0),
        };
        this.mostHeld = this.queue.length + this.deciding;
        this.dispatch();
      });
    }
  }

  /** Milliseconds the next batch still lingers for requests after the last one ended; 0 once enough are queued. */
  private lingerWait(): number {
    if (this.queue.length >= this.linger.requests) return 0;
    return Math.max(0, this.linger.until - performance.now());
  }

  /** Milliseconds until a batch may start beside the running ones: 0 when none runs or the oldest has run long enough. */
  private spillWait(): number {
    if (this.running.size === 0) return 0;
    const oldest = Math.min(...[...this.running].map((batch) => batch.startedAt));
    return Math.max(0, oldest + (this.limits.spillAfterMs ?? 0) - performance.now());
  }

  /** Takes the queued requests whose key no running batch holds, in arrival order, up to `maxBatch`. */
  private nextBatch(): Queued<Request, Outcome>[] {
    const batch: Queued<Request, Outcome>[] = [];
    const waiting: Queued<Request, Outcome>[] = [];
    for (const queued of this.queue) {
      if (batch.length < this.limits.maxBatch && !this.busy.has(queued.key)) batch.push(queued);
      else waiting.push(queued);
    }
    this.queue = waiting;
    return batch;
  }

  private async run(batch: Queued<Request, Outcome>[]): Promise<void> {
    const [first] = batch;
    if (first === undefined) return;
    let outcomes: Outcome[];
    try {
      outcomes = await context.with(first.context, () => this.work(batch.map((queued) => queued.request)));
    } catch (error) {
      if (batch.length === 1 || sharedByAll(error)) {
        for (const queued of batch) queued.reject(error);
        return;
      }
      await Promise.all(batch.map((queued) => this.run([queued])));
      return;
    }
    batch.forEach((queued, index) => {
      const outcome = outcomes[index];
      if (outcome === undefined)
        queued.reject(new Error(`a batch of ${batch.length} got ${outcomes.length} outcomes`));
      else queued.resolve(outcome);
    });
  }
}
