/**
 * kill -9 in the middle of a load of card spends and transfers, then a restart: every money
 * invariant still holds, because each balance change commits together with its ledger row or not at all.
 */
import { describe, expect, test } from "bun:test";
import pg from "pg";
import { brokenInvariants } from "../helpers/invariants.ts";
import { startServiceProcess } from "../helpers/process.ts";
import { createScratchDatabase } from "../helpers/server.ts";
import { randomCardKey } from "../helpers/values.ts";

const serverUrl = process.env.DATABASE_URL;
const ADMIN_KEY = "crash-test-admin-key-0123456789";

async function call(baseUrl: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json()) as { id?: string; status?: string };
  if (response.status >= 300)
    throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

describe("a crash under load", () => {
  // Killing a process that owns an embedded PGlite is not what this checks: it is PostgreSQL's durability.
  test.skipIf(serverUrl === undefined)(
    "kill -9 during authorizations and transfers leaves every invariant true after a restart",
    async () => {
      const scratch = await createScratchDatabase(serverUrl ?? "");
      const env = {
        DATABASE_URL: scratch.url,
        ADMIN_API_KEY: ADMIN_KEY,
        CARD_ENCRYPTION_KEY: randomCardKey(),
        DB_POOL_MAX: "16",
      };
      const pool = new pg.Pool({ connectionString: scratch.url, max: 2 });
      try {
        const first = await startServiceProcess(env);
        const base = first.baseUrl;
        const team = await call(base, "POST", "/v1/teams", { name: "Crash team" });
        const teamWallet = await call(base, "POST", "/v1/wallets", {
          teamId: team.id,
          dailyLimit: 50_000_000,
          monthlyLimit: 50_000_000,
        });
        const spare = await call(base, "POST", "/v1/wallets", { teamId: team.id });
        await call(base, "POST", `/v1/wallets/${teamWallet.id}/topups`, { amount: 20_000_000 });
        const cards: { id?: string }[] = [];
        for (let i = 0; i < 20; i++) {
          cards.push(
            await call(base, "POST", "/v1/cards", {
              walletId: teamWallet.id,
              dailyLimit: 1_000_000,
              monthlyLimit: 1_000_000,
            }),
          );
        }

        // 32 clients spend, hold and transfer as fast as they can until the process dies under them.
        let stop = false;
        let completed = 0;
        const clients = Array.from({ length: 32 }, async (_, client) => {
          for (let i = 0; !stop; i++) {
            const card = cards[(client + i) % cards.length];
            const request =
              i % 5 === 4
                ? call(base, "POST", "/v1/transfers", {
                    fromWalletId: teamWallet.id,
                    toWalletId: spare.id,
                    amount: 10_000,
                  })
                : call(base, "POST", `/v1/cards/${card?.id}/authorizations`, {
                    amount: 10_000 + i,
                    merchant: { name: "Crash shop" },
                    capture: i % 3 !== 0,
                  });
            await request.then(
              () => completed++,
              () => {
                if (!stop) stop = true;
              },
            );
          }
        });
        while (completed < 300) await Bun.sleep(20);
        first.process.kill(9);
        await first.process.exited;
        stop = true;
        await Promise.all(clients);
        expect(first.process.signalCode).toBe("SIGKILL");

        const second = await startServiceProcess(env);
        try {
          expect(await brokenInvariants(pool)).toEqual([]);
          // The restarted service keeps serving money correctly.
          const spend = (await call(second.baseUrl, "POST", `/v1/cards/${cards[0]?.id}/authorizations`, {
            amount: 10_000,
            merchant: { name: "After the crash" },
          })) as { status?: string };
          expect(spend.status).toBe("captured");
          expect(await brokenInvariants(pool)).toEqual([]);
        } finally {
          second.process.kill();
          await second.process.exited;
        }
      } finally {
        await pool.end();
        await scratch.drop();
      }
    },
    120_000,
  );
});
