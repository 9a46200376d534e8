import pino, { type Logger } from "pino";
import pretty from "pino-pretty";
import type { Config } from "./config.ts";
import { currentRequest, currentTraceIds } from "./telemetry.ts";

export type { Logger };

/** Names whose values never reach a log line, at the top of a logged object or one level down. */
const REDACTED_NAMES = [
  "authorization",
  "cardNo",
  "cvv",
  "number",
  // The secrets themselves, as named in Config and Secrets.
  "adminApiKey",
  "cardEncryptionKey",
  "previousCardEncryptionKey",
  "ADMIN_API_KEY",
  "CARD_ENCRYPTION_KEY",
  "CARD_ENCRYPTION_KEY_PREVIOUS",
  "DATABASE_URL",
];

const REDACTED_PATHS = [
  ...REDACTED_NAMES.flatMap((name) => [name, `*.${name}`]),
  "headers.authorization",
  "*.headers.authorization",
];

export function createLogger(config: Pick<Config, "LOG_LEVEL" | "LOG_FORMAT">): Logger {
  return pino(
    {
      level: config.LOG_LEVEL,
      base: { service: "wallet-api" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      // Every line written while a request is served names it and its trace.
      mixin() {
        const request = currentRequest();
        return request === undefined ? {} : { requestId: request.id, ...currentTraceIds() };
      },
    },
    // A stream in this thread, not a transport: transports load modules by name in a worker thread,
    // which a compiled binary cannot do.
    // Colour only on a terminal (a file or a pipe would get escape codes), and each event on one line.
    config.LOG_FORMAT === "pretty"
      ? pretty({ colorize: process.stdout.isTTY === true, singleLine: true })
      : undefined,
  );
}
