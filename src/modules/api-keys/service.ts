import type { Clock } from "../../platform/clock.ts";
import type { Database, Queryable } from "../../platform/db.ts";
import { found } from "../../platform/errors.ts";
import { listOptions, type Page, toPage } from "../../platform/pagination.ts";
import { recordAudit } from "../audit/repository.ts";
import { teamNotFound } from "../teams/errors.ts";
import { teamsRepository } from "../teams/repository.ts";
import { userNotFound } from "../users/errors.ts";
import { usersRepository } from "../users/repository.ts";
import type { ApiKeyCache } from "./cache.ts";
import { apiKeyNotFound, apiKeyRevoked, boundAdminKey, invalidExpiry, invalidKeyBinding } from "./errors.ts";
import type { ApiKey, CreateApiKey, CreatedApiKey, ListApiKeysQuery } from "./model.ts";
import { apiKeysRepository } from "./repository.ts";
import { newSecret, secretHash } from "./secrets.ts";

export class ApiKeysService {
  constructor(
    private readonly db: Database,
    private readonly cache: ApiKeyCache,
    private readonly clock: Clock,
  ) {}

  /** Makes a key and gives its secret, this once; the team or user it is bound to is share-locked meanwhile. */
  async create(input: CreateApiKey): Promise<CreatedApiKey> {
    const { teamId = null, userId = null } = input;
    if (teamId !== null && userId !== null) throw invalidKeyBinding();
    if ((teamId !== null || userId !== null) && input.scopes.includes("admin")) throw boundAdminKey();
    const now = this.clock();
    const expiresAt = input.expiresAt === undefined ? null : new Date(input.expiresAt);
    if (expiresAt !== null && expiresAt <= now) throw invalidExpiry();
    const { secret, prefix } = newSecret();
    const hash = secretHash(secret);
    return this.db.transaction(async (tx) => {
      await this.requireBinding(tx, teamId, userId);
      const key = await apiKeysRepository.insert(
        tx,
        {
          id: Bun.randomUUIDv7(),
          name: input.name.trim(),
          prefix,
          secretHash: hash,
          scopes: input.scopes,
          teamId,
          userId,
          expiresAt,
        },
        now,
      );
      await recordAudit(tx, now, {
        action: "api_key.created",
        resourceType: "api_key",
        resourceId: key.id,
        changes: { name: key.name, scopes: key.scopes, teamId, userId, expiresAt: key.expiresAt },
      });
      return { ...key, secret };
    });
  }

  async get(id: string): Promise<ApiKey> {
    return found(await apiKeysRepository.find(this.db, id), () => apiKeyNotFound(id));
  }

  async list(query: ListApiKeysQuery): Promise<Page<ApiKey>> {
    const options = listOptions(query, "createdAt");
    const rows = await apiKeysRepository.list(
      this.db,
      { teamId: query.teamId, userId: query.userId },
      options,
    );
    return toPage(rows, options, (key) => key);
  }

  /** Revokes a key: 401 from then on, on this instance at once and on every other within KEY_CACHE_TTL_MS. */
  async revoke(id: string): Promise<ApiKey> {
    const revoked = await this.db.transaction(async (tx) => {
      const now = this.clock();
      const key = await apiKeysRepository.revoke(tx, id, now);
      if (key === undefined) {
        throw (await apiKeysRepository.find(tx, id)) === undefined ? apiKeyNotFound(id) : apiKeyRevoked(id);
      }
      await recordAudit(tx, now, { action: "api_key.revoked", resourceType: "api_key", resourceId: id });
      return key;
    });
    this.cache.clear();
    return revoked;
  }

  private async requireBinding(tx: Queryable, teamId: string | null, userId: string | null): Promise<void> {
    if (teamId !== null && !(await teamsRepository.find(tx, teamId, "FOR SHARE"))) throw teamNotFound(teamId);
    if (userId !== null && !(await usersRepository.find(tx, userId, "FOR SHARE"))) throw userNotFound(userId);
  }
}
