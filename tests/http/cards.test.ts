import { describe, expect, test } from "bun:test";
import {
  addMember,
  createCard,
  createTeam,
  createUser,
  createUserWallet,
  createWallet,
  futureExpiry,
  getCard,
  luhnCheckDigitFor,
  uniqueCardNumber,
} from "../helpers/fixtures.ts";
import { expectEachFound, expectProblem, expectSdkProblem } from "../helpers/problem-details.ts";
import { rowCount } from "../helpers/rows.ts";
import { type Schemas, useServer } from "../helpers/server.ts";
import { UNKNOWN_ID, UUID_PATTERN } from "../helpers/values.ts";

const server = useServer();

async function sensitive(id: string): Promise<Schemas["SensitiveCard"]> {
  const { data, response } = await server.api.GET("/v1/cards/{id}/sensitive", { params: { path: { id } } });
  if (data === undefined) throw new Error(`GET card ${id}/sensitive answered ${response.status}`);
  return data;
}

async function cardIdsOf(filter: {
  walletId?: string;
  cardholderId?: string;
  status?: "active" | "frozen" | "cancelled";
}) {
  const { data } = await server.api.GET("/v1/cards", { params: { query: { ...filter, limit: 100 } } });
  return (data?.data ?? []).map((card) => card.id);
}

/** A PATCH the SDK types would refuse to send (bad values, unknown fields). */
const patchCard = (id: string, body: Record<string, unknown>) =>
  server.request(`/v1/cards/${id}`, { method: "PATCH", json: body });

/** Every value anywhere in a JSON document, and every key. */
function walk(value: unknown, values: unknown[], keys: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, values, keys);
  } else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      keys.push(key);
      walk(item, values, keys);
    }
  } else {
    values.push(value);
  }
}

