/**
 * Secrets never reach a log line: card numbers, CVVs, Authorization headers and the service's own keys
 * are written as "[redacted]" wherever they sit in a logged object, and the object the code logged is
 * left as it was.
 */
import { expect, test } from "bun:test";
import { createLogger } from "../../src/platform/logger.ts";

/** A logger like the service's, whose JSON lines are kept in `lines`. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger(
    { LOG_LEVEL: "info", LOG_FORMAT: "json" },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

test("secrets are redacted at the top, in nested objects and in arrays; everything else is kept", () => {
  const { logger, lines } = capturingLogger();
  const logged = {
    cvv: "123",
    card: { number: "4111111111111111", last4: "1111" },
    req: { method: "POST", headers: { authorization: "Bearer wak_secret", "x-request-id": "r-1" } },
    config: { DATABASE_URL: "postgres://user:pass@db/wallet", CARD_ENCRYPTION_KEY: "k", PORT: 3000 },
    attempts: [{ cardNo: "4000000000000002", status: 402 }],
  };
  const before = structuredClone(logged);
  logger.info(logged, "something happened");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({
    msg: "something happened",
    cvv: "[redacted]",
    card: { number: "[redacted]", last4: "1111" },
    req: { method: "POST", headers: { authorization: "[redacted]", "x-request-id": "r-1" } },
    config: { DATABASE_URL: "[redacted]", CARD_ENCRYPTION_KEY: "[redacted]", PORT: 3000 },
    attempts: [{ cardNo: "[redacted]", status: 402 }],
  });
  const line = JSON.stringify(lines[0]);
  for (const secret of ['123"', "4111111111111111", "wak_secret", "user:pass", "4000000000000002"]) {
    expect(line).not.toContain(secret);
  }
  // The caller's object is untouched: redaction works on a copy.
  expect(logged).toEqual(before);
});

test("a line without secrets is written as it was logged", () => {
  const { logger, lines } = capturingLogger();
  logger.info({ method: "GET", route: "/v1/wallets/:id", status: 200, durationMs: 1.5 }, "request");
  expect(lines[0]).toMatchObject({ method: "GET", route: "/v1/wallets/:id", status: 200, durationMs: 1.5 });
});
