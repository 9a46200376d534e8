/**
 * The answer to a statement is lost on its way back (a link failing one way, through a TCP proxy the
 * test controls). Lost before COMMIT was sent, nothing can have been applied: 503 database_unavailable,
 * safe to retry. Lost after COMMIT was sent, the change may have been applied: 503 outcome_unknown,
 * whose advice is to retry only with the same Idempotency-Key, which then replays the applied change.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type pg from "pg";
import { brokenInvariants } from "../helpers/invariants.ts";
import type { Running } from "../helpers/process.ts";
import { call, expectCall, idOf, type Reply, startServiceBehindProxy, type TcpProxy } from "./support.ts";

const serverUrl = process.env.DATABASE_URL;
const ADMIN_KEY = "commit-outcome-admin-key-0123456789";
const DB_QUERY_TIMEOUT = 1_000;

describe.skipIf(serverUrl === undefined)("an answer from PostgreSQL that never comes back", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  let proxy: TcpProxy;
  let direct: pg.Pool;
  let service: Running;

  beforeAll(async () => {
    ({ service, proxy, direct } = await startServiceBehindProxy(
      serverUrl ?? "",
      ADMIN_KEY,
      { DB_QUERY_TIMEOUT: String(DB_QUERY_TIMEOUT) },
      cleanups,
    ));
  }, 90_000);

  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  const newWallet = async () => {
    const team = await expectCall(201, service.baseUrl, ADMIN_KEY, "POST", "/v1/teams", {
      name: `Team ${crypto.randomUUID()}`,
    });
    return idOf(
      await expectCall(201, service.baseUrl, ADMIN_KEY, "POST", "/v1/wallets", { teamId: idOf(team) }),
    );
  };
  const topUp = (
    walletId: string,
    body: { amount: number; description?: string },
    headers: Record<string, string> = {},
  ) => call(service.baseUrl, ADMIN_KEY, "POST", `/v1/wallets/${walletId}/topups`, body, headers);
  const stored = async (walletId: string) => {
    const result = await direct.query<{ balance: string; topups: string }>(
      `SELECT w.balance::text AS balance,
              (SELECT count(*) FROM transactions t WHERE t.wallet_id = w.id)::text AS topups
         FROM wallets w WHERE w.id = $1`,
      [walletId],
    );
    return { balance: Number(result.rows[0]?.balance), topups: Number(result.rows[0]?.topups) };
  };
  const expectProblemReply = (reply: Reply, status: number, code: string) => {
    expect(reply.status, reply.text).toBe(status);
    expect(reply.headers.get("content-type") ?? "").toContain("application/problem+json");
    expect(reply.body.code).toBe(code);
  };

  test("lost before COMMIT: 503 database_unavailable, and nothing was applied", async () => {
    const walletId = await newWallet();
    // The description is a parameter of the ledger statement: on the wire each time it is executed.
    const topUpBody = { amount: 500, description: `lost-${crypto.randomUUID()}` };
    proxy.loseAnswersAfter(topUpBody.description);
    const reply = await topUp(walletId, topUpBody);
    expectProblemReply(reply, 503, "database_unavailable");
    expect(await stored(walletId)).toEqual({ balance: 0, topups: 0 });
    // Retrying is safe, and applies the top-up once.
    expect((await topUp(walletId, topUpBody)).status).toBe(201);
    expect(await stored(walletId)).toEqual({ balance: 500, topups: 1 });
  }, 30_000);

  test("lost after COMMIT was sent: 503 outcome_unknown, and the top-up did commit", async () => {
    const walletId = await newWallet();
    proxy.loseAnswersAfter("COMMIT");
    const reply = await topUp(walletId, { amount: 700 });
    expectProblemReply(reply, 503, "outcome_unknown");
    expect(String(reply.body.detail)).toContain("Idempotency-Key");
    expect(await stored(walletId)).toEqual({ balance: 700, topups: 1 });
    const wallet = await expectCall(200, service.baseUrl, ADMIN_KEY, "GET", `/v1/wallets/${walletId}`);
    expect(wallet.balance).toBe(700);
  }, 30_000);

  test("outcome_unknown, then a retry with the same Idempotency-Key replays the committed top-up", async () => {
    const walletId = await newWallet();
    const key = crypto.randomUUID();
    proxy.loseAnswersAfter("COMMIT");
    expectProblemReply(
      await topUp(walletId, { amount: 300 }, { "idempotency-key": key }),
      503,
      "outcome_unknown",
    );
    const retry = await topUp(walletId, { amount: 300 }, { "idempotency-key": key });
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(await stored(walletId)).toEqual({ balance: 300, topups: 1 });
    expect(await brokenInvariants(direct)).toEqual([]);
  }, 30_000);

  test("a write outside a transaction (POST /v1/teams) whose COMMIT answer is lost is outcome_unknown too", async () => {
    const name = `Team ${crypto.randomUUID()}`;
    proxy.loseAnswersAfter("COMMIT");
    const reply = await call(service.baseUrl, ADMIN_KEY, "POST", "/v1/teams", { name });
    expectProblemReply(reply, 503, "outcome_unknown");
    const teams = await direct.query("SELECT 1 FROM teams WHERE name = $1", [name]);
    expect(teams.rowCount).toBe(1);
  }, 30_000);
});