/** A response body shows neither the full number nor the CVV, under any name. */
function expectNoSecretsIn(body: unknown, number: string, cvv: string): void {
  const text = JSON.stringify(body);
  expect(text).not.toContain(number);
  expect(text).not.toContain(`"${cvv}"`);
  const values: unknown[] = [];
  const keys: string[] = [];
  walk(body, values, keys);
  expect(values).not.toContain(cvv);
  for (const key of keys) expect(["number", "cardNo", "cvv", "pan", "cardNumber"]).not.toContain(key);
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const ascii = (text: string) => new TextEncoder().encode(text);

/**
 * Reads every column of the card rows and asserts none holds the number or the CVV in plain form:
 * text columns are compared as text, bytea columns as hex, UTF-8 and Latin-1; a bare SHA-256 of the
 * number (brute-forceable for a 16-digit number) does not count as protection either. The number is
 * looked for in every row; the short CVV only in its own card's row, where a chance match of random
 * ciphertext bytes is negligible.
 */
async function expectNotStoredInPlain(cardId: string, number: string, cvv: string): Promise<void> {
  const { rows } = await server.db.query<Record<string, unknown>>("SELECT * FROM cards");
  expect(rows.some((row) => row.id === cardId)).toBe(true);
  const numberSha256 = new Bun.CryptoHasher("sha256").update(number).digest("hex");
  const forbidden = [number, hex(ascii(number)), Buffer.from(number).toString("base64"), numberSha256];
  const leaks: string[] = [];
  for (const row of rows) {
    const ownRow = row.id === cardId;
    for (const [column, value] of Object.entries(row)) {
      if (value === null || value === undefined) continue;
      if (value instanceof Uint8Array) {
        const asHex = hex(value);
        const asText = [Buffer.from(value).toString("utf8"), Buffer.from(value).toString("latin1")];
        if ([asHex, ...asText].some((form) => forbidden.some((secret) => form.includes(secret)))) {
          leaks.push(`${column}: number`);
        }
        if (ownRow && (asHex.includes(hex(ascii(cvv))) || asText.some((form) => form.includes(cvv)))) {
          leaks.push(`${column}: cvv`);
        }
      } else {
        const text = value instanceof Date ? value.toISOString() : String(value);
        if (forbidden.some((secret) => text.includes(secret))) leaks.push(`${column}: number`);
        if (ownRow && text === cvv) leaks.push(`${column}: cvv`);
      }
    }
  }
  expect(leaks).toEqual([]);
  // The whole row as PostgreSQL prints it, bytea included.
  const printed = await server.db.query<{ row: string }>("SELECT c::text AS row FROM cards c");
  for (const { row } of printed.rows) expect(row).not.toContain(number);
}

const nowUtc = () => new Date();
const thisYear = () => nowUtc().getUTCFullYear();
const thisMonth = () => nowUtc().getUTCMonth() + 1;

describe("cards: create with a given number", () => {
  test("brand and last4 come from the number; the month is stored two-digit", async () => {
    const { wallet } = await createUserWallet(server.api);
    const year = String(thisYear() + 2);
    const cases = [
      { cardNo: "4111111111111111", cvv: "123", brand: "visa", last4: "1111" },
      { cardNo: "5555555555554444", cvv: "456", brand: "mastercard", last4: "4444" },
      { cardNo: "378282246310005", cvv: "7890", brand: "amex", last4: "0005" },
    ];
    for (const { cardNo, cvv, brand, last4 } of cases) {
      const { data, response } = await server.api.POST("/v1/cards", {
        body: { walletId: wallet.id, cardNo, cvv, expiryMonth: "7", expiryYear: year },
      });
      expect(response.status).toBe(201);
      expect(data?.id ?? "").toMatch(UUID_PATTERN);
      expect(data).toMatchObject({
        walletId: wallet.id,
        cardholderId: null,
        brand,
        last4,
        expiryMonth: "07",
        expiryYear: year,
        status: "active",
        dailyLimit: 500000,
        monthlyLimit: 500000,
        spentToday: 0,
        spentThisMonth: 0,
        deletedAt: null,
      });
      expect(new Date(data?.createdAt ?? "").toISOString()).toBe(data?.createdAt ?? "");
      const id = data?.id ?? "";
      expect(await getCard(server.api, id)).toEqual(data as Schemas["Card"]);
      expect(await sensitive(id)).toEqual({ number: cardNo, cvv, expiryMonth: "07", expiryYear: year });
    }
  });

  test("13- and 19-digit Luhn-valid numbers are accepted; an unknown issuer prefix is brand unknown", async () => {
    const { wallet } = await createUserWallet(server.api);
    const expiry = futureExpiry();
    const thirteen = uniqueCardNumber("4", 13);
    const nineteen = uniqueCardNumber("4", 19);
    const unknownBrand = uniqueCardNumber("9", 16);
    for (const [cardNo, brand] of [
      [thirteen, "visa"],
      [nineteen, "visa"],
      [unknownBrand, "unknown"],
    ] as const) {
      const { data, response } = await server.api.POST("/v1/cards", {
        body: { walletId: wallet.id, cardNo, cvv: "321", ...expiry },
      });
      expect(response.status).toBe(201);
      expect(data?.brand).toBe(brand);
      expect(data?.last4).toBe(cardNo.slice(-4));
      expect((await sensitive(data?.id ?? "")).number).toBe(cardNo);
    }
  });

  test("a card expiring this month is still accepted", async () => {
    const { wallet } = await createUserWallet(server.api);
    const month = String(thisMonth());
    const { data, response } = await server.api.POST("/v1/cards", {
      body: {
        walletId: wallet.id,
        cardNo: uniqueCardNumber(),
        cvv: "111",
        expiryMonth: month,
        expiryYear: String(thisYear()),
      },
    });
    expect(response.status).toBe(201);
    expect(data?.expiryMonth).toBe(month.padStart(2, "0"));
  });

  test("cardNo without expiry or CVV is 400 incomplete_card_details and creates nothing", async () => {
    const { wallet } = await createUserWallet(server.api);
    const before = await rowCount(server.db, "cards");
    const cardNo = uniqueCardNumber();
    const { expiryMonth, expiryYear } = futureExpiry();
    for (const body of [
      { cardNo },
      { cardNo, expiryMonth, expiryYear },
      { cardNo, expiryMonth, cvv: "123" },
      { cardNo, expiryYear, cvv: "123" },
    ]) {
      expectSdkProblem(
        await server.api.POST("/v1/cards", { body: { walletId: wallet.id, ...body } }),
        400,
        "incomplete_card_details",
      );
    }
    expect(await rowCount(server.db, "cards")).toBe(before);
    expect(await cardIdsOf({ walletId: wallet.id })).toEqual([]);
  });

  test("expiry or CVV without cardNo is 400 incomplete_card_details and creates nothing", async () => {
    const { wallet } = await createUserWallet(server.api);
    const before = await rowCount(server.db, "cards");
    for (const body of [{ cvv: "123" }, futureExpiry(), { expiryMonth: "1" }]) {
      expectSdkProblem(
        await server.api.POST("/v1/cards", { body: { walletId: wallet.id, ...body } }),
        400,
        "incomplete_card_details",
      );
    }
    expect(await rowCount(server.db, "cards")).toBe(before);
  });

  test("a number failing the Luhn check is 400 invalid_card_number and creates nothing", async () => {
    const { wallet } = await createUserWallet(server.api);
    const before = await rowCount(server.db, "cards");
    const valid = uniqueCardNumber();
    const lastDigit = Number(valid.slice(-1));
    const broken = `${valid.slice(0, -1)}${(lastDigit + 1) % 10}`;
    for (const cardNo of [broken, "4111111111111112", "1234567890123"]) {
      expectSdkProblem(
        await server.api.POST("/v1/cards", {
          body: { walletId: wallet.id, cardNo, cvv: "123", ...futureExpiry() },
        }),
        400,
        "invalid_card_number",
      );
    }
    expect(await rowCount(server.db, "cards")).toBe(before);
  });

  test("a number of the wrong length or with non-digits is 400 invalid_card_number and creates nothing", async () => {
    const { wallet } = await createUserWallet(server.api);
    const before = await rowCount(server.db, "cards");
    const twelve = uniqueCardNumber("4", 12);
    const twenty = uniqueCardNumber("4", 20);
    for (const cardNo of [
      twelve,
      twenty,
      "4111 1111 1111 1111",
      "4111-1111-1111-1111",
      "41111111111111a1",
      "",
      "４１１１１１１１１１１１１１１１",
    ]) {
      expectSdkProblem(
        await server.api.POST("/v1/cards", {
          body: { walletId: wallet.id, cardNo, cvv: "123", ...futureExpiry() },
        }),
        400,
        "invalid_card_number",
      );
    }
    const asNumber = await server.request("/v1/cards", {
      method: "POST",
      json: { walletId: wallet.id, cardNo: 4111111111111111, cvv: "123", ...futureExpiry() },
    });
    await expectProblem(asNumber, 400, "invalid_card_number");
    expect(await rowCount(server.db, "cards")).toBe(before);
  });

  test("a month outside 1-12 is 400 invalid_expiry_month and creates nothing", async () => {
    const { wallet } = await createUserWallet(server.api);
    const before = await rowCount(server.db, "cards");
    for (const expiryMonth of ["13", "0", "00", "-1", "ab", "7.5"]) {
      expectSdkProblem(
        await server.api.POST("/v1/cards", {
          body: {
            walletId: wallet.id,
            cardNo: uniqueCardNumber(),
            cvv: "123",
            expiryMonth,
            expiryYear: String(thisYear() + 1),
          },
        }),
        400,
        "invalid_expiry_month",
      );
    }
    expect(await rowCount(server.db, "cards")).toBe(before);
  });

  test("a year that is not four digits is 400 invalid_expiry_year and creates nothing", async () => {
    const { wallet } = await createUserWallet(server.api);
    const before = await rowCount(server.db, "cards");
    for (const expiryYear of [String(thisYear() + 1).slice(2), "20300", "year"]) {
      expectSdkProblem(
        await server.api.POST("/v1/cards", {
          body: { walletId: wallet.id, cardNo: uniqueCardNumber(), cvv: "123", expiryMonth: "6", expiryYear },
        }),
        400,
        "invalid_expiry_year",
      );
    }
    expect(await rowCount(server.db, "cards")).toBe(before);
  });

  test("a past year, or a past month of this year, is 400 card_expired and creates nothing", async () => {
    const { wallet } = await createUserWallet(server.api);
    const before = await rowCount(server.db, "cards");
    const lastMonth =
      thisMonth() > 1
        ? { expiryMonth: String(thisMonth() - 1), expiryYear: String(thisYear()) }
        : { expiryMonth: "12", expiryYear: String(thisYear() - 1) };
    for (const expiry of [
      { expiryMonth: "12", expiryYear: String(thisYear() - 1) },
      { expiryMonth: "1", expiryYear: "2000" },
      lastMonth,
    ]) {
      expectSdkProblem(
        await server.api.POST("/v1/cards", {
          body: { walletId: wallet.id, cardNo: uniqueCardNumber(), cvv: "123", ...expiry },
        }),
        400,
        "card_expired",
      );
    }
    expect(await rowCount(server.db, "cards")).toBe(before);
  });

  test("a CVV that is not 3 or 4 digits is 400 invalid_cvv and creates nothing", async () => {
    const { wallet } = await createUserWallet(server.api);
    const before = await rowCount(server.db, "cards");
    for (const cvv of ["12", "12345", "12a", "", "1 3"]) {
      expectSdkProblem(
        await server.api.POST("/v1/cards", {
          body: { walletId: wallet.id, cardNo: uniqueCardNumber(), cvv, ...futureExpiry() },
        }),
        400,
        "invalid_cvv",
      );
    }
    expect(await rowCount(server.db, "cards")).toBe(before);
  });

  test("an unknown, deleted or malformed wallet is refused and creates nothing", async () => {
    const before = await rowCount(server.db, "cards");
    expectSdkProblem(
      await server.api.POST("/v1/cards", { body: { walletId: UNKNOWN_ID } }),
      404,
      "wallet_not_found",
    );
    const { wallet } = await createUserWallet(server.api);
    await server.api.DELETE("/v1/wallets/{id}", { params: { path: { id: wallet.id } } });
    expectSdkProblem(
      await server.api.POST("/v1/cards", {
        body: { walletId: wallet.id, cardNo: uniqueCardNumber(), cvv: "123", ...futureExpiry() },
      }),
      404,
      "wallet_not_found",
    );
    expect((await server.api.POST("/v1/cards", { body: { walletId: "wallet-1" } })).response.status).toBe(
      400,
    );
    await expectProblem(await server.request("/v1/cards", { method: "POST", json: {} }), 400);
    expect(await rowCount(server.db, "cards")).toBe(before);
  });

  test("an unknown field is 400 and creates nothing", async () => {
    const { wallet } = await createUserWallet(server.api);
    const before = await rowCount(server.db, "cards");
    for (const extra of [{ status: "frozen" }, { brand: "visa" }, { last4: "1234" }, { spentToday: 5 }]) {
      const problem = await expectProblem(
        await server.request("/v1/cards", { method: "POST", json: { walletId: wallet.id, ...extra } }),
        400,
      );
      expect(problem.errors?.map((error) => error.path)).toContain(`body.${Object.keys(extra)[0]}`);
    }
    expect(await rowCount(server.db, "cards")).toBe(before);
  });
});

describe("cards: issued by the service", () => {
  test("without cardNo the service issues a 16-digit Luhn-valid number, a CVV and an expiry three years ahead", async () => {
    const { wallet } = await createUserWallet(server.api);
    const before = nowUtc();
    const { data, response } = await server.api.POST("/v1/cards", { body: { walletId: wallet.id } });
    const after = nowUtc();
    expect(response.status).toBe(201);
    const card = data as Schemas["Card"];
    const secret = await sensitive(card.id);
    expect(secret.number).toMatch(/^[0-9]{16}$/);
    expect(luhnCheckDigitFor(secret.number.slice(0, -1))).toBe(secret.number.slice(-1));
    expect(secret.cvv).toMatch(/^[0-9]{3,4}$/);
    expect(card.last4).toBe(secret.number.slice(-4));
    expect(card.brand).toBe("visa");
    const expected = [before, after].map((date) => ({
      expiryMonth: String(date.getUTCMonth() + 1).padStart(2, "0"),
      expiryYear: String(date.getUTCFullYear() + 3),
    }));
    expect(expected).toContainEqual({ expiryMonth: card.expiryMonth, expiryYear: card.expiryYear });
    expect({ expiryMonth: secret.expiryMonth, expiryYear: secret.expiryYear }).toEqual({
      expiryMonth: card.expiryMonth,
      expiryYear: card.expiryYear,
    });
    expect(card).toMatchObject({ status: "active", dailyLimit: 500000, monthlyLimit: 500000 });
  });

  test("every issued card gets its own number", async () => {
    const { wallet } = await createUserWallet(server.api);
    const numbers = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const card = await createCard(server.api, { walletId: wallet.id });
      numbers.add((await sensitive(card.id)).number);
    }
    expect(numbers.size).toBe(5);
  });
});

