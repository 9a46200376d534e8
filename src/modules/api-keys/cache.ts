import type { KeyLookup, StoredKey } from "../../platform/auth.ts";
import { CachedRead } from "../../platform/cached-read.ts";
import type { Database } from "../../platform/db.ts";
import type { Logger } from "../../platform/logger.ts";
import { apiKeysRepository, LAST_USED_RESOLUTION_MS } from "./repository.ts";
import { looksLikeSecret, secretHash } from "./secrets.ts";

/**
 * How long an instance trusts what it read of a key. A revocation (or any change) made on any
 * instance is seen by every instance within this time plus one lookup; a key costs each instance at
 * most one lookup per this time, never one per request, and once read no request waits for the next
 * lookup (see CachedRead).
 */
export const KEY_CACHE_TTL_MS = 1000;

/**
 * The keys made through the API, as the gate sees them: looked up by the SHA-256 of the presented
 * secret and kept for KEY_CACHE_TTL_MS. An unknown secret is not remembered (a key made a moment ago
 * on another instance must work at once), and a lookup that fails is not either.
 */
export class ApiKeyCache implements KeyLookup {
  private readonly entries = new Map<string, CachedRead<StoredKey | undefined>>();
  /** When this instance last wrote each key's lastUsedAt (epoch ms). */
  private readonly lastWritten = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  async find(secret: string): Promise<StoredKey | undefined> {
    if (!looksLikeSecret(secret)) return undefined;
    const hash = secretHash(secret);
    const id = hash.toHex();
    // Concurrent requests with one key share one lookup.
    let entry = this.entries.get(id);
    if (entry === undefined) {
      entry = new CachedRead(() => apiKeysRepository.findBySecretHash(this.db, hash), KEY_CACHE_TTL_MS);
      this.entries.set(id, entry);
    }
    try {
      const found = await entry.get();
      if (found === undefined) this.forget(id, entry);
      return found;
    } catch (error) {
      this.forget(id, entry);
      throw error;
    }
  }

  /** Drops the entry of `id` unless another has replaced it meanwhile. */
  private forget(id: string, entry: CachedRead<StoredKey | undefined>): void {
    if (this.entries.get(id) === entry) this.entries.delete(id);
  }

  /**
   * Writes lastUsedAt at most once a minute per key, after the request's own work and without making
   * it wait: a failed write is logged and tried again on a later use.
   */
  used(key: StoredKey, now: Date): void {
    const last = this.lastWritten.get(key.id);
    if (last !== undefined && now.getTime() - last < LAST_USED_RESOLUTION_MS) return;
    this.lastWritten.set(key.id, now.getTime());
    apiKeysRepository.touch(this.db, key.id, now).catch((error: unknown) => {
      this.lastWritten.delete(key.id);
      this.logger.warn({ err: error, apiKeyId: key.id }, "could not record an API key's last use");
    });
  }

  /** Forgets every key read, so this instance sees a revocation it made at once. */
  clear(): void {
    this.entries.clear();
  }
}
