/**
 * The ledger through the HTTP API (contract §3 "Money"): top-ups, withdrawals, transfers, refunds,
 * the transaction list and the ledger invariant (balance = credits - debits), plus the refusal to
 * delete wallets that still hold money.
 */
import { describe, expect, test } from "bun:test";
import {
  addMember,
  authorize,
  createCard,
  createTeam,
  createUser,
  createUserWallet,
  createWallet,
  expectLedgerConsistent,
  fundedWallet,
  fundedWalletWithCard,
  getCard,
  getWallet,
  topUp,
  walletTransactions,
  withdraw,
} from "../helpers/fixtures.ts";
import { expectProblem, expectSdkProblem } from "../helpers/problem-details.ts";
import { countOf } from "../helpers/rows.ts";
import { type Schemas, TestClock, useServer } from "../helpers/server.ts";
import { UNKNOWN_ID, UUID_PATTERN } from "../helpers/values.ts";

const clock = new TestClock();
const server = useServer({}, { clock });

const MAX_AMOUNT = 1_000_000_000_000;
const MAX_BALANCE = 1_000_000_000_000_000;

/** What a client can see of a wallet: the wallet itself and its whole ledger. */
async function snapshot(walletId: string) {
  return {
    wallet: await getWallet(server.api, walletId),
    transactions: await walletTransactions(server.api, walletId),
  };
}

/** Moves the clock on, so each ledger row of a test gets its own instant. */
const tick = () => clock.advance(1000);

function only<T>(items: readonly T[], what: string): T {
  expect(items.length, what).toBe(1);
  const [item] = items;
  if (item === undefined) throw new Error(`expected one ${what}`);
  return item;
}

async function transactionsOf(
  walletId: string,
  query: {
    type?: Schemas["Transaction"]["type"];
    cardId?: string;
    from?: string;
    to?: string;
    limit?: number;
    skip?: number;
    sort?: string;
    sortBy?: "createdAt" | "amount";
  } = {},
): Promise<Schemas["TransactionPage"]> {
  const { data, response, error } = await server.api.GET("/v1/wallets/{id}/transactions", {
    params: { path: { id: walletId }, query },
  });
  if (data === undefined)
    throw new Error(`listing transactions: ${response.status} ${JSON.stringify(error)}`);
  return data;
}

describe("top-ups", () => {
  test("201 with the topup transaction; the balance and the available balance go up", async () => {
    const { wallet } = await createUserWallet(server.api);
    tick();
    const first = await server.api.POST("/v1/wallets/{id}/topups", {
      params: { path: { id: wallet.id } },
      body: { amount: 12345, description: "Salary" },
    });
    expect(first.response.status).toBe(201);
    expect(first.data?.id ?? "").toMatch(UUID_PATTERN);
    expect(first.data).toMatchObject({
      walletId: wallet.id,
      type: "topup",
      amount: 12345,
      currency: "SGD",
      balanceAfter: 12345,
      description: "Salary",
      cardId: null,
      authorizationId: null,
      transferId: null,
    });
    expect(first.data?.createdAt).toBe(clock.now().toISOString());

    tick();
    const second = await server.api.POST("/v1/wallets/{id}/topups", {
      params: { path: { id: wallet.id } },
      body: { amount: 655 },
    });
    expect(second.response.status).toBe(201);
    expect(second.data).toMatchObject({ type: "topup", amount: 655, balanceAfter: 13000, description: null });

    const after = await getWallet(server.api, wallet.id);
    expect(after).toMatchObject({
      balance: 13000,
      availableBalance: 13000,
      spentToday: 0,
      spentThisMonth: 0,
    });
    const stored = await server.api.GET("/v1/transactions/{id}", {
      params: { path: { id: first.data?.id ?? "" } },
    });
    expect(stored.response.status).toBe(200);
    expect(stored.data).toEqual(first.data as Schemas["Transaction"]);
    await expectLedgerConsistent(server.api, wallet.id);
  });

  test("the transaction carries the wallet's currency", async () => {
    const { wallet } = await createUserWallet(server.api, { currency: "USD" });
    const transaction = await topUp(server.api, wallet.id, 500);
    expect(transaction.currency).toBe("USD");
    expect((await getWallet(server.api, wallet.id)).balance).toBe(500);
  });

  test("an amount of exactly 10^12 is accepted", async () => {
    const { wallet } = await createUserWallet(server.api);
    const transaction = await topUp(server.api, wallet.id, MAX_AMOUNT);
    expect(transaction).toMatchObject({ amount: MAX_AMOUNT, balanceAfter: MAX_AMOUNT });
    expect((await getWallet(server.api, wallet.id)).balance).toBe(MAX_AMOUNT);
  });

  test("a frozen wallet still takes top-ups", async () => {
    const wallet = await fundedWallet(server.api, 1000);
    await server.api.PATCH("/v1/wallets/{id}", {
      params: { path: { id: wallet.id } },
      body: { status: "frozen" },
    });
    const result = await server.api.POST("/v1/wallets/{id}/topups", {
      params: { path: { id: wallet.id } },
      body: { amount: 500 },
    });
    expect(result.response.status).toBe(201);
    expect(result.data?.balanceAfter).toBe(1500);
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ status: "frozen", balance: 1500 });
  });

  test("top-ups, withdrawals and transfers are not limited by the wallet's spending limits", async () => {
    const { wallet } = await createUserWallet(server.api, { dailyLimit: 10000, monthlyLimit: 10000 });
    const { wallet: other } = await createUserWallet(server.api);
    await topUp(server.api, wallet.id, 50000);
    await withdraw(server.api, wallet.id, 20000);
    const transfer = await server.api.POST("/v1/transfers", {
      body: { fromWalletId: wallet.id, toWalletId: other.id, amount: 15000 },
    });
    expect(transfer.response.status).toBe(201);
    expect(await getWallet(server.api, wallet.id)).toMatchObject({
      balance: 15000,
      spentToday: 0,
      spentThisMonth: 0,
    });
  });

  test("a balance above 10^15 is 422 balance_limit_exceeded, for a top-up and a transfer in; nothing moves", async () => {
    const { wallet: full } = await createUserWallet(server.api);
    // 10^15 is a thousand top-ups of the largest amount; several at once, as clients would send them.
    for (let batch = 0; batch < 100; batch++) {
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          server.api.POST("/v1/wallets/{id}/topups", {
            params: { path: { id: full.id } },
            body: { amount: MAX_AMOUNT },
          }),
        ),
      );
      expect(results.map((result) => result.response.status)).toEqual(Array(10).fill(201));
    }
    const before = await snapshot(full.id);
    expect(before.wallet.balance).toBe(MAX_BALANCE);
    expect(before.transactions.length).toBe(1000);

    expectSdkProblem(
      await server.api.POST("/v1/wallets/{id}/topups", {
        params: { path: { id: full.id } },
        body: { amount: 1 },
      }),
      422,
      "balance_limit_exceeded",
    );
    const source = await fundedWallet(server.api, 5000);
    expectSdkProblem(
      await server.api.POST("/v1/transfers", {
        body: { fromWalletId: source.id, toWalletId: full.id, amount: 1 },
      }),
      422,
      "balance_limit_exceeded",
    );
    expect(await snapshot(full.id)).toEqual(before);
    expect(await getWallet(server.api, source.id)).toEqual(source);
    await expectLedgerConsistent(server.api, full.id);

    // Once something has left, exactly that much fits again.
    await withdraw(server.api, full.id, 10);
    expect((await topUp(server.api, full.id, 10)).balanceAfter).toBe(MAX_BALANCE);
  }, 120_000);
});

