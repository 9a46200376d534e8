import { ApiError } from "./errors.ts";

interface Bucket {
  tokens: number;
  refilledAt: number;
}

export interface RateLimitDecision {
  headers: Record<string, string>;
}

/**
 * A token bucket per client (API key, or IP where there is none): `burst` tokens, refilled at
 * `perSecond`. Every answer carries the IETF RateLimit-Policy and RateLimit headers.
 *
 * A bucket left alone for a refill period is full again, the same as a new one, so it can be forgotten.
 * Buckets live in two generations: those used since the last rotation, and those used in the period
 * before. A rotation (at most once per refill period) drops the older generation whole: each of its
 * buckets has been idle at least a refill period. So every request costs O(1), with no scan, and
 * memory holds only the clients seen in the last two refill periods.
 */
export class RateLimiter {
  private recent = new Map<string, Bucket>();
  private older = new Map<string, Bucket>();
  private rotatedAt = Number.NEGATIVE_INFINITY;
  private readonly refillMs: number;
  private readonly policy: string;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.refillMs = (burst / perSecond) * 1000;
    this.policy = `"default";q=${burst};w=${Math.max(1, Math.ceil(burst / Math.max(perSecond, 1e-9)))}`;
  }

  get enabled(): boolean {
    return this.perSecond > 0 && this.burst > 0;
  }

  /** How many clients have a bucket in memory. */
  get trackedClients(): number {
    return this.recent.size + this.older.size;
  }

  /** Takes one token for `client`, or throws a 429 problem when there is none. */
  take(client: string, now = performance.now()): RateLimitDecision {
    const bucket = this.refill(client, now);
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    const secondsToFull = Math.ceil((this.burst - bucket.tokens) / this.perSecond);
    const headers = {
      "ratelimit-policy": this.policy,
      ratelimit: `"default";r=${Math.floor(bucket.tokens)};t=${secondsToFull}`,
    };
    if (allowed) return { headers };
    const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
    throw new ApiError(429, "rate_limited", `Too many requests; retry in ${retryAfter} s.`, undefined, {
      ...headers,
      "retry-after": String(retryAfter),
    });
  }

  private refill(client: string, now: number): Bucket {
    if (now - this.rotatedAt >= this.refillMs) {
      // Every bucket of the older generation was last used before the previous rotation: full again.
      this.older = this.recent;
      this.recent = new Map();
      this.rotatedAt = now;
    }
    let bucket = this.recent.get(client);
    if (bucket === undefined) {
      bucket = this.older.get(client);
      if (bucket === undefined) {
        bucket = { tokens: this.burst, refilledAt: now };
      } else {
        this.older.delete(client);
      }
      this.recent.set(client, bucket);
    }
    const elapsedSeconds = (now - bucket.refilledAt) / 1000;
    bucket.tokens = Math.min(this.burst, bucket.tokens + elapsedSeconds * this.perSecond);
    bucket.refilledAt = now;
    return bucket;
  }
}
