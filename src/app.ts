import { Elysia } from "elysia";
import { cardsController } from "./modules/cards/index.ts";
import { CardsService } from "./modules/cards/service.ts";
import { CardVault } from "./modules/cards/vault.ts";
import { membersController } from "./modules/members/index.ts";
import { MembersService } from "./modules/members/service.ts";
import { operationsController } from "./modules/operations/index.ts";
import { OperationsService } from "./modules/operations/service.ts";
import { teamsController } from "./modules/teams/index.ts";
import { TeamsService } from "./modules/teams/service.ts";
import { usersController } from "./modules/users/index.ts";
import { UsersService } from "./modules/users/service.ts";
import { walletsController } from "./modules/wallets/index.ts";
import { WalletsService } from "./modules/wallets/service.ts";
import { Authenticator } from "./platform/auth.ts";
import type { Config } from "./platform/config.ts";
import type { Database } from "./platform/db.ts";
import { httpPlatform, MAX_BODY_BYTES } from "./platform/http.ts";
import type { Logger } from "./platform/logger.ts";
import { createMetrics } from "./platform/metrics.ts";
import { openapiDocument, openapiSource } from "./platform/openapi.ts";
import { RateLimiter } from "./platform/rate-limit.ts";
import type { Secrets } from "./platform/secrets.ts";

export interface AppDependencies {
  config: Config;
  logger: Logger;
  db: Database;
  secrets: Secrets;
}

/** The services, wired once; controllers and the seed command both use them. */
export async function createServices({ config, db, secrets }: AppDependencies) {
  const wallets = new WalletsService(db, config);
  return {
    users: new UsersService(db, wallets),
    teams: new TeamsService(db, wallets),
    members: new MembersService(db),
    wallets,
    cards: new CardsService(db, await CardVault.create(secrets.cardEncryptionKey)),
  };
}

export type Services = Awaited<ReturnType<typeof createServices>>;

/** The whole HTTP application: platform pipeline, every module's routes and the OpenAPI document. */
export async function createApp(dependencies: AppDependencies) {
  const { config, logger, db, secrets } = dependencies;
  const metrics = createMetrics(db);
  const services = await createServices(dependencies);
  const app = new Elysia({
    // Strict schemas: unknown properties are refused, never silently dropped.
    normalize: false,
    serve: { maxRequestBodySize: MAX_BODY_BYTES * 2 },
  })
    .use(
      httpPlatform({
        logger,
        metrics,
        authenticator: await Authenticator.create(secrets.adminApiKey),
        rateLimiter: new RateLimiter(config.RATE_LIMIT_PER_SECOND, config.RATE_LIMIT_BURST),
      }),
    )
    .use(openapiSource())
    .use(operationsController(new OperationsService(db, metrics)))
    .use(usersController(services.users))
    .use(teamsController(services.teams))
    .use(membersController(services.members))
    .use(walletsController(services.wallets))
    .use(cardsController(services.cards));
  return app.use(openapiDocument(app));
}

export type App = Awaited<ReturnType<typeof createApp>>;
