/**
 * A body must arrive whole within BODY_TIMEOUT: a client that trickles bytes holds no connection for
 * ever, and one without a key is refused before its body is read at all.
 */
import { describe, expect, test } from "bun:test";
import { openSocket, parseRawResponse } from "../helpers/raw-http.ts";
import { rowCount } from "../helpers/rows.ts";
import { TEST_ADMIN_KEY, uniqueEmail, useServer } from "../helpers/server.ts";

const BODY_TIMEOUT_MS = 600;
const server = useServer({ BODY_TIMEOUT: String(BODY_TIMEOUT_MS) });

/**
 * Sends the head of a POST /v1/users announcing a whole body, then its first bytes, then one more byte
 * every 100 ms; resolves with what the server answered and when, or after `giveUpMs`.
 */
async function trickle(headers: Record<string, string>, giveUpMs: number) {
  const body = JSON.stringify({ email: uniqueEmail("slow"), name: "Slow Sender" });
  const head = [
    "POST /v1/users HTTP/1.1",
    `Host: 127.0.0.1`,
    "Content-Type: application/json",
    `Content-Length: ${body.length}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    "",
    "",
  ].join("\r\n");
  const socket = await openSocket(server.baseUrl);
  const started = performance.now();
  let text = "";
  let closed = false;
  socket.on("data", (chunk) => {
    text += chunk.toString("utf8");
  });
  socket.on("close", () => {
    closed = true;
  });
  socket.on("error", () => {
    closed = true;
  });
  socket.write(head + body.slice(0, 5));
  let sent = 5;
  let answeredAfterMs: number | undefined;
  while (performance.now() - started < giveUpMs) {
    await Bun.sleep(100);
    if (text.includes("\r\n\r\n") && answeredAfterMs === undefined)
      answeredAfterMs = performance.now() - started;
    if (closed || answeredAfterMs !== undefined) break;
    // One byte at a time, never the last one: the body is never complete.
    if (sent < body.length - 1) socket.write(body.slice(sent, ++sent));
  }
  await Bun.sleep(200);
  const result = { answer: parseRawResponse(text), answeredAfterMs, closed };
  socket.destroy();
  return result;
}

describe("a body that trickles in", () => {
  test("is refused with 408 request_timeout once BODY_TIMEOUT has passed, the connection is closed and nothing is created", async () => {
    const before = await rowCount(server.db, "users");
    const { answer, answeredAfterMs, closed } = await trickle(
      { Authorization: `Bearer ${TEST_ADMIN_KEY}` },
      BODY_TIMEOUT_MS * 8,
    );
    expect(answer.status).toBe(408);
    expect((JSON.parse(answer.body) as { code: string }).code).toBe("request_timeout");
    expect(answeredAfterMs ?? Number.POSITIVE_INFINITY).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 50);
    expect(answeredAfterMs ?? Number.POSITIVE_INFINITY).toBeLessThan(BODY_TIMEOUT_MS * 6);
    expect(closed).toBe(true);
    expect(await rowCount(server.db, "users")).toBe(before);
  });

  test("without a key is 401 before the body is read: the server does not wait for it", async () => {
    const { answer, answeredAfterMs } = await trickle({}, BODY_TIMEOUT_MS * 8);
    expect(answer.status).toBe(401);
    expect(answeredAfterMs ?? Number.POSITIVE_INFINITY).toBeLessThan(BODY_TIMEOUT_MS);
  });

  test("a body sent whole in time is served as usual", async () => {
    const created = await server.api.POST("/v1/users", {
      body: { email: uniqueEmail("fast"), name: "Fast" },
    });
    expect(created.response.status).toBe(201);
  });
});
