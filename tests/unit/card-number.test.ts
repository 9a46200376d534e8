import { describe, expect, test } from "bun:test";
import {
  brandOf,
  isExpired,
  issueCard,
  luhnCheckDigit,
  luhnValid,
} from "../../src/modules/cards/card-number.ts";

/** Well-known test numbers of the card networks, all Luhn-valid. */
const VALID_NUMBERS = [
  "4111111111111111",
  "4012888888881881",
  "4222222222222",
  "5555555555554444",
  "5105105105105100",
  "2223003122003222",
  "378282246310005",
  "371449635398431",
  "6011111111111117",
  "3530111333300000",
  "30569309025904",
  "6200000000000005",
  "79927398713",
];

describe("luhnValid", () => {
  test("accepts the networks' test numbers", () => {
    for (const number of VALID_NUMBERS) expect(luhnValid(number), number).toBe(true);
  });

  test("refuses a number whose check digit is wrong", () => {
    expect(luhnValid("4111111111111112")).toBe(false);
    expect(luhnValid("79927398710")).toBe(false);
    expect(luhnValid("5555555555554440")).toBe(false);
  });

  test("detects every single-digit error", () => {
    for (const number of VALID_NUMBERS) {
      for (let position = 0; position < number.length; position++) {
        const original = Number(number[position]);
        for (let digit = 0; digit <= 9; digit++) {
          if (digit === original) continue;
          const changed = `${number.slice(0, position)}${digit}${number.slice(position + 1)}`;
          expect(luhnValid(changed), changed).toBe(false);
        }
      }
    }
  });

  test("detects a swap of two different adjacent digits (other than 0 and 9)", () => {
    const number = "4111111111111111";
    for (let position = 0; position < number.length - 1; position++) {
      const a = number[position] ?? "";
      const b = number[position + 1] ?? "";
      if (a === b) continue;
      const swapped = `${number.slice(0, position)}${b}${a}${number.slice(position + 2)}`;
      expect(luhnValid(swapped)).toBe(false);
    }
    expect(luhnValid("4121111111111111")).toBe(false);
  });

  test("refuses empty input and anything that is not only ASCII digits", () => {
    expect(luhnValid("")).toBe(false);
    expect(luhnValid("4111 1111 1111 1111")).toBe(false);
    expect(luhnValid("4111-1111-1111-1111")).toBe(false);
    expect(luhnValid("411111111111111a")).toBe(false);
    expect(luhnValid("４１１１１１１１１１１１１１１１")).toBe(false);
    expect(luhnValid("/111111111111111")).toBe(false);
  });
});

describe("luhnCheckDigit", () => {
  test("gives the digit the well-known numbers end with", () => {
    expect(luhnCheckDigit("7992739871")).toBe("3");
    expect(luhnCheckDigit("411111111111111")).toBe("1");
    expect(luhnCheckDigit("555555555555444")).toBe("4");
    expect(luhnCheckDigit("37828224631000")).toBe("5");
  });

  test("always completes a partial number into a Luhn-valid one, and only that digit does", () => {
    for (let i = 0; i < 200; i++) {
      const length = 12 + (i % 8);
      const partial = Array.from(crypto.getRandomValues(new Uint8Array(length)), (byte) => byte % 10).join(
        "",
      );
      const check = luhnCheckDigit(partial);
      expect(check).toMatch(/^[0-9]$/);
      expect(luhnValid(`${partial}${check}`)).toBe(true);
      const wrong = String((Number(check) + 1) % 10);
      expect(luhnValid(`${partial}${wrong}`)).toBe(false);
    }
  });
});

describe("brandOf", () => {
  test("recognises each network by its issuer prefix", () => {
    const cases: [string, string][] = [
      ["4111111111111111", "visa"],
      ["4222222222222", "visa"],
      ["5105105105105100", "mastercard"],
      ["5555555555554444", "mastercard"],
      ["2221000000000009", "mastercard"],
      ["2720990000000000", "mastercard"],
      ["340000000000009", "amex"],
      ["378282246310005", "amex"],
      ["6011111111111117", "discover"],
      ["6500000000000002", "discover"],
      ["6440000000000000", "discover"],
      ["6490000000000000", "discover"],
      ["3528000000000000", "jcb"],
      ["3589000000000000", "jcb"],
      ["30000000000004", "diners"],
      ["30500000000000", "diners"],
      ["36000000000008", "diners"],
      ["38000000000006", "diners"],
      ["39000000000000", "diners"],
      ["6200000000000005", "unionpay"],
      ["5000000000000000", "maestro"],
      ["5600000000000000", "maestro"],
      ["5800000000000000", "maestro"],
      ["6300000000000000", "maestro"],
      ["6700000000000000", "maestro"],
    ];
    for (const [number, brand] of cases) expect(brandOf(number), number).toBe(brand);
  });

  test("is unknown just outside the ranges and for unassigned prefixes", () => {
    for (const number of [
      "2220990000000000",
      "2721000000000000",
      "5900000000000000",
      "3527000000000000",
      "3590000000000000",
      "3060000000000000",
      "6430000000000000",
      "1000000000000000",
      "7000000000000000",
      "8000000000000000",
      "9000000000000000",
      "0000000000000000",
    ]) {
      expect(brandOf(number), number).toBe("unknown");
    }
  });
});