describe("withdrawals", () => {
  test("201 with the withdrawal transaction; the balance goes down, to exactly zero", async () => {
    const wallet = await fundedWallet(server.api, 10000);
    tick();
    const result = await server.api.POST("/v1/wallets/{id}/withdrawals", {
      params: { path: { id: wallet.id } },
      body: { amount: 4000, description: "ATM" },
    });
    expect(result.response.status).toBe(201);
    expect(result.data).toMatchObject({
      walletId: wallet.id,
      type: "withdrawal",
      amount: 4000,
      currency: "SGD",
      balanceAfter: 6000,
      description: "ATM",
      cardId: null,
      authorizationId: null,
      transferId: null,
    });
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ balance: 6000, availableBalance: 6000 });
    const last = await withdraw(server.api, wallet.id, 6000);
    expect(last.balanceAfter).toBe(0);
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ balance: 0, availableBalance: 0 });
    await expectLedgerConsistent(server.api, wallet.id);
  });

  test("more than the available balance is 422 insufficient_funds and nothing changes", async () => {
    const wallet = await fundedWallet(server.api, 5000);
    const before = await snapshot(wallet.id);
    expectSdkProblem(
      await server.api.POST("/v1/wallets/{id}/withdrawals", {
        params: { path: { id: wallet.id } },
        body: { amount: 5001 },
      }),
      422,
      "insufficient_funds",
    );
    expect(await snapshot(wallet.id)).toEqual(before);
    const { wallet: empty } = await createUserWallet(server.api);
    expectSdkProblem(
      await server.api.POST("/v1/wallets/{id}/withdrawals", {
        params: { path: { id: empty.id } },
        body: { amount: 1 },
      }),
      422,
      "insufficient_funds",
    );
    expect(await walletTransactions(server.api, empty.id)).toEqual([]);
  });

  test("a pending card hold is not available: a withdrawal within the balance but above the available is 422", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 10000);
    const hold = await authorize(server.api, card.id, 6000, { capture: false });
    expect(hold.status).toBe("pending");
    const before = await snapshot(wallet.id);
    expect(before.wallet).toMatchObject({ balance: 10000, availableBalance: 4000 });
    expectSdkProblem(
      await server.api.POST("/v1/wallets/{id}/withdrawals", {
        params: { path: { id: wallet.id } },
        body: { amount: 5000 },
      }),
      422,
      "insufficient_funds",
    );
    expect(await snapshot(wallet.id)).toEqual(before);
    await withdraw(server.api, wallet.id, 4000);
    expect(await expectLedgerConsistent(server.api, wallet.id)).toMatchObject({
      balance: 6000,
      availableBalance: 0,
    });
  });

  test("a frozen wallet refuses withdrawals and transfers out with 422 wallet_frozen; nothing moves", async () => {
    const wallet = await fundedWallet(server.api, 10000);
    const { wallet: other } = await createUserWallet(server.api);
    await server.api.PATCH("/v1/wallets/{id}", {
      params: { path: { id: wallet.id } },
      body: { status: "frozen" },
    });
    const before = await snapshot(wallet.id);
    expectSdkProblem(
      await server.api.POST("/v1/wallets/{id}/withdrawals", {
        params: { path: { id: wallet.id } },
        body: { amount: 100 },
      }),
      422,
      "wallet_frozen",
    );
    expectSdkProblem(
      await server.api.POST("/v1/transfers", {
        body: { fromWalletId: wallet.id, toWalletId: other.id, amount: 100 },
      }),
      422,
      "wallet_frozen",
    );
    expect(await snapshot(wallet.id)).toEqual(before);
    expect(await getWallet(server.api, other.id)).toMatchObject({ balance: 0 });
    expect(await walletTransactions(server.api, other.id)).toEqual([]);

    // Thawed, the same withdrawal goes through.
    await server.api.PATCH("/v1/wallets/{id}", {
      params: { path: { id: wallet.id } },
      body: { status: "active" },
    });
    expect((await withdraw(server.api, wallet.id, 100)).balanceAfter).toBe(9900);
  });

  test("concurrent withdrawals never overdraw: exactly as many succeed as the balance covers", async () => {
    const wallet = await fundedWallet(server.api, 1000);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        server.api.POST("/v1/wallets/{id}/withdrawals", {
          params: { path: { id: wallet.id } },
          body: { amount: 100 },
        }),
      ),
    );
    const statuses = results.map((result) => result.response.status);
    expect(statuses.filter((status) => status === 201).length).toBe(10);
    expect(statuses.filter((status) => status === 422).length).toBe(10);
    for (const result of results) {
      if (result.response.status === 422) expect(result.error?.code).toBe("insufficient_funds");
    }
    const after = await expectLedgerConsistent(server.api, wallet.id);
    expect(after).toMatchObject({ balance: 0, availableBalance: 0 });
    expect((await walletTransactions(server.api, wallet.id)).length).toBe(11);
  });

  test("mixed concurrent debits (withdrawals, transfers, card spends, holds) never overdraw the wallet", async () => {
    const wallet = await fundedWallet(server.api, 10000);
    const { wallet: other } = await createUserWallet(server.api);
    const card = await createCard(server.api, { walletId: wallet.id });
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) => {
        switch (i % 4) {
          case 0:
            return server.api
              .POST("/v1/wallets/{id}/withdrawals", {
                params: { path: { id: wallet.id } },
                body: { amount: 1000 },
              })
              .then((result) => result.response.status === 201);
          case 1:
            return server.api
              .POST("/v1/transfers", {
                body: { fromWalletId: wallet.id, toWalletId: other.id, amount: 1000 },
              })
              .then((result) => result.response.status === 201);
          case 2:
            return authorize(server.api, card.id, 1000).then((result) => result.status === "captured");
          default:
            return authorize(server.api, card.id, 1000, { capture: false }).then(
              (result) => result.status === "pending",
            );
        }
      }),
    );
    expect(results.filter(Boolean).length).toBe(10);
    const after = await expectLedgerConsistent(server.api, wallet.id);
    expect(after.availableBalance).toBe(0);
    const sentOut = (await walletTransactions(server.api, wallet.id))
      .filter((row) => row.type === "transfer_out")
      .reduce((sum, row) => sum + row.amount, 0);
    expect((await getWallet(server.api, other.id)).balance).toBe(sentOut);
  });
});

