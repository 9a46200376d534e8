/**
 * Every error code the service can answer is in the table of docs/api.md, with its status, and the
 * table names no code the service never answers. The codes are read from the source, where each is
 * written once: an ApiError, one of its helpers, a notFound(resource) or a schema's x-error-code.
 */
import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** code → status, as the source writes them (a schema's x-error-code is a 400). */
async function codesInSource(): Promise<Map<string, number>> {
  const codes = new Map<string, number>();
  const helperStatus: Record<string, number> = { badRequest: 400, conflict: 409, unprocessable: 422 };
  for (const file of sourceFiles(join(ROOT, "src"))) {
    const text = await Bun.file(file).text();
    for (const match of text.matchAll(/new ApiError\(\s*(\d{3}),\s*"([a-z_]+)"/g)) {
      codes.set(match[2] ?? "", Number(match[1]));
    }
    for (const match of text.matchAll(/\b(badRequest|conflict|unprocessable)\(\s*"([a-z_]+)"/g)) {
      codes.set(match[2] ?? "", helperStatus[match[1] ?? ""] ?? 0);
    }
    for (const match of text.matchAll(/\bnotFound\(\s*"([a-z_]+)"/g)) codes.set(`${match[1]}_not_found`, 404);
    for (const match of text.matchAll(/ERROR_CODE_KEYWORD\]:\s*"([a-z_]+)"/g)) codes.set(match[1] ?? "", 400);
  }
  return codes;
}

/** code → status, from the table under "## Errors" in docs/api.md. */
async function codesInDocs(): Promise<Map<string, number>> {
  const text = await Bun.file(join(ROOT, "docs/api.md")).text();
  const section = text.slice(text.indexOf("## Errors"), text.indexOf("\n## ", text.indexOf("## Errors") + 1));
  const codes = new Map<string, number>();
  for (const match of section.matchAll(/^\| (\d{3}) \| `([a-z_]+)` \|/gm))
    codes.set(match[2] ?? "", Number(match[1]));
  return codes;
}

test("every error code in the source is documented in docs/api.md with its status", async () => {
  const documented = await codesInDocs();
  expect(documented.size).toBeGreaterThan(40);
  for (const [code, status] of await codesInSource()) {
    expect(documented.get(code), `${code} (${status}) is not in docs/api.md`).toBe(status);
  }
});

test("docs/api.md documents no code the source never answers", async () => {
  const inSource = await codesInSource();
  for (const code of (await codesInDocs()).keys()) {
    expect(inSource.has(code), `${code} is documented but never answered`).toBe(true);
  }
});