describe("cards: unique numbers", () => {
  test("a number on a live card is 409 card_number_taken, on any wallet, and is free again once that card is deleted", async () => {
    const first = await createUserWallet(server.api);
    const second = await createUserWallet(server.api);
    const cardNo = uniqueCardNumber("5", 16);
    const details = { cardNo, cvv: "123", ...futureExpiry() };
    const original = await createCard(server.api, { walletId: first.wallet.id, ...details });
    const before = await rowCount(server.db, "cards");

    expectSdkProblem(
      await server.api.POST("/v1/cards", { body: { walletId: first.wallet.id, ...details } }),
      409,
      "card_number_taken",
    );
    expectSdkProblem(
      await server.api.POST("/v1/cards", {
        body: { walletId: second.wallet.id, ...details, cvv: "999" },
      }),
      409,
      "card_number_taken",
    );
    expect(await rowCount(server.db, "cards")).toBe(before);
    expect(await cardIdsOf({ walletId: second.wallet.id })).toEqual([]);

    await server.api.DELETE("/v1/cards/{id}", { params: { path: { id: original.id } } });
    const again = await server.api.POST("/v1/cards", { body: { walletId: second.wallet.id, ...details } });
    expect(again.response.status).toBe(201);
    expect(again.data?.last4).toBe(cardNo.slice(-4));
  });

  test("of concurrent creates with one number exactly one succeeds, the rest are 409 card_number_taken", async () => {
    const { wallet } = await createUserWallet(server.api);
    const details = { cardNo: uniqueCardNumber(), cvv: "123", ...futureExpiry() };
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        server.api.POST("/v1/cards", { body: { walletId: wallet.id, ...details } }),
      ),
    );
    const statuses = results.map((result) => result.response.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409]);
    for (const result of results) {
      if (result.response.status === 409) expect(result.error?.code).toBe("card_number_taken");
    }
    expect(await cardIdsOf({ walletId: wallet.id })).toHaveLength(1);
  });

  test("changing a card to the number of another live card is 409 card_number_taken and changes nothing", async () => {
    const { wallet } = await createUserWallet(server.api);
    const takenNo = uniqueCardNumber();
    await createCard(server.api, { walletId: wallet.id, cardNo: takenNo, cvv: "123", ...futureExpiry() });
    const mineNo = uniqueCardNumber();
    const mine = await createCard(server.api, {
      walletId: wallet.id,
      cardNo: mineNo,
      cvv: "456",
      ...futureExpiry(1),
    });
    expectSdkProblem(
      await server.api.PATCH("/v1/cards/{id}", {
        params: { path: { id: mine.id } },
        body: { cardNo: takenNo, cvv: "789", ...futureExpiry(3) },
      }),
      409,
      "card_number_taken",
    );
    expect(await getCard(server.api, mine.id)).toEqual(mine);
    expect(await sensitive(mine.id)).toMatchObject({ number: mineNo, cvv: "456" });
  });
});

