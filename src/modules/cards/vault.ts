/**
 * Card secrets at rest. The number and CVV are sealed with AES-256-GCM, with the card's id as
 * additional data so a ciphertext cannot be moved to another row; uniqueness uses an HMAC-SHA-256
 * fingerprint of the number under a key derived (HKDF) from the same secret, never the number itself.
 *
 * During a key rotation the vault holds two card keys: it seals and fingerprints under the current
 * one and opens what either sealed.
 */
import { deriveHmacKey, deriveKey, hmacHex } from "../../platform/key-derivation.ts";

const FORMAT_VERSION = 1;
const IV_BYTES = 12;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What one card key gives: its derived keys and its key check value. */
interface CardKey {
  encryption: CryptoKey;
  fingerprint: CryptoKey;
  checkValue: string;
}

/**
 * The key check value of a card key: an HMAC of a constant under a key derived for nothing else. It
 * tells which key the stored cards need without revealing anything about the key.
 */
export async function keyCheckValue(secret: Uint8Array<ArrayBuffer>): Promise<string> {
  return hmacHex(await deriveHmacKey(secret, "wallet-api card key check v1"), "wallet-api card key check");
}

/** How a card key is named in logs and messages: the start of its check value, never the key. */
export const keyIdOf = (checkValue: string) => checkValue.slice(0, 8);

async function cardKey(secret: Uint8Array<ArrayBuffer>): Promise<CardKey> {
  return {
    encryption: await deriveKey(secret, "wallet-api card encryption v1", { name: "AES-GCM", length: 256 }, [
      "encrypt",
      "decrypt",
    ]),
    fingerprint: await deriveHmacKey(secret, "wallet-api card fingerprint v1"),
    checkValue: await keyCheckValue(secret),
  };
}

export class CardVault {
  private constructor(private readonly keys: readonly [CardKey, ...CardKey[]]) {}

  /** A vault sealing under `secret`; with `previous` (a rotation), also opening what that key sealed. */
  static async create(
    secret: Uint8Array<ArrayBuffer>,
    previous?: Uint8Array<ArrayBuffer>,
  ): Promise<CardVault> {
    const current = await cardKey(secret);
    return new CardVault(previous === undefined ? [current] : [current, await cardKey(previous)]);
  }

  /** The check values of the vault's keys, the current key's first. */
  get keyCheckValues(): string[] {
    return this.keys.map((key) => key.checkValue);
  }

  get currentKeyCheckValue(): string {
    return this.keys[0].checkValue;
  }

  /** `[version][iv][ciphertext+tag]`, bound to `cardId`, under the current key. */
  async seal(plain: string, cardId: string): Promise<Uint8Array> {
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: encoder.encode(cardId) },
      this.keys[0].encryption,
      encoder.encode(plain),
    );
    const out = new Uint8Array(1 + IV_BYTES + sealed.byteLength);
    out[0] = FORMAT_VERSION;
    out.set(iv, 1);
    out.set(new Uint8Array(sealed), 1 + IV_BYTES);
    return out;
  }

  /** Opens what any of the vault's keys sealed (GCM's tag tells a wrong key apart). */
  async open(stored: Uint8Array, cardId: string): Promise<string> {
    // A copy: the driver's buffer may be a view into a shared pool.
    const sealed = new Uint8Array(stored);
    if (sealed[0] !== FORMAT_VERSION) throw new Error("unknown card secret format");
    const parameters = {
      name: "AES-GCM",
      iv: sealed.subarray(1, 1 + IV_BYTES),
      additionalData: encoder.encode(cardId),
    };
    for (const key of this.keys) {
      const plain = await crypto.subtle
        .decrypt(parameters, key.encryption, sealed.subarray(1 + IV_BYTES))
        .catch(() => undefined);
      if (plain !== undefined) return decoder.decode(plain);
    }
    throw new Error("no configured card key opens this card secret");
  }

  /** The number's fingerprint under the current key: what is stored. */
  fingerprint(cardNumber: string): Promise<string> {
    return hmacHex(this.keys[0].fingerprint, cardNumber);
  }

  /**
   * The number's fingerprints under the previous key (none outside a rotation): a card not yet
   * re-encrypted has this number if its fingerprint is one of them.
   */
  previousFingerprints(cardNumber: string): Promise<string[]> {
    return Promise.all(this.keys.slice(1).map((key) => hmacHex(key.fingerprint, cardNumber)));
  }
}
