/** Small builders for the resources most tests need; each asserts the create succeeded. */
import { expect } from "bun:test";
import createClient from "openapi-fetch";
import { balanceDelta } from "../../src/modules/ledger/credits.ts";
import type { paths } from "../sdk/schema";
import type { ApiClient, Schemas } from "./server.ts";
import { uniqueEmail } from "./server.ts";

/** The body of a successful SDK call answered with `status` (201 Created unless told); throws otherwise. */
function dataOf<T>(result: { data?: T; error?: unknown; response: Response }, what: string, status = 201): T {
  if (result.data === undefined || result.response.status !== status) {
    throw new Error(
      `${status === 201 ? "creating" : "reading"} ${what} failed: ${result.response.status} ${JSON.stringify(result.error)}`,
    );
  }
  return result.data;
}

export async function createUser(api: ApiClient, name = "Test User"): Promise<Schemas["User"]> {
  return dataOf(await api.POST("/v1/users", { body: { email: uniqueEmail(), name } }), "user");
}

/** A new team; team names are unique (in any case), so the default one is made unique too. */
export async function createTeam(
  api: ApiClient,
  name = `Test Team ${crypto.randomUUID().slice(0, 8)}`,
): Promise<Schemas["Team"]> {
  return dataOf(await api.POST("/v1/teams", { body: { name } }), "team");
}

export async function addMember(api: ApiClient, teamId: string, userId: string, role?: "admin" | "member") {
  return dataOf(
    await api.POST("/v1/teams/{id}/members", { params: { path: { id: teamId } }, body: { userId, role } }),
    "membership",
  );
}

type JsonBody<Path extends keyof paths> = paths[Path] extends {
  post: { requestBody?: { content: { "application/json": infer Body } } };
}
  ? Body
  : never;

export async function createWallet(
  api: ApiClient,
  body: JsonBody<"/v1/wallets">,
): Promise<Schemas["Wallet"]> {
  return dataOf(await api.POST("/v1/wallets", { body }), "wallet");
}

/** What a new wallet of a new user may set: name, currency, time zone and limits. */
export type UserWalletBody = Omit<JsonBody<"/v1/wallets">, "userId" | "teamId">;

/** A new user and a wallet of theirs. */
export async function createUserWallet(
  api: ApiClient,
  body: UserWalletBody = {},
): Promise<{ user: Schemas["User"]; wallet: Schemas["Wallet"] }> {
  const user = await createUser(api);
  const wallet = await createWallet(api, { userId: user.id, ...body });
  return { user, wallet };
}

export async function createCard(api: ApiClient, body: JsonBody<"/v1/cards">): Promise<Schemas["Card"]> {
  return dataOf(await api.POST("/v1/cards", { body }), "card");
}

