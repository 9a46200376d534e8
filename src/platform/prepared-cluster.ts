/**
 * A prepared PGlite cluster: what initdb makes, made once ahead of time and kept as a tarball, so that
 * a first start copies it in (well under a second) rather than running initdb (several seconds).
 *
 * It holds initdb's output only, no schema: migrations run on it as on any database. It is made by
 * PGlite itself (initdb, then dumpDataDir) and must come from the PGlite version that will open it,
 * hence the version in its name. `npm install` makes it in dist/ (scripts/prepare-cluster.ts), and
 * `npm run build` embeds it in the binary; without one, a first start runs initdb as PGlite would.
 */
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pglitePackage from "@electric-sql/pglite/package.json" with { type: "json" };
import { pgliteAssets } from "./assets.ts";

/** The tarball's file name; a PGlite upgrade makes the previous one unusable and unused. */
export const PREPARED_CLUSTER_FILE = `pglite-cluster-${pglitePackage.version}.tar.gz`;

/** Where `bun src/main.ts` looks for it (the repository's dist/), and where the scripts write it. */
export const PREPARED_CLUSTER_PATH = join(import.meta.dir, "../../dist", PREPARED_CLUSTER_FILE);

/**
 * The prepared cluster as an uncompressed tar: in the binary, the one `bun build --compile` embedded
 * (its name gains a hash before the last extension); otherwise dist/'s. Undefined when there is none.
 */
export async function preparedCluster(): Promise<Blob | undefined> {
  let file: Blob | undefined;
  if (Bun.isStandaloneExecutable) {
    const stem = PREPARED_CLUSTER_FILE.slice(0, -".gz".length);
    file = Bun.embeddedFiles.find(
      (embedded) => "name" in embedded && typeof embedded.name === "string" && embedded.name.startsWith(stem),
    );
  } else {
    const inDist = Bun.file(PREPARED_CLUSTER_PATH);
    if (await inDist.exists()) file = inDist;
  }
  // PGlite can gunzip it too, but more slowly.
  return file === undefined ? undefined : new Blob([Bun.gunzipSync(await file.bytes())]);
}

/** Runs initdb in memory and writes the cluster, gzipped, to `path` (atomically: whole or not at all). */
export async function writePreparedCluster(path: string): Promise<void> {
  const engine = await PGlite.create({ ...(await pgliteAssets()), dataDir: "memory://" });
  try {
    // Everything in the data files, so that a start from the copy has next to no WAL to replay.
    await engine.exec("CHECKPOINT");
    const tar = await (await engine.dumpDataDir("none")).bytes();
    const partial = `${path}.${process.pid}.partial`;
    await writeFile(partial, Bun.gzipSync(tar));
    await rename(partial, path);
  } finally {
    await engine.close();
  }
}
