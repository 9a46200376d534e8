/**
 * The card key is checked against the stored cards before anything touches one: a wrong key, or a
 * lost key file, stops `serve` and `seed` with exit code 1 and a readable line, instead of a service
 * that answers 500 on /sensitive, accepts known numbers again and writes cards nobody can read.
 * And a key can be rotated: `rotate-card-key` re-encrypts every card under the new key.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { uniqueCardNumber } from "../helpers/fixtures.ts";
import {
  BUN,
  type Finished,
  ROOT,
  type Running,
  run,
  SYSTEM_PATH,
  startProcess,
  stopProcess,
} from "../helpers/process.ts";
import { createScratchDatabase } from "../helpers/server.ts";
import { randomCardKey } from "../helpers/values.ts";
import { call, expectCall, idOf } from "./support.ts";

const serverUrl = process.env.DATABASE_URL;
const ADMIN_KEY = "card-keys-test-admin-key-0123456789";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** Where this run keeps its data: a scratch PostgreSQL database, or PGlite in a temporary DATA_DIR. */
async function newStore(): Promise<{ env: Record<string, string>; dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), "wallet-card-keys-"));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  if (serverUrl === undefined) return { env: { DATA_DIR: dataDir }, dataDir };
  const scratch = await createScratchDatabase(serverUrl);
  cleanups.push(() => scratch.drop());
  return { env: { DATABASE_URL: scratch.url }, dataDir };
}

const baseEnv = (env: Record<string, string>) => ({
  PATH: SYSTEM_PATH,
  LOG_LEVEL: "warn",
  RATE_LIMIT_PER_SECOND: "0",
  ADMIN_API_KEY: ADMIN_KEY,
  ...env,
});

async function serve(env: Record<string, string>): Promise<Running> {
  const service = await startProcess([BUN, "src/main.ts"], {
    cwd: ROOT,
    env: baseEnv(env),
    timeoutMs: 60_000,
  });
  cleanups.push(() => stopProcess(service.process, 5_000));
  return service;
}

/** A command run to its end (`serve` that refuses to start ends too). */
const command = (args: string[], env: Record<string, string>): Promise<Finished> =>
  run([BUN, "src/main.ts", ...args], { cwd: ROOT, env: baseEnv(env), timeoutMs: 60_000 });

/** Asserts the command stopped with exit code 1 and one `config:` line naming `variable`, without any key. */
function expectRefused(finished: Finished, variable: string, says: string, keys: string[]): void {
  expect(finished.exitCode, finished.stderr + finished.stdout).toBe(1);
  const lines = finished.stderr.split("\n").filter((line) => line.startsWith(`config: ${variable}:`));
  expect(lines, finished.stderr).toHaveLength(1);
  expect(lines[0]).toContain(says);
  for (const key of keys) expect(finished.stderr + finished.stdout).not.toContain(key);
}

/** A wallet with one card of a given number; gives back the card's id. */
async function addCard(service: Running, cardNo: string, cvv: string): Promise<string> {
  const user = await expectCall(201, service.baseUrl, ADMIN_KEY, "POST", "/v1/users", {
    email: `${crypto.randomUUID()}@example.com`,
    name: "Card Keys",
  });
  const wallet = await expectCall(201, service.baseUrl, ADMIN_KEY, "POST", "/v1/wallets", {
    userId: idOf(user),
  });
  const card = await expectCall(201, service.baseUrl, ADMIN_KEY, "POST", "/v1/cards", {
    walletId: idOf(wallet),
    cardNo,
    cvv,
    expiryMonth: "12",
    expiryYear: String(new Date().getUTCFullYear() + 2),
  });
  return idOf(card);
}

const reveal = (service: Running, id: string) =>
  expectCall(200, service.baseUrl, ADMIN_KEY, "GET", `/v1/cards/${id}/sensitive`);

describe("the card key is verified at start-up", () => {
  test("a first start records its key; another key is refused by serve and seed, with or without cards; the right key starts", async () => {
    const store = await newStore();
    const key = randomCardKey();
    const wrongKey = randomCardKey();

    // No card yet: the first start's key is recorded all the same.
    const first = await serve({ ...store.env, CARD_ENCRYPTION_KEY: key });
    await stopProcess(first.process);
    const refusedEmpty = await command(["serve"], { ...store.env, CARD_ENCRYPTION_KEY: wrongKey });
    expectRefused(refusedEmpty, "CARD_ENCRYPTION_KEY", "wrong card key", [key, wrongKey]);

    const service = await serve({ ...store.env, CARD_ENCRYPTION_KEY: key });
    const cardNo = uniqueCardNumber();
    const cardId = await addCard(service, cardNo, "314");
    await stopProcess(service.process);

    for (const args of [["serve"], ["seed"]]) {
      const refused = await command(args, { ...store.env, CARD_ENCRYPTION_KEY: wrongKey });
      expectRefused(refused, "CARD_ENCRYPTION_KEY", "wrong card key", [key, wrongKey]);
    }

    const again = await serve({ ...store.env, CARD_ENCRYPTION_KEY: key });
    expect(await reveal(again, cardId)).toMatchObject({ number: cardNo, cvv: "314" });
  }, 180_000);

  test.skipIf(serverUrl !== undefined)(
    "embedded: a lost card key file with cards stored stops start-up, and no new key is made",
    async () => {
      const store = await newStore();
      const service = await serve(store.env);
      await addCard(service, uniqueCardNumber(), "271");
      await stopProcess(service.process);
      const keyFile = join(store.dataDir, "card-encryption-key");
      const key = (await Bun.file(keyFile).text()).trim();
      await rm(keyFile);

      const refused = await command(["serve"], store.env);
      expectRefused(refused, "CARD_ENCRYPTION_KEY", "card-encryption-key is missing", [key]);
      expect(await Bun.file(keyFile).exists()).toBe(false);
    },
    120_000,
  );
});

