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
 * When a batch starts: with a slot free, once the queue holds every request the service held at once
 * lately (queued and deciding, the most within the last {@link PEAK_WINDOW_MS}); or once it holds a
 * slot's share of them (that number ÷ `maxInFlight`) while another batch runs or when they span more
 * than one key; or once the linger runs out: `lingerMs` after the last batch ended when none runs,
 * after the oldest queued request arrived when one does. So clients that send their next request as
 * soon as they have an answer (a card processor's connection pool) settle into `maxInFlight` groups
 * that take turns: while one group is decided in the database, the others' answers go out and their
 * next requests come in, and the service and the database work at the same time. A single hot key's
 * requests cannot be decided in two batches at once, so they wait for all of them instead. A request
 * under no load, or after a batch of one, never waits.
 *
 * A unit of work that fails is retried one request at a time, so one request's bad input cannot fail
 * the others; except when the database is unavailable or the commit's outcome is unknown (any 503):
 * then every request of the batch gets that error, and none is retried here (a retry could apply a
 * committed batch twice; clients retry with their Idempotency-Key).
 */
import { type Context, context } from "@opentelemetry/api";
import { sharedByBatch } from "./errors.ts";

interface Queued<Request, Outcome> {
  request: Request;
  key: string;
  /** The trace context of the request: a batch runs in its first request's. */
  context: Context;
  /** When it was queued (performance.now()). */
  arrivedAt: number;
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
}

/** How long the most requests held at once is remembered, so that a burst long past is forgotten. */
const PEAK_WINDOW_MS = 500;

export class GroupCommit<Request, Outcome> {
  private queue: Queued<Request, Outcome>[] = [];
  /** The batches running. */
  private running = 0;
  /** The keys of the running batches. */
  private readonly busy = new Set<string>();
  /** A dispatch due when a linger runs out. */
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Requests in the running batches. */
  private deciding = 0;
  /** The most requests held at once (queued and deciding) lately, and when that was last reached. */
  private peak = { held: 0, at: 0 };
  /** When the last batch ended (performance.now()). */
  private lastEndedAt = Number.NEGATIVE_INFINITY;

  /**
   * `work` decides a batch and returns one outcome per request, in order. At most `maxInFlight`
   * batches run at once (each holds a database connection), each of at most `maxBatch` requests;
   * `lingerMs` bounds how long a queued request waits for others to join its batch.
   */
  constructor(
    private readonly work: (requests: Request[]) => Promise<Outcome[]>,
    private readonly limits: { maxInFlight: number; maxBatch: number; lingerMs?: number },
  ) {}

  submit(request: Request, key: string): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      const arrivedAt = performance.now();
      this.queue.push({ request, key, context: context.active(), arrivedAt, resolve, reject });
      const held = this.queue.length + this.deciding;
      if (held >= this.peak.held || arrivedAt - this.peak.at > PEAK_WINDOW_MS)
        this.peak = { held, at: arrivedAt };
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.running < this.limits.maxInFlight && this.queue.length > 0) {
      const wait = this.lingerWait();
      if (wait > 0) {
        // Set anew: the wait is worked out from deadlines, which move as batches start and end.
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.dispatch(), wait);
        return;
      }
      const batch = this.nextBatch();
      if (batch.length === 0) return;
      const keys = new Set(batch.map((queued) => queued.key));
      for (const key of keys) this.busy.add(key);
      this.running++;
      this.deciding += batch.length;
      void this.decide(batch).then((deliver) => {
        // Counted out before the answers go: a client's next request must not find its last one still deciding.
        for (const key of keys) this.busy.delete(key);
        this.running--;
        this.deciding -= batch.length;
        this.lastEndedAt = performance.now();
        deliver();
        this.dispatch();
      });
    }
  }

  /** Milliseconds the next batch still waits for more requests: 0 once enough are queued or the linger has run out. */
  private lingerWait(): number {
    const whole = Math.min(this.peak.held, this.limits.maxBatch);
    const queued = this.queue.length;
    if (queued >= whole) return 0;
    if (queued >= Math.ceil(whole / this.limits.maxInFlight) && (this.running > 0 || this.spansKeys()))
      return 0;
    const since = this.running > 0 ? (this.queue[0]?.arrivedAt ?? this.lastEndedAt) : this.lastEndedAt;
    return Math.max(0, since + (this.limits.lingerMs ?? 0) - performance.now());
  }

  /** Whether the queued requests have more than one key (else they could not be split over two batches). */
  private spansKeys(): boolean {
    const first = this.queue[0]?.key;
    return this.queue.some((queued) => queued.key !== first);
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

  /** Decides `batch` (retrying its requests one by one if it fails); gives back what hands each its outcome. */
  private async decide(batch: Queued<Request, Outcome>[]): Promise<() => void> {
    const [first] = batch;
    if (first === undefined) return () => {};
    let outcomes: Outcome[];
    try {
      outcomes = await context.with(first.context, () => this.work(batch.map((queued) => queued.request)));
    } catch (error) {
      if (batch.length === 1 || sharedByBatch(error)) {
        return () => {
          for (const queued of batch) queued.reject(error);
        };
      }
      const retried = await Promise.all(batch.map((queued) => this.decide([queued])));
      return () => {
        for (const deliver of retried) deliver();
      };
    }
    return () =>
      batch.forEach((queued, index) => {
        const outcome = outcomes[index];
        if (outcome === undefined)
          queued.reject(new Error(`a batch of ${batch.length} got ${outcomes.length} outcomes`));
        else queued.resolve(outcome);
      });
  }
}
