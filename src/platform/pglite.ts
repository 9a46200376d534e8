/**
 * Embedded PGlite, in memory (DATA_DIR=memory://) or on disk in DATA_DIR/pglite. On disk it is owned by
 * one process (data-dir-lock.ts).
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { pgliteAssets } from "./assets.ts";
import { lockDataDir } from "./data-dir-lock.ts";
import type { Logger } from "./logger.ts";

export interface EmbeddedDatabase {
  engine: PGlite;
  close(): Promise<void>;
}

/** PGlite on `dataDir` (a directory, or memory://), taken for this process alone. */
export async function openEmbeddedDatabase(dataDir: string, logger: Logger): Promise<EmbeddedDatabase> {
  const assets = await pgliteAssets();
  if (dataDir === "memory://") {
    const engine = await PGlite.create("memory://", assets);
    return { engine, close: () => engine.close() };
  }
  // PGlite creates its own directory but not the parents.
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const lock = await lockDataDir(dataDir, (previous) =>
    logger.warn({ previousOwner: previous }, "took over the lock of a process that is gone"),
  );
  try {
    const engine = await PGlite.create(join(dataDir, "pglite"), assets);
    return {
      engine,
      async close() {
        try {
          await engine.close();
        } finally {
          await lock.release();
        }
      },
    };
  } catch (error) {
    await lock.release();
    throw error;
  }
}