describe("card key rotation", () => {
  test("with both keys old cards are read and their numbers stay taken; rotate-card-key moves every card to the new key; then the old key is refused", async () => {
    const store = await newStore();
    const oldKey = randomCardKey();
    const newKey = randomCardKey();

    const before = await serve({ ...store.env, CARD_ENCRYPTION_KEY: oldKey });
    const oldNumber = uniqueCardNumber();
    const oldCard = await addCard(before, oldNumber, "101");
    const deletedCard = await addCard(before, uniqueCardNumber(), "202");
    await expectCall(200, before.baseUrl, ADMIN_KEY, "DELETE", `/v1/cards/${deletedCard}`);
    const teamRequest = ["POST", "/v1/teams", { name: `Rotation ${crypto.randomUUID()}` }] as const;
    const idempotencyKey = { "idempotency-key": crypto.randomUUID() };
    expect((await call(before.baseUrl, ADMIN_KEY, ...teamRequest, idempotencyKey)).status).toBe(201);
    await stopProcess(before.process);

    // rotate-card-key without the previous key says what it needs.
    const unprepared = await command(["rotate-card-key"], { ...store.env, CARD_ENCRYPTION_KEY: oldKey });
    expectRefused(unprepared, "CARD_ENCRYPTION_KEY_PREVIOUS", "required by rotate-card-key", [oldKey]);

    const rotating = { ...store.env, CARD_ENCRYPTION_KEY: newKey, CARD_ENCRYPTION_KEY_PREVIOUS: oldKey };
    const during = await serve(rotating);
    // A retry from before the switch is still recognised (its hash is keyed under the previous key).
    const retried = await call(during.baseUrl, ADMIN_KEY, ...teamRequest, idempotencyKey);
    expect(retried.status).toBe(201);
    expect(retried.headers.get("idempotent-replayed")).toBe("true");
    expect(await reveal(during, oldCard)).toMatchObject({ number: oldNumber, cvv: "101" });
    // The old card's number is fingerprinted under the old key: it must still count as taken.
    const user = await expectCall(201, during.baseUrl, ADMIN_KEY, "POST", "/v1/users", {
      email: `${crypto.randomUUID()}@example.com`,
      name: "Rotation",
    });
    const wallet = await expectCall(201, during.baseUrl, ADMIN_KEY, "POST", "/v1/wallets", {
      userId: idOf(user),
    });
    const duplicate = await call(during.baseUrl, ADMIN_KEY, "POST", "/v1/cards", {
      walletId: idOf(wallet),
      cardNo: oldNumber,
      cvv: "999",
      expiryMonth: "12",
      expiryYear: String(new Date().getUTCFullYear() + 2),
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.code).toBe("card_number_taken");
    const newNumber = uniqueCardNumber();
    const newCard = await addCard(during, newNumber, "303");
    await stopProcess(during.process);
    // Cards are now under both keys: the old key alone would not read the new card, and is refused.
    const oldAlone = await command(["seed"], { ...store.env, CARD_ENCRYPTION_KEY: oldKey });
    expectRefused(oldAlone, "CARD_ENCRYPTION_KEY", "wrong card key", [oldKey]);

    const rotated = await command(["rotate-card-key"], rotating);
    expect(rotated.exitCode, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain("re-encrypted 3 card(s)");

    const after = await serve({ ...store.env, CARD_ENCRYPTION_KEY: newKey });
    expect(await reveal(after, oldCard)).toMatchObject({ number: oldNumber, cvv: "101" });
    expect(await reveal(after, newCard)).toMatchObject({ number: newNumber, cvv: "303" });
    const stillTaken = await call(after.baseUrl, ADMIN_KEY, "POST", "/v1/cards", {
      walletId: idOf(wallet),
      cardNo: oldNumber,
      cvv: "999",
      expiryMonth: "12",
      expiryYear: String(new Date().getUTCFullYear() + 2),
    });
    expect(stillTaken.body.code).toBe("card_number_taken");
    await stopProcess(after.process);

    const refused = await command(["serve"], { ...store.env, CARD_ENCRYPTION_KEY: oldKey });
    expectRefused(refused, "CARD_ENCRYPTION_KEY", "wrong card key", [oldKey, newKey]);
  }, 240_000);
});
