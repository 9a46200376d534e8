import pino, { type Logger } from "pino";
import pretty from "pino-pretty";
import type { Config } from "./config.ts";
import { currentRequest, currentTraceIds } from "./telemetry.ts";

export type { Logger };

/** Names whose values never reach a log line, wherever they are in a logged object (up to three levels down). */
const REDACTED_NAMES = new Set([
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
]);

const CENSOR = "[redacted]";
const REDACTED_DEPTH = 3;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype;

/**
 * `object` with the value of every redacted name replaced, in it and in the plain objects and arrays
 * it holds; a copy wherever something changed, so the caller's object is never altered. One pass over
 * the keys of a log line: pino's path-based `redact` parsed its paths again on every line, which cost
 * a noticeable share of a request's CPU.
 */
export function redactSecrets<Value>(value: Value, depth = 0): Value {
  if (depth > REDACTED_DEPTH) return value;
  if (Array.isArray(value)) {
    const items = value.map((item: unknown) => redactSecrets(item, depth + 1));
    return (items.some((item, index) => item !== value[index]) ? items : value) as Value;
  }
  if (!isPlainObject(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    const item = value[key];
    const kept = REDACTED_NAMES.has(key) ? CENSOR : redactSecrets(item, depth + 1);
    if (kept === item) continue;
    copy ??= { ...value };
    copy[key] = kept;
  }
  return (copy ?? value) as Value;
}

/** The most log text held before it is written even within one turn of the event loop. */
const LOG_BLOCK_BYTES = 8 * 1024;

/** The process's one buffered stdout, made by the first logger that needs it. */
let stdoutOfProcess: pino.DestinationStream | undefined;

/**
 * Standard output, written once per turn of the event loop with every line of that turn: under load a
 * turn answers many requests, and one write system call (one wake-up of the log reader) then carries
 * all their lines instead of one each. A line waits for the end of its turn, never longer; the lines
 * still held when the process exits are written then. A process killed outright (SIGKILL) loses the
 * lines of the turn it was in. One per process, shared by its loggers, so their lines stay in order.
 */
function stdoutByTurn(): pino.DestinationStream {
  if (stdoutOfProcess !== undefined) return stdoutOfProcess;
  const stdout = pino.destination({ dest: 1, sync: true, minLength: LOG_BLOCK_BYTES });
  process.on("exit", () => stdout.flushSync());
  let flushDue = false;
  stdoutOfProcess = {
    write(line: string) {
      stdout.write(line);
      if (flushDue) return;
      flushDue = true;
      setImmediate(() => {
        flushDue = false;
        stdout.flush();
      });
    },
  };
  return stdoutOfProcess;
}

/** The service's logger; JSON lines go to standard output unless `destination` is given (tests). */
export function createLogger(
  config: Pick<Config, "LOG_LEVEL" | "LOG_FORMAT">,
  destination?: pino.DestinationStream,
): Logger {
  return pino(
    {
      level: config.LOG_LEVEL,
      base: { service: "wallet-api" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: redactSecrets },
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
      ? pretty({ colorize: process.stdout.isTTY === true, singleLine: true, destination })
      : (destination ?? stdoutByTurn()),
  );
}
