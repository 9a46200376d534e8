/**
 * Concurrent spends decide exactly as the same spends one at a time (contract §3 and §8): 500 card
 * authorizations sent at once to one wallet, mixing ten cards with different controls, merchant
 * categories, amounts, captures and holds, get the very outcomes that a second wallet set up the same
 * way gets when the same requests are sent to it one by one, in the order the first wallet recorded
 * them. So the wallet's lock really serialises the decisions and none of them saw a stale balance,
 * hold or limit counter.
 */
import { describe, expect, test } from "bun:test";
import {
  createCard,
  expectLedgerConsistent,
  fundedWallet,
  getCard,
  getWallet,
  walletTransactions,
} from "../helpers/fixtures.ts";
import { brokenInvariants } from "../helpers/invariants.ts";
import { type Schemas, TestClock, useServer } from "../helpers/server.ts";

/**
 * Real time moved to noon UTC of the day the file runs: it ticks, so createdAt keeps the order of the
 * decisions to the millisecond, but no day, week or month ends between the concurrent run and the replay.
 */
class NoonClock extends TestClock {
  private readonly startedAt = performance.now();
  private readonly noon = new Date().setUTCHours(12, 0, 0, 0);
  override readonly now = (): Date => new Date(this.noon + (performance.now() - this.startedAt));
}

const server = useServer({ DB_POOL_MAX: "20" }, { clock: new NoonClock() });

/** Generous: the whole test takes about 15 s on PGlite and on PostgreSQL. */
const TEST_TIMEOUT_MS = 60_000;

const SPENDS = 500;
/** The wallet's money; its daily limit is a little above it, so that both can refuse a spend. */
const BALANCE = 1_500_000;
const WALLET_DAILY = BALANCE + 10_000;

/** Merchant categories (MCCs) with how often spends use each: groceries, restaurants, bars, fuel, retail, gambling, none. */
const CATEGORIES: [string | undefined, number][] = [
  ["5411", 25],
  ["5812", 20],
  ["5813", 10],
  ["5541", 15],
  ["5999", 15],
  ["7995", 5],
  [undefined, 10],
];

type CardBody = Omit<Parameters<typeof createCard>[1], "walletId">;

/** The ten cards of a wallet, made the same way on both wallets, and how many of the 500 spends each makes. */
const ROLES: { role: string; spends: number; body: CardBody; frozen?: boolean }[] = [
  { role: "everyday", spends: 120, body: { dailyLimit: 1_000_000, monthlyLimit: 5_000_000 } },
  { role: "everyday too", spends: 120, body: { dailyLimit: 1_000_000, monthlyLimit: 5_000_000 } },
  { role: "low daily limit", spends: 30, body: { dailyLimit: 30_000, monthlyLimit: 1_000_000 } },
  { role: "lower daily limit", spends: 20, body: { dailyLimit: 15_000, monthlyLimit: 1_000_000 } },
  {
    role: "at most 6000 a spend",
    spends: 30,
    body: { spendingControls: { limits: [{ amount: 6_000, interval: "per_authorization" }] } },
  },
  { role: "frozen", spends: 20, body: {}, frozen: true },
  { role: "no bars", spends: 40, body: { spendingControls: { blockedCategories: ["5813"] } } },
  {
    role: "groceries capped at 25000 a day",
    spends: 50,
    body: { spendingControls: { limits: [{ amount: 25_000, interval: "daily", categories: ["5411"] }] } },
  },
  {
    role: "groceries and fuel only",
    spends: 30,
    body: { spendingControls: { allowedCategories: ["5411", "5541"] } },
  },
  {
    role: "100000 a week",
    spends: 40,
    body: { spendingControls: { limits: [{ amount: 100_000, interval: "weekly" }] } },
  },
];

