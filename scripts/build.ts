/**
 * `bun scripts/build.ts [--outfile <path>]` (`npm run build`): the single-file binary of src/main.ts,
 * dist/wallet by default, with the prepared PGlite cluster embedded so that its first start on a
 * fresh DATA_DIR skips initdb.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ensurePreparedCluster } from "./prepare-cluster.ts";

const ROOT = resolve(import.meta.dir, "..");
const { values } = parseArgs({ options: { outfile: { type: "string", default: "dist/wallet" } } });
const cluster = await ensurePreparedCluster();
// A file named next to the entry point is embedded as it is, found at run time in Bun.embeddedFiles.
const build = Bun.spawn(
  [process.execPath, "build", "--compile", "src/main.ts", cluster, "--outfile", resolve(values.outfile)],
  { cwd: ROOT, stdout: "inherit", stderr: "inherit" },
);
process.exit(await build.exited);
