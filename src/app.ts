import { Elysia } from "elysia";
import { SqlReachGuard } from "./modules/access/reach.ts";
import { ApiKeyCache } from "./modules/api-keys/cache.ts";
import { apiKeysController } from "./modules/api-keys/index.ts";
import { apiKeysModels } from "./modules/api-keys/model.ts";
import { ApiKeysService } from "./modules/api-keys/service.ts";
import { auditController } from "./modules/audit/index.ts";
import { auditModels } from "./modules/audit/model.ts";
import { AuditService } from "./modules/audit/service.ts";
import { authorizationHookController } from "./modules/authorization-hook/index.ts";
import { authorizationHookModels } from "./modules/authorization-hook/model.ts";
import { AuthorizationHookService } from "./modules/authorization-hook/service.ts";
import { authorizationsController } from "./modules/authorizations/index.ts";
import { authorizationsModels } from "./modules/authorizations/model.ts";
import { AuthorizationsService } from "./modules/authorizations/service.ts";
import { verifyCardKeys } from "./modules/cards/card-keys.ts";
import { cardsController } from "./modules/cards/index.ts";
import { cardsModels } from "./modules/cards/model.ts";
import { CardsService } from "./modules/cards/service.ts";
import { CardVault } from "./modules/cards/vault.ts";
import { eventsController } from "./modules/events/index.ts";
import { eventsModels } from "./modules/events/model.ts";
import { EventsService } from "./modules/events/service.ts";
import { ledgerController } from "./modules/ledger/index.ts";
import { ledgerModels } from "./modules/ledger/model.ts";
import { LedgerService } from "./modules/ledger/service.ts";
import { membersController } from "./modules/members/index.ts";
import { membersModels } from "./modules/members/model.ts";
import { MembersService } from "./modules/members/service.ts";
import { operationsController } from "./modules/operations/index.ts";
import { operationsModels } from "./modules/operations/model.ts";
import { type Lifecycle, OperationsService } from "./modules/operations/service.ts";
import { teamsController } from "./modules/teams/index.ts";
import { teamsModels } from "./modules/teams/model.ts";
import { TeamsService } from "./modules/teams/service.ts";
import { usersController } from "./modules/users/index.ts";
import { usersModels } from "./modules/users/model.ts";
import { UsersService } from "./modules/users/service.ts";
import { walletsController } from "./modules/wallets/index.ts";
import { walletsModels } from "./modules/wallets/model.ts";
import { WalletsService } from "./modules/wallets/service.ts";
import { webhooksController } from "./modules/webhooks/index.ts";
import { webhooksModels } from "./modules/webhooks/model.ts";
import { WebhooksService } from "./modules/webhooks/service.ts";
import { RouteAccessRules } from "./platform/access.ts";
import { Authenticator, BearerSecret } from "./platform/auth.ts";
import { type Clock, systemClock } from "./platform/clock.ts";
import type { Config } from "./platform/config.ts";
import type { Database } from "./platform/db.ts";
import { apiAccess, httpPlatform, MAX_BODY_BYTES, publicAccess, RouteMethods } from "./platform/http.ts";
import { Idempotency, requestHashKey } from "./platform/idempotency.ts";
import type { Logger } from "./platform/logger.ts";
import { createMetrics } from "./platform/metrics.ts";
import { docsPage, openapiDocument, renderOpenApi } from "./platform/openapi.ts";
import { createOutgoingFetch } from "./platform/outgoing.ts";
import { RateLimiter } from "./platform/rate-limit.ts";
import { readRouting } from "./platform/read-routing.ts";
import { sharedModels } from "./platform/schemas.ts";
import { loadSecrets, type Secrets } from "./platform/secrets.ts";
import { startTelemetry, type Telemetry, traceService } from "./platform/telemetry.ts";

/** Every named schema the routes refer to, as the document's `components.schemas`. */
export const DOCUMENTED_MODELS = {
  ...sharedModels,
  ...operationsModels,
  ...usersModels,
  ...teamsModels,
  ...membersModels,
  ...walletsModels,
  ...cardsModels,
  ...ledgerModels,
  ...authorizationsModels,
  ...apiKeysModels,
  ...auditModels,
  ...eventsModels,
  ...webhooksModels,
  ...authorizationHookModels,
};

export interface AppDependencies {
  config: Config;
  logger: Logger;
  db: Database;
  secrets: Secrets;
  /** "Now" for limit windows, holds and the ledger; tests move it. */
  clock?: Clock;
  /** Tracing; off unless OTEL_* configures an exporter. */
  telemetry?: Telemetry;
  /** Shared with the process: draining turns /ready to 503. */
  lifecycle?: Lifecycle;
}

/** The card vault of `secrets`: the current card key, and the previous one during a rotation. */
export const cardVaultOf = (secrets: Secrets) =>
  CardVault.create(secrets.cardEncryptionKey, secrets.previousCardEncryptionKey);

/**
 * The secrets, with the card keys verified against the stored cards: every command that reads or
 * writes cards starts from these, so a wrong key stops it before it touches one.
 */
export async function loadVerifiedSecrets(config: Config, logger: Logger, db: Database): Promise<Secrets> {
  const secrets = await loadSecrets(config, logger, db);
  await verifyCardKeys(db, await cardVaultOf(secrets), logger);
  return secrets;
}