/** A user's wallet holding BALANCE with one card per role (cards[i] plays ROLES[i]). */
async function walletWithRoles(): Promise<{ wallet: Schemas["Wallet"]; cards: Schemas["Card"][] }> {
  const wallet = await fundedWallet(server.api, BALANCE, {
    dailyLimit: WALLET_DAILY,
    monthlyLimit: 10_000_000,
    spendingControls: {
      // Gambling is blocked for the whole wallet, and bars share 60000 a day across its cards.
      blockedCategories: ["7995"],
      limits: [{ amount: 60_000, interval: "daily", categories: ["5813"] }],
    },
  });
  const cards: Schemas["Card"][] = [];
  for (const { body, frozen } of ROLES) {
    const card = await createCard(server.api, { walletId: wallet.id, ...body });
    if (frozen === true) {
      const patched = await server.api.PATCH("/v1/cards/{id}", {
        params: { path: { id: card.id } },
        body: { status: "frozen" },
      });
      expect(patched.response.status).toBe(200);
    }
    cards.push(card);
  }
  return { wallet, cards };
}

/** One spend: which card (by role), how much, where, and whether it is captured or only held. */
interface Spend {
  role: number;
  amount: number;
  category: string | undefined;
  capture: boolean;
}

/** A small seeded generator (mulberry32), so that every run sends the same 500 spends. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const SEED = 20_260_311;

/** Picks an item by weight. */
function pick<T>(random: () => number, weighted: [T, number][]): T {
  const total = weighted.reduce((sum, [, weight]) => sum + weight, 0);
  let left = random() * total;
  for (const [item, weight] of weighted) {
    left -= weight;
    if (left < 0) return item;
  }
  throw new Error("weights must be positive");
}

/** The 500 spends, shuffled: each card's share, amounts 500 to 11900, a third of them holds. */
function spends(): Spend[] {
  const random = seeded(SEED);
  const roles = ROLES.flatMap(({ spends }, role) => Array.from({ length: spends }, () => role));
  for (let i = roles.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [roles[i], roles[j]] = [roles[j] ?? 0, roles[i] ?? 0];
  }
  return roles.map((role) => ({
    role,
    amount: 500 + Math.floor(random() * 115) * 100,
    category: pick(random, CATEGORIES),
    capture: random() >= 1 / 3,
  }));
}

/** Sends spend number `index` to `cardId`; the answer is 201 whatever the decision. */
function send(cardId: string, spend: Spend, index: number) {
  return server.api.POST("/v1/cards/{id}/authorizations", {
    params: { path: { id: cardId } },
    body: {
      amount: spend.amount,
      merchant: {
        name: `Shop ${index}`,
        ...(spend.category === undefined ? {} : { category: spend.category }),
      },
      capture: spend.capture,
    },
  });
}

/** Every authorization of a card, read page by page through the API. */
async function authorizationsOfCard(cardId: string): Promise<Schemas["Authorization"][]> {
  const all: Schemas["Authorization"][] = [];
  for (let skip = 0; ; skip += 100) {
    const page = await server.api.GET("/v1/cards/{id}/authorizations", {
      params: { path: { id: cardId }, query: { limit: 100, skip, sort: "asc" } },
    });
    if (page.data === undefined) throw new Error(`listing card ${cardId} failed: ${page.response.status}`);
    all.push(...page.data.data);
    if (!page.data.hasMore) return all;
  }
}

/** Plain text order, not the locale's: ISO timestamps and lower-case UUIDs sort as text. */
const compareText = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

/** The order the service decided them in: createdAt, then id (UUIDv7, drawn under the wallet's lock). */
const byDecision = (a: Schemas["Authorization"], b: Schemas["Authorization"]) =>
  compareText(a.createdAt, b.createdAt) || compareText(a.id, b.id);

/** What a client sees of a decision: the outcome, and which rule refused it (with the spend it saw). */
const outcome = (authorization: Schemas["Authorization"]) => ({
  status: authorization.status,
  declineReason: authorization.declineReason,
  declineDetail: authorization.declineDetail,
});