/** The Luhn check digit that completes `partial` (computed here, independently of the service). */
export function luhnCheckDigitFor(partial: string): string {
  let sum = 0;
  for (let i = 0; i < partial.length; i++) {
    // Walking from the right, the digit next to the check digit is doubled first.
    let digit = Number(partial[partial.length - 1 - i]);
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return String((10 - (sum % 10)) % 10);
}

/** A random Luhn-valid card number (a 16-digit Visa by default), so tests never collide on a live number. */
export function uniqueCardNumber(prefix = "4", length = 16): string {
  let body = prefix;
  for (const byte of crypto.getRandomValues(new Uint8Array(Math.max(0, length - 1 - prefix.length)))) {
    body += String(byte % 10);
  }
  return `${body}${luhnCheckDigitFor(body)}`;
}

/** An expiry `years` ahead of now (UTC), as a client sends it: month without padding, four-digit year. */
export function futureExpiry(years = 2): { expiryMonth: string; expiryYear: string } {
  const now = new Date();
  return { expiryMonth: String(now.getUTCMonth() + 1), expiryYear: String(now.getUTCFullYear() + years) };
}

// ---- Money: small builders and ledger checks for the ledger, authorization and idempotency tests ----

/** Tops `walletId` up by `amount` through the API and returns the topup transaction. */
export async function topUp(
  api: ApiClient,
  walletId: string,
  amount: number,
  description?: string,
): Promise<Schemas["Transaction"]> {
  return dataOf(
    await api.POST("/v1/wallets/{id}/topups", {
      params: { path: { id: walletId } },
      body: description === undefined ? { amount } : { amount, description },
    }),
    "top-up",
  );
}

/** Withdraws `amount` from `walletId` through the API and returns the withdrawal transaction. */
export async function withdraw(
  api: ApiClient,
  walletId: string,
  amount: number,
): Promise<Schemas["Transaction"]> {
  return dataOf(
    await api.POST("/v1/wallets/{id}/withdrawals", { params: { path: { id: walletId } }, body: { amount } }),
    "withdrawal",
  );
}

/** A new user's wallet holding `amount` (topped up unless 0), as a client reads it afterwards. */
export async function fundedWallet(
  api: ApiClient,
  amount: number,
  body: UserWalletBody = {},
): Promise<Schemas["Wallet"]> {
  const { wallet } = await createUserWallet(api, body);
  if (amount > 0) await topUp(api, wallet.id, amount);
  return getWallet(api, wallet.id);
}

/** A new user's wallet holding `funds` with one card on it (the card's body as given, e.g. its limits). */
export async function fundedWalletWithCard(
  api: ApiClient,
  funds: number,
  cardBody: Omit<JsonBody<"/v1/cards">, "walletId"> = {},
  walletBody: UserWalletBody = {},
): Promise<{ wallet: Schemas["Wallet"]; card: Schemas["Card"] }> {
  const wallet = await fundedWallet(api, funds, walletBody);
  const card = await createCard(api, { walletId: wallet.id, ...cardBody });
  return { wallet, card };
}

/** The wallet as a client reads it now. */
export async function getWallet(api: ApiClient, id: string): Promise<Schemas["Wallet"]> {
  return dataOf(await api.GET("/v1/wallets/{id}", { params: { path: { id } } }), `wallet ${id}`, 200);
}

/** The card as a client reads it now. */
export async function getCard(api: ApiClient, id: string): Promise<Schemas["Card"]> {
  return dataOf(await api.GET("/v1/cards/{id}", { params: { path: { id } } }), `card ${id}`, 200);
}

/** A card spend; the answer is 201 whatever the decision, so this returns approved and declined ones alike. */
export async function authorize(
  api: ApiClient,
  cardId: string,
  amount: number,
  options: { capture?: boolean; merchant?: string; category?: string } = {},
): Promise<Schemas["Authorization"]> {
  const result = await api.POST("/v1/cards/{id}/authorizations", {
    params: { path: { id: cardId } },
    body: {
      amount,
      merchant: {
        name: options.merchant ?? "Coffee Shop",
        ...(options.category === undefined ? {} : { category: options.category }),
      },
      ...(options.capture === undefined ? {} : { capture: options.capture }),
    },
  });
  return dataOf(result, "authorization");
}

/** Every transaction of a wallet, oldest first, read page by page through the API. */
export async function walletTransactions(
  api: ApiClient,
  walletId: string,
): Promise<Schemas["Transaction"][]> {
  const all: Schemas["Transaction"][] = [];
  for (let skip = 0; ; skip += 100) {
    const page = dataOf(
      await api.GET("/v1/wallets/{id}/transactions", {
        params: { path: { id: walletId }, query: { limit: 100, skip, sort: "asc" } },
      }),
      "transaction page",
      200,
    );
    all.push(...page.data);
    if (!page.hasMore) return all;
  }
}

/**
 * Asserts the contract's ledger invariant through the API: the wallet's balance is the sum of its
 * credits minus its debits, each row's balanceAfter follows from the one before, and
 * availableBalance is the balance minus the wallet's pending card holds. Returns the wallet.
 */
export async function expectLedgerConsistent(api: ApiClient, walletId: string): Promise<Schemas["Wallet"]> {
  const wallet = await getWallet(api, walletId);
  const transactions = await walletTransactions(api, walletId);
  let running = 0;
  for (const transaction of transactions) {
    running += balanceDelta(transaction.type, transaction.amount);
    expect(transaction.balanceAfter, `balanceAfter of ${transaction.type} ${transaction.id}`).toBe(running);
    expect(transaction.walletId).toBe(walletId);
    expect(transaction.currency).toBe(wallet.currency);
  }
  expect(wallet.balance, "balance = credits - debits").toBe(running);
  const cards = dataOf(
    await api.GET("/v1/cards", { params: { query: { walletId, limit: 100 } } }),
    "card list",
    200,
  );
  let held = 0;
  for (const card of cards.data) {
    const pending = dataOf(
      await api.GET("/v1/cards/{id}/authorizations", {
        params: { path: { id: card.id }, query: { status: "pending", limit: 100 } },
      }),
      "authorization list",
      200,
    );
    held += pending.data.reduce((sum, authorization) => sum + authorization.amount, 0);
  }
  expect(wallet.availableBalance, "availableBalance = balance - pending holds").toBe(wallet.balance - held);
  expect(wallet.availableBalance).toBeGreaterThanOrEqual(0);
  return wallet;
}

/** A key made with the admin key, with the SDK and plain fetch speaking as it. */
export interface KeyClient {
  key: Schemas["CreatedApiKey"];
  secret: string;
  api: ApiClient;
  /** Plain fetch as this key, against `baseUrl`. */
  request(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
}

/** Makes an API key (as the admin key) and gives clients that call as it. */
export async function createKey(
  server: { api: ApiClient; baseUrl: string },
  body: JsonBody<"/v1/api-keys">,
): Promise<KeyClient> {
  const key = dataOf(await server.api.POST("/v1/api-keys", { body }), "API key");
  const secret = key.secret;
  if (secret === undefined) throw new Error("a created key came without its secret");
  const authorization = `Bearer ${secret}`;
  return {
    key,
    secret,
    api: createClient<paths>({ baseUrl: server.baseUrl, headers: { authorization } }),
    request(path, init = {}) {
      const { json, headers, ...rest } = init;
      return fetch(`${server.baseUrl}${path}`, {
        ...rest,
        headers: {
          authorization,
          ...(json === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      });
    },
  };
}
