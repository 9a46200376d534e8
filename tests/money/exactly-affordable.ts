/**
 * Many card spends at once, spread over several instances, on one wallet that can afford exactly N
 * of them: the scenario of tests/money/instances.test.ts (one PostgreSQL) and of
 * tests/ship/failover.test.ts (the HA cluster). The decisions lock rows in the database, not in a
 * process, so exactly N are approved wherever the requests land.
 */
import { call, expectCall, idOf } from "../ship/support.ts";

export interface AffordableRun {
  /** How many spends were approved (captured). */
  approved: number;
  /** The decline reasons of the others. */
  declineReasons: Set<string>;
  /** The wallet's balance afterwards. */
  balanceAfter: unknown;
  walletId: string;
}

/** A WAL position "X/Y" (X-Read-After) as one number, to find the latest of several. */
function walPosition(position: string): bigint {
  const [high = "0", low = "0"] = position.split("/");
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
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
  // The balance afterwards is read after the latest of the spends' commits (X-Read-After): with a
  // read replica, a GET without it may be served up to DATABASE_READ_MAX_LAG_MS behind.
  let readAfter = "0/0";
  const decisions = await Promise.all(
    Array.from({ length: plan.spends }, async (_, index) => {
      const instance = baseUrls[index % baseUrls.length] ?? base;
      const card = cards[index % cards.length] ?? "";
      const reply = await call(instance, key, "POST", `/v1/cards/${card}/authorizations`, {
        amount: plan.amount,
        merchant: { name: "Everywhere" },
      });
      if (reply.status !== 201) throw new Error(`a spend got ${reply.status} ${reply.text.slice(0, 300)}`);
      const position = reply.headers.get("x-read-after") ?? "0/0";
      if (walPosition(position) > walPosition(readAfter)) readAfter = position;
      return reply.body.status === "captured" ? "approved" : String(reply.body.declineReason);
    }),
  );
  const read = await call(base, key, "GET", `/v1/wallets/${walletId}`, undefined, {
    "x-read-after": readAfter,
  });
  if (read.status !== 200) throw new Error(`the wallet read got ${read.status} ${read.text.slice(0, 300)}`);
  const after = read.body;
  return {
    approved: decisions.filter((decision) => decision === "approved").length,
    declineReasons: new Set(decisions.filter((decision) => decision !== "approved")),
    balanceAfter: after.balance,
    walletId,
  };
}
