/**
 * The database goes away under a steady load of top-ups, through a TCP proxy the test controls:
 * requests answer 503 database_unavailable (or outcome_unknown) within DB_QUERY_TIMEOUT, /ready turns 503, and within
 * seconds of the database coming back every request succeeds again, with no restart. No committed
 * money is lost and none is added twice.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { brokenInvariants } from "../helpers/invariants.ts";
import type { Running } from "../helpers/process.ts";
import { call, expectCall, idOf, startServiceBehindProxy, type TcpProxy } from "./support.ts";

const serverUrl = process.env.DATABASE_URL;
const ADMIN_KEY = "outage-test-admin-key-0123456789";
const DB_QUERY_TIMEOUT = 1_000;
/** Scheduling slack on a busy test machine, on top of the time-outs themselves. */
const SLACK_MS = 750;
/** /ready gives up on the database after 1 s. */
const PROBE_TIMEOUT_MS = 1_000;
const OUTAGE_MS = 4_000;
/** Within this long after the database returns, every request succeeds again. */
const RECOVERY_MS = 5_000;
const WORKERS = 6;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

interface Attempt {
  key: string;
  amount: number;
  startedAt: number;
  endedAt: number;
  status: number;
  code: string;
  contentType: string;
}

interface Outage {
  name: string;
  /** Breaks the link between the service and PostgreSQL. */
  breakLink(proxy: TcpProxy): void;
}

const outages: Outage[] = [
  { name: "the connections are closed and new ones refused", breakLink: (proxy) => proxy.cut() },
  { name: "every packet is silently dropped", breakLink: (proxy) => proxy.blackhole() },
  { name: "the link stalls and later delivers what it held", breakLink: (proxy) => proxy.stall() },
];

/** GET /ready; when the service does not answer at all, says why (it may have died). */
async function readiness(service: Running): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${service.baseUrl}/ready`, { signal: AbortSignal.timeout(10_000) }).catch(
    (error: unknown) => {
      const exit = service.process.exitCode ?? service.process.signalCode;
      throw new Error(
        `GET /ready failed (${String(error)}); the service's exit: ${exit}; its output:\n${service.stderr()}${service.stdout()}`,
      );
    },
  );
  return { status: response.status, body: await response.text(), ms: performance.now() - started };
}

