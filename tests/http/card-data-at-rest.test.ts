/**
 * Card numbers and CVVs must not be recoverable from the database without the card key: not in
 * plain form, and not as an unkeyed hash (a 16-digit number with known last4 and expiry is about
 * 10^8 candidates, a CVV 10^3 more, so a plain SHA-256 of them is brute-forced in minutes).
 */
import { describe, expect, test } from "bun:test";
import { createUserWallet, futureExpiry, uniqueCardNumber } from "../helpers/fixtures.ts";
import { expectProblem } from "../helpers/problem-details.ts";
import { type Schemas, useServer } from "../helpers/server.ts";

const server = useServer();

/** JSON with object keys sorted: what the request hash of Idempotency-Key was once a bare SHA-256 of. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Every unkeyed digest of `text` an attacker could test candidates against, as hex and base64. */
function unkeyedDigests(text: string): string[] {
  return (["sha256", "sha1", "md5"] as const).flatMap((algorithm) => {
    const digest = new Bun.CryptoHasher(algorithm).update(text).digest();
    return [digest.toString("hex"), digest.toString("base64"), digest.toString("base64url")];
  });
}

/** Every leaf value of a JSON document. */
function leaves(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(leaves);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(leaves);
  return [value];
}

const parsedJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

interface StoredValue {
  where: string;
  text: string;
  /** bytea values, as their raw bytes read as Latin-1 (so an ASCII number shows as itself). */
  bytes?: string;
}

/** Every text, varchar, char, json, jsonb and bytea value of every table of the service's schema. */
async function everyStoredValue(): Promise<StoredValue[]> {
  const columns = await server.db.query<{ table_name: string; column_name: string; data_type: string }>(
    `SELECT c.table_name, c.column_name, c.data_type
       FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
        AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea')`,
  );
  expect(columns.rows.some((column) => column.table_name === "idempotency_keys")).toBe(true);
  const values: StoredValue[] = [];
  for (const { table_name: table, column_name: column, data_type: type } of columns.rows) {
    const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;
    const { rows } = await server.db.query<{ value: string | null }>(
      `SELECT ${quoted(column)}::text AS value FROM ${quoted(table)}`,
    );
    for (const { value } of rows) {
      if (value === null) continue;
      const where = `${table}.${column}`;
      values.push(
        type === "bytea"
          ? { where, text: value, bytes: Buffer.from(value.slice(2), "hex").toString("latin1") }
          : { where, text: value },
      );
    }
  }
  return values;
}