describe("cards: cardholder", () => {
  test("on a user's wallet the cardholder must be that user, else 422 cardholder_not_allowed", async () => {
    const { user, wallet } = await createUserWallet(server.api);
    const stranger = await createUser(server.api);
    const card = await createCard(server.api, { walletId: wallet.id, cardholderId: user.id });
    expect(card.cardholderId).toBe(user.id);

    const before = await rowCount(server.db, "cards");
    for (const cardholderId of [stranger.id, UNKNOWN_ID]) {
      expectSdkProblem(
        await server.api.POST("/v1/cards", { body: { walletId: wallet.id, cardholderId } }),
        422,
        "cardholder_not_allowed",
      );
    }
    expect(await rowCount(server.db, "cards")).toBe(before);
  });

  test("on a team's wallet the cardholder must be a member of the team, else 422 cardholder_not_allowed", async () => {
    const team = await createTeam(server.api);
    const member = await createUser(server.api);
    const admin = await createUser(server.api);
    const outsider = await createUser(server.api);
    await addMember(server.api, team.id, member.id);
    await addMember(server.api, team.id, admin.id, "admin");
    const wallet = await createWallet(server.api, { teamId: team.id });

    expect(
      (await createCard(server.api, { walletId: wallet.id, cardholderId: member.id })).cardholderId,
    ).toBe(member.id);
    expect((await createCard(server.api, { walletId: wallet.id, cardholderId: admin.id })).cardholderId).toBe(
      admin.id,
    );
    const before = await rowCount(server.db, "cards");
    expectSdkProblem(
      await server.api.POST("/v1/cards", { body: { walletId: wallet.id, cardholderId: outsider.id } }),
      422,
      "cardholder_not_allowed",
    );
    // A former member no longer qualifies.
    await server.api.DELETE("/v1/teams/{id}/members/{userId}", {
      params: { path: { id: team.id, userId: member.id } },
    });
    expectSdkProblem(
      await server.api.POST("/v1/cards", { body: { walletId: wallet.id, cardholderId: member.id } }),
      422,
      "cardholder_not_allowed",
    );
    expect(await rowCount(server.db, "cards")).toBe(before);
  });

  test("PATCH changes or removes the cardholder under the same rule; a refused one changes nothing", async () => {
    const team = await createTeam(server.api);
    const member = await createUser(server.api);
    const other = await createUser(server.api);
    const outsider = await createUser(server.api);
    await addMember(server.api, team.id, member.id);
    await addMember(server.api, team.id, other.id);
    const wallet = await createWallet(server.api, { teamId: team.id });
    const card = await createCard(server.api, { walletId: wallet.id, cardholderId: member.id });
    const path = { params: { path: { id: card.id } } };

    expectSdkProblem(
      await server.api.PATCH("/v1/cards/{id}", {
        ...path,
        body: { cardholderId: outsider.id, dailyLimit: 20000 },
      }),
      422,
      "cardholder_not_allowed",
    );
    expect(await getCard(server.api, card.id)).toEqual(card);

    const moved = await server.api.PATCH("/v1/cards/{id}", { ...path, body: { cardholderId: other.id } });
    expect(moved.response.status).toBe(200);
    expect(moved.data?.cardholderId).toBe(other.id);

    const removed = await server.api.PATCH("/v1/cards/{id}", { ...path, body: { cardholderId: null } });
    expect(removed.response.status).toBe(200);
    expect(removed.data?.cardholderId).toBeNull();
    expect((await getCard(server.api, card.id)).cardholderId).toBeNull();
  });
});

