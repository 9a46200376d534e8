/**
 * A wallet's balance at an instant and its statements (contract §8), checked against the ledger the
 * API lists, and the statement's CSV (RFC 4180) parsed back.
 */
import { describe, expect, test } from "bun:test";
import { balanceDelta } from "../../src/modules/ledger/credits.ts";
import { authorize, fundedWalletWithCard, walletTransactions } from "../helpers/fixtures.ts";
import { expectProblem } from "../helpers/problem-details.ts";
import { type Schemas, TestClock, useServer } from "../helpers/server.ts";

const clock = new TestClock(new Date("2031-01-10T09:00:00.000Z"));
const server = useServer({}, { clock });

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

const post = (path: string, body: unknown) => server.request(path, { method: "POST", json: body });

/** RFC 4180 read back: records of fields, quoted fields with doubled quotes, CRLF after every record. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      record.push(field);
      field = "";
    } else if (char === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      i++;
    } else field += char;
  }
  expect(field, "the last record ends with CRLF").toBe("");
  expect(record).toEqual([]);
  return records;
}

/** A wallet with a history spread over three days: top-ups, a withdrawal, card spends, a refund, transfers. */
async function walletWithHistory() {
  clock.set("2031-01-10T09:00:00.000Z");
  const { wallet, card } = await fundedWalletWithCard(server.api, 0);
  const other = await json<Schemas["Wallet"]>(await post("/v1/wallets", { userId: wallet.userId }), 201);
  await post(`/v1/wallets/${other.id}/topups`, { amount: 9000 });
  await post(`/v1/wallets/${wallet.id}/topups`, { amount: 100_000, description: 'Salary, "January"\r\nnet' });
  clock.set("2031-01-11T10:00:00.000Z");
  const spend = await authorize(server.api, card.id, 2500, { merchant: "Kopi" });
  await post(`/v1/wallets/${wallet.id}/withdrawals`, { amount: 10_000, metadata: { reason: "rent" } });
  clock.set("2031-01-11T18:00:00.000Z");
  const [spendRow] = (await walletTransactions(server.api, wallet.id)).filter((t) => t.type === "card_spend");
  await post(`/v1/transactions/${spendRow?.id}/refunds`, { amount: 500 });
  await post("/v1/transfers", { fromWalletId: other.id, toWalletId: wallet.id, amount: 4000 });
  await authorize(server.api, card.id, 7000, { capture: false }); // a hold: moves no money
  clock.set("2031-01-12T08:00:00.000Z");
  await post("/v1/transfers", { fromWalletId: wallet.id, toWalletId: other.id, amount: 1000 });
  expect(spend.status).toBe("captured");
  return { wallet, ledger: await walletTransactions(server.api, wallet.id) };
}

/** The balance the ledger gives after every row created at or before `instant` (strictly before with `before`). */
const ledgerBalance = (ledger: Schemas["Transaction"][], instant: string, before = false) =>
  ledger
    .filter((t) => (before ? t.createdAt < instant : t.createdAt <= instant))
    .reduce((sum, t) => sum + balanceDelta(t.type, t.amount), 0);

describe("balance at an instant", () => {
  test("is what the ledger gave at that instant, before, between and after the movements", async () => {
    const { wallet, ledger } = await walletWithHistory();
    for (const at of [
      "2031-01-09T00:00:00.000Z",
      "2031-01-10T09:00:00.000Z",
      "2031-01-11T09:59:59.999Z",
      "2031-01-11T10:00:00.000Z",
      "2031-01-11T12:00:00.000Z",
      "2031-01-12T08:00:00.000Z",
      "2032-01-01T00:00:00.000Z",
    ]) {
      const answer = await json<Schemas["BalanceAt"]>(
        await server.request(`/v1/wallets/${wallet.id}/balance?at=${encodeURIComponent(at)}`),
        200,
      );
      expect(answer, at).toEqual({ balance: ledgerBalance(ledger, at), at });
    }
    const now = await json<Schemas["BalanceAt"]>(
      await server.request(`/v1/wallets/${wallet.id}/balance`),
      200,
    );
    expect(now).toEqual({
      balance: 100_000 - 2500 - 10_000 + 500 + 4000 - 1000,
      at: "2031-01-12T08:00:00.000Z",
    });
  });

  test("a bad instant is 400, an unknown wallet 404", async () => {
    const { wallet } = await fundedWalletWithCard(server.api, 0);
    await expectProblem(
      await server.request(`/v1/wallets/${wallet.id}/balance?at=yesterday`),
      400,
      "validation_failed",
    );
    await expectProblem(
      await server.request(`/v1/wallets/${wallet.id}/balance?when=now`),
      400,
      "validation_failed",
    );
    await expectProblem(
      await server.request("/v1/wallets/01890f6e-0000-7000-8000-000000000000/balance"),
      404,
      "wallet_not_found",
    );
  });
});

