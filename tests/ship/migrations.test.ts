/**
 * The binary carries its migrations inside it (src/platform/migrations.ts): every file of
 * migrations/ must be listed there, with exactly the text of the file, in file-name order.
 */
import { describe, expect, test } from "bun:test";
import { readdir } from "node:fs/promises";
import { MIGRATIONS } from "../../src/platform/migrations.ts";

const MIGRATIONS_DIR = new URL("../../migrations/", import.meta.url).pathname;

describe("embedded migrations", () => {
  test("every file in migrations/ is listed in MIGRATIONS with identical text, and nothing else is", async () => {
    const files = (await readdir(MIGRATIONS_DIR)).filter((name) => name.endsWith(".sql")).sort();
    expect(files.length).toBeGreaterThan(0);
    expect(MIGRATIONS.map((migration) => migration.fileName)).toEqual(files);
    for (const migration of MIGRATIONS) {
      const text = await Bun.file(`${MIGRATIONS_DIR}${migration.fileName}`).text();
      expect(migration.sql === text, `${migration.fileName} differs from the embedded text`).toBe(true);
    }
  });

  test("migrations/ holds only numbered .sql files", async () => {
    for (const name of await readdir(MIGRATIONS_DIR)) expect(name).toMatch(/^\d{3}_[a-z0-9_]+\.sql$/);
  });
});