describe("cards: update", () => {
  test("another walletId is 400 card_wallet_immutable and changes nothing; the same one is accepted", async () => {
    const { wallet } = await createUserWallet(server.api);
    const { wallet: otherWallet } = await createUserWallet(server.api);
    const card = await createCard(server.api, { walletId: wallet.id });
    expectSdkProblem(
      await server.api.PATCH("/v1/cards/{id}", {
        params: { path: { id: card.id } },
        body: { walletId: otherWallet.id, status: "frozen" },
      }),
      400,
      "card_wallet_immutable",
    );
    expect(await getCard(server.api, card.id)).toEqual(card);
    expect(await cardIdsOf({ walletId: otherWallet.id })).toEqual([]);
    expect(await cardIdsOf({ walletId: wallet.id })).toEqual([card.id]);

    const same = await server.api.PATCH("/v1/cards/{id}", {
      params: { path: { id: card.id } },
      body: { walletId: wallet.id, dailyLimit: 30000 },
    });
    expect(same.response.status).toBe(200);
    expect(same.data).toMatchObject({ walletId: wallet.id, dailyLimit: 30000 });
  });

  test("freezes and unfreezes a card", async () => {
    const { wallet } = await createUserWallet(server.api);
    const card = await createCard(server.api, { walletId: wallet.id });
    const path = { params: { path: { id: card.id } } };
    const frozen = await server.api.PATCH("/v1/cards/{id}", { ...path, body: { status: "frozen" } });
    expect(frozen.response.status).toBe(200);
    expect(frozen.data?.status).toBe("frozen");
    expect((await getCard(server.api, card.id)).status).toBe("frozen");
    expect(await cardIdsOf({ walletId: wallet.id, status: "frozen" })).toEqual([card.id]);

    const active = await server.api.PATCH("/v1/cards/{id}", { ...path, body: { status: "active" } });
    expect(active.data?.status).toBe("active");
    expect(await cardIdsOf({ walletId: wallet.id, status: "frozen" })).toEqual([]);
    expect(await cardIdsOf({ walletId: wallet.id, status: "active" })).toEqual([card.id]);
  });

  test("cancelled is final: every later PATCH is 409 card_cancelled and changes nothing", async () => {
    const { user, wallet } = await createUserWallet(server.api);
    const card = await createCard(server.api, { walletId: wallet.id });
    const path = { params: { path: { id: card.id } } };
    const cancelled = await server.api.PATCH("/v1/cards/{id}", { ...path, body: { status: "cancelled" } });
    expect(cancelled.response.status).toBe(200);
    expect(cancelled.data?.status).toBe("cancelled");
    const stored = await getCard(server.api, card.id);
    expect(stored.status).toBe("cancelled");
    const secret = await sensitive(card.id);

    for (const body of [
      { status: "active" as const },
      { status: "frozen" as const },
      { status: "cancelled" as const },
      { dailyLimit: 20000 },
      { cardholderId: user.id },
      { cvv: "999" },
      { cardNo: uniqueCardNumber(), cvv: "999", ...futureExpiry() },
    ]) {
      expectSdkProblem(await server.api.PATCH("/v1/cards/{id}", { ...path, body }), 409, "card_cancelled");
    }
    expect(await getCard(server.api, card.id)).toEqual(stored);
    expect(await sensitive(card.id)).toEqual(secret);
    expect(await cardIdsOf({ walletId: wallet.id, status: "cancelled" })).toEqual([card.id]);
  });

  test("a new number needs the expiry and CVV too: 400 incomplete_card_details, nothing changes", async () => {
    const { wallet } = await createUserWallet(server.api);
    const cardNo = uniqueCardNumber();
    const card = await createCard(server.api, { walletId: wallet.id, cardNo, cvv: "123", ...futureExpiry() });
    const replacement = uniqueCardNumber();
    const { expiryMonth, expiryYear } = futureExpiry(3);
    for (const body of [
      { cardNo: replacement },
      { cardNo: replacement, cvv: "456" },
      { cardNo: replacement, expiryMonth, expiryYear },
    ]) {
      expectSdkProblem(
        await server.api.PATCH("/v1/cards/{id}", { params: { path: { id: card.id } }, body }),
        400,
        "incomplete_card_details",
      );
    }
    expect(await getCard(server.api, card.id)).toEqual(card);
    expect((await sensitive(card.id)).number).toBe(cardNo);
  });

  test("a new number with all its details replaces brand, last4, expiry and secrets; the old number is free again", async () => {
    const { wallet } = await createUserWallet(server.api);
    const oldNo = uniqueCardNumber("4");
    const card = await createCard(server.api, {
      walletId: wallet.id,
      cardNo: oldNo,
      cvv: "123",
      ...futureExpiry(),
    });
    const newNo = uniqueCardNumber("51");
    const year = String(thisYear() + 4);
    const { data, response } = await server.api.PATCH("/v1/cards/{id}", {
      params: { path: { id: card.id } },
      body: { cardNo: newNo, cvv: "4567", expiryMonth: "3", expiryYear: year },
    });
    expect(response.status).toBe(200);
    expect(data).toMatchObject({
      id: card.id,
      brand: "mastercard",
      last4: newNo.slice(-4),
      expiryMonth: "03",
      expiryYear: year,
    });
    expectNoSecretsIn(data, newNo, "4567");
    expect(await sensitive(card.id)).toEqual({
      number: newNo,
      cvv: "4567",
      expiryMonth: "03",
      expiryYear: year,
    });
    await expectNotStoredInPlain(card.id, newNo, "4567");

    const reuse = await server.api.POST("/v1/cards", {
      body: { walletId: wallet.id, cardNo: oldNo, cvv: "321", ...futureExpiry() },
    });
    expect(reuse.response.status).toBe(201);
  });

  test("PATCH details get the same validation as create and a refused one changes nothing", async () => {
    const { wallet } = await createUserWallet(server.api);
    const card = await createCard(server.api, {
      walletId: wallet.id,
      cardNo: uniqueCardNumber(),
      cvv: "123",
      ...futureExpiry(),
    });
    const secret = await sensitive(card.id);
    const valid = uniqueCardNumber();
    const badLuhn = `${valid.slice(0, -1)}${(Number(valid.slice(-1)) + 5) % 10}`;
    const cases: [Record<string, string>, string][] = [
      [{ cardNo: badLuhn, cvv: "456", ...futureExpiry() }, "invalid_card_number"],
      [{ cardNo: "4111", cvv: "456", ...futureExpiry() }, "invalid_card_number"],
      [{ cardNo: uniqueCardNumber(), cvv: "45", ...futureExpiry() }, "invalid_cvv"],
      [
        { cardNo: uniqueCardNumber(), cvv: "456", expiryMonth: "13", expiryYear: "2040" },
        "invalid_expiry_month",
      ],
      [
        { cardNo: uniqueCardNumber(), cvv: "456", expiryMonth: "1", expiryYear: String(thisYear() - 1) },
        "card_expired",
      ],
      [{ expiryMonth: "1", expiryYear: String(thisYear() - 1) }, "card_expired"],
      [{ cvv: "12345" }, "invalid_cvv"],
    ];
    for (const [body, code] of cases) {
      await expectProblem(await patchCard(card.id, body), 400, code);
    }
    expect(await getCard(server.api, card.id)).toEqual(card);
    expect(await sensitive(card.id)).toEqual(secret);
  });

  test("limits follow the wallet rules on create and on PATCH, checked against the stored values", async () => {
    const { wallet } = await createUserWallet(server.api);
    const before = await rowCount(server.db, "cards");
    expectSdkProblem(
      await server.api.POST("/v1/cards", { body: { walletId: wallet.id, dailyLimit: 9999 } }),
      400,
      "invalid_limit",
    );
    expectSdkProblem(
      await server.api.POST("/v1/cards", {
        body: { walletId: wallet.id, monthlyLimit: 1_000_000_000_000_001 },
      }),
      400,
      "invalid_limit",
    );
    expectSdkProblem(
      await server.api.POST("/v1/cards", {
        body: { walletId: wallet.id, dailyLimit: 200000, monthlyLimit: 100000 },
      }),
      400,
      "daily_limit_exceeds_monthly",
    );
    expect(await rowCount(server.db, "cards")).toBe(before);

    // A single limit given moves the other's default so that they agree.
    const highDaily = await createCard(server.api, { walletId: wallet.id, dailyLimit: 600000 });
    expect(highDaily).toMatchObject({ dailyLimit: 600000, monthlyLimit: 600000 });

    const card = await createCard(server.api, {
      walletId: wallet.id,
      dailyLimit: 10000,
      monthlyLimit: 100000,
    });
    expect(card).toMatchObject({ dailyLimit: 10000, monthlyLimit: 100000 });
    const path = { params: { path: { id: card.id } } };
    expectSdkProblem(
      await server.api.PATCH("/v1/cards/{id}", { ...path, body: { dailyLimit: 150000 } }),
      400,
      "daily_limit_exceeds_monthly",
    );
    expectSdkProblem(
      await server.api.PATCH("/v1/cards/{id}", { ...path, body: { monthlyLimit: 5000 } }),
      400,
      "invalid_limit",
    );
    expectSdkProblem(
      await server.api.PATCH("/v1/cards/{id}", { ...path, body: { dailyLimit: 9999, status: "frozen" } }),
      400,
      "invalid_limit",
    );
    expect(await getCard(server.api, card.id)).toEqual(card);
    const raised = await server.api.PATCH("/v1/cards/{id}", {
      ...path,
      body: { dailyLimit: 150000, monthlyLimit: 150000 },
    });
    expect(raised.response.status).toBe(200);
    expect(raised.data).toMatchObject({ dailyLimit: 150000, monthlyLimit: 150000 });
  });

  test("unknown fields and bad statuses are 400 and change nothing", async () => {
    const { wallet } = await createUserWallet(server.api);
    const card = await createCard(server.api, { walletId: wallet.id });
    for (const body of [{ brand: "amex" }, { last4: "0000" }, { status: "lost" }, { spentToday: 1 }]) {
      await expectProblem(await patchCard(card.id, body), 400);
    }
    expect(await getCard(server.api, card.id)).toEqual(card);
  });

  test("an unknown card is 404 card_not_found", async () => {
    expectSdkProblem(
      await server.api.PATCH("/v1/cards/{id}", {
        params: { path: { id: UNKNOWN_ID } },
        body: { status: "frozen" },
      }),
      404,
      "card_not_found",
    );
    expectSdkProblem(
      await server.api.GET("/v1/cards/{id}", { params: { path: { id: UNKNOWN_ID } } }),
      404,
      "card_not_found",
    );
    expectSdkProblem(
      await server.api.GET("/v1/cards/{id}/sensitive", { params: { path: { id: UNKNOWN_ID } } }),
      404,
      "card_not_found",
    );
    expect(
      (await server.api.GET("/v1/cards/{id}", { params: { path: { id: "card-1" } } })).response.status,
    ).toBe(400);
  });
});

