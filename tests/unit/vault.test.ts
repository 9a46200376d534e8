import { beforeAll, describe, expect, test } from "bun:test";
import { CardVault } from "../../src/modules/cards/vault.ts";

const newKey = () => crypto.getRandomValues(new Uint8Array(32));

let vault: CardVault;
beforeAll(async () => {
  vault = await CardVault.create(newKey());
});

const CARD_ID = "01900000-0000-7000-8000-000000000001";
const OTHER_CARD_ID = "01900000-0000-7000-8000-000000000002";
const NUMBER = "4111111111111111";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("CardVault seal/open", () => {
  test("what is sealed for a card opens again for that card", async () => {
    for (const plain of [NUMBER, "378282246310005", "123", "4567", ""]) {
      const sealed = await vault.seal(plain, CARD_ID);
      expect(await vault.open(sealed, CARD_ID)).toBe(plain);
    }
  });

  test("opens a copy of the bytes, as they come back from the database", async () => {
    const sealed = await vault.seal(NUMBER, CARD_ID);
    expect(await vault.open(Buffer.from(sealed), CARD_ID)).toBe(NUMBER);
    const pooled = new Uint8Array(sealed.length + 10);
    pooled.set(sealed, 5);
    expect(await vault.open(pooled.subarray(5, 5 + sealed.length), CARD_ID)).toBe(NUMBER);
  });

  test("the sealed bytes do not contain the plain text", async () => {
    const sealed = await vault.seal(NUMBER, CARD_ID);
    expect(Buffer.from(sealed).toString("latin1")).not.toContain(NUMBER);
    expect(hex(sealed)).not.toContain(NUMBER);
    expect(hex(sealed)).not.toContain(Buffer.from(NUMBER).toString("hex"));
    expect(sealed.length).toBeGreaterThan(NUMBER.length);
  });

  test("sealing the same text twice gives different bytes (a fresh IV each time)", async () => {
    const first = await vault.seal(NUMBER, CARD_ID);
    const second = await vault.seal(NUMBER, CARD_ID);
    expect(hex(first)).not.toBe(hex(second));
    expect(await vault.open(first, CARD_ID)).toBe(NUMBER);
    expect(await vault.open(second, CARD_ID)).toBe(NUMBER);
  });

  test("a ciphertext is bound to its card id: opening it for another card fails", async () => {
    const sealed = await vault.seal(NUMBER, CARD_ID);
    await expect(vault.open(sealed, OTHER_CARD_ID)).rejects.toThrow();
    await expect(vault.open(sealed, "")).rejects.toThrow();
    expect(await vault.open(sealed, CARD_ID)).toBe(NUMBER);
  });

  test("a tampered ciphertext fails to open", async () => {
    const sealed = await vault.seal(NUMBER, CARD_ID);
    for (const position of [1, 13, sealed.length - 1]) {
      const tampered = new Uint8Array(sealed);
      tampered[position] = (tampered[position] ?? 0) ^ 0x01;
      await expect(vault.open(tampered, CARD_ID)).rejects.toThrow();
    }
    await expect(vault.open(sealed.subarray(0, sealed.length - 1), CARD_ID)).rejects.toThrow();
  });

  test("an unknown format version fails to open", async () => {
    const sealed = await vault.seal(NUMBER, CARD_ID);
    const future = new Uint8Array(sealed);
    future[0] = 2;
    await expect(vault.open(future, CARD_ID)).rejects.toThrow();
  });

  test("a vault with another key cannot open it", async () => {
    const other = await CardVault.create(newKey());
    const sealed = await vault.seal(NUMBER, CARD_ID);
    await expect(other.open(sealed, CARD_ID)).rejects.toThrow();
  });

  test("a vault made again from the same key opens it", async () => {
    const key = newKey();
    const sealed = await (await CardVault.create(key)).seal(NUMBER, CARD_ID);
    expect(await (await CardVault.create(new Uint8Array(key))).open(sealed, CARD_ID)).toBe(NUMBER);
  });
});

describe("CardVault fingerprint", () => {
  test("is deterministic for one key and one number", async () => {
    const first = await vault.fingerprint(NUMBER);
    expect(await vault.fingerprint(NUMBER)).toBe(first);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
  });

  test("differs per number, even by one digit", async () => {
    const fingerprints = new Set<string>();
    for (const number of [
      NUMBER,
      "4111111111111112",
      "5555555555554444",
      "411111111111111",
      "41111111111111111",
    ]) {
      fingerprints.add(await vault.fingerprint(number));
    }
    expect(fingerprints.size).toBe(5);
  });

  test("depends on the key and is not a bare hash of the number", async () => {
    const other = await CardVault.create(newKey());
    const fingerprint = await vault.fingerprint(NUMBER);
    expect(await other.fingerprint(NUMBER)).not.toBe(fingerprint);
    expect(fingerprint).not.toBe(new Bun.CryptoHasher("sha256").update(NUMBER).digest("hex"));
    expect(fingerprint).not.toContain(NUMBER);
  });

  test("is the same for a vault made again from the same key", async () => {
    const key = newKey();
    const first = await (await CardVault.create(key)).fingerprint(NUMBER);
    expect(await (await CardVault.create(new Uint8Array(key))).fingerprint(NUMBER)).toBe(first);
  });
});

describe("CardVault during a key rotation", () => {
  test("opens what the previous key sealed, and seals and fingerprints under the new key only", async () => {
    const oldKey = newKey();
    const newCardKey = newKey();
    const before = await CardVault.create(oldKey);
    const during = await CardVault.create(newCardKey, oldKey);
    const after = await CardVault.create(newCardKey);
    const sealedBefore = await before.seal(NUMBER, CARD_ID);
    expect(await during.open(sealedBefore, CARD_ID)).toBe(NUMBER);
    await expect(after.open(sealedBefore, CARD_ID)).rejects.toThrow();

    const sealedDuring = await during.seal(NUMBER, CARD_ID);
    expect(await after.open(sealedDuring, CARD_ID)).toBe(NUMBER);
    await expect(before.open(sealedDuring, CARD_ID)).rejects.toThrow();
    expect(await during.fingerprint(NUMBER)).toBe(await after.fingerprint(NUMBER));
    expect(await during.previousFingerprints(NUMBER)).toEqual([await before.fingerprint(NUMBER)]);
    expect(await after.previousFingerprints(NUMBER)).toEqual([]);
  });

  test("a key check value names its key, reveals nothing of it, and differs per key", async () => {
    const key = newKey();
    const vault = await CardVault.create(key, newKey());
    const [current, previous] = vault.keyCheckValues;
    expect(current).toBe(vault.currentKeyCheckValue);
    expect(current).toMatch(/^[0-9a-f]{64}$/);
    expect(previous).not.toBe(current);
    expect((await CardVault.create(new Uint8Array(key))).currentKeyCheckValue).toBe(current ?? "");
    expect(current).not.toContain(hex(key));
  });
});
