/**
 * One load scenario with autocannon: a fixed number of keep-alive connections for a fixed duration,
 * each request built by `next(i)` (the i-th request of the run, counted over all connections).
 *
 * Latencies come from autocannon's `response` event (hrtime, sub-millisecond) for every response,
 * whatever its status; autocannon's own histogram keeps whole milliseconds of 2xx responses only.
 */
import autocannon from "autocannon";

export interface LoadRequest {
  method: "GET" | "POST";
  path: string;
  body?: unknown;
}

export interface LoadOptions {
  baseUrl: string;
  /** The bearer key every request carries: the admin key, or a scoped key made through the API. */
  apiKey: string;
  connections: number;
  durationSeconds: number;
  next(index: number): LoadRequest;
}

export interface FailureSample {
  status: number;
  method: string;
  path: string;
  body: string;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  statusCounts: Record<string, number>;
  non2xx: number;
  /** Connection errors and timeouts (no HTTP response at all). */
  errors: number;
  timeouts: number;
  /** The first few non-2xx responses, with their bodies. */
  failures: FailureSample[];
  /** Distinct connection error messages. */
  errorMessages: string[];
}

const MAX_FAILURE_SAMPLES = 10;

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index] ?? 0;
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let counter = 0;
  let latencies = new Float64Array(1 << 16);
  let recorded = 0;
  const failures: FailureSample[] = [];
  // One request in flight per connection (no pipelining): the context remembers what it sent.
  const inFlight = new WeakMap<object, LoadRequest>();
  const errorMessages = new Set<string>();
  const first = options.next(0);

  const result = await new Promise<autocannon.Result>((resolvePromise, reject) => {
    const instance = autocannon(
      {
        url: options.baseUrl,
        connections: options.connections,
        duration: options.durationSeconds,
        timeout: 30,
        headers: {
          authorization: `Bearer ${options.apiKey}`,
          "content-type": "application/json",
        },
        requests: [
          {
            method: first.method,
            path: first.path,
            setupRequest: (request, context) => {
              const next = options.next(counter++);
              inFlight.set(context, next);
              return {
                ...request,
                method: next.method,
                path: next.path,
                body: next.body === undefined ? undefined : JSON.stringify(next.body),
              };
            },
            onResponse: (status, body, context) => {
              if (status >= 200 && status < 300) return;
              if (failures.length >= MAX_FAILURE_SAMPLES) return;
              const sent = inFlight.get(context);
              failures.push({
                status,
                method: sent?.method ?? "?",
                path: sent?.path ?? "?",
                body: body.slice(0, 500),
              });
            },
          },
        ],
      },
      (error, finished) => (error ? reject(error) : resolvePromise(finished)),
    );
    instance.on("response", (_client, _status, _bytes, responseTime) => {
      if (recorded === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[recorded++] = responseTime;
    });
    instance.on("reqError", (error: unknown) => {
      if (errorMessages.size < MAX_FAILURE_SAMPLES) {
        errorMessages.add(error instanceof Error ? error.message : String(error));
      }
    });
  });

  const sorted = latencies.slice(0, recorded).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  const statusCounts: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) {
    statusCounts[code] = stats.count ?? 0;
  }
  const seconds = (result.finish.getTime() - result.start.getTime()) / 1000;
  return {
    requests: recorded,
    seconds: round(seconds, 3),
    requestsPerSecond: round(recorded / seconds, 1),
    latencyMs: {
      p50: round(percentile(sorted, 0.5)),
      p90: round(percentile(sorted, 0.9)),
      p99: round(percentile(sorted, 0.99)),
      max: round(sorted[sorted.length - 1] ?? 0),
      mean: round(recorded === 0 ? 0 : sum / recorded),
    },
    statusCounts,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    failures,
    errorMessages: [...errorMessages],
  };
}
