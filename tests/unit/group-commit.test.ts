/**
 * Group commit (src/platform/group-commit.ts), the queue that card spends are decided in: requests
 * that arrive while a batch runs go together into the next one, each gets its own outcome in order,
 * one request's failure does not fail the others, and a failure every request shares (the database
 * unavailable, a commit's outcome unknown, a failure after the commit) is never retried one by one,
 * which could apply twice.
 */
import { describe, expect, test } from "bun:test";
import {
  badRequest,
  databaseUnavailable,
  FailedAfterCommit,
  outcomeUnknown,
} from "../../src/platform/errors.ts";
import { GroupCommit } from "../../src/platform/group-commit.ts";

/** A unit of work that records each batch it is given and answers each request with its double. */
function recordingWork(fail: (requests: number[]) => Error | undefined = () => undefined) {
  const batches: number[][] = [];
  const work = async (requests: number[]) => {
    batches.push(requests);
    await Bun.sleep(5);
    const error = fail(requests);
    if (error !== undefined) throw error;
    return requests.map((request) => request * 2);
  };
  return { batches, work };
}

describe("GroupCommit", () => {
  test("requests that arrive while a batch runs are decided together, each with its own outcome, in order", async () => {
    const { batches, work } = recordingWork();
    const group = new GroupCommit(work, { maxInFlight: 1, maxBatch: 64 });
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, index) => group.submit(index, `key-${index}`)),
    );
    expect(outcomes).toEqual(Array.from({ length: 10 }, (_, index) => index * 2));
    // The first went alone, at once; the nine that came while it ran went together.
    expect(batches).toEqual([[0], [1, 2, 3, 4, 5, 6, 7, 8, 9]]);
  });

  test("no batch is larger than its bound, and no more batches run at once than allowed", async () => {
    let running = 0;
    let mostRunning = 0;
    const sizes: number[] = [];
    const group = new GroupCommit(
      async (requests: number[]) => {
        running++;
        mostRunning = Math.max(mostRunning, running);
        sizes.push(requests.length);
        await Bun.sleep(5);
        running--;
        return requests;
      },
      { maxInFlight: 2, maxBatch: 4 },
    );
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, (_, index) => group.submit(index, `key-${index}`)),
    );
    expect(outcomes).toEqual(Array.from({ length: 30 }, (_, index) => index));
    expect(Math.max(...sizes)).toBe(4);
    expect(mostRunning).toBe(2);
  });

  test("a key is in one running batch at a time: its requests wait and go together, in order, into its next one", async () => {
    const running = new Set<string>();
    const batches: string[][] = [];
    const group = new GroupCommit(
      async (requests: string[]) => {
        const keys = requests.map((request) => request.split(":")[0] ?? "");
        for (const key of new Set(keys)) {
          expect(running.has(key), `${key} is in two running batches`).toBe(false);
          running.add(key);
        }
        batches.push(requests);
        await Bun.sleep(5);
        for (const key of keys) running.delete(key);
        return requests;
      },
      { maxInFlight: 2, maxBatch: 64 },
    );
    const requests = ["hot:1", "cold:1", "hot:2", "hot:3", "other:1", "hot:4", "cold:2"];
    const outcomes = await Promise.all(
      requests.map((request) => group.submit(request, request.split(":")[0] ?? "")),
    );
    expect(outcomes).toEqual(requests);
    // hot:1 and cold:1 start at once, alone; the rest wait for a free slot. When hot's batch ends,
    // every waiting request whose key is free goes, hot's three together; cold:2 waits for cold:1.
    expect(batches).toEqual([["hot:1"], ["cold:1"], ["hot:2", "hot:3", "other:1", "hot:4"], ["cold:2"]]);
    const hot = batches.flat().filter((request) => request.startsWith("hot:"));
    expect(hot).toEqual(["hot:1", "hot:2", "hot:3", "hot:4"]);
  });

  test("a failing batch is retried one request at a time: only the request at fault fails", async () => {
    const { batches, work } = recordingWork((requests) =>
      requests.includes(3) ? badRequest("invalid_text", "request 3 is bad") : undefined,
    );
    const group = new GroupCommit(work, { maxInFlight: 1, maxBatch: 64 });
    const settled = await Promise.allSettled(
      [0, 1, 2, 3, 4].map((request) => group.submit(request, `key-${request}`)),
    );
    expect(settled.map((each) => (each.status === "fulfilled" ? each.value : "refused"))).toEqual([
      0,
      2,
      4,
      "refused",
      8,
    ]);
    // [0] alone, then [1..4] together, which failed, then each of 1..4 alone.
    expect(batches.slice(0, 2)).toEqual([[0], [1, 2, 3, 4]]);
    expect(batches.slice(2).sort()).toEqual([[1], [2], [3], [4]]);
  });

  test("an unavailable database, an unknown commit outcome or a failure after the commit fails the whole batch, with no retry", async () => {
    for (const shared of [
      databaseUnavailable(),
      outcomeUnknown(),
      new FailedAfterCommit(new Error("late")),
    ]) {
      const { batches, work } = recordingWork((requests) => (requests.length > 1 ? shared : undefined));
      const group = new GroupCommit(work, { maxInFlight: 1, maxBatch: 64 });
      const settled = await Promise.allSettled(
        [0, 1, 2, 3].map((request) => group.submit(request, `key-${request}`)),
      );
      expect(settled.map((each) => each.status)).toEqual(["fulfilled", "rejected", "rejected", "rejected"]);
      for (const each of settled.slice(1)) {
        expect(each.status === "rejected" && each.reason).toBe(shared);
      }
      expect(batches).toEqual([[0], [1, 2, 3]]);
    }
  });

  test("while a batch runs, another starts beside it once a slot's share of the requests held lately is queued, or after lingerMs", async () => {
    const batches: string[][] = [];
    const started = performance.now();
    const finished = new Map<string, number>();
    const group = new GroupCommit(
      async (requests: string[]) => {
        batches.push(requests);
        await Bun.sleep(requests.includes("stuck") ? 150 : 5);
        for (const request of requests) finished.set(request, performance.now() - started);
        return requests;
      },
      { maxInFlight: 2, maxBatch: 64, lingerMs: 40 },
    );
    const stuck = group.submit("stuck", "stuck-wallet");
    await Bun.sleep(1);
    // Two held: a slot's share is one, so "a" starts beside the stuck batch at once. With "b" and "c"
    // four are held (a share of two); they find both slots taken and go together when "a" ends.
    await Promise.all(["a", "b", "c"].map((request) => group.submit(request, `${request}-wallet`)));
    expect(batches).toEqual([["stuck"], ["a"], ["b", "c"]]);
    // Alone, less than a share: "d" waits 40 ms for company, then starts beside the stuck batch.
    const submitted = performance.now() - started;
    await group.submit("d", "d-wallet");
    expect(batches).toEqual([["stuck"], ["a"], ["b", "c"], ["d"]]);
    const dFinished = finished.get("d") ?? Number.NaN;
    expect(dFinished - submitted).toBeGreaterThanOrEqual(40);
    await stuck;
    expect(dFinished).toBeLessThan(finished.get("stuck") ?? 0);
  });

  test("clients that send their next request as soon as they are answered settle into two halves that take turns", async () => {
    const sizes: number[] = [];
    let running = 0;
    let mostRunning = 0;
    const group = new GroupCommit(
      async (requests: number[]) => {
        sizes.push(requests.length);
        running++;
        mostRunning = Math.max(mostRunning, running);
        await Bun.sleep(5);
        running--;
        return requests;
      },
      { maxInFlight: 2, maxBatch: 64, lingerMs: 1_000 },
    );
    const client = async (index: number) => {
      for (let round = 0; round < 20; round++) await group.submit(round, `wallet-${index}`);
    };
    await Promise.all(Array.from({ length: 8 }, (_, index) => client(index)));
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(160);
    expect(mostRunning).toBe(2);
    // After the first few batches every batch holds half of the eight clients.
    expect(sizes.slice(6).every((size) => size === 4)).toBe(true);
  });

  test("a hot key's requests are not split: after its batch the next waits for all of them", async () => {
    const { batches, work } = recordingWork();
    const group = new GroupCommit(work, { maxInFlight: 2, maxBatch: 64, lingerMs: 10_000 });
    const first = group.submit(0, "hot");
    await Bun.sleep(1);
    // Four held at once, one key: when 0 ends, three are queued and a share (two) is not enough.
    const waiting = [1, 2, 3].map((request) => group.submit(request, "hot"));
    await first;
    await Bun.sleep(20);
    expect(batches).toEqual([[0]]);
    await Promise.all([...waiting, group.submit(4, "hot")]);
    expect(batches).toEqual([[0], [1, 2, 3, 4]]);
  });

  test("after a batch, the next lingers for as many requests as were held at once lately, and starts once they are queued", async () => {
    const { batches, work } = recordingWork();
    const group = new GroupCommit(work, { maxInFlight: 1, maxBatch: 64, lingerMs: 10_000 });
    const first = group.submit(0, "key-0");
    await Bun.sleep(1);
    // Four held at once: 0 deciding, 1 to 3 queued. When 0 ends, three are queued: the next waits for a fourth.
    const waiting = [1, 2, 3].map((request) => group.submit(request, `key-${request}`));
    await first;
    await Bun.sleep(20);
    expect(batches).toEqual([[0]]);
    const started = performance.now();
    await Promise.all([...waiting, group.submit(4, "key-4")]);
    expect(batches).toEqual([[0], [1, 2, 3, 4]]);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  test("a linger ends after lingerMs with what has come; a request under no load never lingers", async () => {
    const { batches, work } = recordingWork();
    const group = new GroupCommit(work, { maxInFlight: 1, maxBatch: 64, lingerMs: 40 });
    const first = group.submit(0, "key-0");
    await Bun.sleep(1);
    const rest = [1, 2].map((request) => group.submit(request, `key-${request}`));
    await first;
    const firstEnded = performance.now();
    await Promise.all(rest);
    // Three were held at once; only two came back: they went after the linger, not before.
    expect(batches).toEqual([[0], [1, 2]]);
    expect(performance.now() - firstEnded).toBeGreaterThanOrEqual(40);

    // The last batch ended long ago: a lone request is decided at once.
    await Bun.sleep(50);
    const alone = performance.now();
    expect(await group.submit(5, "key-5")).toBe(10);
    expect(performance.now() - alone).toBeLessThan(35);
    expect(batches).toEqual([[0], [1, 2], [5]]);
  });

  test("a linger does not wait for requests still being decided in another batch", async () => {
    const finished: string[] = [];
    const group = new GroupCommit(
      async (requests: string[]) => {
        await Bun.sleep(requests.includes("slow") ? 200 : 5);
        finished.push(...requests);
        return requests;
      },
      { maxInFlight: 2, maxBatch: 64, lingerMs: 10_000 },
    );
    const slow = group.submit("slow", "slow-wallet");
    const quick = group.submit("quick", "quick-wallet");
    await quick;
    // As a client's next request would, arrive after the batch has ended (not in the same tick).
    await Bun.sleep(1);
    // Two were held at once, but "slow" is still being decided: one queued request is enough.
    await group.submit("next", "next-wallet");
    expect(finished).toEqual(["quick", "next"]);
    await slow;
    expect(finished).toEqual(["quick", "next", "slow"]);
  });
});