const countBy = <T>(items: T[], key: (item: T) => string) =>
  items.reduce<Record<string, number>>((counts, item) => {
    counts[key(item)] = (counts[key(item)] ?? 0) + 1;
    return counts;
  }, {});

const sum = (items: Schemas["Authorization"][]) => items.reduce((total, a) => total + a.amount, 0);

/** What two wallets set up alike must both show after the same spends. */
const money = (wallet: Schemas["Wallet"]) => ({
  balance: wallet.balance,
  availableBalance: wallet.availableBalance,
  held: wallet.balance - wallet.availableBalance,
  spentToday: wallet.spentToday,
  spentThisMonth: wallet.spentThisMonth,
});

type Cards = Schemas["Card"][];

/** The id of the card playing ROLES[role] among `cards`. */
function cardId(cards: Cards, role: number): string {
  const card = cards[role];
  if (card === undefined) throw new Error(`no card plays role ${role}`);
  return card.id;
}

/** What each authorization answered: which request it was and the outcome the client was given. */
type Answers = Map<string, { index: number; answer: Schemas["Authorization"] }>;

/** Sends every spend at once (no Idempotency-Key); gives back the answers by authorization id. */
async function spendAllAtOnce(cards: Cards, requests: Spend[]): Promise<Answers> {
  const answers = await Promise.all(
    requests.map((spend, index) => send(cardId(cards, spend.role), spend, index)),
  );
  expect(countBy(answers, (answer) => String(answer.response.status))).toEqual({ "201": SPENDS });
  const answered: Answers = new Map();
  for (const [index, { data }] of answers.entries()) {
    if (data === undefined) throw new Error(`spend ${index} was answered without a body`);
    answered.set(data.id, { index, answer: data });
  }
  return answered;
}

/** Every authorization on the wallet's cards, in the order the service decided them. */
async function recordedOrder(cards: Cards): Promise<Schemas["Authorization"][]> {
  const all = await Promise.all(cards.map((card) => authorizationsOfCard(card.id)));
  return all.flat().sort(byDecision);
}

/**
 * Sends the spends one at a time to `cards`, in the order of `recorded`, and gives back every spend
 * whose outcome differs from the recorded one, described for a reader.
 */
async function replayOneAtATime(
  cards: Cards,
  requests: Spend[],
  recorded: Schemas["Authorization"][],
  answered: Answers,
): Promise<string[]> {
  const differences: string[] = [];
  for (const [position, original] of recorded.entries()) {
    const index = answered.get(original.id)?.index ?? -1;
    const spend = requests[index];
    if (spend === undefined) throw new Error(`authorization ${original.id} answers no request`);
    const replayed = await send(cardId(cards, spend.role), spend, index);
    if (replayed.data === undefined || replayed.response.status !== 201) {
      throw new Error(`the replay of spend ${index} was answered ${replayed.response.status}`);
    }
    const [concurrently, alone] = [outcome(original), outcome(replayed.data)];
    if (!Bun.deepEquals(concurrently, alone)) {
      differences.push(
        `#${position} in the recorded order (spend ${index}: ${spend.amount} on the "${ROLES[spend.role]?.role}" ` +
          `card, category ${spend.category ?? "none"}, capture ${spend.capture}) was ` +
          `${JSON.stringify(concurrently)} concurrently but ${JSON.stringify(alone)} one at a time`,
      );
    }
  }
  return differences;
}

