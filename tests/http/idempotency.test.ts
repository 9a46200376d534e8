/**
 * Idempotency-Key on every POST (contract §1): a retry with the same key and body replays the first
 * status and body with `Idempotent-Replayed: true` and never acts twice; the key with another body is
 * 409 idempotency_key_reused; a retry while the first still runs is 409 idempotency_key_in_progress.
 */
import { describe, expect, test } from "bun:test";
import {
  authorize,
  createCard,
  createTeam,
  createUser,
  expectLedgerConsistent,
  fundedWallet,
  fundedWalletWithCard,
  getWallet,
  topUp,
  walletTransactions,
} from "../helpers/fixtures.ts";
import { countOf } from "../helpers/rows.ts";
import { type Schemas, TestClock, uniqueEmail, useServer } from "../helpers/server.ts";
import { UNKNOWN_ID } from "../helpers/values.ts";

const clock = new TestClock();
const server = useServer({}, { clock });

const newKey = () => `key-${crypto.randomUUID()}`;

interface Answer {
  status: number;
  /** The Idempotent-Replayed header, null when absent. */
  replayed: string | null;
  requestId: string | null;
  contentType: string;
  body: unknown;
}

/** A POST as any client sends it: `body` as JSON (or as the exact text given), with the key if any. */
async function send(
  path: string,
  body: unknown,
  key?: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const keyHeader: Record<string, string> = key === undefined ? {} : { "idempotency-key": key };
  const response =
    typeof body === "string"
      ? await server.request(path, {
          method: "POST",
          body,
          headers: { "content-type": "application/json", ...keyHeader, ...headers },
        })
      : await server.request(path, {
          method: "POST",
          ...(body === undefined ? {} : { json: body }),
          headers: { ...keyHeader, ...headers },
        });
  const text = await response.text();
  return {
    status: response.status,
    replayed: response.headers.get("idempotent-replayed"),
    requestId: response.headers.get("x-request-id"),
    contentType: response.headers.get("content-type") ?? "",
    body: text === "" ? null : JSON.parse(text),
  };
}

const codeOf = (answer: Answer): unknown => (answer.body as { code?: unknown } | null)?.code;
const idOf = (answer: Answer): string => String((answer.body as { id?: unknown } | null)?.id);

/** Asserts `retry` is a replay of `first`: same status and body, marked as replayed. */
function expectReplay(first: Answer, retry: Answer): void {
  expect(retry.status, JSON.stringify(retry.body)).toBe(first.status);
  expect(retry.replayed).toBe("true");
  expect(retry.body).toEqual(first.body);
}

async function transactionsOfType(walletId: string, type: Schemas["Transaction"]["type"]): Promise<number> {
  return (await walletTransactions(server.api, walletId)).filter((row) => row.type === type).length;
}

async function authorizationCount(cardId: string, status?: Schemas["Authorization"]["status"]) {
  const { data } = await server.api.GET("/v1/cards/{id}/authorizations", {
    params: { path: { id: cardId }, query: status === undefined ? { limit: 100 } : { status, limit: 100 } },
  });
  return data?.data.length ?? -1;
}

