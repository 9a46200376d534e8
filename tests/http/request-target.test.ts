/**
 * The request target decides nothing by itself: a route that exists asks for a key, whatever the Host
 * header or the spelling of the path; a Host that cannot be one, or none at all, is 400. Every form is
 * sent over a plain socket, since fetch would normalise it.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { addMember, authorize, createTeam, fundedWalletWithCard, topUp } from "../helpers/fixtures.ts";
import { startServiceProcess } from "../helpers/process.ts";
import { rawRequest, requestText } from "../helpers/raw-http.ts";
import { TEST_ADMIN_KEY, useServer } from "../helpers/server.ts";

const server = useServer();

interface Operation {
  method: string;
  template: string;
  /** The path with every parameter filled by the id of a resource that exists. */
  path: string;
}

interface Ids {
  user: string;
  team: string;
  wallet: string;
  card: string;
  transaction: string;
  authorization: string;
  apiKey: string;
  event: string;
  webhookEndpoint: string;
}

/** The id that a path parameter names: by the parameter's name, else by the resource its path starts with. */
function idFor(template: string, parameter: string, ids: Ids): string {
  if (parameter === "userId") return ids.user;
  if (parameter === "walletId") return ids.wallet;
  const resource = template.split("/")[2];
  const byResource: Record<string, string> = {
    users: ids.user,
    teams: ids.team,
    wallets: ids.wallet,
    cards: ids.card,
    transactions: ids.transaction,
    authorizations: ids.authorization,
    "api-keys": ids.apiKey,
    events: ids.event,
    "webhook-endpoints": ids.webhookEndpoint,
  };
  const id = byResource[resource ?? ""];
  if (id === undefined) throw new Error(`no id for ${parameter} in ${template}`);
  return id;
}

