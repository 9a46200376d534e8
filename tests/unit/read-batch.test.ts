/**
 * Read batching (src/platform/read-batch.ts), which GET /v1/wallets/{id} and GET /v1/cards/{id} read
 * through: a GET's reads of one turn go in one statement, each gets its own row, reads that must
 * honour another X-Read-After go apart, a failed batch is read again one id at a time, and a failure
 * every read shares (the database unavailable) is not.
 */
import { describe, expect, test } from "bun:test";
import { badRequest, databaseUnavailable } from "../../src/platform/errors.ts";
import { MAX_READ_BATCH, ReadBatch } from "../../src/platform/read-batch.ts";
import { currentReadIntent, ReadIntent, withReadIntent } from "../../src/platform/read-replica.ts";

interface Row {
  id: string;
  readAfter: string | undefined;
}

/** A read that records each statement's ids (and the X-Read-After it ran under) and knows ids "a".."z". */
function recordingRead(fail: (ids: string[]) => Error | undefined = () => undefined) {
  const statements: { ids: string[]; readAfter: string | undefined }[] = [];
  const read = async (ids: string[]): Promise<Row[]> => {
    const readAfter = currentReadIntent()?.readAfter;
    statements.push({ ids, readAfter });
    await Bun.sleep(1);
    const error = fail(ids);
    if (error !== undefined) throw error;
    return ids.filter((id) => /^[a-z]$/.test(id)).map((id) => ({ id, readAfter }));
  };
  return { statements, read };
}

const outsideTransactions = { inTransaction: false };
/** A GET's read: under a read intent, as the read routing of every GET sets one. */
const asGet = <T>(work: () => Promise<T>, readAfter?: string) =>
  withReadIntent(new ReadIntent(readAfter), work);

describe("ReadBatch", () => {
  test("a GET's reads of one turn go in one statement of distinct ids, and each gets its own row", async () => {
    const { statements, read } = recordingRead();
    const batch = new ReadBatch(outsideTransactions, read, (row) => row.id);
    const ids = ["a", "b", "c", "a", "unknown", "d"];
    const rows = await Promise.all(ids.map((id) => asGet(() => batch.load(id))));
    expect(rows.map((row) => row?.id)).toEqual(["a", "b", "c", "a", undefined, "d"]);
    expect(statements.map((statement) => statement.ids)).toEqual([["a", "b", "c", "unknown", "d"]]);
  });

  test("reads of later turns go in later statements: a read alone waits for nothing but its turn", async () => {
    const { statements, read } = recordingRead();
    const batch = new ReadBatch(outsideTransactions, read, (row) => row.id);
    expect((await asGet(() => batch.load("a")))?.id).toBe("a");
    expect((await asGet(() => batch.load("b")))?.id).toBe("b");
    expect(statements.map((statement) => statement.ids)).toEqual([["a"], ["b"]]);
  });

  test("reads that are not a GET's, or inside a transaction, are never batched", async () => {
    const { statements, read } = recordingRead();
    const notGet = new ReadBatch(outsideTransactions, read, (row) => row.id);
    await Promise.all(["a", "b"].map((id) => notGet.load(id)));
    const inTransaction = new ReadBatch({ inTransaction: true }, read, (row) => row.id);
    await Promise.all(["c", "d"].map((id) => asGet(() => inTransaction.load(id))));
    expect(statements.map((statement) => statement.ids)).toEqual([["a"], ["b"], ["c"], ["d"]]);
  });

  test("reads that must honour another X-Read-After go in statements of their own, each under its position", async () => {
    const { statements, read } = recordingRead();
    const batch = new ReadBatch(outsideTransactions, read, (row) => row.id);
    const rows = await Promise.all([
      asGet(() => batch.load("a")),
      asGet(() => batch.load("b"), "0/16B3748"),
      asGet(() => batch.load("c")),
      asGet(() => batch.load("d"), "0/16B3748"),
      asGet(() => batch.load("e"), "0/16B3750"),
    ]);
    expect(rows.map((row) => [row?.id, row?.readAfter])).toEqual([
      ["a", undefined],
      ["b", "0/16B3748"],
      ["c", undefined],
      ["d", "0/16B3748"],
      ["e", "0/16B3750"],
    ]);
    expect(statements).toEqual([
      { ids: ["a", "c"], readAfter: undefined },
      { ids: ["b", "d"], readAfter: "0/16B3748" },
      { ids: ["e"], readAfter: "0/16B3750" },
    ]);
  });

  test("each GET of a batch learns where the batch was read, for its X-Served-By", async () => {
    const batch = new ReadBatch(
      outsideTransactions,
      async (ids) => {
        currentReadIntent()?.record("replica");
        return ids.map((id) => ({ id, readAfter: undefined }));
      },
      (row) => row.id,
    );
    const intents = [new ReadIntent(undefined), new ReadIntent(undefined)];
    await Promise.all(intents.map((intent, index) => withReadIntent(intent, () => batch.load(`${index}`))));
    expect(intents.map((intent) => [intent.readTheDatabase, intent.servedBy])).toEqual([
      [true, "replica"],
      [true, "replica"],
    ]);
  });

  test(`no statement has more than ${MAX_READ_BATCH} ids`, async () => {
    const { statements, read } = recordingRead();
    const batch = new ReadBatch(outsideTransactions, read, (row) => row.id);
    const ids = Array.from({ length: MAX_READ_BATCH + 10 }, (_, index) => `id-${index}`);
    await Promise.all(ids.map((id) => asGet(() => batch.load(id))));
    expect(statements.map((statement) => statement.ids.length)).toEqual([MAX_READ_BATCH, 10]);
  });

  test("a failed batch is read again one id at a time: only the read that fails alone gets the error", async () => {
    const { statements, read } = recordingRead((ids) =>
      ids.includes("bad") ? badRequest("validation_failed", "bad id") : undefined,
    );
    const batch = new ReadBatch(outsideTransactions, read, (row) => row.id);
    const results = await Promise.allSettled(["a", "bad", "b"].map((id) => asGet(() => batch.load(id))));
    expect(results.map((result) => (result.status === "fulfilled" ? result.value?.id : "failed"))).toEqual([
      "a",
      "failed",
      "b",
    ]);
    expect(statements.map((statement) => statement.ids)).toEqual([["a", "bad", "b"], ["a"], ["bad"], ["b"]]);
  });

  test("the database unavailable (503) fails every read of the batch at once, with no read one by one", async () => {
    const { statements, read } = recordingRead(() => databaseUnavailable());
    const batch = new ReadBatch(outsideTransactions, read, (row) => row.id);
    const results = await Promise.allSettled(["a", "b"].map((id) => asGet(() => batch.load(id))));
    expect(results.map((result) => result.status)).toEqual(["rejected", "rejected"]);
    expect(statements).toHaveLength(1);
  });
});
