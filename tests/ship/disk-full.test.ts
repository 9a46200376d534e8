/**
 * Embedded PGlite on a disk that fills up: writes answer 503 storage_full (never 500), /ready says why,
 * no acknowledged top-up is lost and none that was refused is kept, and once room is made the service
 * writes again without a restart. The disk is a real one: a small tmpfs, mounted for the test (root only).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUN, ROOT, run, SYSTEM_PATH, startProcess, stopProcess } from "../helpers/process.ts";
import { randomCardKey } from "../helpers/values.ts";
import { call, expectCall, idOf } from "./support.ts";

const KEY = "disk-full-test-admin-key-0123456789";
/** Room for a fresh cluster (about 40 MiB, a 16 MiB WAL segment of it) and some to spare. */
const DISK_SIZE = "96m";
const SLOW = 120_000;

/** Why this file cannot run here, or undefined when it can. */
function unavailableBecause(): string | undefined {
  if (process.env.DATABASE_URL !== undefined)
    return "DATABASE_URL is set: the disk-full test is for embedded PGlite";
  if (process.platform !== "linux" || process.getuid?.() !== 0) return "mounting a tmpfs needs root on Linux";
  return undefined;
}
const skipReason = unavailableBecause();
if (skipReason !== undefined) console.warn(`[disk-full] skipped: ${skipReason}`);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** Writes `path` until the file system refuses with ENOSPC, in big chunks and then in small ones. */
async function fillDisk(path: string): Promise<void> {
  const file = await open(path, "w");
  try {
    for (const size of [1024 * 1024, 4096, 512]) {
      const chunk = new Uint8Array(size);
      for (;;) {
        try {
          await file.write(chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "ENOSPC") break;
          throw error;
        }
      }
    }
  } finally {
    await file.close().catch(() => undefined);
  }
}

describe.skipIf(skipReason !== undefined)("embedded PGlite on a full disk", () => {
  test(
    "answers 503 storage_full and /ready says so; with room made again it writes, and no money moved twice or vanished",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "wallet-disk-full-"));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      const mounted = await run(["mount", "-t", "tmpfs", "-o", `size=${DISK_SIZE},mode=0700`, "tmpfs", dir], {
        cwd: ROOT,
        env: { PATH: SYSTEM_PATH },
      });
      expect(mounted.exitCode, mounted.stderr).toBe(0);
      cleanups.push(() => run(["umount", "-l", dir], { cwd: ROOT, env: { PATH: SYSTEM_PATH } }));
      const dataDir = join(dir, "data");
      await mkdir(dataDir);

      const service = await startProcess([BUN, "src/main.ts"], {
        cwd: ROOT,
        env: {
          PATH: SYSTEM_PATH,
          LOG_LEVEL: "warn",
          RATE_LIMIT_PER_SECOND: "0",
          ADMIN_API_KEY: KEY,
          CARD_ENCRYPTION_KEY: randomCardKey(),
          DATA_DIR: dataDir,
        },
        timeoutMs: 60_000,
      });
      cleanups.push(() => stopProcess(service.process, 5_000));
      const { baseUrl } = service;
      const user = await expectCall(201, baseUrl, KEY, "POST", "/v1/users", {
        email: "full.disk@example.com",
        name: "Full Disk",
      });
      const walletId = idOf(
        await expectCall(201, baseUrl, KEY, "POST", "/v1/wallets", { userId: idOf(user) }),
      );
      let acknowledged = 0;
      await expectCall(201, baseUrl, KEY, "POST", `/v1/wallets/${walletId}/topups`, { amount: 100 });
      acknowledged += 100;

      const filler = join(dir, "filler");
      await fillDisk(filler);

      const ready = await call(baseUrl, KEY, "GET", "/ready");
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({
        status: "unavailable",
        checks: { database: "storage_full", replica: "off" },
      });

      // Rows still fit in pages that have room; the first top-up that needs a new page is refused.
      let refused: Awaited<ReturnType<typeof call>> | undefined;
      for (let attempt = 0; attempt < 2_000 && refused === undefined; attempt++) {
        const reply = await call(baseUrl, KEY, "POST", `/v1/wallets/${walletId}/topups`, { amount: 1 });
        if (reply.status === 201) acknowledged += 1;
        else refused = reply;
      }
      expect(refused?.status).toBe(503);
      expect(refused?.body.code).toBe("storage_full");
      // Refused again, not a 500 nor a hang: the transaction was rolled back and the connection is sound.
      const again = await call(baseUrl, KEY, "POST", `/v1/wallets/${walletId}/topups`, { amount: 1 });
      expect(again.status).toBe(503);
      expect(again.body.code).toBe("storage_full");
      const whileFull = await expectCall(200, baseUrl, KEY, "GET", `/v1/wallets/${walletId}`);
      expect(whileFull.balance).toBe(acknowledged);

      await rm(filler);
      expect((await call(baseUrl, KEY, "GET", "/ready")).status).toBe(200);
      await expectCall(201, baseUrl, KEY, "POST", `/v1/wallets/${walletId}/topups`, { amount: 5 });
      acknowledged += 5;
      const after = await expectCall(200, baseUrl, KEY, "GET", `/v1/wallets/${walletId}`);
      expect(after.balance).toBe(acknowledged);
      expect(service.stderr()).not.toContain("internal_error");
    },
    SLOW,
  );
});
