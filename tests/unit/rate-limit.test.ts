/**
 * The rate limiter forgets a client's bucket only once it is full again, so forgetting is invisible to
 * clients, and it keeps no more than the clients of the last two refill periods in memory, however many
 * there were before: no scan of every client is ever needed to stay small.
 */
import { describe, expect, test } from "bun:test";
import { ApiError } from "../../src/platform/errors.ts";
import { RateLimiter } from "../../src/platform/rate-limit.ts";

/** A small deterministic pseudo-random sequence (mulberry32), so a failure can be replayed. */
function randomSequence(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** The limiter's answer as a client sees it: the RateLimit header, and whether it was refused. */
function answer(limiter: RateLimiter, client: string, now: number): string {
  try {
    return `ok ${limiter.take(client, now).headers.ratelimit}`;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return `${error.status} ${error.headers?.ratelimit}`;
  }
}

describe("RateLimiter", () => {
  test("forgetting idle buckets is invisible: every answer is the one a limiter that never forgets gives", () => {
    const perSecond = 2;
    const burst = 5;
    const limiter = new RateLimiter(perSecond, burst);
    // The model: a token bucket per client, kept forever.
    const remembered = new Map<string, { tokens: number; at: number }>();
    const random = randomSequence(8);
    let now = 0;
    for (let event = 0; event < 50_000; event++) {
      now += random() * 400;
      // A few busy clients and many occasional ones, so buckets are forgotten while others stay in use.
      const client =
        random() < 0.5 ? `busy:${Math.floor(random() * 5)}` : `rare:${Math.floor(random() * 2_000)}`;
      const bucket = remembered.get(client) ?? { tokens: burst, at: now };
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
      bucket.at = now;
      remembered.set(client, bucket);
      const allowed = bucket.tokens >= 1;
      if (allowed) bucket.tokens -= 1;
      const header = `"default";r=${Math.floor(bucket.tokens)};t=${Math.ceil((burst - bucket.tokens) / perSecond)}`;
      expect(answer(limiter, client, now), `event ${event}, ${client}`).toBe(
        `${allowed ? "ok" : "429"} ${header}`,
      );
    }
    expect(limiter.trackedClients).toBeLessThan(remembered.size);
  });

  test("memory holds the clients of the last two refill periods only, however many came before", () => {
    // A refill period of 2 s; a new client every millisecond, 50,000 of them, each seen once.
    const limiter = new RateLimiter(100, 200);
    const refillMs = 2_000;
    let mostTracked = 0;
    for (let client = 0; client < 50_000; client++) {
      limiter.take(`ip:${client}`, client);
      mostTracked = Math.max(mostTracked, limiter.trackedClients);
    }
    expect(mostTracked).toBeLessThanOrEqual(2 * refillMs + 1);
    expect(limiter.trackedClients).toBeLessThanOrEqual(2 * refillMs + 1);
  });

  test("a client that keeps spending keeps its bucket while thousands of others come and go", () => {
    const limiter = new RateLimiter(1, 3);
    let now = 0;
    for (let second = 0; second < 60; second++) {
      // Every second the busy client gets one token back, spends it, and is refused the next:
      // a bucket forgotten and made anew would have three.
      if (second === 0) for (let i = 0; i < 3; i++) limiter.take("key:busy", now);
      else expect(answer(limiter, "key:busy", now)).toStartWith("ok");
      expect(answer(limiter, "key:busy", now)).toStartWith("429");
      for (let other = 0; other < 1_000; other++) {
        now += 1;
        limiter.take(`ip:${second}:${other}`, now);
      }
    }
  });
});
