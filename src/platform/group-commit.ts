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
  private inFlight = 0;
  /** The keys of the running batches. */
  private readonly busy = new Set<string>();

  /**
   * `work` decides a batch and returns one outcome per request, in order. At most `maxInFlight`
   * batches run at once (each holds a database connection), each of at most `maxBatch` requests.
   */
  constructor(
    private readonly work: (requests: Request[]) => Promise<Outcome[]>,
    private readonly maxInFlight: number,
    private readonly maxBatch: number,
  ) {}

  submit(request: Request, key: string): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.queue.push({ request, key, context: context.active(), resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.inFlight < this.maxInFlight) {
      const batch = this.nextBatch();
      if (batch.length === 0) return;
      const keys = new Set(batch.map((queued) => queued.key));
      for (const key of keys) this.busy.add(key);
      this.inFlight++;
      void this.run(batch).finally(() => {
        for (const key of keys) this.busy.delete(key);
        this.inFlight--;
        this.dispatch();
      });
    }
  }

  /** Takes the queued requests whose key no running batch holds, in arrival order, up to `maxBatch`. */
  private nextBatch(): Queued<Request, Outcome>[] {
    const batch: Queued<Request, Outcome>[] = [];
    const waiting: Queued<Request, Outcome>[] = [];
    for (const queued of this.queue) {
      if (batch.length < this.maxBatch && !this.busy.has(queued.key)) batch.push(queued);
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