describe("amounts and unknown wallets", () => {
  const badBodies: [string, unknown][] = [
    ["zero", { amount: 0 }],
    ["negative", { amount: -100 }],
    ["fractional", { amount: 10.5 }],
    ["above 10^12", { amount: MAX_AMOUNT + 1 }],
    ["a string", { amount: "100" }],
    ["null", { amount: null }],
    ["missing", {}],
    ["an unknown field", { amount: 100, balance: 1_000_000 }],
    ["an empty description", { amount: 100, description: "" }],
    ["a description over 500 characters", { amount: 100, description: "x".repeat(501) }],
  ];

  for (const route of ["topups", "withdrawals"] as const) {
    const move = (id: string) =>
      route === "topups"
        ? server.api.POST("/v1/wallets/{id}/topups", { params: { path: { id } }, body: { amount: 100 } })
        : server.api.POST("/v1/wallets/{id}/withdrawals", {
            params: { path: { id } },
            body: { amount: 100 },
          });
    test(`${route}: an invalid amount or body is 400 and changes nothing`, async () => {
      const wallet = await fundedWallet(server.api, 10000);
      const before = await snapshot(wallet.id);
      for (const [what, body] of badBodies) {
        const response = await server.request(`/v1/wallets/${wallet.id}/${route}`, {
          method: "POST",
          json: body,
        });
        const problem = await expectProblem(response, 400);
        if (what !== "an unknown field" && !what.includes("description")) {
          expect(
            problem.errors?.map((error) => error.path),
            what,
          ).toContain("body.amount");
        }
      }
      await expectProblem(
        await server.request(`/v1/wallets/${wallet.id}/${route}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '{"amount": 100',
        }),
        400,
        "malformed_json",
      );
      expect(await snapshot(wallet.id)).toEqual(before);
    });

    test(`${route}: an unknown wallet is 404 wallet_not_found, a malformed id 400, a deleted wallet 404`, async () => {
      expectSdkProblem(await move(UNKNOWN_ID), 404, "wallet_not_found");
      await expectProblem(
        await server.request(`/v1/wallets/not-a-uuid/${route}`, { method: "POST", json: { amount: 100 } }),
        400,
        "invalid_id",
      );
      const { wallet: deleted } = await createUserWallet(server.api);
      await server.api.DELETE("/v1/wallets/{id}", { params: { path: { id: deleted.id } } });
      expectSdkProblem(await move(deleted.id), 404, "wallet_not_found");
      expect(
        await countOf(
          server.db,
          "SELECT count(*) AS count FROM transactions WHERE wallet_id = ANY($1::uuid[])",
          [[UNKNOWN_ID, deleted.id]],
        ),
      ).toBe(0);
    });
  }

  test("transfers: an invalid amount or body is 400 and moves nothing", async () => {
    const from = await fundedWallet(server.api, 10000);
    const { wallet: to } = await createUserWallet(server.api);
    const before = await snapshot(from.id);
    for (const [, body] of badBodies) {
      const json = { fromWalletId: from.id, toWalletId: to.id, ...(body as object) };
      await expectProblem(await server.request("/v1/transfers", { method: "POST", json }), 400);
    }
    for (const json of [
      { toWalletId: to.id, amount: 100 },
      { fromWalletId: from.id, amount: 100 },
      { fromWalletId: "nope", toWalletId: to.id, amount: 100 },
    ]) {
      await expectProblem(await server.request("/v1/transfers", { method: "POST", json }), 400);
    }
    expect(await snapshot(from.id)).toEqual(before);
    expect(await walletTransactions(server.api, to.id)).toEqual([]);
  });
});

describe("transfers", () => {
  test("201 with both transactions [out, in], each with the transfer's id; both balances move", async () => {
    const user = await createUser(server.api);
    const team = await createTeam(server.api);
    const from = await createWallet(server.api, { userId: user.id });
    const to = await createWallet(server.api, { teamId: team.id });
    await topUp(server.api, from.id, 10000);
    await topUp(server.api, to.id, 300);
    tick();
    const result = await server.api.POST("/v1/transfers", {
      body: { fromWalletId: from.id, toWalletId: to.id, amount: 2500, description: "Lunch share" },
    });
    expect(result.response.status).toBe(201);
    const transfer = result.data;
    if (transfer === undefined) throw new Error("no transfer");
    expect(transfer.id).toMatch(UUID_PATTERN);
    expect(transfer).toMatchObject({
      fromWalletId: from.id,
      toWalletId: to.id,
      amount: 2500,
      currency: "SGD",
      createdAt: clock.now().toISOString(),
    });
    expect(transfer.transactions.length).toBe(2);
    const [out, incoming] = transfer.transactions;
    expect(out).toMatchObject({
      walletId: from.id,
      type: "transfer_out",
      amount: 2500,
      currency: "SGD",
      balanceAfter: 7500,
      transferId: transfer.id,
      cardId: null,
      authorizationId: null,
    });
    expect(incoming).toMatchObject({
      walletId: to.id,
      type: "transfer_in",
      amount: 2500,
      currency: "SGD",
      balanceAfter: 2800,
      transferId: transfer.id,
      cardId: null,
      authorizationId: null,
    });
    expect(out?.id).not.toBe(incoming?.id);

    expect(await getWallet(server.api, from.id)).toMatchObject({ balance: 7500, availableBalance: 7500 });
    expect(await getWallet(server.api, to.id)).toMatchObject({ balance: 2800, availableBalance: 2800 });
    for (const transaction of [out, incoming]) {
      const stored = await server.api.GET("/v1/transactions/{id}", {
        params: { path: { id: transaction?.id ?? "" } },
      });
      expect(stored.data).toEqual(transaction as Schemas["Transaction"]);
    }
    const outs = await transactionsOf(from.id, { type: "transfer_out" });
    expect(outs.data.map((transaction) => transaction.transferId)).toEqual([transfer.id]);
    const ins = await transactionsOf(to.id, { type: "transfer_in" });
    expect(ins.data.map((transaction) => transaction.transferId)).toEqual([transfer.id]);
    await expectLedgerConsistent(server.api, from.id);
    await expectLedgerConsistent(server.api, to.id);
  });

  test("the whole balance can be transferred", async () => {
    const from = await fundedWallet(server.api, 4200);
    const { wallet: to } = await createUserWallet(server.api);
    const result = await server.api.POST("/v1/transfers", {
      body: { fromWalletId: from.id, toWalletId: to.id, amount: 4200 },
    });
    expect(result.response.status).toBe(201);
    expect((await getWallet(server.api, from.id)).balance).toBe(0);
    expect((await getWallet(server.api, to.id)).balance).toBe(4200);
  });

  test("to the same wallet is 400 same_wallet and moves nothing", async () => {
    const wallet = await fundedWallet(server.api, 5000);
    const before = await snapshot(wallet.id);
    expectSdkProblem(
      await server.api.POST("/v1/transfers", {
        body: { fromWalletId: wallet.id, toWalletId: wallet.id, amount: 100 },
      }),
      400,
      "same_wallet",
    );
    expect(await snapshot(wallet.id)).toEqual(before);
  });

  test("between two currencies is 422 currency_mismatch and moves nothing", async () => {
    const sgd = await fundedWallet(server.api, 5000);
    const usd = await fundedWallet(server.api, 5000, { currency: "USD" });
    const before = [await snapshot(sgd.id), await snapshot(usd.id)];
    expectSdkProblem(
      await server.api.POST("/v1/transfers", {
        body: { fromWalletId: sgd.id, toWalletId: usd.id, amount: 100 },
      }),
      422,
      "currency_mismatch",
    );
    expectSdkProblem(
      await server.api.POST("/v1/transfers", {
        body: { fromWalletId: usd.id, toWalletId: sgd.id, amount: 100 },
      }),
      422,
      "currency_mismatch",
    );
    expect([await snapshot(sgd.id), await snapshot(usd.id)]).toEqual(before);
  });

  test("more than the source's available balance is 422 insufficient_funds and moves nothing", async () => {
    const from = await fundedWallet(server.api, 5000);
    const to = await fundedWallet(server.api, 100);
    const card = await createCard(server.api, { walletId: from.id });
    await authorize(server.api, card.id, 2000, { capture: false });
    const before = [await snapshot(from.id), await snapshot(to.id)];
    for (const amount of [5001, 3001]) {
      expectSdkProblem(
        await server.api.POST("/v1/transfers", {
          body: { fromWalletId: from.id, toWalletId: to.id, amount },
        }),
        422,
        "insufficient_funds",
      );
    }
    expect([await snapshot(from.id), await snapshot(to.id)]).toEqual(before);
  });

  test("an unknown source or destination is 404 wallet_not_found and moves nothing", async () => {
    const wallet = await fundedWallet(server.api, 5000);
    const before = await snapshot(wallet.id);
    expectSdkProblem(
      await server.api.POST("/v1/transfers", {
        body: { fromWalletId: wallet.id, toWalletId: UNKNOWN_ID, amount: 100 },
      }),
      404,
      "wallet_not_found",
    );
    expectSdkProblem(
      await server.api.POST("/v1/transfers", {
        body: { fromWalletId: UNKNOWN_ID, toWalletId: wallet.id, amount: 100 },
      }),
      404,
      "wallet_not_found",
    );
    const { wallet: deleted } = await createUserWallet(server.api);
    await server.api.DELETE("/v1/wallets/{id}", { params: { path: { id: deleted.id } } });
    expectSdkProblem(
      await server.api.POST("/v1/transfers", {
        body: { fromWalletId: wallet.id, toWalletId: deleted.id, amount: 100 },
      }),
      404,
      "wallet_not_found",
    );
    expect(await snapshot(wallet.id)).toEqual(before);
  });

  test("concurrent transfers in both directions all complete and conserve the money", async () => {
    const a = await fundedWallet(server.api, 100000);
    const b = await fundedWallet(server.api, 100000);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        server.api.POST("/v1/transfers", {
          body:
            i % 2 === 0
              ? { fromWalletId: a.id, toWalletId: b.id, amount: 1000 + i }
              : { fromWalletId: b.id, toWalletId: a.id, amount: 1000 + i },
        }),
      ),
    );
    expect(results.map((result) => result.response.status)).toEqual(Array(20).fill(201));
    const sentByA = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18].reduce((sum, i) => sum + 1000 + i, 0);
    const sentByB = [1, 3, 5, 7, 9, 11, 13, 15, 17, 19].reduce((sum, i) => sum + 1000 + i, 0);
    const afterA = await expectLedgerConsistent(server.api, a.id);
    const afterB = await expectLedgerConsistent(server.api, b.id);
    expect(afterA.balance).toBe(100000 - sentByA + sentByB);
    expect(afterB.balance).toBe(100000 - sentByB + sentByA);
  });
});

describe("transaction list and get", () => {
  test("newest first by default, oldest first with sort=asc, by amount with sortBy=amount; paged", async () => {
    const { wallet } = await createUserWallet(server.api);
    const amounts = [500, 100, 900, 300, 700];
    const made: Schemas["Transaction"][] = [];
    for (const amount of amounts) {
      tick();
      made.push(await topUp(server.api, wallet.id, amount));
    }
    const ids = made.map((transaction) => transaction.id);

    const newest = await transactionsOf(wallet.id);
    expect(newest.data.map((transaction) => transaction.id)).toEqual([...ids].reverse());
    expect(newest).toMatchObject({ skip: 0, limit: 20, hasMore: false });

    const oldest = await transactionsOf(wallet.id, { sort: "ASC" });
    expect(oldest.data.map((transaction) => transaction.id)).toEqual(ids);

    const byAmount = await transactionsOf(wallet.id, { sortBy: "amount", sort: "asc" });
    expect(byAmount.data.map((transaction) => transaction.amount)).toEqual([100, 300, 500, 700, 900]);

    const first = await transactionsOf(wallet.id, { limit: 2 });
    expect(first).toMatchObject({ skip: 0, limit: 2, hasMore: true });
    expect(first.data.map((transaction) => transaction.id)).toEqual(ids.slice(3, 5).reverse());
    const second = await transactionsOf(wallet.id, { limit: 2, skip: 2 });
    expect(second.data.map((transaction) => transaction.id)).toEqual(ids.slice(1, 3).reverse());
    expect(second.hasMore).toBe(true);
    const last = await transactionsOf(wallet.id, { limit: 2, skip: 4 });
    expect(last.data.map((transaction) => transaction.id)).toEqual(ids.slice(0, 1));
    expect(last.hasMore).toBe(false);
    expect((await transactionsOf(wallet.id, { skip: 10 })).data).toEqual([]);
  });

  test("only the wallet's own transactions are listed", async () => {
    const one = await fundedWallet(server.api, 1000);
    const two = await fundedWallet(server.api, 2000);
    const listed = await transactionsOf(one.id);
    expect(listed.data.map((transaction) => transaction.walletId)).toEqual([one.id]);
    expect((await transactionsOf(two.id)).data.map((transaction) => transaction.amount)).toEqual([2000]);
  });

  test("filters by type, cardId and a from/to time range", async () => {
    const { wallet } = await createUserWallet(server.api);
    const { wallet: other } = await createUserWallet(server.api);
    const cardA = await createCard(server.api, { walletId: wallet.id });
    const cardB = await createCard(server.api, { walletId: wallet.id });
    const t0 = clock.now();
    clock.advance(60_000);
    const start = clock.now().toISOString();
    const topup = await topUp(server.api, wallet.id, 50000);
    clock.advance(60_000);
    const middle = clock.now().toISOString();
    const spendA = await authorize(server.api, cardA.id, 1000);
    clock.advance(60_000);
    const spendB = await authorize(server.api, cardB.id, 2000);
    clock.advance(60_000);
    const withdrawal = await withdraw(server.api, wallet.id, 3000);
    clock.advance(60_000);
    const transfer = await server.api.POST("/v1/transfers", {
      body: { fromWalletId: wallet.id, toWalletId: other.id, amount: 4000 },
    });
    clock.advance(60_000);
    const end = clock.now().toISOString();
    expect(spendA.status).toBe("captured");
    expect(spendB.status).toBe("captured");

    const all = await transactionsOf(wallet.id);
    expect(all.data.map((transaction) => transaction.type)).toEqual([
      "transfer_out",
      "withdrawal",
      "card_spend",
      "card_spend",
      "topup",
    ]);

    const spends = await transactionsOf(wallet.id, { type: "card_spend" });
    expect(spends.data.map((transaction) => transaction.authorizationId)).toEqual([spendB.id, spendA.id]);
    expect((await transactionsOf(wallet.id, { type: "topup" })).data.map((row) => row.id)).toEqual([
      topup.id,
    ]);
    expect((await transactionsOf(wallet.id, { type: "withdrawal" })).data.map((row) => row.id)).toEqual([
      withdrawal.id,
    ]);
    expect(
      (await transactionsOf(wallet.id, { type: "transfer_out" })).data.map((row) => row.transferId),
    ).toEqual([transfer.data?.id ?? ""]);
    expect((await transactionsOf(wallet.id, { type: "refund" })).data).toEqual([]);

    const ofCardA = await transactionsOf(wallet.id, { cardId: cardA.id });
    expect(ofCardA.data.map((row) => [row.type, row.cardId, row.amount])).toEqual([
      ["card_spend", cardA.id, 1000],
    ]);
    const ofCardB = await transactionsOf(wallet.id, { cardId: cardB.id, type: "card_spend" });
    expect(ofCardB.data.map((row) => row.amount)).toEqual([2000]);

    // from is inclusive, to exclusive.
    const fromMiddle = await transactionsOf(wallet.id, { from: middle });
    expect(fromMiddle.data.map((row) => row.type)).toEqual([
      "transfer_out",
      "withdrawal",
      "card_spend",
      "card_spend",
    ]);
    const untilMiddle = await transactionsOf(wallet.id, { to: middle });
    expect(untilMiddle.data.map((row) => row.id)).toEqual([topup.id]);
    const window = await transactionsOf(wallet.id, { from: start, to: end });
    expect(window.data.length).toBe(5);
    expect((await transactionsOf(wallet.id, { to: t0.toISOString() })).data).toEqual([]);
    expect((await transactionsOf(wallet.id, { from: end })).data).toEqual([]);
  });

  test("bad filters, sort fields and paging are 400", async () => {
    const wallet = await fundedWallet(server.api, 1000);
    for (const query of [
      "type=bonus",
      "cardId=not-a-uuid",
      "from=yesterday",
      "to=2026-13-45",
      "sortBy=balanceAfter",
      "sortBy=amount;DROP%20TABLE%20transactions",
      "sort=up",
      "limit=0",
      "limit=101",
      "skip=-1",
      "colour=red",
    ]) {
      await expectProblem(await server.request(`/v1/wallets/${wallet.id}/transactions?${query}`), 400);
    }
    expect((await transactionsOf(wallet.id)).data.length).toBe(1);
  });

  test("an unknown wallet's list and an unknown transaction are 404; malformed ids 400", async () => {
    expectSdkProblem(
      await server.api.GET("/v1/wallets/{id}/transactions", { params: { path: { id: UNKNOWN_ID } } }),
      404,
      "wallet_not_found",
    );
    expectSdkProblem(
      await server.api.GET("/v1/transactions/{id}", { params: { path: { id: UNKNOWN_ID } } }),
      404,
      "transaction_not_found",
    );
    await expectProblem(await server.request("/v1/transactions/42"), 400, "invalid_id");
    await expectProblem(await server.request("/v1/wallets/42/transactions"), 400, "invalid_id");
  });

  test("the balance equals the ledger after every kind of movement", async () => {
    const { wallet } = await createUserWallet(server.api);
    const other = await fundedWallet(server.api, 20000);
    const card = await createCard(server.api, { walletId: wallet.id });
    await topUp(server.api, wallet.id, 100000);
    await withdraw(server.api, wallet.id, 12345);
    await server.api.POST("/v1/transfers", {
      body: { fromWalletId: wallet.id, toWalletId: other.id, amount: 5000 },
    });
    await server.api.POST("/v1/transfers", {
      body: { fromWalletId: other.id, toWalletId: wallet.id, amount: 7000 },
    });
    const spend = await authorize(server.api, card.id, 8000);
    const hold = await authorize(server.api, card.id, 3000, { capture: false });
    const partial = await authorize(server.api, card.id, 4000, { capture: false });
    await server.api.POST("/v1/authorizations/{id}/capture", {
      params: { path: { id: partial.id } },
      body: { amount: 2500 },
    });
    const [spendRow] = (await transactionsOf(wallet.id, { type: "card_spend", sort: "asc" })).data;
    await server.api.POST("/v1/transactions/{id}/refunds", {
      params: { path: { id: spendRow?.id ?? "" } },
      body: { amount: 1000 },
    });
    await authorize(server.api, card.id, 10_000_000); // declined: moves nothing
    expect(spend.status).toBe("captured");
    expect(hold.status).toBe("pending");

    const after = await expectLedgerConsistent(server.api, wallet.id);
    expect(after.balance).toBe(100000 - 12345 - 5000 + 7000 - 8000 - 2500 + 1000);
    expect(after.availableBalance).toBe(after.balance - 3000);
    await expectLedgerConsistent(server.api, other.id);
  });
});

describe("refunds", () => {
  /** A wallet with `funds`, a card on it and a captured spend of `amount`; returns the spend's transaction. */
  async function spend(amount: number, funds = 100000) {
    const { wallet, card } = await fundedWalletWithCard(server.api, funds);
    const authorization = await authorize(server.api, card.id, amount);
    expect(authorization.status).toBe("captured");
    const transaction = only(
      (await transactionsOf(wallet.id, { type: "card_spend" })).data,
      "card_spend transaction",
    );
    return { wallet, card, authorization, transaction };
  }

  test("an empty body refunds all of it: 201 refund with refundOf, cardId and authorizationId", async () => {
    const { wallet, card, authorization, transaction } = await spend(7000);
    expect(transaction).toMatchObject({ amount: 7000, cardId: card.id, authorizationId: authorization.id });
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 7000, spentThisMonth: 7000 });
    tick();
    const result = await server.api.POST("/v1/transactions/{id}/refunds", {
      params: { path: { id: transaction.id } },
      body: {},
    });
    expect(result.response.status).toBe(201);
    expect(result.data?.id ?? "").toMatch(UUID_PATTERN);
    expect(result.data).toMatchObject({
      walletId: wallet.id,
      type: "refund",
      amount: 7000,
      currency: "SGD",
      balanceAfter: 100000,
      refundOf: transaction.id,
      cardId: card.id,
      authorizationId: authorization.id,
      transferId: null,
      createdAt: clock.now().toISOString(),
    });
    const stored = await server.api.GET("/v1/transactions/{id}", {
      params: { path: { id: result.data?.id ?? "" } },
    });
    expect(stored.data).toEqual(result.data as Schemas["Transaction"]);
    expect(await getWallet(server.api, wallet.id)).toMatchObject({
      balance: 100000,
      availableBalance: 100000,
      spentToday: 0,
      spentThisMonth: 0,
    });
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 0, spentThisMonth: 0 });
    await expectLedgerConsistent(server.api, wallet.id);
  });

  test("a raw POST without any body refunds all of it too", async () => {
    const { wallet, transaction } = await spend(2500);
    const response = await server.request(`/v1/transactions/${transaction.id}/refunds`, { method: "POST" });
    expect(response.status).toBe(201);
    expect(((await response.json()) as Schemas["Transaction"]).amount).toBe(2500);
    expect((await getWallet(server.api, wallet.id)).balance).toBe(100000);
  });

  test("several partial refunds up to the spend, then 422 refund_exceeds_spend; the refused one changes nothing", async () => {
    const { wallet, card, transaction } = await spend(10000);
    const refunds: Schemas["Transaction"][] = [];
    for (const amount of [3000, 3000, 4000]) {
      const result = await server.api.POST("/v1/transactions/{id}/refunds", {
        params: { path: { id: transaction.id } },
        body: { amount, description: "partial" },
      });
      expect(result.response.status).toBe(201);
      if (result.data) refunds.push(result.data);
    }
    expect(refunds.map((refund) => [refund.amount, refund.refundOf, refund.balanceAfter])).toEqual([
      [3000, transaction.id, 93000],
      [3000, transaction.id, 96000],
      [4000, transaction.id, 100000],
    ]);
    const before = await snapshot(wallet.id);
    for (const body of [{ amount: 1 }, {}]) {
      expectSdkProblem(
        await server.api.POST("/v1/transactions/{id}/refunds", {
          params: { path: { id: transaction.id } },
          body,
        }),
        422,
        "refund_exceeds_spend",
      );
    }
    expect(await snapshot(wallet.id)).toEqual(before);
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 0 });
    expect((await transactionsOf(wallet.id, { type: "refund" })).data.length).toBe(3);
  });

  test("a refund larger than what is left is 422 refund_exceeds_spend; an empty body then refunds the rest", async () => {
    const { wallet, authorization, transaction } = await spend(5000);
    await server.api.POST("/v1/transactions/{id}/refunds", {
      params: { path: { id: transaction.id } },
      body: { amount: 2000 },
    });
    const before = await snapshot(wallet.id);
    expectSdkProblem(
      await server.api.POST("/v1/transactions/{id}/refunds", {
        params: { path: { id: transaction.id } },
        body: { amount: 3001 },
      }),
      422,
      "refund_exceeds_spend",
    );
    expect(await snapshot(wallet.id)).toEqual(before);
    const rest = await server.api.POST("/v1/transactions/{id}/refunds", {
      params: { path: { id: transaction.id } },
      body: {},
    });
    expect(rest.response.status).toBe(201);
    expect(rest.data?.amount).toBe(3000);
    const stored = await server.api.GET("/v1/authorizations/{id}", {
      params: { path: { id: authorization.id } },
    });
    expect(stored.data).toMatchObject({ status: "captured", capturedAmount: 5000, refundedAmount: 5000 });
    await expectLedgerConsistent(server.api, wallet.id);
  });

  test("a partly captured spend can be refunded up to the captured amount only", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 50000);
    const hold = await authorize(server.api, card.id, 8000, { capture: false });
    await server.api.POST("/v1/authorizations/{id}/capture", {
      params: { path: { id: hold.id } },
      body: { amount: 3000 },
    });
    const spendRow = only((await transactionsOf(wallet.id, { type: "card_spend" })).data, "card_spend");
    expect(spendRow.amount).toBe(3000);
    expectSdkProblem(
      await server.api.POST("/v1/transactions/{id}/refunds", {
        params: { path: { id: spendRow.id } },
        body: { amount: 3001 },
      }),
      422,
      "refund_exceeds_spend",
    );
    const all = await server.api.POST("/v1/transactions/{id}/refunds", {
      params: { path: { id: spendRow.id } },
      body: {},
    });
    expect(all.data?.amount).toBe(3000);
    expect((await getWallet(server.api, wallet.id)).balance).toBe(50000);
  });

  test("anything but a card_spend is 422 transaction_not_refundable and changes nothing", async () => {
    const { wallet, transaction } = await spend(4000);
    const { wallet: other } = await createUserWallet(server.api);
    const withdrawal = await withdraw(server.api, wallet.id, 1000);
    const transfer = await server.api.POST("/v1/transfers", {
      body: { fromWalletId: wallet.id, toWalletId: other.id, amount: 1000 },
    });
    const refund = await server.api.POST("/v1/transactions/{id}/refunds", {
      params: { path: { id: transaction.id } },
      body: { amount: 1000 },
    });
    const [topupRow] = (await transactionsOf(wallet.id, { type: "topup" })).data;
    const candidates = [
      topupRow?.id,
      withdrawal.id,
      transfer.data?.transactions[0]?.id,
      transfer.data?.transactions[1]?.id,
      refund.data?.id,
    ];
    const before = [await snapshot(wallet.id), await snapshot(other.id)];
    for (const id of candidates) {
      expectSdkProblem(
        await server.api.POST("/v1/transactions/{id}/refunds", {
          params: { path: { id: id ?? "" } },
          body: {},
        }),
        422,
        "transaction_not_refundable",
      );
    }
    expect([await snapshot(wallet.id), await snapshot(other.id)]).toEqual(before);
  });

  test("an unknown transaction is 404; a bad amount 400; nothing changes", async () => {
    const { wallet, transaction } = await spend(4000);
    expectSdkProblem(
      await server.api.POST("/v1/transactions/{id}/refunds", {
        params: { path: { id: UNKNOWN_ID } },
        body: {},
      }),
      404,
      "transaction_not_found",
    );
    const before = await snapshot(wallet.id);
    for (const json of [
      { amount: 0 },
      { amount: -5 },
      { amount: 1.5 },
      { amount: "100" },
      { everything: true },
    ]) {
      await expectProblem(
        await server.request(`/v1/transactions/${transaction.id}/refunds`, { method: "POST", json }),
        400,
      );
    }
    expect(await snapshot(wallet.id)).toEqual(before);
  });

  test("concurrent refunds of one spend never add up to more than it", async () => {
    const { wallet, card, transaction } = await spend(10000);
    const full = await Promise.all(
      Array.from({ length: 8 }, () =>
        server.api.POST("/v1/transactions/{id}/refunds", {
          params: { path: { id: transaction.id } },
          body: {},
        }),
      ),
    );
    expect(full.filter((result) => result.response.status === 201).length).toBe(1);
    for (const result of full.filter((result) => result.response.status !== 201)) {
      expectSdkProblem(result, 422, "refund_exceeds_spend");
    }
    expect(await expectLedgerConsistent(server.api, wallet.id)).toMatchObject({ balance: 100000 });

    const second = await spend(10000);
    const partial = await Promise.all(
      Array.from({ length: 8 }, () =>
        server.api.POST("/v1/transactions/{id}/refunds", {
          params: { path: { id: second.transaction.id } },
          body: { amount: 3000 },
        }),
      ),
    );
    expect(partial.filter((result) => result.response.status === 201).length).toBe(3);
    expect(await expectLedgerConsistent(server.api, second.wallet.id)).toMatchObject({ balance: 99000 });
    expect(await getCard(server.api, card.id)).toMatchObject({ spentToday: 0 });
    expect(await getCard(server.api, second.card.id)).toMatchObject({ spentToday: 1000 });
  });
});

describe("deleting wallets that hold money", () => {
  test("a wallet with money is 409 wallet_not_empty; after withdrawing everything the delete works", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 5000);
    expectSdkProblem(
      await server.api.DELETE("/v1/wallets/{id}", { params: { path: { id: wallet.id } } }),
      409,
      "wallet_not_empty",
    );
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ balance: 5000, deletedAt: null });
    expect((await getCard(server.api, card.id)).deletedAt).toBeNull();

    await withdraw(server.api, wallet.id, 5000);
    const deleted = await server.api.DELETE("/v1/wallets/{id}", { params: { path: { id: wallet.id } } });
    expect(deleted.response.status).toBe(200);
    expect(deleted.data).toMatchObject({ id: wallet.id, balance: 0 });
    expect(deleted.data?.deletedAt).not.toBeNull();
    expect(
      (await server.api.GET("/v1/cards/{id}", { params: { path: { id: card.id } } })).response.status,
    ).toBe(404);
  });

  test("a wallet with a pending hold is 409 wallet_not_empty until the hold is voided and the money withdrawn", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 3000);
    const hold = await authorize(server.api, card.id, 3000, { capture: false });
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ balance: 3000, availableBalance: 0 });
    expectSdkProblem(
      await server.api.DELETE("/v1/wallets/{id}", { params: { path: { id: wallet.id } } }),
      409,
      "wallet_not_empty",
    );
    expectSdkProblem(
      await server.api.POST("/v1/wallets/{id}/withdrawals", {
        params: { path: { id: wallet.id } },
        body: { amount: 1 },
      }),
      422,
      "insufficient_funds",
    );
    await server.api.POST("/v1/authorizations/{id}/void", { params: { path: { id: hold.id } } });
    expectSdkProblem(
      await server.api.DELETE("/v1/wallets/{id}", { params: { path: { id: wallet.id } } }),
      409,
      "wallet_not_empty",
    );
    await withdraw(server.api, wallet.id, 3000);
    expect(
      (await server.api.DELETE("/v1/wallets/{id}", { params: { path: { id: wallet.id } } })).response.status,
    ).toBe(200);
  });

  test("a user whose wallet holds money cannot be deleted (409); nothing of theirs is deleted", async () => {
    const user = await createUser(server.api);
    const team = await createTeam(server.api);
    await addMember(server.api, team.id, user.id);
    const empty = await createWallet(server.api, { userId: user.id });
    const rich = await createWallet(server.api, { userId: user.id });
    await topUp(server.api, rich.id, 100);
    const card = await createCard(server.api, { walletId: empty.id });

    expectSdkProblem(
      await server.api.DELETE("/v1/users/{id}", { params: { path: { id: user.id } } }),
      409,
      "wallet_not_empty",
    );
    expectSdkProblem(
      await server.api.DELETE("/v1/users/{id}/wallets", { params: { path: { id: user.id } } }),
      409,
      "wallet_not_empty",
    );
    expect(
      (await server.api.GET("/v1/users/{id}", { params: { path: { id: user.id } } })).response.status,
    ).toBe(200);
    expect((await getWallet(server.api, empty.id)).deletedAt).toBeNull();
    expect((await getWallet(server.api, rich.id)).balance).toBe(100);
    expect((await getCard(server.api, card.id)).deletedAt).toBeNull();
    const members = await server.api.GET("/v1/teams/{id}/members", { params: { path: { id: team.id } } });
    expect(members.data?.data.map((member) => member.userId)).toEqual([user.id]);

    await withdraw(server.api, rich.id, 100);
    expect(
      (await server.api.DELETE("/v1/users/{id}", { params: { path: { id: user.id } } })).response.status,
    ).toBe(200);
    expect(
      (await server.api.GET("/v1/wallets/{id}", { params: { path: { id: rich.id } } })).response.status,
    ).toBe(404);
  });

  test("a team whose wallet holds money or a hold cannot be deleted (409); nothing of it is deleted", async () => {
    const team = await createTeam(server.api);
    const user = await createUser(server.api);
    await addMember(server.api, team.id, user.id);
    const wallet = await createWallet(server.api, { teamId: team.id });
    const spare = await createWallet(server.api, { teamId: team.id });
    await topUp(server.api, wallet.id, 2000);
    const card = await createCard(server.api, { walletId: wallet.id });
    const hold = await authorize(server.api, card.id, 500, { capture: false });

    for (const attempt of [
      () => server.api.DELETE("/v1/teams/{id}", { params: { path: { id: team.id } } }),
      () => server.api.DELETE("/v1/teams/{id}/wallets", { params: { path: { id: team.id } } }),
    ]) {
      expectSdkProblem(await attempt(), 409, "wallet_not_empty");
    }
    expect(
      (await server.api.GET("/v1/teams/{id}", { params: { path: { id: team.id } } })).response.status,
    ).toBe(200);
    expect((await getWallet(server.api, spare.id)).deletedAt).toBeNull();
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ balance: 2000, availableBalance: 1500 });
    const members = await server.api.GET("/v1/teams/{id}/members", { params: { path: { id: team.id } } });
    expect(members.data?.data.length).toBe(1);

    await server.api.POST("/v1/authorizations/{id}/void", { params: { path: { id: hold.id } } });
    await withdraw(server.api, wallet.id, 2000);
    expect(
      (await server.api.DELETE("/v1/teams/{id}", { params: { path: { id: team.id } } })).response.status,
    ).toBe(200);
    expect(
      (await server.api.GET("/v1/wallets/{id}", { params: { path: { id: wallet.id } } })).response.status,
    ).toBe(404);
  });
  test("a delete racing top-ups never deletes a wallet with money in it", async () => {
    const { wallet } = await createUserWallet(server.api);
    const [deleted, ...topups] = await Promise.all([
      server.api.DELETE("/v1/wallets/{id}", { params: { path: { id: wallet.id } } }),
      ...Array.from({ length: 10 }, () =>
        server.api.POST("/v1/wallets/{id}/topups", {
          params: { path: { id: wallet.id } },
          body: { amount: 100 },
        }),
      ),
    ]);
    const landed = topups.filter((result) => result.response.status === 201).length;
    for (const result of topups.filter((result) => result.response.status !== 201)) {
      expectSdkProblem(result, 404, "wallet_not_found");
    }
    if (deleted.response.status === 200) {
      expect(landed).toBe(0);
      expect(
        (await server.api.GET("/v1/wallets/{id}", { params: { path: { id: wallet.id } } })).response.status,
      ).toBe(404);
    } else {
      expectSdkProblem(deleted, 409, "wallet_not_empty");
      expect(landed).toBe(10);
      expect(await expectLedgerConsistent(server.api, wallet.id)).toMatchObject({ balance: 1000 });
    }
    const { rows } = await server.db.query<{ balance: number }>("SELECT balance FROM wallets WHERE id = $1", [
      wallet.id,
    ]);
    expect(rows[0]?.balance).toBe(landed * 100);
  });
});
