import { type Static, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { isCurrency } from "./currency.ts";
import { literalUnion } from "./literals.ts";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Every variable of contract §5. Values arrive as strings and are converted before validation. */
const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: "0.0.0.0" }),
  DATABASE_URL: Type.Optional(
    Type.String({ pattern: "^postgres(ql)?://", description: "a postgres:// or postgresql:// URL" }),
  ),
  DATABASE_READ_URL: Type.Optional(
    Type.String({ pattern: "^postgres(ql)?://", description: "a postgres:// or postgresql:// URL" }),
  ),
  DATABASE_READ_MAX_LAG_MS: Type.Integer({ minimum: 0, maximum: 600_000, default: 1000 }),
  DATA_DIR: Type.String({ minLength: 1, default: "./data" }),
  DB_POOL_MAX: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
  ADMIN_API_KEY: Type.Optional(
    Type.String({
      minLength: 16,
      maxLength: 512,
      pattern: "^[\\x21-\\x7E]+$",
      description: "16-512 printable characters",
    }),
  ),
  CARD_ENCRYPTION_KEY: Type.Optional(
    Type.String({ pattern: "^[A-Za-z0-9+/]{43}=$", description: "32 bytes, base64" }),
  ),
  CARD_ENCRYPTION_KEY_PREVIOUS: Type.Optional(
    Type.String({ pattern: "^[A-Za-z0-9+/]{43}=$", description: "32 bytes, base64" }),
  ),
  DEFAULT_CURRENCY: Type.String({ pattern: "^[A-Z]{3}$", default: "SGD" }),
  AUTH_HOLD_TTL: Type.Integer({ minimum: 1, maximum: 31 * 24 * 3600, default: 604800 }),
  LOG_LEVEL: literalUnion(LOG_LEVELS, {
    default: "info",
    description: "one of fatal, error, warn, info, debug, trace, silent",
  }),
  LOG_FORMAT: Type.Union([Type.Literal("json"), Type.Literal("pretty")], {
    default: "json",
    description: "json or pretty",
  }),
  RATE_LIMIT_PER_SECOND: Type.Number({ minimum: 0, maximum: 1_000_000, default: 100 }),
  RATE_LIMIT_BURST: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 200 }),
  METRICS_TOKEN: Type.Optional(
    Type.String({
      minLength: 16,
      maxLength: 512,
      pattern: "^[\\x21-\\x7E]+$",
      description: "16-512 printable characters",
    }),
  ),
  BODY_TIMEOUT: Type.Integer({ minimum: 100, maximum: 600_000, default: 30000 }),
  DB_QUERY_TIMEOUT: Type.Integer({ minimum: 100, maximum: 600_000, default: 5000 }),
  SHUTDOWN_TIMEOUT: Type.Integer({ minimum: 0, maximum: 600_000, default: 15000 }),
  WEBHOOK_RETRY_DELAYS: Type.String({
    pattern: "^\\d+(\\.\\d+)?(\\s*,\\s*\\d+(\\.\\d+)?)*$",
    default: "5,30,300,1800,7200,21600,86400",
    description: "seconds between webhook delivery attempts, comma-separated, such as 5,30,300",
  }),
  WEBHOOK_ALLOW_PRIVATE_TARGETS: Type.Boolean({ default: false, description: "true or false" }),
});

export type Config = Static<typeof EnvSchema>;

/** Never echoed back in an error: they are secrets or may carry a password. */
const SECRET_VARIABLES = new Set([
  "DATABASE_URL",
  "DATABASE_READ_URL",
  "ADMIN_API_KEY",
  "CARD_ENCRYPTION_KEY",
  "CARD_ENCRYPTION_KEY_PREVIOUS",
  "METRICS_TOKEN",
]);

/**
 * Why `value` is not acceptable as the secret `name` (the same rules as the variable), or undefined
 * when it is. For secrets read from a file; the value is never quoted.
 */