describe("replays", () => {
  test("a top-up retried with its key replays 201 and the same transaction; the money moves once", async () => {
    const wallet = await fundedWallet(server.api, 0);
    const key = newKey();
    const path = `/v1/wallets/${wallet.id}/topups`;
    const first = await send(path, { amount: 2500, description: "Salary" }, key);
    expect(first.status).toBe(201);
    expect(first.replayed).toBeNull();
    expect(first.body).toMatchObject({ type: "topup", amount: 2500, balanceAfter: 2500 });

    clock.advance(1000);
    const second = await send(path, { amount: 2500, description: "Salary" }, key);
    const third = await send(path, { amount: 2500, description: "Salary" }, key);
    expectReplay(first, second);
    expectReplay(first, third);
    expect(second.contentType).toContain("application/json");

    const after = await expectLedgerConsistent(server.api, wallet.id);
    expect(after.balance).toBe(2500);
    expect((await walletTransactions(server.api, wallet.id)).length).toBe(1);
  });

  test("without a key, the same request twice acts twice", async () => {
    const wallet = await fundedWallet(server.api, 0);
    const path = `/v1/wallets/${wallet.id}/topups`;
    const first = await send(path, { amount: 100 });
    const second = await send(path, { amount: 100 });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.replayed).toBeNull();
    expect(idOf(first)).not.toBe(idOf(second));
    expect((await getWallet(server.api, wallet.id)).balance).toBe(200);
  });

  /** Every POST of the API: what to send, and how many times it took effect. */
  const routes: {
    name: string;
    status: number;
    prepare: () => Promise<{ path: string; body?: unknown; effects: () => Promise<number> }>;
  }[] = [
    {
      name: "POST /v1/users",
      status: 201,
      async prepare() {
        const email = uniqueEmail("idem");
        return {
          path: "/v1/users",
          body: { email, name: "Idem Potent" },
          effects: () => countOf(server.db, "SELECT count(*) AS count FROM users WHERE email = $1", [email]),
        };
      },
    },
    {
      name: "POST /v1/teams",
      status: 201,
      async prepare() {
        const name = `Team ${crypto.randomUUID()}`;
        return {
          path: "/v1/teams",
          body: { name },
          effects: () => countOf(server.db, "SELECT count(*) AS count FROM teams WHERE name = $1", [name]),
        };
      },
    },
    {
      name: "POST /v1/teams/{id}/members",
      status: 201,
      async prepare() {
        const team = await createTeam(server.api);
        const user = await createUser(server.api);
        return {
          path: `/v1/teams/${team.id}/members`,
          body: { userId: user.id, role: "admin" },
          effects: async () =>
            (await server.api.GET("/v1/teams/{id}/members", { params: { path: { id: team.id } } })).data?.data
              .length ?? -1,
        };
      },
    },
    {
      name: "POST /v1/wallets",
      status: 201,
      async prepare() {
        const user = await createUser(server.api);
        return {
          path: "/v1/wallets",
          body: { userId: user.id, name: "Idempotent" },
          effects: async () =>
            (await server.api.GET("/v1/wallets", { params: { query: { userId: user.id } } })).data?.data
              .length ?? -1,
        };
      },
    },
    {
      name: "POST /v1/cards",
      status: 201,
      async prepare() {
        const wallet = await fundedWallet(server.api, 0);
        return {
          path: "/v1/cards",
          body: { walletId: wallet.id },
          effects: async () =>
            (await server.api.GET("/v1/cards", { params: { query: { walletId: wallet.id } } })).data?.data
              .length ?? -1,
        };
      },
    },
    {
      name: "POST /v1/wallets/{id}/topups",
      status: 201,
      async prepare() {
        const wallet = await fundedWallet(server.api, 0);
        return {
          path: `/v1/wallets/${wallet.id}/topups`,
          body: { amount: 700 },
          effects: () => transactionsOfType(wallet.id, "topup"),
        };
      },
    },
    {
      name: "POST /v1/wallets/{id}/withdrawals",
      status: 201,
      async prepare() {
        const wallet = await fundedWallet(server.api, 1000);
        return {
          path: `/v1/wallets/${wallet.id}/withdrawals`,
          body: { amount: 300 },
          effects: () => transactionsOfType(wallet.id, "withdrawal"),
        };
      },
    },
    {
      name: "POST /v1/transfers",
      status: 201,
      async prepare() {
        const from = await fundedWallet(server.api, 1000);
        const to = await fundedWallet(server.api, 0);
        return {
          path: "/v1/transfers",
          body: { fromWalletId: from.id, toWalletId: to.id, amount: 400 },
          effects: async () => {
            const outs = await transactionsOfType(from.id, "transfer_out");
            const ins = await transactionsOfType(to.id, "transfer_in");
            expect(ins).toBe(outs);
            return outs;
          },
        };
      },
    },
    {
      name: "POST /v1/cards/{id}/authorizations",
      status: 201,
      async prepare() {
        const { wallet, card } = await fundedWalletWithCard(server.api, 1000);
        return {
          path: `/v1/cards/${card.id}/authorizations`,
          body: { amount: 250, merchant: { name: "Cafe", category: "5814" } },
          effects: async () => {
            const spends = await transactionsOfType(wallet.id, "card_spend");
            expect(await authorizationCount(card.id)).toBe(spends);
            return spends;
          },
        };
      },
    },
    {
      name: "POST /v1/authorizations/{id}/capture",
      status: 200,
      async prepare() {
        const { wallet, card } = await fundedWalletWithCard(server.api, 1000);
        const hold = await authorize(server.api, card.id, 600, { capture: false });
        return {
          path: `/v1/authorizations/${hold.id}/capture`,
          body: { amount: 500 },
          effects: () => transactionsOfType(wallet.id, "card_spend"),
        };
      },
    },
    {
      name: "POST /v1/authorizations/{id}/void",
      status: 200,
      async prepare() {
        const { card } = await fundedWalletWithCard(server.api, 1000);
        const hold = await authorize(server.api, card.id, 600, { capture: false });
        return {
          path: `/v1/authorizations/${hold.id}/void`,
          effects: () => authorizationCount(card.id, "voided"),
        };
      },
    },
    {
      name: "POST /v1/transactions/{id}/refunds",
      status: 201,
      async prepare() {
        const { wallet, card } = await fundedWalletWithCard(server.api, 1000);
        await authorize(server.api, card.id, 600);
        const [spend] = (await walletTransactions(server.api, wallet.id)).filter(
          (row) => row.type === "card_spend",
        );
        return {
          path: `/v1/transactions/${spend?.id}/refunds`,
          body: { amount: 100 },
          effects: () => transactionsOfType(wallet.id, "refund"),
        };
      },
    },
  ];

  for (const route of routes) {
    test(`${route.name}: a retry with the key replays the first answer and acts once`, async () => {
      const { path, body, effects } = await route.prepare();
      const key = newKey();
      const first = await send(path, body, key);
      expect(first.status, JSON.stringify(first.body)).toBe(route.status);
      expect(first.replayed).toBeNull();
      clock.advance(1000);
      const retry = await send(path, body, key);
      expectReplay(first, retry);
      expect(await effects()).toBe(1);
    });
  }

  test("the same body with its keys in another order is the same request and replays", async () => {
    const from = await fundedWallet(server.api, 5000);
    const to = await fundedWallet(server.api, 0);
    const key = newKey();
    const first = await send(
      "/v1/transfers",
      `{"fromWalletId":"${from.id}","toWalletId":"${to.id}","amount":1200,"description":"rent"}`,
      key,
    );
    expect(first.status).toBe(201);
    const reordered = await send(
      "/v1/transfers",
      `{ "description": "rent", "amount": 1200,\n "toWalletId": "${to.id}", "fromWalletId": "${from.id}" }`,
      key,
    );
    expectReplay(first, reordered);
    expect((await getWallet(server.api, from.id)).balance).toBe(3800);
    expect((await getWallet(server.api, to.id)).balance).toBe(1200);

    // Nested objects too.
    const card = await createCard(server.api, { walletId: from.id });
    const authKey = newKey();
    const path = `/v1/cards/${card.id}/authorizations`;
    const spend = await send(path, '{"amount":300,"merchant":{"name":"Cafe","category":"5814"}}', authKey);
    expect(spend.status).toBe(201);
    const again = await send(path, '{"merchant":{"category":"5814","name":"Cafe"},"amount":300}', authKey);
    expectReplay(spend, again);
    expect((await getWallet(server.api, from.id)).balance).toBe(3500);
  });

  test("a refused request (422) is replayed as the same refusal, even after the wallet is topped up", async () => {
    const wallet = await fundedWallet(server.api, 0);
    const key = newKey();
    const path = `/v1/wallets/${wallet.id}/withdrawals`;
    const first = await send(path, { amount: 5000 }, key);
    expect(first.status).toBe(422);
    expect(codeOf(first)).toBe("insufficient_funds");
    expect(first.contentType).toContain("application/problem+json");

    await topUp(server.api, wallet.id, 10000);
    const retry = await send(path, { amount: 5000 }, key);
    expectReplay(first, retry);
    expect(retry.contentType).toContain("application/problem+json");
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ balance: 10000, availableBalance: 10000 });
    expect(await transactionsOfType(wallet.id, "withdrawal")).toBe(0);

    // A new key is a new request.
    const fresh = await send(path, { amount: 5000 }, newKey());
    expect(fresh.status).toBe(201);
    expect((await getWallet(server.api, wallet.id)).balance).toBe(5000);
  });

  test("a 404 is replayed too", async () => {
    const key = newKey();
    const first = await send(`/v1/wallets/${UNKNOWN_ID}/topups`, { amount: 100 }, key);
    expect(first.status).toBe(404);
    expect(codeOf(first)).toBe("wallet_not_found");
    expectReplay(first, await send(`/v1/wallets/${UNKNOWN_ID}/topups`, { amount: 100 }, key));
  });

  test("a declined authorization is replayed as declined even after the wallet is topped up", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 100);
    const key = newKey();
    const path = `/v1/cards/${card.id}/authorizations`;
    const body = { amount: 500, merchant: { name: "Shop" } };
    const first = await send(path, body, key);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: "declined", declineReason: "insufficient_funds" });
    await topUp(server.api, wallet.id, 1000);
    expectReplay(first, await send(path, body, key));
    expect(await authorizationCount(card.id)).toBe(1);
    expect((await getWallet(server.api, wallet.id)).balance).toBe(1100);
  });

  test("the replay is answered with the retry's own request id", async () => {
    const wallet = await fundedWallet(server.api, 0);
    const key = newKey();
    const path = `/v1/wallets/${wallet.id}/topups`;
    const first = await send(path, { amount: 100 }, key, { "x-request-id": "first-attempt" });
    const retry = await send(path, { amount: 100 }, key, { "x-request-id": "second-attempt" });
    expect(first.requestId).toBe("first-attempt");
    expect(retry.requestId).toBe("second-attempt");
    expectReplay(first, retry);
  });

  test("a key is still honoured 23 hours later", async () => {
    const wallet = await fundedWallet(server.api, 0);
    const key = newKey();
    const path = `/v1/wallets/${wallet.id}/topups`;
    const first = await send(path, { amount: 100 }, key);
    clock.advance(23 * 60 * 60 * 1000);
    expectReplay(first, await send(path, { amount: 100 }, key));
    expect((await getWallet(server.api, wallet.id)).balance).toBe(100);
  });
});

