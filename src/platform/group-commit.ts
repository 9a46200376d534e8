/**
 * Group commit: requests that arrive while earlier ones are being decided wait in a queue, and the
 * next free slot takes all of them (up to `maxBatch`) into one unit of work, so one transaction, one
 * set of statements and one commit serve many requests. Under no load a request is taken at once,
 * alone. Each request still gets its own outcome.
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
  /** The trace context of the request: a batch runs in its first request's. */
  context: Context;
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
}

/** A failure that every request of a batch shares: retrying them one by one would not help, or could harm. */
const sharedByAll = (error: unknown) => error instanceof ApiError && error.status === 503;

export class GroupCommit<Request, Outcome> {
  private readonly queue: Queued<Request, Outcome>[] = [];
  private inFlight = 0;

  /**
   * `work` decides a batch and returns one outcome per request, in order. At most `maxInFlight`
   * batches run at once (each holds a database connection), each of at most `maxBatch` requests.
   */
  constructor(
    private readonly work: (requests: Request[]) => Promise<Outcome[]>,
    private readonly maxInFlight: number,
    private readonly maxBatch: number,
  ) {}

  submit(request: Request): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.queue.push({ request, context: context.active(), resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.dispatch();
      });
    }
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