export function secretValueProblem(
  name: "ADMIN_API_KEY" | "CARD_ENCRYPTION_KEY",
  value: string,
): string | undefined {
  const schema = EnvSchema.properties[name];
  const [error] = Value.Errors(schema, value);
  return error === undefined ? undefined : `${error.message} (expected ${schema.description})`;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.join("\n")}`);
  }
}

/** The seconds between webhook delivery attempts of WEBHOOK_RETRY_DELAYS ("5,30,300"), in order. */
export const retryDelaysOf = (text: string): number[] => text.split(",").map((delay) => Number(delay.trim()));

/** Reads and validates the environment; throws ConfigError listing every problem, one per line. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = env[key]?.trim();
    if (value) raw[key] = value;
  }
  // A copy: Default and Convert work in place, and `raw` must stay as written for the messages.
  const candidate = Value.Convert(EnvSchema, Value.Default(EnvSchema, { ...raw }));
  const problems = [...Value.Errors(EnvSchema, candidate)].map((error) => {
    const name = error.path.slice(1);
    const hint =
      typeof error.schema.description === "string" ? ` (expected ${error.schema.description})` : "";
    const got = SECRET_VARIABLES.has(name) ? "" : `; got ${JSON.stringify(raw[name])}`;
    return `${name}: ${error.message}${hint}${got}`;
  });
  // Value.Convert would truncate "3.5" to 3: an integer variable must be written as one.
  for (const [name, schema] of Object.entries(EnvSchema.properties)) {
    const value = raw[name];
    if (schema.type === "integer" && value !== undefined && /^[+-]?\d+$/.test(value) === false) {
      const already = problems.some((problem) => problem.startsWith(`${name}:`));
      if (!already) problems.push(`${name}: Expected integer; got ${JSON.stringify(value)}`);
    }
  }
  // Generated secrets only make sense where there is a DATA_DIR of our own to keep them in.
  if (raw.DATABASE_URL !== undefined) {
    if (raw.ADMIN_API_KEY === undefined) problems.push("ADMIN_API_KEY: required when DATABASE_URL is set");
    if (raw.CARD_ENCRYPTION_KEY === undefined)
      problems.push("CARD_ENCRYPTION_KEY: required when DATABASE_URL is set");
  }
  // Embedded PGlite has no replicas: a read URL without a primary would be silently ignored.
  if (raw.DATABASE_READ_URL !== undefined && raw.DATABASE_URL === undefined) {
    problems.push("DATABASE_READ_URL: set only together with DATABASE_URL (embedded mode has no replicas)");
  }
  // A rotation names both keys: the new one must not silently come from a key file.
  if (raw.CARD_ENCRYPTION_KEY_PREVIOUS !== undefined) {
    if (raw.CARD_ENCRYPTION_KEY === undefined)
      problems.push("CARD_ENCRYPTION_KEY_PREVIOUS: set only together with CARD_ENCRYPTION_KEY (the new key)");
    else if (raw.CARD_ENCRYPTION_KEY_PREVIOUS === raw.CARD_ENCRYPTION_KEY)
      problems.push("CARD_ENCRYPTION_KEY_PREVIOUS: the same key as CARD_ENCRYPTION_KEY");
  }
  const delays = raw.WEBHOOK_RETRY_DELAYS;
  if (delays !== undefined && retryDelaysOf(delays).some((delay) => delay <= 0 || delay > 7 * 24 * 3600)) {
    problems.push(
      `WEBHOOK_RETRY_DELAYS: every delay must be more than 0 and at most 604800 seconds; got ${JSON.stringify(delays)}`,
    );
  }
  const currency = raw.DEFAULT_CURRENCY;
  if (currency !== undefined && /^[A-Z]{3}$/.test(currency) && !isCurrency(currency)) {
    problems.push(
      `DEFAULT_CURRENCY: not an ISO 4217 currency a wallet can hold; got ${JSON.stringify(currency)}`,
    );
  }
  if (problems.length === 0 && Value.Check(EnvSchema, candidate)) return candidate;
  throw new ConfigError(problems.length > 0 ? problems : ["configuration could not be validated"]);
}