describe("statements", () => {
  test("opening + credits − debits = closing, the totals are the ledger's, and the CSV holds the same transactions", async () => {
    const { wallet, ledger } = await walletWithHistory();
    const from = "2031-01-11T00:00:00.000Z";
    const to = "2031-01-12T00:00:00.000Z";
    const url = `/v1/wallets/${wallet.id}/statement?from=${from}&to=${to}`;
    const statement = await json<Schemas["Statement"]>(await server.request(url), 200);
    const inPeriod = ledger.filter((t) => t.createdAt >= from && t.createdAt < to);
    expect(statement.transactions).toEqual(inPeriod);
    expect(inPeriod.map((t) => t.type)).toEqual(["card_spend", "withdrawal", "refund", "transfer_in"]);
    expect(statement.openingBalance).toBe(ledgerBalance(ledger, from, true));
    expect(statement.closingBalance).toBe(ledgerBalance(ledger, to, true));
    expect(statement.totals).toEqual({
      topup: 0,
      withdrawal: 10_000,
      transfer_in: 4000,
      transfer_out: 0,
      card_spend: 2500,
      refund: 500,
    });
    expect(statement.openingBalance + 4000 + 500 - 10_000 - 2500).toBe(statement.closingBalance);
    expect(statement).toMatchObject({ walletId: wallet.id, currency: wallet.currency, from, to });

    const csvResponse = await server.request(url, { headers: { accept: "text/csv" } });
    expect(csvResponse.status).toBe(200);
    expect(csvResponse.headers.get("content-type")).toStartWith("text/csv");
    const [header, ...records] = parseCsv(await csvResponse.text());
    expect(header).toEqual([
      "id",
      "createdAt",
      "type",
      "amount",
      "currency",
      "balanceAfter",
      "description",
      "cardId",
      "authorizationId",
      "transferId",
      "refundOf",
      "metadata",
    ]);
    expect(records).toEqual(
      inPeriod.map((t) => [
        t.id,
        t.createdAt,
        t.type,
        String(t.amount),
        t.currency,
        String(t.balanceAfter),
        t.description ?? "",
        t.cardId ?? "",
        t.authorizationId ?? "",
        t.transferId ?? "",
        t.refundOf ?? "",
        Object.keys(t.metadata).length === 0 ? "" : JSON.stringify(t.metadata),
      ]),
    );
  });

  test("quotes, commas and line breaks survive the CSV; an empty period is a header alone", async () => {
    const { wallet } = await walletWithHistory();
    const url = `/v1/wallets/${wallet.id}/statement?from=2031-01-10T00:00:00.000Z&to=2031-01-10T23:00:00.000Z`;
    const [header, topup] = parseCsv(
      await (await server.request(url, { headers: { accept: "text/csv" } })).text(),
    );
    expect(header?.[6]).toBe("description");
    expect(topup?.[6]).toBe('Salary, "January"\r\nnet');
    const empty = await server.request(
      `/v1/wallets/${wallet.id}/statement?from=2030-01-01T00:00:00.000Z&to=2030-02-01T00:00:00.000Z`,
      { headers: { accept: "text/csv" } },
    );
    expect(parseCsv(await empty.text())).toHaveLength(1);
    const emptyJson = await json<Schemas["Statement"]>(
      await server.request(
        `/v1/wallets/${wallet.id}/statement?from=2030-01-01T00:00:00.000Z&to=2030-02-01T00:00:00.000Z`,
      ),
      200,
    );
    expect(emptyJson).toMatchObject({ openingBalance: 0, closingBalance: 0, transactions: [] });
  });

  test("a period that ends before it starts, or without both ends, is 400; an unknown wallet 404", async () => {
    const { wallet } = await fundedWalletWithCard(server.api, 0);
    const base = `/v1/wallets/${wallet.id}/statement`;
    await expectProblem(
      await server.request(`${base}?from=2031-01-02T00:00:00.000Z&to=2031-01-01T00:00:00.000Z`),
      400,
      "invalid_period",
    );
    await expectProblem(
      await server.request(`${base}?from=2031-01-01T00:00:00.000Z&to=2031-01-01T00:00:00.000Z`),
      400,
      "invalid_period",
    );
    await expectProblem(
      await server.request(`${base}?from=2031-01-01T00:00:00.000Z`),
      400,
      "validation_failed",
    );
    await expectProblem(
      await server.request(
        "/v1/wallets/01890f6e-0000-7000-8000-000000000000/statement?from=2031-01-01T00:00:00.000Z&to=2031-02-01T00:00:00.000Z",
        { headers: { accept: "text/csv" } },
      ),
      404,
      "wallet_not_found",
    );
  });
});