describe("cards: read", () => {
  test("many GETs at once (read together) each answer their own card; unknown and deleted ones are 404 among them", async () => {
    const { wallet } = await createUserWallet(server.api);
    const cards = await Promise.all(
      [20000, 30000, 40000, 50000].map((dailyLimit) =>
        createCard(server.api, { walletId: wallet.id, dailyLimit }),
      ),
    );
    const expected = await Promise.all(cards.map((card) => getCard(server.api, card.id)));
    const deleted = await createCard(server.api, { walletId: wallet.id });
    await server.api.DELETE("/v1/cards/{id}", { params: { path: { id: deleted.id } } });
    const ids = [UNKNOWN_ID, ...expected.map((card) => card.id), deleted.id].flatMap((id) => [id, id, id]);
    const answers = await Promise.all(
      ids.map((id) => server.api.GET("/v1/cards/{id}", { params: { path: { id } } })),
    );
    expectEachFound(ids, answers, expected, "card_not_found");
  });
});

describe("cards: list", () => {
  test("filters by walletId, cardholderId and status", async () => {
    const { user, wallet } = await createUserWallet(server.api);
    const { wallet: otherWallet } = await createUserWallet(server.api);
    const held = await createCard(server.api, { walletId: wallet.id, cardholderId: user.id });
    const unheld = await createCard(server.api, { walletId: wallet.id });
    const elsewhere = await createCard(server.api, { walletId: otherWallet.id });
    await server.api.PATCH("/v1/cards/{id}", {
      params: { path: { id: unheld.id } },
      body: { status: "frozen" },
    });

    expect((await cardIdsOf({ walletId: wallet.id })).sort()).toEqual([held.id, unheld.id].sort());
    expect(await cardIdsOf({ walletId: otherWallet.id })).toEqual([elsewhere.id]);
    expect(await cardIdsOf({ cardholderId: user.id })).toEqual([held.id]);
    expect(await cardIdsOf({ walletId: wallet.id, status: "frozen" })).toEqual([unheld.id]);
    expect(await cardIdsOf({ walletId: wallet.id, status: "active" })).toEqual([held.id]);
    expect(await cardIdsOf({ walletId: wallet.id, status: "cancelled" })).toEqual([]);
  });

  test("pages newest first with limit, skip and hasMore; sorts by a whitelisted field", async () => {
    const { wallet } = await createUserWallet(server.api);
    const a = await createCard(server.api, { walletId: wallet.id });
    const b = await createCard(server.api, { walletId: wallet.id });
    const c = await createCard(server.api, { walletId: wallet.id });

    const first = await server.api.GET("/v1/cards", { params: { query: { walletId: wallet.id, limit: 2 } } });
    expect(first.data?.data.map((card) => card.id)).toEqual([c.id, b.id]);
    expect(first.data).toMatchObject({ skip: 0, limit: 2, hasMore: true });
    const rest = await server.api.GET("/v1/cards", {
      params: { query: { walletId: wallet.id, limit: 2, skip: 2 } },
    });
    expect(rest.data?.data.map((card) => card.id)).toEqual([a.id]);
    expect(rest.data).toMatchObject({ skip: 2, limit: 2, hasMore: false });
    const oldest = await server.api.GET("/v1/cards", {
      params: { query: { walletId: wallet.id, sortBy: "createdAt", sort: "ASC" } },
    });
    expect(oldest.data?.data.map((card) => card.id)).toEqual([a.id, b.id, c.id]);

    await expectProblem(await server.request("/v1/cards?sortBy=last4"), 400);
    await expectProblem(await server.request("/v1/cards?status=lost"), 400);
    await expectProblem(await server.request("/v1/cards?limit=1000"), 400);
  });
});

