/**
 * Seeds the benchmark's data through the public API, as a client would.
 *
 * - (b) 200 user wallets, each with one card held by its user, a large top-up and limits far above
 *   anything the run can spend: every authorization is approved and captured.
 * - (c) one team wallet with 50 cards held by 50 members. Ten cards have low limits (after a few
 *   spends each, theirs are declined with card_daily_limit_exceeded); the wallet gets a finite balance and daily
 *   limit just before (c), sized from the throughput of (b) (see `fundTeamWallet`).
 * - (a) reads rotate over all of those wallets plus 300 more small ones.
 */

export const USER_WALLETS = 200;
export const TEAM_CARDS = 50;
export const LOW_LIMIT_CARDS = 10;
export const EXTRA_WALLETS = 300;
export const HIGH_LIMIT = 1_000_000_000_000_000;
export const BIG_TOPUP = 1_000_000_000_000;
export const LOW_CARD_DAILY = 10_000;
export const LOW_CARD_MONTHLY = 20_000;

/** The merchant category of every bench spend: two of the three categorised limits below cap it. */
export const BENCH_CATEGORY = "5812";

/**
 * With --categorised-limits, each card's three limits on merchant categories, high enough never to
 * decline: they only make every spend read and write their counters.
 */
const CATEGORISED_LIMITS = {
  limits: [
    { amount: HIGH_LIMIT, interval: "weekly", categories: ["5812", "5814"] },
    { amount: HIGH_LIMIT, interval: "monthly", categories: ["5411"] },
    { amount: HIGH_LIMIT, interval: "yearly", categories: ["4111", "5411", "5812"] },
  ],
};

export interface Seeded {
  runId: string;
  userWalletIds: string[];
  userCardIds: string[];
  teamWalletId: string;
  teamCardIds: string[];
  /** Every wallet seeded, for the reads of (a). */
  allWalletIds: string[];
}

export class Api {
  constructor(
    private readonly baseUrl: string,
    private readonly adminKey: string,
  ) {}

