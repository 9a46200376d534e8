/**
 * Card secrets at rest. The number and CVV are sealed with AES-256-GCM, with the card's id as
 * additional data so a ciphertext cannot be moved to another row; uniqueness uses an HMAC-SHA-256
 * fingerprint of the number under a key derived (HKDF) from the same secret, never the number itself.
 */
const FORMAT_VERSION = 1;
const IV_BYTES = 12;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class CardVault {
  private constructor(
    private readonly encryptionKey: CryptoKey,
    private readonly fingerprintKey: CryptoKey,
  ) {}

  static async create(secret: Uint8Array<ArrayBuffer>): Promise<CardVault> {
    const master = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"]);
    const derive = (info: string, algorithm: AesKeyGenParams | HmacImportParams, usages: KeyUsage[]) =>
      crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: encoder.encode(info) },
        master,
        algorithm,
        false,
        usages,
      );
    return new CardVault(
      await derive("wallet-api card encryption v1", { name: "AES-GCM", length: 256 }, ["encrypt", "decrypt"]),
      await derive("wallet-api card fingerprint v1", { name: "HMAC", hash: "SHA-256", length: 256 }, [
        "sign",
      ]),
    );
  }

  /** `[version][iv][ciphertext+tag]`, bound to `cardId`. */
  async seal(plain: string, cardId: string): Promise<Uint8Array> {
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: encoder.encode(cardId) },
      this.encryptionKey,
      encoder.encode(plain),
    );
    const out = new Uint8Array(1 + IV_BYTES + sealed.byteLength);
    out[0] = FORMAT_VERSION;
    out.set(iv, 1);
    out.set(new Uint8Array(sealed), 1 + IV_BYTES);
    return out;
  }

  async open(stored: Uint8Array, cardId: string): Promise<string> {
    // A copy: the driver's buffer may be a view into a shared pool.
    const sealed = new Uint8Array(stored);
    if (sealed[0] !== FORMAT_VERSION) throw new Error("unknown card secret format");
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: sealed.subarray(1, 1 + IV_BYTES), additionalData: encoder.encode(cardId) },
      this.encryptionKey,
      sealed.subarray(1 + IV_BYTES),
    );
    return decoder.decode(plain);
  }

  async fingerprint(cardNumber: string): Promise<string> {
    const mac = await crypto.subtle.sign("HMAC", this.fingerprintKey, encoder.encode(cardNumber));
    return new Uint8Array(mac).toHex();
  }
}