describe("isExpired", () => {
  const at = (iso: string) => new Date(iso);

  test("a card is valid through the last instant of its expiry month (UTC)", () => {
    expect(isExpired(11, 2026, at("2026-11-01T00:00:00.000Z"))).toBe(false);
    expect(isExpired(11, 2026, at("2026-11-30T23:59:59.999Z"))).toBe(false);
    expect(isExpired(11, 2026, at("2026-12-01T00:00:00.000Z"))).toBe(true);
  });

  test("the year boundary: December is valid until the new year, then expired", () => {
    expect(isExpired(12, 2026, at("2026-12-31T23:59:59.999Z"))).toBe(false);
    expect(isExpired(12, 2026, at("2027-01-01T00:00:00.000Z"))).toBe(true);
    expect(isExpired(1, 2027, at("2026-12-31T23:59:59.999Z"))).toBe(false);
  });

  test("months and years before now are expired, later ones are not", () => {
    const now = at("2026-06-15T12:00:00.000Z");
    expect(isExpired(5, 2026, now)).toBe(true);
    expect(isExpired(1, 2026, now)).toBe(true);
    expect(isExpired(12, 2025, now)).toBe(true);
    expect(isExpired(6, 2026, now)).toBe(false);
    expect(isExpired(7, 2026, now)).toBe(false);
    expect(isExpired(1, 2027, now)).toBe(false);
    expect(isExpired(12, 2030, now)).toBe(false);
  });

  test("is measured in UTC, not in the local time of the instant", () => {
    // 07:30 on 1 December in Singapore is still 30 November in UTC.
    expect(isExpired(11, 2026, at("2026-12-01T07:30:00+08:00"))).toBe(false);
    // 20:00 on 30 November in New York is already 1 December in UTC.
    expect(isExpired(11, 2026, at("2026-11-30T20:00:00-05:00"))).toBe(true);
  });
});

describe("issueCard", () => {
  test("gives a 16-digit Luhn-valid number, a 3-digit CVV and an expiry three years ahead", () => {
    const now = new Date("2026-11-24T10:00:00.000Z");
    const card = issueCard(now);
    expect(card.number).toMatch(/^[0-9]{16}$/);
    expect(luhnValid(card.number)).toBe(true);
    expect(card.cvv).toMatch(/^[0-9]{3}$/);
    expect(card.expiryMonth).toBe(11);
    expect(card.expiryYear).toBe(2029);
    expect(isExpired(card.expiryMonth, card.expiryYear, now)).toBe(false);
  });

  test("the expiry follows the UTC month of the issue date, January and December included", () => {
    expect(issueCard(new Date("2027-01-01T00:00:00.000Z"))).toMatchObject({
      expiryMonth: 1,
      expiryYear: 2030,
    });
    expect(issueCard(new Date("2026-12-31T23:59:59.999Z"))).toMatchObject({
      expiryMonth: 12,
      expiryYear: 2029,
    });
    expect(issueCard(new Date("2028-02-29T12:00:00.000Z"))).toMatchObject({
      expiryMonth: 2,
      expiryYear: 2031,
    });
  });

  test("defaults to now", () => {
    const before = new Date();
    const card = issueCard();
    const after = new Date();
    const expected = [before, after].map((date) => ({
      expiryMonth: date.getUTCMonth() + 1,
      expiryYear: date.getUTCFullYear() + 3,
    }));
    expect(expected).toContainEqual({ expiryMonth: card.expiryMonth, expiryYear: card.expiryYear });
  });

  test("issues numbers of a known brand, different each time", () => {
    const numbers = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const card = issueCard();
      expect(luhnValid(card.number)).toBe(true);
      expect(card.number).toHaveLength(16);
      expect(brandOf(card.number)).not.toBe("unknown");
      numbers.add(card.number);
    }
    expect(numbers.size).toBe(500);
  });

  test("uses every decimal digit in the random part and the CVV", () => {
    const digitsSeen = new Set<string>();
    const cvvDigits = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const card = issueCard();
      for (const digit of card.number.slice(6, 15)) digitsSeen.add(digit);
      for (const digit of card.cvv) cvvDigits.add(digit);
    }
    expect(digitsSeen.size).toBe(10);
    expect(cvvDigits.size).toBe(10);
  });
});