describe("500 concurrent spends on one wallet against a sequential replay", () => {
  test(
    "the concurrent decisions are exactly those of the same spends sent one at a time in the recorded order",
    async () => {
      const requests = spends();
      expect(requests).toHaveLength(SPENDS);

      // Wallet A: every spend at once, then read back in the order the service decided them.
      const a = await walletWithRoles();
      const answered = await spendAllAtOnce(a.cards, requests);
      const recorded = await recordedOrder(a.cards);
      expect(recorded).toHaveLength(SPENDS);
      // Each one listed was answered, and shows the outcome the client was given.
      const unlike = recorded.filter((x) => {
        const told = answered.get(x.id)?.answer;
        return told === undefined || !Bun.deepEquals(outcome(told), outcome(x));
      });
      expect(unlike, "listed authorizations unlike the answer to any request").toEqual([]);

      // The UUIDv7 ids, drawn under the wallet's lock, follow createdAt (and break its ties)...
      expect(
        [...recorded].sort((x, y) => compareText(x.id, y.id)).map((x) => x.id),
        "the authorizations' ids are not in createdAt order",
      ).toEqual(recorded.map((x) => x.id));
      // ...and the ledger (seq order) has the captured spends in that same order.
      const ledgerSpends = (await walletTransactions(server.api, a.wallet.id))
        .filter((transaction) => transaction.type === "card_spend")
        .map((transaction) => transaction.authorizationId);
      expect(ledgerSpends, "the ledger's card spends are not in the authorizations' order").toEqual(
        recorded.filter((x) => x.status === "captured").map((x) => x.id),
      );

      // The setup declines a good share of the spends, for reasons of every kind.
      const declined = recorded.filter((x) => x.status === "declined");
      const reasons = countBy(declined, (x) => `${x.declineReason} (${x.declineDetail?.scope})`);
      const inRequestOrder = recorded.every((x, position) => answered.get(x.id)?.index === position);
      console.log(
        `wallet A: ${JSON.stringify(countBy(recorded, (x) => x.status))}; declined ${JSON.stringify(reasons)}; ` +
          `decided in the order sent: ${inRequestOrder}`,
      );
      expect(declined.length / SPENDS).toBeGreaterThanOrEqual(0.3);
      expect(declined.length / SPENDS).toBeLessThanOrEqual(0.6);
      expect(Object.keys(reasons).sort()).toEqual([
        "card_daily_limit_exceeded (card)",
        "card_inactive (card)",
        "insufficient_funds (wallet)",
        "merchant_category_not_allowed (card)",
        "merchant_category_not_allowed (wallet)",
        "spending_limit_exceeded (card)",
        "spending_limit_exceeded (wallet)",
        "wallet_daily_limit_exceeded (wallet)",
      ]);

      // Wallet B, set up the same way, gets the same spends one at a time in A's order: same outcomes.
      const b = await walletWithRoles();
      const differences = await replayOneAtATime(b.cards, requests, recorded, answered);
      expect(
        differences.slice(0, 3),
        `${differences.length} of ${SPENDS} spends were decided differently; the first: ${differences[0]}`,
      ).toEqual([]);

      // Both wallets, and each pair of twin cards, end in the same place.
      const [walletA, walletB] = [
        await getWallet(server.api, a.wallet.id),
        await getWallet(server.api, b.wallet.id),
      ];
      const captured = recorded.filter((x) => x.status === "captured");
      const pending = recorded.filter((x) => x.status === "pending");
      expect(money(walletA)).toEqual({
        balance: BALANCE - sum(captured),
        availableBalance: BALANCE - sum(captured) - sum(pending),
        held: sum(pending),
        spentToday: sum(captured) + sum(pending),
        spentThisMonth: sum(captured) + sum(pending),
      });
      expect(money(walletB), "wallet B after the replay").toEqual(money(walletA));
      for (const [role, { role: name }] of ROLES.entries()) {
        const [cardA, cardB] = [
          await getCard(server.api, cardId(a.cards, role)),
          await getCard(server.api, cardId(b.cards, role)),
        ];
        expect(cardB.spentToday, `spentToday of the "${name}" cards`).toBe(cardA.spentToday);
      }
      await expectLedgerConsistent(server.api, a.wallet.id);
      await expectLedgerConsistent(server.api, b.wallet.id);
      expect(await brokenInvariants(server.db)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