describe("refusals", () => {
  test("the same key with another body is 409 idempotency_key_reused and does nothing", async () => {
    const wallet = await fundedWallet(server.api, 0);
    const key = newKey();
    const path = `/v1/wallets/${wallet.id}/topups`;
    const first = await send(path, { amount: 100 }, key);
    expect(first.status).toBe(201);
    for (const body of [{ amount: 200 }, { amount: 100, description: "more" }]) {
      const reused = await send(path, body, key);
      expect(reused.status, JSON.stringify(body)).toBe(409);
      expect(codeOf(reused)).toBe("idempotency_key_reused");
      expect(reused.replayed).toBeNull();
      expect(reused.contentType).toContain("application/problem+json");
    }
    expect(await expectLedgerConsistent(server.api, wallet.id)).toMatchObject({ balance: 100 });
    // The first answer is still what the key replays.
    expectReplay(first, await send(path, { amount: 100 }, key));
  });

  test("a key belongs to its route: the same key and body on another path is 409 idempotency_key_reused", async () => {
    const a = await fundedWallet(server.api, 1000);
    const b = await fundedWallet(server.api, 1000);
    const key = newKey();
    expect((await send(`/v1/wallets/${a.id}/topups`, { amount: 100 }, key)).status).toBe(201);
    for (const path of [`/v1/wallets/${b.id}/topups`, `/v1/wallets/${a.id}/withdrawals`]) {
      const reused = await send(path, { amount: 100 }, key);
      expect(reused.status, path).toBe(409);
      expect(codeOf(reused)).toBe("idempotency_key_reused");
    }
    expect((await getWallet(server.api, a.id)).balance).toBe(1100);
    expect((await getWallet(server.api, b.id)).balance).toBe(1000);
    expect((await walletTransactions(server.api, b.id)).length).toBe(1);
  });

  test("a key of 1 to 255 characters is accepted; 256 characters or an empty key is 400 and nothing moves", async () => {
    const wallet = await fundedWallet(server.api, 0);
    const path = `/v1/wallets/${wallet.id}/topups`;
    for (const key of ["k".repeat(256), "x".repeat(1000), ""]) {
      const refused = await send(path, { amount: 100 }, key);
      expect(refused.status, `key of ${key.length}`).toBe(400);
      expect(refused.contentType).toContain("application/problem+json");
    }
    expect((await getWallet(server.api, wallet.id)).balance).toBe(0);
    expect(await walletTransactions(server.api, wallet.id)).toEqual([]);

    const longest = "k".repeat(255);
    const first = await send(path, { amount: 100 }, longest);
    expect(first.status).toBe(201);
    expectReplay(first, await send(path, { amount: 100 }, longest));
    expect((await send(path, { amount: 100 }, "1")).status).toBe(201);
    expect((await getWallet(server.api, wallet.id)).balance).toBe(200);
  });

  test("a request refused by validation (400) does not use up its key", async () => {
    const wallet = await fundedWallet(server.api, 0);
    const key = newKey();
    const path = `/v1/wallets/${wallet.id}/topups`;
    const invalid = await send(path, { amount: 0 }, key);
    expect(invalid.status).toBe(400);
    const corrected = await send(path, { amount: 100 }, key);
    expect(corrected.status).toBe(201);
    expect(corrected.replayed).toBeNull();
    expect((await getWallet(server.api, wallet.id)).balance).toBe(100);
  });
});

