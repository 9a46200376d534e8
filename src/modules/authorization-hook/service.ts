import { CachedRead } from "../../platform/cached-read.ts";
import type { Clock } from "../../platform/clock.ts";
import type { Config } from "../../platform/config.ts";
import type { Database } from "../../platform/db.ts";
import type { Metrics } from "../../platform/metrics.ts";
import { outboundUrlProblem } from "../../platform/outbound-url.ts";
import type { OutgoingFetch } from "../../platform/outgoing.ts";
import { iso } from "../../platform/sql.ts";
import { newSigningSecret, signatureHeaders } from "../../platform/standard-webhooks.ts";
import { authorizationHookNotFound, urlNotAllowed } from "./errors.ts";
import type { AuthorizationHook, OnTimeout, SetAuthorizationHook } from "./model.ts";
import { type HookRow, authorizationHookRepository as repository } from "./repository.ts";

/**
 * How long an instance trusts what it last read of the hook's settings: a change made through another
 * instance applies there within this time plus one read (through this one, at once). It also means the
 * spend path with no hook set reads nothing more than once a second, and never waits for that read
 * once it has one (see CachedRead).
 */
export const HOOK_CONFIG_TTL_MS = 1000;

/** The hook as a spend calls it. */
export interface ActiveHook {
  url: string;
  timeoutMs: number;
  onTimeout: OnTimeout;
  secret: string;
}

/** How a hook call ended: its answer, or the `onTimeout` rule applied to a failure of the named kind. */
export type HookResult = "approved" | "declined" | "timeout" | "error";

export interface HookVerdict {
  approved: boolean;
  result: HookResult;
}

const toHook = (row: HookRow, withSecret: boolean): AuthorizationHook => ({
  url: row.url,
  timeoutMs: row.timeout_ms,
  onTimeout: row.on_timeout,
  ...(withSecret ? { secret: row.secret } : {}),
  createdAt: iso(row.created_at),
  updatedAt: iso(row.updated_at),
});

/** The receiver's answer, or undefined when it is not one of the two the contract allows. */
function answerOf(body: unknown): boolean | undefined {
  if (typeof body !== "object" || body === null || !("approved" in body)) return undefined;
  return typeof body.approved === "boolean" ? body.approved : undefined;
}

export class AuthorizationHookService {
  /** The hook spends call, as last read. */
  private readonly active = new CachedRead(async (): Promise<ActiveHook | undefined> => {
    const row = await repository.find(this.db);
    if (row === undefined) return undefined;
    return { url: row.url, timeoutMs: row.timeout_ms, onTimeout: row.on_timeout, secret: row.secret };
  }, HOOK_CONFIG_TTL_MS);

  constructor(
    private readonly db: Database,
    private readonly config: Pick<Config, "WEBHOOK_ALLOW_PRIVATE_TARGETS">,
    private readonly outgoingFetch: OutgoingFetch,
    private readonly metrics: Pick<Metrics, "hookDuration">,
    private readonly clock: Clock,
  ) {}

  async get(): Promise<AuthorizationHook> {
    const row = await repository.find(this.db);
    if (row === undefined) throw authorizationHookNotFound();
    return toHook(row, false);
  }

  /** Sets the hook; the answer carries the signing secret only when this made the hook. */
  async set(input: SetAuthorizationHook): Promise<AuthorizationHook> {
    const problem = await outboundUrlProblem(input.url, this.config.WEBHOOK_ALLOW_PRIVATE_TARGETS);
    if (problem !== undefined) throw urlNotAllowed(problem);
    const row = await repository.upsert(
      this.db,
      {
        url: input.url,
        timeoutMs: input.timeoutMs ?? 1500,
        onTimeout: input.onTimeout,
        secret: newSigningSecret(),
      },
      this.clock(),
    );
    this.active.forget();
    return toHook(row, row.created);
  }

  async delete(): Promise<AuthorizationHook> {
    const row = await repository.delete(this.db);
    this.active.forget();
    if (row === undefined) throw authorizationHookNotFound();
    return toHook(row, false);
  }

  /** The hook spends call now, or undefined when none is set; read at most once per HOOK_CONFIG_TTL_MS. */
  current(): Promise<ActiveHook | undefined> {
    return this.active.get();
  }

  /**
   * Asks the hook about a held spend: a signed POST of `payload` as message `messageId`. Its answer
   * decides; no answer within the time-out, a non-2xx, an unreadable body or a URL no longer allowed
   * applies `onTimeout`.
   */
  async ask(hook: ActiveHook, messageId: string, payload: object): Promise<HookVerdict> {
    const started = performance.now();
    const verdict = await this.call(hook, messageId, payload);
    this.metrics.hookDuration.observe({ result: verdict.result }, (performance.now() - started) / 1000);
    return verdict;
  }

  private async call(hook: ActiveHook, messageId: string, payload: object): Promise<HookVerdict> {
    const fallback = (result: "timeout" | "error"): HookVerdict => ({
      approved: hook.onTimeout === "approve",
      result,
    });
    if ((await outboundUrlProblem(hook.url, this.config.WEBHOOK_ALLOW_PRIVATE_TARGETS)) !== undefined) {
      return fallback("error");
    }
    const body = JSON.stringify(payload);
    try {
      const response = await this.outgoingFetch(hook.url, {
        method: "POST",
        headers: await signatureHeaders(hook.secret, messageId, body),
        body,
        timeoutMs: hook.timeoutMs,
        redirect: "manual",
      });
      if (!response.ok) {
        await response.body?.cancel();
        return fallback("error");
      }
      const approved = answerOf(await response.json());
      if (approved === undefined) return fallback("error");
      return { approved, result: approved ? "approved" : "declined" };
    } catch (error) {
      return fallback(error instanceof DOMException && error.name === "TimeoutError" ? "timeout" : "error");
    }
  }
}