describe("card data at rest", () => {
  test("no table holds a card number, a CVV, or an unkeyed hash of a request carrying them", async () => {
    const { wallet } = await createUserWallet(server.api);
    const secrets: { number: string; cvv: string }[] = [];
    /** Every request line and body the old request hash was a bare SHA-256 of. */
    const hashedRequests: string[] = [];
    const rawBodies: string[] = [];

    const post = async (body: Record<string, unknown>, idempotencyKey?: string) => {
      rawBodies.push(JSON.stringify(body));
      if (idempotencyKey !== undefined) hashedRequests.push(`POST /v1/cards\n${canonicalJson(body)}`);
      return server.request("/v1/cards", {
        method: "POST",
        json: body,
        headers: idempotencyKey === undefined ? {} : { "idempotency-key": idempotencyKey },
      });
    };
    // Three-digit CVVs, as issued ones are: a four-digit one could be a card's last4 by chance.
    const given = () => ({ cardNo: uniqueCardNumber(), cvv: "482", ...futureExpiry() });

    // Given numbers, with and without an Idempotency-Key, and a replay of the keyed one.
    const keyed = { walletId: wallet.id, ...given() };
    const keyedKey = crypto.randomUUID();
    const first = await post(keyed, keyedKey);
    expect(first.status).toBe(201);
    const replay = await post(keyed, keyedKey);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const unkeyed = { walletId: wallet.id, ...given(), cvv: "377" };
    expect((await post(unkeyed)).status).toBe(201);
    secrets.push({ number: keyed.cardNo, cvv: keyed.cvv }, { number: unkeyed.cardNo, cvv: unkeyed.cvv });

    // Refusals of a card-carrying request are stored with the key too: a taken number, a failed Luhn check.
    await expectProblem(
      await post({ walletId: wallet.id, ...given(), cardNo: keyed.cardNo, cvv: "905" }, crypto.randomUUID()),
      409,
      "card_number_taken",
    );
    const notLuhn = `${keyed.cardNo.slice(0, -1)}${(Number(keyed.cardNo.slice(-1)) + 1) % 10}`;
    await expectProblem(
      await post({ walletId: wallet.id, ...given(), cardNo: notLuhn, cvv: "612" }, crypto.randomUUID()),
      400,
      "invalid_card_number",
    );
    secrets.push({ number: notLuhn, cvv: "612" }, { number: keyed.cardNo, cvv: "905" });

    // Issued cards, with and without a key: their details are known only through /sensitive.
    const issuedIds: string[] = [];
    for (const key of [crypto.randomUUID(), undefined]) {
      const response = await post({ walletId: wallet.id }, key);
      expect(response.status).toBe(201);
      issuedIds.push(((await response.json()) as Schemas["Card"]).id);
    }

    // A PATCH giving another number and CVV.
    const patched = (await first.json()) as Schemas["Card"];
    const newDetails = given();
    const patch = await server.request(`/v1/cards/${patched.id}`, {
      method: "PATCH",
      json: { ...newDetails, cvv: "058" },
    });
    expect(patch.status).toBe(200);
    rawBodies.push(JSON.stringify({ ...newDetails, cvv: "058" }));
    secrets.push({ number: newDetails.cardNo, cvv: "058" });

    for (const id of [...issuedIds, patched.id]) {
      const { data } = await server.api.GET("/v1/cards/{id}/sensitive", { params: { path: { id } } });
      if (data === undefined) throw new Error(`no sensitive details for card ${id}`);
      secrets.push({ number: data.number, cvv: data.cvv });
    }
    expect(secrets.find(({ number }) => number === newDetails.cardNo)).toBeDefined();

    const numbers = secrets.map(({ number }) => number);
    const cvvs = new Set(secrets.map(({ cvv }) => cvv));
    const digests = new Set(
      [...hashedRequests, ...rawBodies, ...numbers, ...cvvs].flatMap((text) => unkeyedDigests(text)),
    );

    const stored = await everyStoredValue();
    const keyRows = stored.filter((value) => value.where === "idempotency_keys.request_hash");
    expect(keyRows.length).toBe(4);
    const leaks: string[] = [];
    for (const { where, text, bytes } of stored) {
      for (const number of numbers) {
        if (text.includes(number) || bytes?.includes(number)) leaks.push(`${where}: a card number`);
      }
      // A CVV is short: looked for as a whole value, or as a whole JSON string in a stored body.
      if (
        cvvs.has(text) ||
        leaves(parsedJson(text)).some((leaf) => typeof leaf === "string" && cvvs.has(leaf))
      ) {
        leaks.push(`${where}: a CVV`);
      }
      for (const digest of digests) {
        if (text.includes(digest)) leaks.push(`${where}: an unkeyed hash of card data`);
      }
    }
    expect(leaks).toEqual([]);
  });

  test("no table holds an API key's secret, nor its random part in any encoding; only its SHA-256 and prefix", async () => {
    const team = (
      await server.api.POST("/v1/teams", { body: { name: `Keys ${crypto.randomUUID().slice(0, 8)}` } })
    ).data;
    const created: { id: string; secret: string }[] = [];
    const make = async (body: Record<string, unknown>, idempotencyKey?: string) => {
      const response = await server.request("/v1/api-keys", {
        method: "POST",
        json: body,
        headers: idempotencyKey === undefined ? {} : { "idempotency-key": idempotencyKey },
      });
      expect(response.status).toBe(201);
      return (await response.json()) as { id: string; secret?: string };
    };
    // With and without an Idempotency-Key (whose stored answer is replayed), bound and unbound, used and revoked.
    const idempotencyKey = crypto.randomUUID();
    const keyed = await make({ name: "keyed", scopes: ["read"] }, idempotencyKey);
    await make({ name: "keyed", scopes: ["read"] }, idempotencyKey);
    for (const key of [keyed, await make({ name: "team", scopes: ["read", "money"], teamId: team?.id })]) {
      if (key.secret === undefined) throw new Error("a created key came without its secret");
      created.push({ id: key.id, secret: key.secret });
      const used = await fetch(`${server.baseUrl}/v1/users`, {
        headers: { authorization: `Bearer ${key.secret}` },
      });
      expect(used.status).toBe(200);
    }
    const revoked = created[1];
    expect((await server.request(`/v1/api-keys/${revoked?.id}`, { method: "DELETE" })).status).toBe(200);

    const forms = created.flatMap(({ secret }) => {
      const random = secret.slice("wak_".length);
      const bytes = Buffer.from(random, "hex");
      return [
        secret,
        random,
        random.toUpperCase(),
        bytes.toString("base64"),
        bytes.toString("base64url"),
        bytes.toString("latin1"),
      ];
    });
    const leaks: string[] = [];
    for (const { where, text, bytes } of await everyStoredValue()) {
      for (const form of forms) {
        if (text.includes(form) || bytes?.includes(form)) leaks.push(`${where}: an API key's secret`);
      }
    }
    expect(leaks).toEqual([]);
  });
});