  async call(method: "GET" | "POST" | "PATCH" | "PUT", path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.adminKey}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text.slice(0, 500)}`);
    return text === "" ? undefined : JSON.parse(text);
  }

  /** POST, PATCH or GET that must answer with an object carrying a string `id`. */
  async id(method: "GET" | "POST" | "PATCH", path: string, body?: unknown): Promise<string> {
    const answer = await this.call(method, path, body);
    const id = typeof answer === "object" && answer !== null ? Reflect.get(answer, "id") : undefined;
    if (typeof id !== "string") throw new Error(`${method} ${path}: no id in ${JSON.stringify(answer)}`);
    return id;
  }
}

/** Makes an unbound API key with `scopes` and gives its secret. */
export async function scopedKey(api: Api, name: string, scopes: string[]): Promise<string> {
  const answer = await api.call("POST", "/v1/api-keys", { name, scopes });
  const secret = typeof answer === "object" && answer !== null ? Reflect.get(answer, "secret") : undefined;
  if (typeof secret !== "string") throw new Error("POST /v1/api-keys answered without a secret");
  return secret;
}

/** Runs `work` over `items` with at most `limit` at a time, keeping the order of the results. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < items.length) {
      const index = nextIndex++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const range = (count: number) => Array.from({ length: count }, (_, index) => index);
const SEED_CONCURRENCY = 16;

export async function seed(
  api: Api,
  runId: string,
  log: (message: string) => void,
  categorisedLimits: boolean,
): Promise<Seeded> {
  const controls = categorisedLimits ? { spendingControls: CATEGORISED_LIMITS } : {};
  const email = (kind: string, index: number) => `bench.${runId}.${kind}${index}@example.com`;

  log(`seeding ${USER_WALLETS} user wallets with one card each`);
  const userWallets = await mapLimit(range(USER_WALLETS), SEED_CONCURRENCY, async (index) => {
    const userId = await api.id("POST", "/v1/users", {
      email: email("u", index),
      name: `Bench user ${index}`,
    });
    const walletId = await api.id("POST", "/v1/wallets", {
      userId,
      name: `bench ${runId} b${index}`,
      dailyLimit: HIGH_LIMIT,
      monthlyLimit: HIGH_LIMIT,
    });
    const cardId = await api.id("POST", "/v1/cards", {
      walletId,
      cardholderId: userId,
      dailyLimit: HIGH_LIMIT,
      monthlyLimit: HIGH_LIMIT,
      ...controls,
    });
    await api.call("POST", `/v1/wallets/${walletId}/topups`, { amount: BIG_TOPUP, description: "bench" });
    return { userId, walletId, cardId };
  });

  log(`seeding ${EXTRA_WALLETS} more wallets for the reads`);
  const extraWalletIds = await mapLimit(range(EXTRA_WALLETS), SEED_CONCURRENCY, async (index) => {
    const owner = userWallets[index % userWallets.length];
    if (owner === undefined) throw new Error("no user to own the extra wallets");
    const walletId = await api.id("POST", "/v1/wallets", {
      userId: owner.userId,
      name: `bench ${runId} a${index}`,
    });
    await api.call("POST", `/v1/wallets/${walletId}/topups`, { amount: 1000 + index });
    return walletId;
  });

  log(`seeding one team wallet with ${TEAM_CARDS} cards held by team members`);
  const teamId = await api.id("POST", "/v1/teams", { name: `Bench team ${runId}` });
  const teamWalletId = await api.id("POST", "/v1/wallets", { teamId, name: `bench ${runId} team` });
  const teamCardIds = await mapLimit(range(TEAM_CARDS), SEED_CONCURRENCY, async (index) => {
    const userId = await api.id("POST", "/v1/users", {
      email: email("m", index),
      name: `Bench member ${index}`,
    });
    await api.call("POST", `/v1/teams/${teamId}/members`, { userId });
    const low = index < LOW_LIMIT_CARDS;
    return api.id("POST", "/v1/cards", {
      walletId: teamWalletId,
      cardholderId: userId,
      dailyLimit: low ? LOW_CARD_DAILY : HIGH_LIMIT,
      monthlyLimit: low ? LOW_CARD_MONTHLY : HIGH_LIMIT,
      ...controls,
    });
  });

  const userWalletIds = userWallets.map((wallet) => wallet.walletId);
  return {
    runId,
    userWalletIds,
    userCardIds: userWallets.map((wallet) => wallet.cardId),
    teamWalletId,
    teamCardIds,
    allWalletIds: [...userWalletIds, ...extraWalletIds, teamWalletId],
  };
}

/**
 * (c): request `index` goes to card `index % 50`. The ten low-limit cards ask 3000-4899 (a few spends
 * use up their daily limit of 10000), every 50th request asks 300000, the rest 100-1999; every 10th
 * request is a hold (capture: false).
 */
export const TEAM_BIG_AMOUNT = 300_000;
export function teamSpend(index: number): { amount: number; capture: boolean } {
  const card = index % TEAM_CARDS;
  const amount =
    card < LOW_LIMIT_CARDS
      ? 3000 + ((index * 37) % 1900)
      : card === TEAM_CARDS - 1
        ? TEAM_BIG_AMOUNT
        : 100 + ((index * 37) % 1900);
  return { amount, capture: index % 10 !== 9 };
}

/** Average amount approved per (c) request while money lasts: 39 small ones, one large one per 50. */
const TEAM_AVERAGE_AMOUNT = (39 * 1050 + TEAM_BIG_AMOUNT) / 50;

/**
 * Gives the team wallet a balance B and a daily (= monthly) limit B + 200000, sized so that at the
 * expected rate about half of (c)'s spend is approved before the money runs out. Near the end, large
 * spends are declined on the wallet's daily limit (the window has less than 300000 left) and small ones
 * on insufficient_funds; the ten low-limit cards are declined on their own daily limit throughout.
 */
export async function fundTeamWallet(
  api: Api,
  teamWalletId: string,
  expectedRequestsPerSecond: number,
  durationSeconds: number,
): Promise<{ balance: number; dailyLimit: number }> {
  const expectedSpend = expectedRequestsPerSecond * durationSeconds * TEAM_AVERAGE_AMOUNT;
  const balance = Math.max(1_000_000, Math.round(expectedSpend / 2));
  const dailyLimit = balance + 200_000;
  await api.call("PATCH", `/v1/wallets/${teamWalletId}`, { dailyLimit, monthlyLimit: dailyLimit });
  await api.call("POST", `/v1/wallets/${teamWalletId}/topups`, { amount: balance, description: "bench" });
  return { balance, dailyLimit };
}
