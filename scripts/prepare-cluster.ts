/**
 * `bun scripts/prepare-cluster.ts [--force]`: makes the prepared PGlite cluster in dist/ (see
 * src/platform/prepared-cluster.ts) unless it is there already. `npm install` runs it, and so does
 * `npm run build` (scripts/build.ts), which embeds the cluster in the binary.
 */
import { mkdir } from "node:fs/promises";
import { dirname, relative } from "node:path";
import { PREPARED_CLUSTER_PATH, writePreparedCluster } from "../src/platform/prepared-cluster.ts";

/** Makes the prepared cluster if it is missing (or always, with `force`); returns its path. */
export async function ensurePreparedCluster(force = false): Promise<string> {
  const shown = relative(process.cwd(), PREPARED_CLUSTER_PATH);
  if (!force && (await Bun.file(PREPARED_CLUSTER_PATH).exists())) {
    console.log(`prepared cluster: ${shown} is there already`);
  } else {
    console.log(`prepared cluster: running initdb once for ${shown} (a few seconds)`);
    await mkdir(dirname(PREPARED_CLUSTER_PATH), { recursive: true });
    await writePreparedCluster(PREPARED_CLUSTER_PATH);
    console.log(`prepared cluster: wrote ${shown}`);
  }
  return PREPARED_CLUSTER_PATH;
}

if (import.meta.main) await ensurePreparedCluster(process.argv.includes("--force"));