describe("cards: delete", () => {
  test("DELETE soft-deletes: 200 with deletedAt, then 404 everywhere and gone from lists", async () => {
    const { wallet } = await createUserWallet(server.api);
    const card = await createCard(server.api, { walletId: wallet.id });
    const keep = await createCard(server.api, { walletId: wallet.id });
    const deleted = await server.api.DELETE("/v1/cards/{id}", { params: { path: { id: card.id } } });
    expect(deleted.response.status).toBe(200);
    expect(deleted.data?.id).toBe(card.id);
    expect(deleted.data?.deletedAt).not.toBeNull();

    const path = { params: { path: { id: card.id } } };
    expectSdkProblem(await server.api.GET("/v1/cards/{id}", path), 404, "card_not_found");
    expectSdkProblem(await server.api.GET("/v1/cards/{id}/sensitive", path), 404, "card_not_found");
    expectSdkProblem(
      await server.api.PATCH("/v1/cards/{id}", { ...path, body: { status: "frozen" } }),
      404,
      "card_not_found",
    );
    expectSdkProblem(await server.api.DELETE("/v1/cards/{id}", path), 404, "card_not_found");
    expect(await cardIdsOf({ walletId: wallet.id })).toEqual([keep.id]);
    // The wallet is untouched.
    const walletAfter = await server.api.GET("/v1/wallets/{id}", { params: { path: { id: wallet.id } } });
    expect(walletAfter.data?.deletedAt).toBeNull();
  });

  test("DELETE /v1/wallets/{id}/cards deletes every card of that wallet and nothing else", async () => {
    const { wallet } = await createUserWallet(server.api);
    const { wallet: otherWallet } = await createUserWallet(server.api);
    const one = await createCard(server.api, { walletId: wallet.id });
    const two = await createCard(server.api, { walletId: wallet.id });
    const other = await createCard(server.api, { walletId: otherWallet.id });

    const result = await server.api.DELETE("/v1/wallets/{id}/cards", { params: { path: { id: wallet.id } } });
    expect(result.response.status).toBe(200);
    expect(result.data?.data.map((card) => card.id).sort()).toEqual([one.id, two.id].sort());
    expect(result.data?.data.every((card) => card.deletedAt !== null)).toBe(true);
    expect(await cardIdsOf({ walletId: wallet.id })).toEqual([]);
    expect(
      (await server.api.GET("/v1/cards/{id}", { params: { path: { id: one.id } } })).response.status,
    ).toBe(404);
    expect(await cardIdsOf({ walletId: otherWallet.id })).toEqual([other.id]);
    const walletAfter = await server.api.GET("/v1/wallets/{id}", { params: { path: { id: wallet.id } } });
    expect(walletAfter.response.status).toBe(200);

    const again = await server.api.DELETE("/v1/wallets/{id}/cards", { params: { path: { id: wallet.id } } });
    expect(again.response.status).toBe(200);
    expect(again.data?.data).toEqual([]);
  });

  test("bulk DELETE of an unknown wallet is 404 wallet_not_found", async () => {
    expectSdkProblem(
      await server.api.DELETE("/v1/wallets/{id}/cards", { params: { path: { id: UNKNOWN_ID } } }),
      404,
      "wallet_not_found",
    );
  });
});

