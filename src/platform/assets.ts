/**
 * Files the service needs at run time, imported so that `bun build --compile` embeds them in the
 * binary: the PGlite WebAssembly modules and data bundle, and the API reference's browser assets.
 * In development the same imports resolve to the files in node_modules.
 */
import initdbWasmPath from "@electric-sql/pglite/initdb.wasm" with { type: "file" };
import pgliteDataPath from "@electric-sql/pglite/pglite.data" with { type: "file" };
import pgliteWasmPath from "@electric-sql/pglite/pglite.wasm" with { type: "file" };
import swaggerUiCssPath from "swagger-ui-dist/swagger-ui.css" with { type: "file" };
import swaggerUiBundlePath from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };

/** What PGlite would otherwise look up next to its own module, which fails inside a compiled binary. */
export async function pgliteAssets() {
  const [pgliteWasmModule, initdbWasmModule] = await Promise.all([
    WebAssembly.compile(await Bun.file(pgliteWasmPath).arrayBuffer()),
    WebAssembly.compile(await Bun.file(initdbWasmPath).arrayBuffer()),
  ]);
  return { pgliteWasmModule, initdbWasmModule, fsBundle: Bun.file(pgliteDataPath) };
}

export const docsAssets = {
  "swagger-ui-bundle.js": { path: swaggerUiBundlePath, type: "text/javascript; charset=utf-8" },
  "swagger-ui.css": { path: swaggerUiCssPath, type: "text/css; charset=utf-8" },
} as const;
