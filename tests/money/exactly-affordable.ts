/**
 * Many card spends at once, spread over several instances, on one wallet that can afford exactly N
 * of them: the scenario of tests/money/instances.test.ts (one PostgreSQL) and of
 * tests/ship/failover.test.ts (the HA cluster). The decisions lock rows in the database, not in a
 * process, so exactly N are approved wherever the requests land.
 */
import { expectCall, idOf } from "../ship/support.ts";

export interface AffordableRun {
  /** How many spends were approved (captured). */
  approved: number;
  /** The decline reasons of the others. */
  declineReasons: Set<string>;
  /** The wallet's balance afterwards. */
  balanceAfter: unknown;
  walletId: string;
}

export async function spendOnAWalletThatAffordsExactly(
  baseUrls: string[],
  key: string,
  plan: { spends: number; amount: number; affordable: number },
): Promise<AffordableRun> {
  const [base] = baseUrls;
  if (base === undefined) throw new Error("no instance");
  const user = idOf(
    await expectCall(201, base, key, "POST", "/v1/users", {
      email: `many-${crypto.randomUUID()}@example.com`,
      name: "Many",
    }),
  );
  const walletId = idOf(
    await expectCall(201, base, key, "POST", "/v1/wallets", {
      userId: user,
      dailyLimit: 1_000_000_000,
      monthlyLimit: 1_000_000_000,
    }),
  );
  // The balance allows `affordable` spends and part of one more, which must be declined.
  await expectCall(201, base, key, "POST", `/v1/wallets/${walletId}/topups`, {
    amount: plan.affordable * plan.amount + Math.floor(plan.amount / 2),
  });
  const cards = await Promise.all(
    Array.from({ length: 10 }, async () =>
      idOf(
        await expectCall(201, base, key, "POST", "/v1/cards", {
          walletId,
          dailyLimit: 1_000_000_000,
          monthlyLimit: 1_000_000_000,
        }),
      ),
    ),
  );
  const decisions = await Promise.all(
    Array.from({ length: plan.spends }, async (_, index) => {
      const instance = baseUrls[index % baseUrls.length] ?? base;
      const card = cards[index % cards.length] ?? "";
      const body = await expectCall(201, instance, key, "POST", `/v1/cards/${card}/authorizations`, {
        amount: plan.amount,
        merchant: { name: "Everywhere" },
      });
      return body.status === "captured" ? "approved" : String(body.declineReason);
    }),
  );
  const after = await expectCall(200, base, key, "GET", `/v1/wallets/${walletId}`);
  return {
    approved: decisions.filter((decision) => decision === "approved").length,
    declineReasons: new Set(decisions.filter((decision) => decision !== "approved")),
    balanceAfter: after.balance,
    walletId,
  };
}
