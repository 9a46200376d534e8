/**
 * Embedded PGlite, in memory (DATA_DIR=memory://) or on disk in DATA_DIR/pglite. On disk it is owned by
 * one process (data-dir-lock.ts), durable (a commit is on the disk before it is acknowledged) and
 * private to the user the service runs as.
 */
import { fsyncSync } from "node:fs";
import { chmod, lstat, mkdir, open, readdir, rename, rm, statfs } from "node:fs/promises";
import { dirname, join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { NodeFS } from "@electric-sql/pglite/nodefs";
import { pgliteAssets } from "./assets.ts";
import { lockDataDir } from "./data-dir-lock.ts";
import type { Logger } from "./logger.ts";
import { preparedCluster } from "./prepared-cluster.ts";

export interface EmbeddedDatabase {
  engine: PGlite;
  /** True when DATA_DIR's file system has too little room left for PostgreSQL to go on writing. */
  storageFull(): Promise<boolean>;
  close(): Promise<void>;
}

type EmscriptenOptions = Parameters<NodeFS["init"]>[1];
type EmscriptenModule = Parameters<NonNullable<EmscriptenOptions["preRun"]>[number]>[0];

/** The parts of Emscripten's NODEFS used here, which PGlite's types do not describe. */
interface NodeFsInternals {
  stream_ops: { fsync?: (stream: { nfd: number }) => number };
  tryFSOperation<T>(operation: () => T): T;
}

/**
 * PGlite's NodeFS, with an fsync that reaches the disk. Emscripten's NODEFS has none, so PostgreSQL's
 * fsync of a WAL segment or a data file returned at once with nothing written through; failures
 * become the errno PostgreSQL expects (and it stops rather than carry on after a failed fsync).
 */
class SyncingNodeFS extends NodeFS {
  override async init(pg: PGlite, options: EmscriptenOptions) {
    const { emscriptenOpts } = await super.init(pg, options);
    const syncThroughNodeFs = (module: EmscriptenModule) => {
      const nodeFs = module.NODEFS as unknown as NodeFsInternals;
      nodeFs.stream_ops.fsync = (stream) =>
        nodeFs.tryFSOperation(() => {
          fsyncSync(stream.nfd);
          return 0;
        });
    };
    return {
      emscriptenOpts: { ...emscriptenOpts, preRun: [...(emscriptenOpts.preRun ?? []), syncThroughNodeFs] },
    };
  }
}

/**
 * PGlite starts PostgreSQL with -F (fsync=off), for speed in a browser tab. Here fsync is on, and the
 * WAL is flushed with fsync(): the default fdatasync is a no-op in PGlite's WebAssembly runtime.
 */
export const DURABLE_START_PARAMS = [
  ...PGlite.defaultStartParams.filter((param) => param !== "-F"),
  "-c",
  "fsync=on",
  "-c",
  "wal_sync_method=fsync",
];

/** PostgreSQL needs room for a new 16 MiB WAL segment to go on committing. */
const WAL_SEGMENT_BYTES = 16 * 1024 * 1024;

type PGliteAssets = Awaited<ReturnType<typeof pgliteAssets>>;

/** `root` and every path under it. */
async function treeOf(root: string): Promise<string[]> {
  return [root, ...(await readdir(root, { recursive: true })).map((name) => join(root, name))];
}

/**
 * Takes group and other access away from everything under `root`. PostgreSQL makes its own files
 * 0600, but PGlite copies the initial cluster in with mode 0666. Nobody else can reach them meanwhile:
 * `root` is made 0700 before PGlite writes into it.
 */
async function restrictToOwner(root: string): Promise<void> {
  for (const path of await treeOf(root)) {
    const stats = await lstat(path);
    if (!stats.isSymbolicLink() && (stats.mode & 0o077) !== 0) await chmod(path, stats.mode & 0o700);
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** How many files are fsynced at once: the disk flushes them together, and file descriptors are few. */
const SYNC_BATCH = 64;

/** fsync of every file and directory under `root` (a directory's fsync makes its entries durable). */
async function syncTree(root: string): Promise<void> {
  const paths: string[] = [];
  for (const path of await treeOf(root)) if (!(await lstat(path)).isSymbolicLink()) paths.push(path);
  for (let start = 0; start < paths.length; start += SYNC_BATCH) {
    await Promise.all(paths.slice(start, start + SYNC_BATCH).map(fsyncPath));
  }
}

/**
 * Creates the cluster at `clusterDir`: beside it first, from the prepared cluster (or by initdb when
 * there is none), then, once every file is on the disk, renamed into place. A crash meanwhile leaves
 * no half cluster that a later start would take for a database, only a directory it starts over in.
 */
async function createCluster(clusterDir: string, assets: PGliteAssets, logger: Logger): Promise<void> {
  const prepared = await preparedCluster();
  logger.info(
    { source: prepared === undefined ? "initdb" : "prepared cluster" },
    `creating the embedded database in ${clusterDir} (first start)`,
  );
  const staging = `${clusterDir}.creating`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { mode: 0o700 });
  // fsync stays off (PGlite's default) while it is made: syncTree writes it all through at the end.
  const engine = await PGlite.create({ ...assets, fs: new NodeFS(staging), loadDataDir: prepared });
  await engine.close();
  await restrictToOwner(staging);
  await syncTree(staging);
  try {
    // Replaces an empty directory (an earlier version made it before initdb), never a non-empty one.
    await rename(staging, clusterDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOTEMPTY") throw error;
    throw new Error(`${clusterDir} holds files but no database (no PG_VERSION): move it away`);
  }
  await fsyncPath(dirname(clusterDir));
}

/** PGlite on `dataDir` (a directory, or memory://), taken for this process alone. */
export async function openEmbeddedDatabase(dataDir: string, logger: Logger): Promise<EmbeddedDatabase> {
  const assets = await pgliteAssets();
  if (dataDir === "memory://") {
    const engine = await PGlite.create({
      ...assets,
      dataDir: "memory://",
      loadDataDir: await preparedCluster(),
    });
    return { engine, storageFull: async () => false, close: () => engine.close() };
  }
  // Whatever the service creates in DATA_DIR (PGlite's directories among it) is the owner's only.
  process.umask(0o077);
  // The lock file is the first thing in DATA_DIR.
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const lock = await lockDataDir(dataDir, (previous) =>
    logger.warn({ previousOwner: previous }, "took over the lock of a process that is gone"),
  );
  try {
    const clusterDir = join(dataDir, "pglite");
    if (!(await Bun.file(join(clusterDir, "PG_VERSION")).exists())) {
      await createCluster(clusterDir, assets, logger);
    }
    await chmod(clusterDir, 0o700);
    const engine = await PGlite.create({
      ...assets,
      fs: new SyncingNodeFS(clusterDir),
      startParams: DURABLE_START_PARAMS,
    });
    await restrictToOwner(clusterDir);
    return {
      engine,
      async storageFull() {
        const space = await statfs(clusterDir);
        return space.bavail * space.bsize < WAL_SEGMENT_BYTES;
      },
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