describe("cards: secrets", () => {
  test("the full number and CVV are in no Card body or list, only in /sensitive", async () => {
    const { user, wallet } = await createUserWallet(server.api);
    const cvv = "8264";
    let cardNo = uniqueCardNumber("37", 15);
    // A last4 equal to the CVV would legitimately show those digits.
    while (cardNo.endsWith(cvv)) cardNo = uniqueCardNumber("37", 15);
    const created = await server.api.POST("/v1/cards", {
      body: { walletId: wallet.id, cardNo, cvv, ...futureExpiry(), cardholderId: user.id },
    });
    expect(created.response.status).toBe(201);
    const id = created.data?.id ?? "";
    expectNoSecretsIn(created.data, cardNo, cvv);
    expectNoSecretsIn(await getCard(server.api, id), cardNo, cvv);
    for (const query of [{ walletId: wallet.id }, { cardholderId: user.id }]) {
      const list = await server.api.GET("/v1/cards", { params: { query } });
      expect(list.data?.data.map((card) => card.id)).toEqual([id]);
      expectNoSecretsIn(list.data, cardNo, cvv);
    }
    // The unfiltered list holds other cards, whose last4 may be any four digits: check this card in it.
    const all = await server.api.GET("/v1/cards", { params: { query: { limit: 100 } } });
    expect(JSON.stringify(all.data)).not.toContain(cardNo);
    const listed = all.data?.data.find((card) => card.id === id);
    expect(listed?.id).toBe(id);
    expectNoSecretsIn(listed, cardNo, cvv);
    const patched = await server.api.PATCH("/v1/cards/{id}", {
      params: { path: { id } },
      body: { status: "frozen" },
    });
    expectNoSecretsIn(patched.data, cardNo, cvv);
    // A raw read, as any HTTP client sees it.
    const raw = await (await server.request(`/v1/cards/${id}`)).text();
    expect(raw).not.toContain(cardNo);

    const revealed = await server.api.GET("/v1/cards/{id}/sensitive", { params: { path: { id } } });
    expect(revealed.response.status).toBe(200);
    expect(Object.keys(revealed.data ?? {}).sort()).toEqual(["cvv", "expiryMonth", "expiryYear", "number"]);
    expect(revealed.data).toMatchObject({ number: cardNo, cvv });

    const deleted = await server.api.DELETE("/v1/cards/{id}", { params: { path: { id } } });
    expectNoSecretsIn(deleted.data, cardNo, cvv);
  });

  test("an issued card's number and CVV are in no Card body either", async () => {
    const { wallet } = await createUserWallet(server.api);
    const created = await server.api.POST("/v1/cards", { body: { walletId: wallet.id } });
    const id = created.data?.id ?? "";
    const { number, cvv } = await sensitive(id);
    expectNoSecretsIn(created.data, number, cvv);
    expectNoSecretsIn(await getCard(server.api, id), number, cvv);
    expectNoSecretsIn(
      (await server.api.GET("/v1/cards", { params: { query: { walletId: wallet.id } } })).data,
      number,
      cvv,
    );
    const bulk = await server.api.DELETE("/v1/wallets/{id}/cards", { params: { path: { id: wallet.id } } });
    expectNoSecretsIn(bulk.data, number, cvv);
  });

  test("the number and CVV are not stored in plain text", async () => {
    const { wallet } = await createUserWallet(server.api);
    const given = [
      { cardNo: uniqueCardNumber("4"), cvv: "583" },
      { cardNo: uniqueCardNumber("34", 15), cvv: "6194" },
    ];
    const cards: { id: string; cardNo: string; cvv: string }[] = [];
    for (const details of given) {
      const card = await createCard(server.api, { walletId: wallet.id, ...details, ...futureExpiry() });
      cards.push({ id: card.id, ...details });
    }
    const issued = await createCard(server.api, { walletId: wallet.id });
    const issuedSecret = await sensitive(issued.id);
    cards.push({ id: issued.id, cardNo: issuedSecret.number, cvv: issuedSecret.cvv });
    for (const { id, cardNo, cvv } of cards) await expectNotStoredInPlain(id, cardNo, cvv);
    // Deleted cards keep their secrets sealed too.
    await server.api.DELETE("/v1/wallets/{id}/cards", { params: { path: { id: wallet.id } } });
    for (const { id, cardNo, cvv } of cards) await expectNotStoredInPlain(id, cardNo, cvv);
  });

  test("/sensitive reveals an issued card's details consistently with the Card", async () => {
    const { wallet } = await createUserWallet(server.api);
    const card = await createCard(server.api, { walletId: wallet.id });
    const secret = await sensitive(card.id);
    expect(secret.number.slice(-4)).toBe(card.last4);
    expect(secret.expiryMonth).toBe(card.expiryMonth);
    expect(secret.expiryYear).toBe(card.expiryYear);
    expect(secret.expiryMonth).toMatch(/^(0[1-9]|1[0-2])$/);
    expect(secret.expiryYear).toMatch(/^[0-9]{4}$/);
  });
});