/** Every /v1 operation of the served OpenAPI document, aimed at resources that exist. */
async function v1Operations(ids: Ids): Promise<Operation[]> {
  const document = (await (await fetch(`${server.baseUrl}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(document.paths)) {
    if (!template.startsWith("/v1/")) continue;
    for (const method of Object.keys(item)) {
      const path = template.replaceAll(/\{([^}]+)\}/g, (_, name: string) => idFor(template, name, ids));
      operations.push({ method: method.toUpperCase(), template, path });
    }
  }
  return operations;
}

/** Everything a request could have changed, in one comparable value. */
async function stateOfTheDatabase(): Promise<string> {
  const { rows } = await server.db.query(
    `SELECT (SELECT count(*) FROM users WHERE deleted_at IS NULL) AS users,
            (SELECT count(*) FROM teams WHERE deleted_at IS NULL) AS teams,
            (SELECT count(*) FROM team_members WHERE deleted_at IS NULL) AS members,
            (SELECT count(*) FROM wallets WHERE deleted_at IS NULL) AS wallets,
            (SELECT count(*) FROM cards WHERE deleted_at IS NULL) AS cards,
            (SELECT count(*) FROM transactions) AS transactions,
            (SELECT count(*) FROM authorizations WHERE status = 'pending') AS pending,
            (SELECT coalesce(sum(balance), 0) FROM wallets) AS balances,
            (SELECT coalesce(sum(held), 0) FROM wallets) AS held,
            (SELECT max(updated_at) FROM users) AS users_updated,
            (SELECT max(updated_at) FROM cards) AS cards_updated,
            (SELECT count(*) FROM api_keys WHERE revoked_at IS NULL) AS live_keys,
            (SELECT count(*) FROM audit_events) AS audit_events`,
  );
  return JSON.stringify(rows);
}

/** Hosts of 0 to 5 characters: the router used to assume at least 4 when it cut the path out of the URL. */
const HOSTS = ["", "a", "ab", "abc", "abcd", "abcde"];

/** Spellings of a route's path that are not that path. */
const disguises = (path: string): [string, string][] => [
  ["a one-letter prefix", `/x${path}`],
  ["a two-letter prefix", `/xx${path}`],
  ["a three-letter prefix", `/xxx${path}`],
  ["a four-letter prefix", `/xxxx${path}`],
  ["a doubled leading slash", `/${path}`],
  ["a doubled slash inside", path.replace("/v1/", "/v1//")],
  ["an encoded slash", path.replace("/v1/", "/v1%2F")],
  ["an encoded v", path.replace("/v1/", "/%761/")],
  ["an upper-case V", path.replace("/v1/", "/V1/")],
];

/** Answers that prove no handler ran: a refused target, an unknown route, or a demand for a key. */
function expectNoHandlerRan(status: number, body: string, where: string): void {
  const code = (JSON.parse(body) as { code?: string }).code;
  const allowed = [
    [400, "malformed_request"],
    [401, "unauthorized"],
    [404, "route_not_found"],
  ];
  expect(
    allowed.some(([s, c]) => s === status && c === code),
    `${where}: ${status} ${code}`,
  ).toBe(true);
}

describe("no /v1 operation runs without a key, whatever the Host and however the path is spelled", () => {
  let operations: Operation[] = [];

  beforeAll(async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 500_000);
    const transaction = await topUp(server.api, wallet.id, 1_000);
    const authorization = await authorize(server.api, card.id, 500, { capture: false });
    const team = await createTeam(server.api, `Target ${crypto.randomUUID().slice(0, 8)}`);
    const user = wallet.userId ?? "";
    await addMember(server.api, team.id, user);
    const apiKey = await server.api.POST("/v1/api-keys", { body: { name: "target", scopes: ["read"] } });
    const [event] = (await server.db.query<{ id: string }>("SELECT id FROM events LIMIT 1")).rows;
    // A public address literal: allowed without resolving a name.
    const endpoint = await server.request("/v1/webhook-endpoints", {
      method: "POST",
      json: { url: "https://93.184.215.14/hook", eventTypes: "*" },
    });
    operations = await v1Operations({
      apiKey: apiKey.data?.id ?? "",
      event: String(event?.id),
      webhookEndpoint: ((await endpoint.json()) as { id: string }).id,
      user,
      team: team.id,
      wallet: wallet.id,
      card: card.id,
      transaction: transaction.id,
      authorization: authorization.id,
    });
  });

  test("the document lists every operation, each aimed at a resource that exists", () => {
    expect(operations.length).toBeGreaterThan(30);
    expect(operations.some((operation) => operation.template === "/v1/cards/{id}/sensitive")).toBe(true);
  });

  for (const host of HOSTS) {
    test(`Host "${host}" (${host.length} characters): every operation, straight and disguised, is 400, 401 or 404 and changes nothing`, async () => {
      const before = await stateOfTheDatabase();
      for (const { method, template, path } of operations) {
        const body = method === "POST" || method === "PATCH" ? '{"amount":1000}' : undefined;
        for (const [label, target] of [["the route's own path", path], ...disguises(path)] as [
          string,
          string,
        ][]) {
          const answer = await rawRequest(server.baseUrl, requestText(method, target, { host, body }));
          const where = `${method} ${template} via ${label}, Host "${host}"`;
          expectNoHandlerRan(answer.status, answer.body, where);
          if (host === "") expect(answer.status, where).toBe(400);
          if (host !== "" && target === path) expect(answer.status, where).toBe(401);
        }
      }
      expect(await stateOfTheDatabase()).toBe(before);
    });
  }

  test("the reported attack: a reveal through a short Host and a prefix is 404, and the card number stays hidden", async () => {
    const reveal = operations.find((operation) => operation.template === "/v1/cards/{id}/sensitive");
    const answer = await rawRequest(
      server.baseUrl,
      requestText("GET", `/xx${reveal?.path ?? ""}`, { host: "a" }),
    );
    expect(answer.status).toBe(404);
    expect(answer.body).not.toContain('"number"');
    expect(answer.body).not.toContain('"cvv"');
  });

  test("the same forms with the admin key reach nothing but the route itself", async () => {
    const reveal = operations.find((operation) => operation.template === "/v1/cards/{id}/sensitive");
    const path = reveal?.path ?? "";
    const headers = { Authorization: `Bearer ${TEST_ADMIN_KEY}` };
    for (const [label, target] of disguises(path)) {
      const answer = await rawRequest(server.baseUrl, requestText("GET", target, { host: "a", headers }));
      expect(answer.status, label).not.toBe(200);
    }
    const direct = await rawRequest(server.baseUrl, requestText("GET", path, { host: "a", headers }));
    expect(direct.status).toBe(200);
  });
});

describe("a Host header that cannot be one is 400 malformed_request", () => {
  const hosts: [string, string][] = [
    ["empty", ""],
    ["with a slash", "a/v1"],
    ["with a space", "a b"],
    ["with a question mark", "abc?"],
    ["with user info", "user@host"],
    ["an unclosed IPv6 literal", "[::1"],
    ["a port that is not a number", "localhost:http"],
  ];
  for (const [label, host] of hosts) {
    test(`${label}: on an operational route and on /v1`, async () => {
      for (const target of ["/health", "/v1/users"]) {
        const answer = await rawRequest(server.baseUrl, requestText("GET", target, { host }));
        expect(answer.status, `${target} with Host ${JSON.stringify(host)}`).toBe(400);
        expect(answer.headers["content-type"]).toBe("application/problem+json");
        expect((JSON.parse(answer.body) as { code: string }).code).toBe("malformed_request");
      }
    });
  }

  test("host names, IPv4 and IPv6 addresses, with and without a port, are served", async () => {
    for (const host of ["localhost", "localhost:3000", "127.0.0.1:80", "[::1]:3000", "wallet_api", "a"]) {
      const answer = await rawRequest(server.baseUrl, requestText("GET", "/health", { host }));
      expect(answer.status, host).toBe(200);
    }
  });
});

describe("HTTP/1.0 without a Host header", () => {
  test("is a small 400 problem body, never a stack or the server's error page", async () => {
    const answer = await rawRequest(server.baseUrl, requestText("GET", "/health", { version: "HTTP/1.0" }));
    expect(answer.status).toBe(400);
    expect(answer.headers["content-type"]).toBe("application/problem+json");
    expect((JSON.parse(answer.body) as { code: string }).code).toBe("malformed_request");
    expect(answer.body.length).toBeLessThan(1024);
  });

  test("as the started program (`bun src/main.ts`) answers the same 400 problem, not Bun's development page", async () => {
    const service = await startServiceProcess({ DATA_DIR: "memory://", ADMIN_API_KEY: TEST_ADMIN_KEY });
    try {
      for (const target of ["/health", "/v1/users", "/xx/v1/users"]) {
        const answer = await rawRequest(service.baseUrl, requestText("GET", target, { version: "HTTP/1.0" }));
        expect(answer.status, target).toBe(400);
        expect(answer.headers["content-type"], target).toBe("application/problem+json");
        expect(answer.body.length, target).toBeLessThan(1024);
        expect(answer.body, target).not.toContain("src/");
      }
    } finally {
      service.process.kill();
      await service.process.exited;
    }
  });
});