/** The services, wired once; controllers, background jobs and the seed command use them. */
export async function createServices(dependencies: AppDependencies) {
  const { config, db, secrets, clock = systemClock } = dependencies;
  const telemetry = dependencies.telemetry ?? (await startTelemetry({}, dependencies.logger));
  const metrics = createMetrics(db);
  // With tracing on, every service call and SQL statement gets its span; with it off, nothing is wrapped.
  const traced = <Service extends object>(name: string, service: Service) =>
    telemetry.enabled ? traceService(telemetry.tracer, name, service) : service;
  if (telemetry.enabled) db.traceWith(telemetry.tracer);
  const wallets = new WalletsService(db, config, clock);
  const keyCache = new ApiKeyCache(db, dependencies.logger);
  const outgoingFetch = createOutgoingFetch(telemetry);
  const authorizationHook = new AuthorizationHookService(db, config, outgoingFetch, metrics, clock);
  return {
    users: traced("users", new UsersService(db, wallets, clock)),
    teams: traced("teams", new TeamsService(db, wallets, clock)),
    members: traced("members", new MembersService(db, clock)),
    wallets: traced("wallets", wallets),
    cards: traced("cards", new CardsService(db, await cardVaultOf(secrets), clock)),
    ledger: traced("ledger", new LedgerService(db, clock, metrics)),
    authorizations: traced(
      "authorizations",
      new AuthorizationsService(db, clock, config, metrics, authorizationHook),
    ),
    authorizationHook: traced("authorizationHook", authorizationHook),
    events: traced("events", new EventsService(db, clock)),
    webhooks: new WebhooksService(db, config, outgoingFetch, telemetry, metrics, clock),
    apiKeys: traced("apiKeys", new ApiKeysService(db, keyCache, clock)),
    audit: traced("audit", new AuditService(db)),
    keyCache,
    clock,
    idempotency: new Idempotency(db, clock, metrics, [
      await requestHashKey(secrets.cardEncryptionKey),
      ...(secrets.previousCardEncryptionKey === undefined
        ? []
        : [await requestHashKey(secrets.previousCardEncryptionKey)]),
    ]),
    metrics,
    telemetry,
  };
}

export type Services = Awaited<ReturnType<typeof createServices>>;

/** The whole HTTP application: platform pipeline, every module's routes and the OpenAPI document. */
export async function createApp(dependencies: AppDependencies, services?: Services) {
  const { config, logger, db, secrets } = dependencies;
  const { idempotency, metrics, telemetry, keyCache, clock, ...modules } =
    services ?? (await createServices(dependencies));
  const rateLimiter = new RateLimiter(config.RATE_LIMIT_PER_SECOND, config.RATE_LIMIT_BURST);
  const authenticator = Authenticator.create(secrets.adminApiKey, keyCache, clock);
  const accessRules = new RouteAccessRules();
  const routeMethods = new RouteMethods();
  let document = "";
  const app = new Elysia({
    // Strict schemas: unknown properties are refused, never silently dropped.
    normalize: false,
    // A second server on a busy port must fail, not silently share it.
    // Bun's own cap is a backstop only: the body reader refuses past 1 MiB with a problem body.
    // Development mode would answer an unexpected error with Bun's page of source lines and stack.
    serve: { maxRequestBodySize: MAX_BODY_BYTES * 64, reusePort: false, development: false },
    // Find the path after "http://", whatever the Host's length (the default assumes 4+ characters).
    handler: { standardHostname: false },
  })
    .use(httpPlatform({ logger, metrics, telemetry, routeMethods }))
    .use(readRouting(db, metrics))
    .use(
      new Elysia({ name: "reference" })
        .use(publicAccess(rateLimiter))
        .use(openapiDocument(() => document))
        .use(docsPage()),
    )
    .use(
      operationsController(
        new OperationsService(db, metrics, dependencies.lifecycle ?? { draining: false }),
        config.METRICS_TOKEN === undefined ? undefined : BearerSecret.of(config.METRICS_TOKEN),
      ),
    )
    .use(
      new Elysia({ name: "v1" })
        .use(
          apiAccess({
            authenticator,
            accessRules,
            reachGuard: new SqlReachGuard(db),
            rateLimiter,
            bodyTimeoutMs: config.BODY_TIMEOUT,
          }),
        )
        .use(usersController(modules.users, idempotency))
        .use(teamsController(modules.teams, idempotency))
        .use(membersController(modules.members, idempotency))
        .use(walletsController(modules.wallets, idempotency))
        .use(cardsController(modules.cards, idempotency))
        .use(ledgerController(modules.ledger, idempotency))
        .use(authorizationsController(modules.authorizations, idempotency))
        .use(apiKeysController(modules.apiKeys, idempotency))
        .use(auditController(modules.audit))
        .use(authorizationHookController(modules.authorizationHook))
        .use(eventsController(modules.events))
        .use(webhooksController(modules.webhooks, idempotency)),
    );
  routeMethods.load(app.routes);
  accessRules.load(app.routes);
  document = renderOpenApi(app.routes, DOCUMENTED_MODELS);
  return app;
}

export type App = Awaited<ReturnType<typeof createApp>>;
