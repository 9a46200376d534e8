/**
 * JSON log lines on stdout are written once per turn of the event loop (src/platform/logger.ts): a
 * line still reaches the pipe at once, without waiting for more, every line of a burst is there whole,
 * and the lines of the last moments before an exit are not lost.
 */
import { expect, test } from "bun:test";
import { startLoggingService } from "../helpers/process.ts";

const ADMIN_KEY = "json-logs-admin-key-0123456789";
const BURST = 200;

/** The JSON lines written so far; each must parse. */
const linesOf = (output: string): Record<string, unknown>[] =>
  output
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));

/** Waits until a line satisfies `wanted` (or fails after `timeoutMs`). */
async function lineAppears(
  output: () => string,
  wanted: (line: Record<string, unknown>) => boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!linesOf(output()).some(wanted)) {
    if (Date.now() > deadline) throw new Error(`no such line within ${timeoutMs} ms:\n${output()}`);
    await Bun.sleep(5);
  }
}

test("one request's line is on stdout at once, a burst's lines are all there whole, and the last line before exit is kept", async () => {
  const service = await startLoggingService("json", ADMIN_KEY);
  try {
    // A lone request on an idle service: its line must not wait for others to fill a buffer.
    const lone = await fetch(`${service.baseUrl}/health`, { headers: { "x-request-id": "json-logs-lone" } });
    expect(lone.status).toBe(200);
    await lone.arrayBuffer();
    await lineAppears(service.stdout, (line) => line.requestId === "json-logs-lone", 500);

    const ids = Array.from({ length: BURST }, (_, index) => `json-logs-burst-${index}`);
    const statuses = await Promise.all(
      ids.map(async (id) => {
        const response = await fetch(`${service.baseUrl}/v1/users?limit=1`, {
          headers: { authorization: `Bearer ${ADMIN_KEY}`, "x-request-id": id },
        });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    const last = ids.at(-1);
    await lineAppears(service.stdout, (line) => line.requestId === last, 2_000);
    const accessLines = linesOf(service.stdout()).filter((line) => line.msg === "request");
    for (const id of ids) {
      const mine = accessLines.filter((line) => line.requestId === id);
      expect(mine.length, id).toBe(1);
      expect(mine[0]?.route, id).toBe("/v1/users");
      expect(mine[0]?.status, id).toBe(200);
    }

    service.process.kill("SIGTERM");
    expect(await service.process.exited).toBe(0);
    // Written from the exit handler, after the last turn: the pipe still delivers it.
    await lineAppears(service.stdout, (line) => line.msg === "stopped", 2_000);
    expect(linesOf(service.stdout()).at(-1)?.msg).toBe("stopped");
  } finally {
    service.process.kill();
    await service.process.exited;
  }
}, 60_000);
