/**
 * The database reporting a full disk (SQLSTATE 53100 disk_full, as PostgreSQL and PGlite raise it when
 * a file cannot grow) is a 503 storage_full problem, never a 500: nothing of the request is kept, and
 * the service goes on serving on the same connection. A real full disk is tests/ship/disk-full.test.ts;
 * here the database raises the same error from a trigger, on both engines.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { fundedWallet, getWallet, topUp } from "../helpers/fixtures.ts";
import { expectProblem } from "../helpers/problem-details.ts";
import { useServer } from "../helpers/server.ts";

const server = useServer();

afterEach(async () => {
  await server.db.query("DROP TRIGGER IF EXISTS disk_full ON transactions");
  await server.db.query("DROP FUNCTION IF EXISTS raise_disk_full()");
});

describe("a full disk", () => {
  test("answers 503 storage_full, keeps nothing of the request, and the next write succeeds", async () => {
    const wallet = await fundedWallet(server.api, 1_000);
    await server.db.query(`
      CREATE FUNCTION raise_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'could not extend file "base/5/16384": No space left on device'
          USING ERRCODE = 'disk_full';
      END $$`);
    await server.db.query(
      "CREATE TRIGGER disk_full BEFORE INSERT ON transactions FOR EACH ROW EXECUTE FUNCTION raise_disk_full()",
    );

    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await server.request(`/v1/wallets/${wallet.id}/topups`, {
        method: "POST",
        json: { amount: 500 },
      });
      const problem = await expectProblem(response, 503, "storage_full");
      expect(problem.detail).not.toContain("base/5");
      // Room is made by an operator, in minutes: clients are told not to come back every second.
      expect(response.headers.get("retry-after")).toBe("30");
    }
    expect((await getWallet(server.api, wallet.id)).balance).toBe(1_000);

    await server.db.query("DROP TRIGGER disk_full ON transactions");
    await topUp(server.api, wallet.id, 500);
    expect((await getWallet(server.api, wallet.id)).balance).toBe(1_500);
  });
});