describe("concurrent retries", () => {
  test("20 identical top-ups at once with one key: one effect; every answer is the first 201 or 409 in progress", async () => {
    const wallet = await fundedWallet(server.api, 0);
    const key = newKey();
    const path = `/v1/wallets/${wallet.id}/topups`;
    const answers = await Promise.all(Array.from({ length: 20 }, () => send(path, { amount: 1000 }, key)));
    const created = answers.filter((answer) => answer.status === 201);
    const inProgress = answers.filter((answer) => answer.status === 409);
    expect(created.length + inProgress.length).toBe(20);
    const originals = created.filter((answer) => answer.replayed === null);
    expect(originals.length).toBe(1);
    const [original] = originals;
    for (const answer of created) expect(answer.body).toEqual(original?.body);
    for (const answer of inProgress) expect(codeOf(answer)).toBe("idempotency_key_in_progress");

    expect(await expectLedgerConsistent(server.api, wallet.id)).toMatchObject({ balance: 1000 });
    expect((await walletTransactions(server.api, wallet.id)).length).toBe(1);
    // Once it is done, a retry replays.
    const later = await send(path, { amount: 1000 }, key);
    expect(later.status).toBe(201);
    expect(later.replayed).toBe("true");
    expect(later.body).toEqual(original?.body);
  });

  test("20 identical card spends at once with one key: one authorization, charged once", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 10000);
    const key = newKey();
    const path = `/v1/cards/${card.id}/authorizations`;
    const body = { amount: 700, merchant: { name: "Taxi" } };
    const answers = await Promise.all(Array.from({ length: 20 }, () => send(path, body, key)));
    const created = answers.filter((answer) => answer.status === 201);
    expect(created.filter((answer) => answer.replayed === null).length).toBe(1);
    for (const answer of created) expect(answer.body).toEqual(created[0]?.body);
    for (const answer of answers.filter((answer) => answer.status !== 201)) {
      expect(answer.status).toBe(409);
      expect(codeOf(answer)).toBe("idempotency_key_in_progress");
    }
    expect(await authorizationCount(card.id)).toBe(1);
    expect(await expectLedgerConsistent(server.api, wallet.id)).toMatchObject({ balance: 9300 });
  });

  test("different keys at once are different requests: each acts once", async () => {
    const wallet = await fundedWallet(server.api, 0);
    const keys = Array.from({ length: 10 }, newKey);
    const path = `/v1/wallets/${wallet.id}/topups`;
    const answers = await Promise.all(keys.map((key) => send(path, { amount: 100 }, key)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(201));
    const retries = await Promise.all(keys.map((key) => send(path, { amount: 100 }, key)));
    retries.forEach((retry, i) => {
      const first = answers[i];
      if (first) expectReplay(first, retry);
    });
    expect(await expectLedgerConsistent(server.api, wallet.id)).toMatchObject({ balance: 1000 });
  });
});
