import { ApiError } from "./errors.ts";

interface Bucket {
  tokens: number;
  refilledAt: number;
}

export interface RateLimitDecision {
  headers: Record<string, string>;
}

/** Buckets idle long enough to be full again are dropped once the map grows past this size. */
const PRUNE_THRESHOLD = 10_000;

/**
 * A token bucket per client (API key, or IP where there is none): `burst` tokens, refilled at
 * `perSecond`. Every answer carries the IETF RateLimit-Policy and RateLimit headers.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly policy: string;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.policy = `"default";q=${burst};w=${Math.max(1, Math.ceil(burst / Math.max(perSecond, 1e-9)))}`;
  }

  get enabled(): boolean {
    return this.perSecond > 0 && this.burst > 0;
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
    let bucket = this.buckets.get(client);
    if (bucket === undefined) {
      if (this.buckets.size >= PRUNE_THRESHOLD) this.prune(now);
      bucket = { tokens: this.burst, refilledAt: now };
      this.buckets.set(client, bucket);
      return bucket;
    }
    const elapsedSeconds = (now - bucket.refilledAt) / 1000;
    bucket.tokens = Math.min(this.burst, bucket.tokens + elapsedSeconds * this.perSecond);
    bucket.refilledAt = now;
    return bucket;
  }

  private prune(now: number): void {
    const fullAfterMs = (this.burst / this.perSecond) * 1000;
    for (const [client, bucket] of this.buckets) {
      if (now - bucket.refilledAt >= fullAfterMs) this.buckets.delete(client);
    }
  }
}
