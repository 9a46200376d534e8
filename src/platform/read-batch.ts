/**
 * Read batching: the reads by id of one kind that GET requests make in the same turn of the event
 * loop are answered by one statement, so one round trip and one execution in the database serve all
 * of them (as group commit does for spends, group-commit.ts). Under load the server takes many
 * requests in one turn, and on a machine where the service and PostgreSQL share the cores, a round
 * trip (waking the other process twice) costs more than the statement. A read alone waits for
 * nothing but the end of its turn.
 *
 * Only a GET's reads are batched, and only outside a transaction (a read inside one must see it).
 * Reads are grouped by what contract §9 lets them read: a GET's X-Read-After goes with it, each
 * group is read under one read intent of its own, and every request of the group then knows where
 * it was read (X-Served-By). A batch runs in its first request's trace context, as a spend batch
 * does. A batch that fails is read again one id at a time, so that one bad id cannot fail the
 * others; except when the database is unavailable (any 503), which every read shares.
 */
import { type Context, context } from "@opentelemetry/api";
import type { Database } from "./db.ts";
import { sharedByBatch } from "./errors.ts";
import { currentReadIntent, ReadIntent, withReadIntent } from "./read-replica.ts";

interface Waiting<Row> {
  id: string;
  intent: ReadIntent;
  context: Context;
  resolve: (row: Row | undefined) => void;
  reject: (error: unknown) => void;
}

/** Ids in one statement at most: a bounded statement, whatever the number of connections. */
export const MAX_READ_BATCH = 256;

export class ReadBatch<Row> {
  /** The reads waiting for the end of this turn, by the X-Read-After they must honour ("" for none). */
  private groups = new Map<string, Waiting<Row>[]>();

  /**
   * `read` reads the rows of `ids` (distinct, at most {@link MAX_READ_BATCH}) in one statement;
   * `idOf` tells which id a row answers.
   */
  constructor(
    private readonly db: Pick<Database, "inTransaction">,
    private readonly read: (ids: string[]) => Promise<Row[]>,
    private readonly idOf: (row: Row) => string,
  ) {}

  /** The row of `id`, or undefined when there is none. */
  load(id: string): Promise<Row | undefined> {
    const intent = currentReadIntent();
    if (intent === undefined || this.db.inTransaction) return this.readOne(id);
    return new Promise((resolve, reject) => {
      if (this.groups.size === 0) setImmediate(() => this.flush());
      const groupKey = intent.readAfter ?? "";
      const waiting = { id, intent, context: context.active(), resolve, reject };
      const group = this.groups.get(groupKey);
      if (group === undefined) this.groups.set(groupKey, [waiting]);
      else group.push(waiting);
    });
  }

  private async readOne(id: string): Promise<Row | undefined> {
    return (await this.read([id])).find((row) => this.idOf(row) === id);
  }

  private flush(): void {
    const groups = this.groups;
    this.groups = new Map();
    for (const [readAfter, waiting] of groups) {
      for (let start = 0; start < waiting.length; start += MAX_READ_BATCH) {
        void this.readBatch(readAfter, waiting.slice(start, start + MAX_READ_BATCH));
      }
    }
  }

  private async readBatch(readAfter: string, batch: Waiting<Row>[]): Promise<void> {
    const [first] = batch;
    if (first === undefined) return;
    const intent = new ReadIntent(readAfter === "" ? undefined : readAfter);
    let rows: Row[];
    try {
      const ids = [...new Set(batch.map((waiting) => waiting.id))];
      rows = await context.with(first.context, () => withReadIntent(intent, () => this.read(ids)));
    } catch (error) {
      if (batch.length === 1 || sharedByBatch(error)) {
        for (const waiting of batch) waiting.reject(error);
      } else {
        for (const waiting of batch) this.readAlone(waiting);
      }
      return;
    }
    const byId = new Map(rows.map((row) => [this.idOf(row), row]));
    for (const waiting of batch) {
      if (intent.readTheDatabase) waiting.intent.record(intent.servedBy);
      waiting.resolve(byId.get(waiting.id));
    }
  }

  /** One read of a failed batch, again on its own, in its own request's context. */
  private readAlone(waiting: Waiting<Row>): void {
    context
      .with(waiting.context, () => withReadIntent(waiting.intent, () => this.readOne(waiting.id)))
      .then(waiting.resolve, waiting.reject);
  }
}