describe.skipIf(serverUrl === undefined)("PostgreSQL goes away under load and comes back", () => {
  for (const outage of outages) {
    test(`${outage.name}: 503 within the time-out, /ready 503, then recovery without a restart and no money lost`, async () => {
      const { service, proxy, direct } = await startServiceBehindProxy(
        serverUrl ?? "",
        ADMIN_KEY,
        { DB_QUERY_TIMEOUT: String(DB_QUERY_TIMEOUT), DB_POOL_MAX: "10" },
        cleanups,
      );
      const base = service.baseUrl;
      const team = await expectCall(201, base, ADMIN_KEY, "POST", "/v1/teams", { name: "Outage team" });
      const walletId = idOf(
        await expectCall(201, base, ADMIN_KEY, "POST", "/v1/wallets", { teamId: idOf(team) }),
      );
      const topUp = (key: string, amount: number) =>
        call(
          base,
          ADMIN_KEY,
          "POST",
          `/v1/wallets/${walletId}/topups`,
          { amount },
          { "idempotency-key": key },
        );

      // A steady load: every attempt is recorded with its own Idempotency-Key.
      const attempts: Attempt[] = [];
      let loading = true;
      const workers = Array.from({ length: WORKERS }, async () => {
        while (loading) {
          const key = crypto.randomUUID();
          const amount = 1 + Math.floor(Math.random() * 1_000);
          const startedAt = performance.now();
          const reply = await topUp(key, amount).catch(() => undefined);
          attempts.push({
            key,
            amount,
            startedAt,
            endedAt: performance.now(),
            status: reply?.status ?? 0,
            code: typeof reply?.body.code === "string" ? reply.body.code : "",
            contentType: reply?.headers.get("content-type") ?? "",
          });
          await Bun.sleep(10);
        }
      });
      try {
        await Bun.sleep(1_000);
        const brokenAt = performance.now();
        outage.breakLink(proxy);

        // /ready turns 503 quickly, and keeps saying so while the database is away.
        await Bun.sleep(300);
        const readyChecks: Awaited<ReturnType<typeof readiness>>[] = [];
        while (performance.now() - brokenAt < OUTAGE_MS) readyChecks.push(await readiness(service));
        const restoredAt = performance.now();
        proxy.restore();

        let readyAgainMs = Number.NaN;
        while (performance.now() - restoredAt < RECOVERY_MS + 5_000) {
          if ((await readiness(service)).status === 200) {
            readyAgainMs = performance.now() - restoredAt;
            break;
          }
          await Bun.sleep(50);
        }
        // Load for a while longer after the recovery window, so the "all succeed again" part has data.
        while (performance.now() - restoredAt < RECOVERY_MS + 2_000) await Bun.sleep(50);
        loading = false;
        await Promise.all(workers);

        // --- What clients saw ---
        const during = attempts.filter((a) => a.startedAt > brokenAt + 100 && a.endedAt < restoredAt);
        const failed = during.filter((a) => a.status !== 201);
        const slowest = Math.max(
          0,
          ...attempts.filter((a) => a.status !== 201).map((a) => a.endedAt - a.startedAt),
        );
        const readyWorst = Math.max(0, ...readyChecks.map((check) => check.ms));
        const recovered = attempts.filter((a) => a.startedAt > restoredAt && a.status === 201);
        const firstOk = Math.min(...recovered.map((a) => a.endedAt - restoredAt));
        console.log(
          `[outage: ${outage.name}] ${attempts.length} attempts; during the outage ${failed.length} refused, ` +
            `slowest refusal ${slowest.toFixed(0)} ms, slowest /ready ${readyWorst.toFixed(0)} ms; ` +
            `after restore: first 201 after ${firstOk.toFixed(0)} ms, /ready 200 after ${readyAgainMs.toFixed(0)} ms`,
        );

        // Only 201 or 503 database_unavailable / outcome_unknown (a COMMIT caught in flight), as a
        // problem body, was ever answered; no 500, no hang.
        const unexpected = attempts.filter(
          (a) =>
            a.status !== 201 &&
            !(
              a.status === 503 &&
              (a.code === "database_unavailable" || a.code === "outcome_unknown") &&
              a.contentType.includes("problem+json")
            ),
        );
        expect(unexpected).toEqual([]);
        // The outage was real: requests during it were refused.
        expect(failed.length).toBeGreaterThan(0);
        expect(during.filter((a) => a.status === 201)).toEqual([]);
        // /ready said 503 (database unavailable) every time.
        expect(readyChecks.length).toBeGreaterThan(0);
        for (const check of readyChecks) {
          expect(check.status).toBe(503);
          expect(JSON.parse(check.body)).toEqual({
            status: "unavailable",
            checks: { database: "unavailable", replica: "off" },
          });
        }

        // Recovery: ready again, and every request started after the recovery window succeeded.
        expect(readyAgainMs).toBeLessThanOrEqual(RECOVERY_MS);
        const late = attempts.filter((a) => a.startedAt > restoredAt + RECOVERY_MS);
        expect(late.length).toBeGreaterThan(0);
        expect(late.filter((a) => a.status !== 201)).toEqual([]);
        // …by the same process: it was never restarted.
        expect(service.process.exitCode).toBeNull();
        expect(service.process.signalCode).toBeNull();

        // --- Money ---
        const balanceNow = async () => {
          const result = await direct.query<{ balance: string }>(
            "SELECT balance::text AS balance FROM wallets WHERE id = $1",
            [walletId],
          );
          return Number(result.rows[0]?.balance);
        };
        const sum = (list: Attempt[]) => list.reduce((total, a) => total + a.amount, 0);
        const succeeded = attempts.filter((a) => a.status === 201);
        const refused = attempts.filter((a) => a.status !== 201);
        // Every 201 is in the balance; a 503 may have committed (its answer was lost), nothing else did.
        const before = await balanceNow();
        expect(before).toBeGreaterThanOrEqual(sum(succeeded));
        expect(before).toBeLessThanOrEqual(sum(succeeded) + sum(refused));

        // A client retries each refused top-up with its Idempotency-Key: it is applied exactly once.
        let replayed = 0;
        const retryFailures: string[] = [];
        // database_unavailable promises that nothing was applied: its retry is never a replay.
        const unavailableButApplied: string[] = [];
        for (let i = 0; i < refused.length; i += 20) {
          const batch = refused.slice(i, i + 20);
          const retries = await Promise.all(batch.map((a) => topUp(a.key, a.amount)));
          retries.forEach((retry, index) => {
            if (retry.status !== 201) retryFailures.push(`${retry.status} ${retry.text.slice(0, 200)}`);
            if (retry.headers.get("idempotent-replayed") !== "true") return;
            replayed++;
            if (batch[index]?.code === "database_unavailable") unavailableButApplied.push(batch[index].key);
          });
        }
        expect(retryFailures).toEqual([]);
        expect(unavailableButApplied).toEqual([]);
        console.log(
          `[outage: ${outage.name}] ${refused.length} refused top-ups retried, ${replayed} of them had committed`,
        );
        const total = sum(attempts);
        expect(await balanceNow()).toBe(total);
        const wallet = await expectCall(200, base, ADMIN_KEY, "GET", `/v1/wallets/${walletId}`);
        expect(wallet.balance).toBe(total);
        const ledger = await direct.query<{ count: string; amount: string }>(
          "SELECT count(*)::text AS count, coalesce(sum(amount), 0)::text AS amount FROM transactions WHERE wallet_id = $1 AND type = 'topup'",
          [walletId],
        );
        expect(Number(ledger.rows[0]?.count)).toBe(attempts.length);
        expect(Number(ledger.rows[0]?.amount)).toBe(total);
        expect(await brokenInvariants(direct)).toEqual([]);

        // Last, so that a slow answer does not hide what happened to the money: every refusal (also of
        // the requests the outage caught mid-flight) came within DB_QUERY_TIMEOUT, every /ready within
        // its probe time-out.
        expect(slowest).toBeLessThanOrEqual(DB_QUERY_TIMEOUT + SLACK_MS);
        expect(readyWorst).toBeLessThanOrEqual(PROBE_TIMEOUT_MS + SLACK_MS);
      } finally {
        loading = false;
        proxy.restore();
        await Promise.all(workers);
      }
    }, 120_000);
  }
});
