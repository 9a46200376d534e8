/** LOG_FORMAT=pretty is for people: one line per event, and colour only when writing to a terminal. */
import { expect, test } from "bun:test";
import { startLoggingService } from "../helpers/process.ts";

const ADMIN_KEY = "pretty-logs-admin-key-0123456789";

test("written to a pipe, pretty logs hold no escape codes and give each request one line", async () => {
  const service = await startLoggingService("pretty", ADMIN_KEY);
  try {
    const requestIds = ["pretty-one", "pretty-two", "pretty-three"];
    for (const id of requestIds) {
      const response = await fetch(`${service.baseUrl}/v1/users?limit=1`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}`, "x-request-id": id },
      });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    await Bun.sleep(300);
    const output = service.stdout();
    expect(output).not.toContain("\u001b[");
    for (const id of requestIds) {
      const lines = output.split("\n").filter((line) => line.includes(id));
      expect(lines.length, id).toBe(1);
      expect(lines[0], id).toContain("GET");
      expect(lines[0], id).toContain("/v1/users");
    }
  } finally {
    service.process.kill();
    await service.process.exited;
  }
}, 60_000);
