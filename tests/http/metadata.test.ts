/**
 * Metadata (contract §8): up to 20 string keys of at most 40 characters with values of at most 500, on
 * users, teams, wallets, cards, top-ups, withdrawals, transfers and authorizations; returned on reads;
 * the transaction list filters on it with `metadata[key]=value`.
 */
import { describe, expect, test } from "bun:test";
import { createCard, createUser, fundedWalletWithCard, getCard, getWallet } from "../helpers/fixtures.ts";
import { expectProblem } from "../helpers/problem-details.ts";
import { type Schemas, useServer } from "../helpers/server.ts";

const server = useServer();

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

const post = (path: string, body: unknown) => server.request(path, { method: "POST", json: body });
const patch = (path: string, body: unknown) => server.request(path, { method: "PATCH", json: body });

const keys = (count: number) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, `v${i}`]));

describe("metadata on every resource", () => {
  test("is stored, returned on reads, and replaced as a whole by a PATCH", async () => {
    const user = await json<Schemas["User"]>(
      await post("/v1/users", {
        email: `m.${crypto.randomUUID()}@example.com`,
        name: "M",
        metadata: { employeeId: "E-1" },
      }),
      201,
    );
    expect(user.metadata).toEqual({ employeeId: "E-1" });
    const team = await json<Schemas["Team"]>(
      await post("/v1/teams", { name: `Team ${crypto.randomUUID()}`, metadata: { costCentre: "CC-1" } }),
      201,
    );
    expect((await json<Schemas["Team"]>(await server.request(`/v1/teams/${team.id}`), 200)).metadata).toEqual(
      {
        costCentre: "CC-1",
      },
    );
    const wallet = await json<Schemas["Wallet"]>(
      await post("/v1/wallets", { userId: user.id, metadata: { purpose: "travel" } }),
      201,
    );
    const card = await createCard(server.api, { walletId: wallet.id, metadata: { holder: "front desk" } });
    expect((await getCard(server.api, card.id)).metadata).toEqual({ holder: "front desk" });

    const renamed = await json<Schemas["User"]>(await patch(`/v1/users/${user.id}`, { name: "N" }), 200);
    expect(renamed.metadata).toEqual({ employeeId: "E-1" });
    const replaced = await json<Schemas["Wallet"]>(
      await patch(`/v1/wallets/${wallet.id}`, { metadata: { region: "SEA" } }),
      200,
    );
    expect(replaced.metadata).toEqual({ region: "SEA" });
    expect(
      (await json<Schemas["Card"]>(await patch(`/v1/cards/${card.id}`, { metadata: {} }), 200)).metadata,
    ).toEqual({});
    expect((await getWallet(server.api, wallet.id)).metadata).toEqual({ region: "SEA" });
  });

  test("20 keys, 40-character keys and 500-character values are the limits; past them is 400 and nothing is stored", async () => {
    const user = await createUser(server.api);
    const longest = { ["k".repeat(40)]: "v".repeat(500) };
    expect(
      (await json<Schemas["User"]>(await patch(`/v1/users/${user.id}`, { metadata: keys(20) }), 200))
        .metadata,
    ).toEqual(keys(20));
    expect(
      (await json<Schemas["User"]>(await patch(`/v1/users/${user.id}`, { metadata: longest }), 200)).metadata,
    ).toEqual(longest);
    for (const metadata of [
      keys(21),
      { ["k".repeat(41)]: "v" },
      { k: "v".repeat(501) },
      { "": "v" },
      { "a[b]": "v" },
      { k: 1 },
      { k: null },
      ["v"],
    ]) {
      await expectProblem(await patch(`/v1/users/${user.id}`, { metadata }), 400, "validation_failed");
      await expectProblem(await post(`/v1/wallets`, { userId: user.id, metadata }), 400, "validation_failed");
    }
    expect((await json<Schemas["User"]>(await server.request(`/v1/users/${user.id}`), 200)).metadata).toEqual(
      longest,
    );
    const wallets = await server.api.GET("/v1/wallets", { params: { query: { userId: user.id } } });
    expect(wallets.data?.data).toEqual([]);
  });
});

describe("metadata on money", () => {
  test("top-ups, withdrawals, transfers and authorizations carry it; the transaction list filters on metadata[key]=value", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 0);
    const other = await json<Schemas["Wallet"]>(await post("/v1/wallets", { userId: wallet.userId }), 201);
    const topup = await json<Schemas["Transaction"]>(
      await post(`/v1/wallets/${wallet.id}/topups`, {
        amount: 50_000,
        metadata: { invoice: "INV-1", team: "ops" },
      }),
      201,
    );
    expect(topup.metadata).toEqual({ invoice: "INV-1", team: "ops" });
    const withdrawal = await json<Schemas["Transaction"]>(
      await post(`/v1/wallets/${wallet.id}/withdrawals`, { amount: 1000, metadata: { team: "ops" } }),
      201,
    );
    const transfer = await json<Schemas["Transfer"]>(
      await post("/v1/transfers", {
        fromWalletId: wallet.id,
        toWalletId: other.id,
        amount: 2000,
        metadata: { team: "sales" },
      }),
      201,
    );
    expect(transfer.metadata).toEqual({ team: "sales" });
    expect(transfer.transactions.map((t) => t.metadata)).toEqual([{ team: "sales" }, { team: "sales" }]);
    const authorization = await json<Schemas["Authorization"]>(
      await post(`/v1/cards/${card.id}/authorizations`, {
        amount: 3000,
        merchant: { name: "Hotel" },
        metadata: { team: "ops", trip: "TR-9" },
      }),
      201,
    );
    expect(authorization.metadata).toEqual({ team: "ops", trip: "TR-9" });

    const list = async (query: string) =>
      (
        await json<Schemas["TransactionPage"]>(
          await server.request(`/v1/wallets/${wallet.id}/transactions?${query}`),
          200,
        )
      ).data.map((t) => t.id);
    const [spend] = await list("type=card_spend");
    if (spend === undefined) throw new Error("the authorization posted no card_spend");
    expect(await list("metadata[team]=ops&sort=asc")).toEqual([topup.id, withdrawal.id, spend]);
    expect(await list("metadata[team]=ops&metadata[trip]=TR-9")).toEqual([spend]);
    expect(await list("metadata[team]=sales")).toEqual(transfer.transactions.slice(0, 1).map((t) => t.id));
    expect(await list("metadata[team]=none")).toEqual([]);
    expect(await list(`metadata[invoice]=INV-1&type=topup&limit=5`)).toEqual([topup.id]);

    for (const query of [
      `metadata[${"k".repeat(41)}]=x`,
      "metadata=ops",
      "metadata=ops&metadata[team]=ops",
      "metadata[team]=a&metadata[team]=b",
      "metadata[a][b]=c",
      "metadat[team]=ops",
    ]) {
      await expectProblem(
        await server.request(`/v1/wallets/${wallet.id}/transactions?${query}`),
        400,
        "validation_failed",
      );
    }
  });
});
