// Bun's `with { type: "text" }` and `with { type: "file" }` imports: a file's text, or its path.
declare module "*.sql" {
  const text: string;
  export default text;
}
declare module "*.wasm" {
  const path: string;
  export default path;
}
declare module "*.data" {
  const path: string;
  export default path;
}
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const path: string;
  export default path;
}
declare module "swagger-ui-dist/swagger-ui.css" {
  const path: string;
  export default path;
}
// Outside the package's exports map, which Bun allows and TypeScript does not: its version names the
// prepared cluster (src/platform/prepared-cluster.ts).
declare module "@electric-sql/pglite/package.json" {
  const packageJson: { version: string };
  export default packageJson;
}
