/**
 * Input that passes the schemas must never fail further in: timestamps PostgreSQL would refuse are
 * refused at the edge (400, never 500), and ids are compared whatever their letter case, since a UUID
 * in upper case names the same resource.
 */
import { describe, expect, test } from "bun:test";
import {
  createCard,
  createUserWallet,
  expectLedgerConsistent,
  fundedWallet,
  getWallet,
} from "../helpers/fixtures.ts";
import { expectProblem } from "../helpers/problem-details.ts";
import { rowCount } from "../helpers/rows.ts";
import { useServer } from "../helpers/server.ts";

const server = useServer();

describe("date-time query filters", () => {
  const listed = (walletId: string, query: string) =>
    server.request(`/v1/wallets/${walletId}/transactions?${query}`);

  test("a timestamp that is no real instant, or that PostgreSQL cannot take, is 400 on from and to", async () => {
    const wallet = await fundedWallet(server.api, 1000);
    for (const timestamp of [
      "2026-02-29T00:00:00Z", // 2026 is not a leap year
      "2026-04-31T00:00:00Z", // April has 30 days
      "0000-01-01T00:00:00Z", // there is no year 0
      "2026-01-01T00:00:00-23:59", // beyond PostgreSQL's ±15:59
      "2026-01-01T00:00:00+16:00",
      "2026-01-01T24:00:00Z", // hours run 00-23 in RFC 3339
      "2026-01-01T23:59:60Z", // no leap seconds
      "2026-01-01T12:00:60Z",
      "2026-01-01 00:00:00Z", // RFC 3339 is T-separated here
      "Thu Jan 01 2026 00:00:00 GMT+0000 (UTC)", // what JavaScript's Date also parses
      "01/02/2026",
    ]) {
      for (const name of ["from", "to"]) {
        const problem = await expectProblem(
          await listed(wallet.id, `${name}=${encodeURIComponent(timestamp)}`),
          400,
          "validation_failed",
        );
        expect(
          problem.errors?.map((error) => error.path),
          timestamp,
        ).toEqual([`query.${name}`]);
      }
    }
    // Refused reads changed nothing.
    const after = await expectLedgerConsistent(server.api, wallet.id);
    expect(after.balance).toBe(1000);
  });

  test("real instants at the edges of the calendar and of the offsets are accepted", async () => {
    const wallet = await fundedWallet(server.api, 1000);
    for (const timestamp of [
      "2024-02-29T00:00:00Z",
      "2000-02-29T23:59:59.999999Z",
      "0001-01-01T00:00:00Z",
      "2026-01-01T00:00:00+15:59",
      "2026-01-01T00:00:00-12:00",
      "2026-01-01t00:00:00z",
    ]) {
      const response = await listed(wallet.id, `from=${encodeURIComponent(timestamp)}`);
      expect(response.status, timestamp).toBe(200);
      const page = (await response.json()) as { data: unknown[] };
      expect(page.data.length, timestamp).toBe(1);
    }
  });
});

describe("ids in any letter case", () => {
  test("a transfer from a wallet to its own id in upper case is 400 same_wallet, and moves nothing", async () => {
    const wallet = await fundedWallet(server.api, 5000);
    const transfersBefore = await rowCount(server.db, "transfers");
    const problem = await expectProblem(
      await server.request("/v1/transfers", {
        method: "POST",
        json: { fromWalletId: wallet.id, toWalletId: wallet.id.toUpperCase(), amount: 100 },
      }),
      400,
      "same_wallet",
    );
    expect(problem.detail).toContain("different wallets");
    expect(await rowCount(server.db, "transfers")).toBe(transfersBefore);
    const after = await expectLedgerConsistent(server.api, wallet.id);
    expect(after.balance).toBe(5000);
  });

  test("path, body and query ids are read in lower case: the same resource, not another one", async () => {
    const { user, wallet } = await createUserWallet(server.api);
    const card = await createCard(server.api, { walletId: wallet.id.toUpperCase() });
    expect(card.walletId).toBe(wallet.id);

    const read = await server.request(`/v1/wallets/${wallet.id.toUpperCase()}`);
    expect(read.status).toBe(200);
    expect(((await read.json()) as { id: string }).id).toBe(wallet.id);

    // Naming the current owner or wallet in another case is not an attempt to change it.
    const renamed = await server.request(`/v1/wallets/${wallet.id}`, {
      method: "PATCH",
      json: { name: "Renamed", userId: user.id.toUpperCase() },
    });
    expect(renamed.status).toBe(200);
    const limited = await server.request(`/v1/cards/${card.id}`, {
      method: "PATCH",
      json: { dailyLimit: 20000, walletId: wallet.id.toUpperCase() },
    });
    expect(limited.status).toBe(200);

    const cards = await server.request(`/v1/cards?walletId=${wallet.id.toUpperCase()}`);
    expect(((await cards.json()) as { data: { id: string }[] }).data.map((item) => item.id)).toEqual([
      card.id,
    ]);
    expect((await getWallet(server.api, wallet.id)).name).toBe("Renamed");
  });

  test("the same Idempotency-Key with the same ids in another case is the same request: replayed", async () => {
    const from = await fundedWallet(server.api, 5000);
    const to = await fundedWallet(server.api, 0);
    const key = crypto.randomUUID();
    const send = (body: { fromWalletId: string; toWalletId: string; amount: number }) =>
      server.request("/v1/transfers", { method: "POST", json: body, headers: { "idempotency-key": key } });
    const first = await send({ fromWalletId: from.id, toWalletId: to.id, amount: 700 });
    expect(first.status).toBe(201);
    const again = await send({
      fromWalletId: from.id.toUpperCase(),
      toWalletId: to.id.toUpperCase(),
      amount: 700,
    });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await getWallet(server.api, to.id)).balance).toBe(700);
  });
});
