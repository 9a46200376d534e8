/**
 * CachedRead (src/platform/cached-read.ts), through which API keys and the authorization hook's
 * settings are read: one read serves every caller for the time-to-live; after it, callers get the last
 * value at once while one new read runs; a failed read is not remembered; forget() reads afresh.
 */
import { describe, expect, test } from "bun:test";
import { CachedRead } from "../../src/platform/cached-read.ts";

const TTL_MS = 40;

/** A read whose answers the test gives one at a time: `answer(value)` or `fail()` settles the oldest. */
function controlledRead() {
  const pending: { resolve: (value: string) => void; reject: (error: Error) => void }[] = [];
  let reads = 0;
  const read = () =>
    new Promise<string>((resolve, reject) => {
      reads++;
      pending.push({ resolve, reject });
    });
  const next = () => {
    const oldest = pending.shift();
    if (oldest === undefined) throw new Error("no read is waiting for an answer");
    return oldest;
  };
  return {
    read,
    reads: () => reads,
    answer: (value: string) => next().resolve(value),
    fail: () => next().reject(new Error("database unavailable")),
  };
}

/** Lets settled promises run their callbacks. */
const settle = () => Bun.sleep(0);

/** A CachedRead over a controlled read that has read "v1", and whose time-to-live has run out since. */
async function expiredAfterV1() {
  const source = controlledRead();
  const cached = new CachedRead(source.read, TTL_MS);
  const first = cached.get();
  source.answer("v1");
  await first;
  await Bun.sleep(TTL_MS + 5);
  return { source, cached };
}

describe("CachedRead", () => {
  test("callers with nothing read yet wait for one read and share it; it then serves for the time-to-live", async () => {
    const source = controlledRead();
    const cached = new CachedRead(source.read, TTL_MS);
    const first = [cached.get(), cached.get(), cached.get()];
    expect(source.reads()).toBe(1);
    source.answer("v1");
    expect(await Promise.all(first)).toEqual(["v1", "v1", "v1"]);
    expect(await cached.get()).toBe("v1");
    expect(source.reads()).toBe(1);
  });

  test("after the time-to-live callers get the last value at once while one new read runs, then the new value", async () => {
    const { source, cached } = await expiredAfterV1();
    // Nobody waits for the database: the read that runs is answered only later.
    expect(await Promise.all([cached.get(), cached.get()])).toEqual(["v1", "v1"]);
    expect(source.reads()).toBe(2);
    source.answer("v2");
    await settle();
    expect(await cached.get()).toBe("v2");
    expect(source.reads()).toBe(2);
  });

  test("a failed read is not remembered: its waiting callers get the error, the next caller reads again", async () => {
    const source = controlledRead();
    const cached = new CachedRead(source.read, TTL_MS);
    const waiting = cached.get();
    source.fail();
    await expect(waiting).rejects.toThrow("database unavailable");
    await settle();
    const again = cached.get();
    expect(source.reads()).toBe(2);
    source.answer("v1");
    expect(await again).toBe("v1");
  });

  test("a failed read after the time-to-live drops the last value: the next caller waits for a new read", async () => {
    const { source, cached } = await expiredAfterV1();
    expect(await cached.get()).toBe("v1");
    source.fail();
    await settle();
    const after = cached.get();
    expect(source.reads()).toBe(3);
    source.answer("v3");
    expect(await after).toBe("v3");
  });

  test("forget(): the next caller reads afresh, and a read that started before cannot bring the old value back", async () => {
    const source = controlledRead();
    const cached = new CachedRead(source.read, TTL_MS);
    const first = cached.get();
    cached.forget();
    const afterForget = cached.get();
    expect(source.reads()).toBe(2);
    source.answer("before");
    source.answer("after");
    expect(await first).toBe("before");
    expect(await afterForget).toBe("after");
    expect(await cached.get()).toBe("after");
    expect(source.reads()).toBe(2);
  });
});
