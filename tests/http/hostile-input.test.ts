/**
 * Input a careless or malicious client sends: every case answers a 4xx problem body and changes nothing.
 * "Nothing" is checked by listing every user, team, membership, wallet and card before and after.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { addMember, createCard, createTeam, createUser, createWallet } from "../helpers/fixtures.ts";
import { expectProblem, type ProblemBody } from "../helpers/problem-details.ts";
import {
  type Schemas,
  SERVER_HOOK_TIMEOUT_MS,
  TEST_ADMIN_KEY,
  uniqueEmail,
  useServer,
} from "../helpers/server.ts";

const server = useServer();
let owner: Schemas["User"];
let member: Schemas["User"];
let team: Schemas["Team"];
let wallet: Schemas["Wallet"];
let teamWallet: Schemas["Wallet"];
let card: Schemas["Card"];

beforeAll(async () => {
  owner = await createUser(server.api, "Owner");
  member = await createUser(server.api, "Member");
  team = await createTeam(server.api, "Hostile Team");
  await addMember(server.api, team.id, member.id);
  wallet = await createWallet(server.api, { userId: owner.id });
  teamWallet = await createWallet(server.api, { teamId: team.id });
  card = await createCard(server.api, { walletId: wallet.id });
}, SERVER_HOOK_TIMEOUT_MS);

/** Every row of a list route, page by page. */
async function listAll(path: string): Promise<unknown[]> {
  const rows: unknown[] = [];
  for (let skip = 0; ; skip += 100) {
    const separator = path.includes("?") ? "&" : "?";
    const response = await server.request(
      `${path}${separator}limit=100&skip=${skip}&sortBy=createdAt&sort=asc`,
    );
    expect(response.status, `listing ${path}`).toBe(200);
    const page = (await response.json()) as { data: unknown[]; hasMore: boolean };
    rows.push(...page.data);
    if (!page.hasMore) return rows;
  }
}

/** What a client can see of the whole service. */
async function snapshot(): Promise<string> {
  const [users, teams, wallets, cards, members] = await Promise.all([
    listAll("/v1/users"),
    listAll("/v1/teams"),
    listAll("/v1/wallets"),
    listAll("/v1/cards"),
    listAll(`/v1/teams/${team.id}/members`),
  ]);
  return JSON.stringify({ users, teams, wallets, cards, members });
}

/** Sends `send()`, asserts a problem with `status` (and `code`), and that nothing visible changed. */
async function expectRefused(
  send: () => Promise<Response>,
  status: number,
  code?: string,
): Promise<ProblemBody> {
  const before = await snapshot();
  const problem = await expectProblem(await send(), status, code);
  expect(await snapshot()).toBe(before);
  return problem;
}

/** POST/PATCH with a raw body text, as a client with a broken JSON encoder would send it. */
const sendRaw = (method: string, path: string, body: string) => () =>
  server.request(path, { method, body, headers: { "content-type": "application/json" } });

const sendJson = (method: string, path: string, json: unknown) => () =>
  server.request(path, { method, json });

/** Every route that reads a JSON body, with a body it would accept. */
function bodyRoutes(): { method: string; path: string; valid: Record<string, unknown> }[] {
  return [
    { method: "POST", path: "/v1/users", valid: { email: uniqueEmail("hostile"), name: "Valid Name" } },
    { method: "PATCH", path: `/v1/users/${owner.id}`, valid: { name: "Renamed" } },
    { method: "POST", path: "/v1/teams", valid: { name: "Valid Team" } },
    { method: "PATCH", path: `/v1/teams/${team.id}`, valid: { name: "Renamed Team" } },
    { method: "POST", path: `/v1/teams/${team.id}/members`, valid: { userId: owner.id } },
    { method: "PATCH", path: `/v1/teams/${team.id}/members/${member.id}`, valid: { role: "admin" } },
    { method: "POST", path: "/v1/wallets", valid: { userId: owner.id } },
    { method: "PATCH", path: `/v1/wallets/${wallet.id}`, valid: { name: "Renamed Wallet" } },
    { method: "POST", path: "/v1/cards", valid: { walletId: wallet.id } },
    { method: "PATCH", path: `/v1/cards/${card.id}`, valid: { dailyLimit: 20000 } },
    { method: "POST", path: `/v1/wallets/${wallet.id}/topups`, valid: { amount: 100 } },
    { method: "POST", path: `/v1/wallets/${wallet.id}/withdrawals`, valid: { amount: 100 } },
    {
      method: "POST",
      path: "/v1/transfers",
      valid: { fromWalletId: wallet.id, toWalletId: teamWallet.id, amount: 100 },
    },
    {
      method: "POST",
      path: `/v1/cards/${card.id}/authorizations`,
      valid: { amount: 100, merchant: { name: "Shop" } },
    },
  ];
}

describe("malformed and non-object bodies", () => {
  const malformed: [string, string][] = [
    ["a truncated object", '{"name": '],
    ["unquoted keys", "{name: 1}"],
    ["single quotes", "{'name': 'x'}"],
    ["a trailing comma", '{"name": "x",}'],
    ["trailing garbage", '{"name": "x"} garbage'],
    ["NaN", '{"dailyLimit": NaN}'],
    ["a comment", '{"name": "x" /* hi */}'],
  ];
  const notObjects: [string, string][] = [
    ["an array", "[]"],
    ["an array of a valid object", '[{"name": "x"}]'],
    ["null", "null"],
    ["a string", '"name"'],
    ["a number", "42"],
    ["true", "true"],
  ];

  test("malformed JSON is 400 malformed_json on every body route", async () => {
    for (const { method, path } of bodyRoutes()) {
      for (const [label, body] of malformed) {
        const problem = await expectRefused(sendRaw(method, path, body), 400);
        expect(problem.code, `${method} ${path} with ${label}`).toBe("malformed_json");
      }
    }
  });

  test("an empty body is 400 on every POST that needs fields", async () => {
    for (const { method, path } of bodyRoutes()) {
      if (method !== "POST") continue;
      await expectRefused(sendRaw(method, path, ""), 400);
    }
  });

  test("a JSON value that is not an object is 400 on every body route", async () => {
    for (const { method, path } of bodyRoutes()) {
      for (const [label, body] of notObjects) {
        const problem = await expectRefused(sendRaw(method, path, body), 400);
        expect(problem.errors?.length ?? 0, `${method} ${path} with ${label}`).toBeGreaterThan(0);
      }
    }
  });

  test("an unknown field next to valid ones is 400 on every body route, naming the field", async () => {
    for (const { method, path, valid } of bodyRoutes()) {
      const problem = await expectRefused(sendJson(method, path, { ...valid, isAdmin: true }), 400);
      expect(
        problem.errors?.map((error) => error.path),
        `${method} ${path}`,
      ).toContain("body.isAdmin");
    }
  });

  test("__proto__ and constructor keys are unknown fields, not prototype pollution", async () => {
    const body = `{"email": "${uniqueEmail("proto")}", "name": "P", "__proto__": {"isAdmin": true}}`;
    await expectRefused(sendRaw("POST", "/v1/users", body), 400);
    const constructorBody = `{"name": "T", "constructor": {"prototype": {"isAdmin": true}}}`;
    await expectRefused(sendRaw("POST", "/v1/teams", constructorBody), 400);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  test("a body nested 60 000 levels deep is 400, not a crash", async () => {
    await expectRefused(sendRaw("POST", "/v1/teams", `${"[".repeat(60_000)}${"]".repeat(60_000)}`), 400);
  });

  test("a form-encoded body is 400", async () => {
    await expectRefused(
      () =>
        server.request("/v1/teams", {
          method: "POST",
          body: "name=Form+Team",
          headers: { "content-type": "application/x-www-form-urlencoded" },
        }),
      400,
    );
  });
});

describe("wrong types", () => {
  const userCases: [string, Record<string, unknown>][] = [
    ["true for a name", { email: uniqueEmail("t"), name: true }],
    ["null for a name", { email: uniqueEmail("t"), name: null }],
    ["an object for a name", { email: uniqueEmail("t"), name: { first: "A" } }],
    ["an array for a name", { email: uniqueEmail("t"), name: ["A"] }],
    ["a number for an e-mail", { email: 5, name: "A" }],
    ["an empty name", { email: uniqueEmail("t"), name: "" }],
    ["a blank name", { email: uniqueEmail("t"), name: "   " }],
    ["a name of 10 000 characters", { email: uniqueEmail("t"), name: "n".repeat(10_000) }],
    ["an e-mail of 10 000 characters", { email: `${"e".repeat(10_000)}@example.com`, name: "A" }],
    ["a differently cased key", { email: uniqueEmail("t"), Name: "A" }],
  ];
  for (const [label, body] of userCases) {
    test(`POST /v1/users with ${label} is 400`, async () => {
      await expectRefused(sendJson("POST", "/v1/users", body), 400);
    });
  }

  test("PATCH /v1/users/{id} with a wrong type or a 10 000-character name is 400 and leaves the user as it was", async () => {
    const before = await server.api.GET("/v1/users/{id}", { params: { path: { id: owner.id } } });
    for (const body of [{ name: true }, { name: 12 }, { email: null }, { name: "x".repeat(10_000) }]) {
      await expectRefused(sendJson("PATCH", `/v1/users/${owner.id}`, body), 400);
    }
    const after = await server.api.GET("/v1/users/{id}", { params: { path: { id: owner.id } } });
    expect(after.data?.name).toBe("Owner");
    expect(after.data?.updatedAt).toBe(before.data?.updatedAt ?? "");
  });

  test("POST /v1/teams with a name of 10 000 characters is 400", async () => {
    await expectRefused(sendJson("POST", "/v1/teams", { name: "t".repeat(10_000) }), 400);
  });
});

describe("hostile numbers", () => {
  /** Raw JSON number literals: JSON.stringify cannot write 1e400 or keep 99999999999999999999 exact. */
  const badLimits: [string, string][] = [
    ["a string", '"50000"'],
    ["a short string", '"5"'],
    ["1e400 (overflows to Infinity)", "1e400"],
    ["-1e400", "-1e400"],
    ["99999999999999999999", "99999999999999999999"],
    ["10^16", "10000000000000000"],
    ["10^15 + 1", "1000000000000001"],
    ["a negative number", "-1"],
    ["a negative limit above the minimum", "-50000"],
    ["a fraction", "50000.5"],
    ["a tiny fraction", "10000.000001"],
    ["true", "true"],
    ["null", "null"],
    ["an array", "[50000]"],
    ["below the 10000 minimum", "9999"],
    ["zero", "0"],
  ];

  for (const [label, literal] of badLimits) {
    test(`a limit of ${label} is 400 on wallet and card create and update`, async () => {
      const bodies: [string, string, string][] = [
        ["POST", "/v1/wallets", `{"userId": "${owner.id}", "dailyLimit": ${literal}}`],
        ["POST", "/v1/wallets", `{"userId": "${owner.id}", "monthlyLimit": ${literal}}`],
        ["PATCH", `/v1/wallets/${wallet.id}`, `{"dailyLimit": ${literal}}`],
        ["PATCH", `/v1/wallets/${wallet.id}`, `{"monthlyLimit": ${literal}}`],
        ["POST", "/v1/cards", `{"walletId": "${wallet.id}", "dailyLimit": ${literal}}`],
        ["PATCH", `/v1/cards/${card.id}`, `{"monthlyLimit": ${literal}}`],
      ];
      for (const [method, path, body] of bodies) {
        const problem = await expectRefused(sendRaw(method, path, body), 400);
        expect(problem.errors?.length ?? 0, `${method} ${path} ${body}`).toBeGreaterThan(0);
      }
    });
  }

  const badAmounts: [string, string][] = [
    ["a string", '"100"'],
    ["1e400 (overflows to Infinity)", "1e400"],
    ["99999999999999999999", "99999999999999999999"],
    ["10^12 + 1", "1000000000001"],
    ["10^16", "10000000000000000"],
    ["zero", "0"],
    ["a negative number", "-100"],
    ["a fraction", "100.5"],
    ["a tiny fraction", "0.001"],
    ["true", "true"],
    ["null", "null"],
    ["an object", '{"value": 100}'],
  ];
  for (const [label, literal] of badAmounts) {
    test(`an amount of ${label} is 400 on every money movement, and no balance moves`, async () => {
      const bodies: [string, string][] = [
        [`/v1/wallets/${wallet.id}/topups`, `{"amount": ${literal}}`],
        [`/v1/wallets/${wallet.id}/withdrawals`, `{"amount": ${literal}}`],
        [
          "/v1/transfers",
          `{"fromWalletId": "${wallet.id}", "toWalletId": "${teamWallet.id}", "amount": ${literal}}`,
        ],
        [`/v1/cards/${card.id}/authorizations`, `{"amount": ${literal}, "merchant": {"name": "Shop"}}`],
      ];
      for (const [path, body] of bodies) {
        const problem = await expectRefused(sendRaw("POST", path, body), 400);
        expect(
          problem.errors?.map((error) => error.path),
          `${path} ${body}`,
        ).toContain("body.amount");
      }
    });
  }

  /** Numbers JSON.parse rounds to an integer that the text does not denote. */
  const inexactIntegers: [string, string][] = [
    ["0.99999999999999999 (parses as 1)", "0.99999999999999999"],
    ["100.00000000000000001 (parses as 100)", "100.00000000000000001"],
    ["9999999999.9999999999 (parses as 10^10)", "9999999999.9999999999"],
    ["1.00000000000000001e4 (parses as 10000)", "1.00000000000000001e4"],
  ];
  for (const [label, literal] of inexactIntegers) {
    test(`an amount of ${label} is 400 inexact_number on every money movement, and no balance moves`, async () => {
      const bodies: [string, string][] = [
        [`/v1/wallets/${wallet.id}/topups`, `{"amount": ${literal}}`],
        [`/v1/wallets/${wallet.id}/withdrawals`, `{"amount": ${literal}}`],
        [
          "/v1/transfers",
          `{"fromWalletId": "${wallet.id}", "toWalletId": "${teamWallet.id}", "amount": ${literal}}`,
        ],
        [`/v1/cards/${card.id}/authorizations`, `{"amount": ${literal}, "merchant": {"name": "Shop"}}`],
      ];
      for (const [path, body] of bodies) {
        const problem = await expectRefused(sendRaw("POST", path, body), 400);
        expect(problem.code, `${path} ${body}`).toBe("inexact_number");
      }
      const after = await server.api.GET("/v1/wallets/{id}", { params: { path: { id: wallet.id } } });
      expect(after.data?.balance).toBe(0);
    });
  }

  test(`a limit of 10000.000000000000001 (parses as 10000) is 400 inexact_number`, async () => {
    const body = `{"userId": "${owner.id}", "dailyLimit": 10000.000000000000001}`;
    const problem = await expectRefused(sendRaw("POST", "/v1/wallets", body), 400);
    expect(problem.code).toBe("inexact_number");
  });

  test("integers written with a zero fraction or an exponent are the integers they denote", async () => {
    for (const [literal, amount] of [
      ["100.0", 100],
      ["1e2", 100],
      ["2E+1", 20],
      ["12.50e1", 125],
    ] as const) {
      const response = await server.request(`/v1/wallets/${teamWallet.id}/topups`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: `{"amount": ${literal}}`,
      });
      expect(response.status, literal).toBe(201);
      expect(((await response.json()) as { amount: number }).amount, literal).toBe(amount);
    }
  });

  test("a balance cannot be set through PATCH /v1/wallets/{id}", async () => {
    for (const field of ["balance", "availableBalance", "spentToday"]) {
      await expectRefused(sendJson("PATCH", `/v1/wallets/${wallet.id}`, { [field]: 1_000_000 }), 400);
    }
    const after = await server.api.GET("/v1/wallets/{id}", { params: { path: { id: wallet.id } } });
    expect(after.data?.balance).toBe(0);
  });
});

describe("ids in paths and queries", () => {
  const validShape = "0191f0a0-1234-7abc-8def-0123456789ab";
  const badIds: [string, string][] = [
    ["a word", "not-a-uuid"],
    ["a number", "123"],
    ["one hex digit short", validShape.slice(0, -1)],
    ["one hex digit long", `${validShape}0`],
    ["non-hex letters", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"],
    ["no dashes", validShape.replaceAll("-", "")],
    ["braces", `{${validShape}}`],
    ["a urn:uuid: prefix", `urn:uuid:${validShape}`],
    ["SQL", "' OR '1'='1"],
    ["a NUL byte", "\u0000"],
    ["a path traversal", "..%2F..%2Fetc%2Fpasswd"],
  ];

  for (const [label, id] of badIds) {
    test(`an id with ${label} in a path is 400 invalid_id on every verb`, async () => {
      const segment = encodeURIComponent(id);
      const cases: [string, string, unknown][] = [
        ["GET", `/v1/users/${segment}`, undefined],
        ["PATCH", `/v1/users/${segment}`, { name: "X" }],
        ["DELETE", `/v1/users/${segment}`, undefined],
        ["GET", `/v1/teams/${segment}`, undefined],
        ["DELETE", `/v1/teams/${segment}`, undefined],
        ["GET", `/v1/teams/${segment}/members`, undefined],
        ["DELETE", `/v1/teams/${team.id}/members/${segment}`, undefined],
        ["GET", `/v1/wallets/${segment}`, undefined],
        ["DELETE", `/v1/wallets/${segment}`, undefined],
        ["GET", `/v1/cards/${segment}`, undefined],
        ["GET", `/v1/cards/${segment}/sensitive`, undefined],
        ["DELETE", `/v1/cards/${segment}`, undefined],
      ];
      for (const [method, path, json] of cases) {
        const problem = await expectRefused(() => server.request(path, { method, json }), 400);
        expect(problem.code, `${method} ${path}`).toBe("invalid_id");
      }
    });
  }

  test("a well-formed but unknown id is 404, never 400 or 500", async () => {
    await expectRefused(
      () => server.request("/v1/users/00000000-0000-0000-0000-000000000000"),
      404,
      "user_not_found",
    );
    await expectRefused(() => server.request(`/v1/wallets/${crypto.randomUUID()}`), 404);
  });

  test("a malformed id in a body is 400", async () => {
    await expectRefused(sendJson("POST", "/v1/wallets", { userId: "not-a-uuid" }), 400);
    await expectRefused(sendJson("POST", "/v1/cards", { walletId: "' OR 1=1 --" }), 400);
    await expectRefused(sendJson("POST", `/v1/teams/${team.id}/members`, { userId: 42 }), 400);
  });

  const queryFilters = [
    "/v1/wallets?userId=",
    "/v1/wallets?teamId=",
    "/v1/cards?walletId=",
    "/v1/cards?cardholderId=",
  ];
  for (const filter of queryFilters) {
    test(`a malformed id in ${filter.split("?")[0]} query ${filter.split("?")[1]} is 400 invalid_id`, async () => {
      for (const id of ["not-a-uuid", "' OR '1'='1", `urn:uuid:${validShape}`]) {
        await expectRefused(() => server.request(`${filter}${encodeURIComponent(id)}`), 400, "invalid_id");
      }
    });
  }
});

describe("list parameters", () => {
  const listRoutes = () => [
    "/v1/users",
    "/v1/teams",
    "/v1/wallets",
    "/v1/cards",
    `/v1/teams/${team.id}/members`,
    `/v1/users/${member.id}/teams`,
  ];

  test("SQL in sortBy is 400 invalid_sort_by on every list, and the tables still work", async () => {
    const injections = [
      "createdAt;DROP TABLE users",
      "createdAt; DROP TABLE users; --",
      "createdAt desc",
      "(SELECT 1)",
      "created_at",
      "id",
      "1",
      "",
    ];
    for (const path of listRoutes()) {
      for (const sortBy of injections) {
        const problem = await expectRefused(
          () => server.request(`${path}?sortBy=${encodeURIComponent(sortBy)}`),
          400,
        );
        expect(problem.code, `${path} sortBy=${sortBy}`).toBe("invalid_sort_by");
      }
    }
    const users = await server.api.GET("/v1/users");
    expect(users.response.status).toBe(200);
    expect(users.data?.data.some((user) => user.id === owner.id)).toBe(true);
    const created = await server.api.POST("/v1/users", {
      body: { email: uniqueEmail("after"), name: "After" },
    });
    expect(created.response.status).toBe(201);
  });

  const badParameters: [string, string][] = [
    ["limit=0", "limit=0"],
    ["limit=101", "limit=101"],
    ["limit=abc", "limit=abc"],
    ["limit=-1", "limit=-1"],
    ["limit=1.5", "limit=1.5"],
    ["limit=99999999999999999999", "limit=99999999999999999999"],
    ["limit=10^16", "limit=10000000000000000"],
    ["an empty limit", "limit="],
    ["a hexadecimal limit", "limit=0x10"],
    ["an exponent limit", "limit=1e1"],
    ["a hexadecimal skip", "skip=0x10"],
    ["skip=-1", "skip=-1"],
    ["skip=abc", "skip=abc"],
    ["skip=0.5", "skip=0.5"],
    ["sort=sideways", "sort=sideways"],
    ["sort=asc;drop", `sort=${encodeURIComponent("asc; DROP TABLE users")}`],
    ["an unknown parameter", "foo=bar"],
    ["an unknown parameter next to valid ones", "limit=5&color=red"],
    ["a differently cased parameter", "LIMIT=5"],
    ["__proto__", "__proto__=x"],
    ["a repeated skip whose last value is out of range", "skip=0&skip=1e20"],
    ["a repeated limit", "limit=5&limit=6"],
    ["a repeated sort", "sort=asc&sort=desc"],
    ["a repeated filter", "sortBy=createdAt&sortBy=createdAt"],
  ];
  for (const [label, query] of badParameters) {
    test(`${label} is 400 on every list`, async () => {
      for (const path of listRoutes()) {
        const problem = await expectRefused(() => server.request(`${path}?${query}`), 400);
        expect(problem.errors?.length ?? 0, `${path}?${query}`).toBeGreaterThan(0);
      }
    });
  }

  test("the boundaries limit=1, limit=100, skip=0 and sort in any case are accepted", async () => {
    for (const query of ["limit=1", "limit=100", "skip=0", "sort=ASC", "sort=Desc"]) {
      const response = await server.request(`/v1/users?${query}`);
      expect(response.status, query).toBe(200);
      await response.arrayBuffer();
    }
  });

  test("an e-mail filter of 1 000 characters is 400", async () => {
    await expectRefused(() => server.request(`/v1/users?email=${"a".repeat(1000)}`), 400);
  });
});

describe("oversized bodies", () => {
  const oneMiB = 1024 * 1024;

  test("a body just over 1 MiB is 413 payload_too_large", async () => {
    await expectRefused(
      sendJson("POST", "/v1/teams", { name: "b".repeat(oneMiB) }),
      413,
      "payload_too_large",
    );
  });

  test("a body of 3 MiB is 413 payload_too_large as a problem body", async () => {
    await expectRefused(
      sendJson("POST", "/v1/teams", { name: "b".repeat(3 * oneMiB) }),
      413,
      "payload_too_large",
    );
  });

  test("a body over 1 MiB sent chunked, without Content-Length, is 413 payload_too_large", async () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ name: "c".repeat(oneMiB + oneMiB / 2) }));
    const chunked = () => {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let offset = 0; offset < bytes.length; offset += 64 * 1024) {
            controller.enqueue(bytes.slice(offset, offset + 64 * 1024));
          }
          controller.close();
        },
      });
      const init: RequestInit & { duplex: "half" } = {
        method: "POST",
        body: stream,
        duplex: "half",
        headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, "content-type": "application/json" },
      };
      return fetch(`${server.baseUrl}/v1/teams`, init);
    };
    await expectRefused(chunked, 413, "payload_too_large");
  });

  test("a 900 KiB body is read, then refused by validation (not by size)", async () => {
    const problem = await expectRefused(sendJson("POST", "/v1/teams", { name: "d".repeat(900 * 1024) }), 400);
    expect(problem.errors?.[0]?.path).toBe("body.name");
  });
});

describe("NUL bytes and unicode", () => {
  test("a NUL byte in a name or an e-mail is 400, never a 500", async () => {
    await expectRefused(
      sendJson("POST", "/v1/users", { email: uniqueEmail("nul"), name: "Ann\u0000Lee" }),
      400,
    );
    await expectRefused(
      sendJson("POST", "/v1/users", { email: `n\u0000${uniqueEmail("nul")}`, name: "Ann" }),
      400,
    );
    await expectRefused(sendJson("PATCH", `/v1/users/${owner.id}`, { name: "\u0000" }), 400);
    await expectRefused(sendJson("POST", "/v1/teams", { name: "Team\u0000" }), 400);
    await expectRefused(sendJson("PATCH", `/v1/wallets/${wallet.id}`, { name: "W\u0000" }), 400);
  });

  test("a NUL byte in a query filter is 400, never a 500", async () => {
    await expectRefused(() => server.request("/v1/users?email=a%00b%40example.com"), 400);
  });

  const names = [
    "Zoë Saldaña",
    "李小龍",
    "محمد بن سلمان",
    "🚀 Rocket 👩‍👩‍👧‍👦",
    "e\u0301le\u0301onore",
    "Robert'); DROP TABLE users;--",
    '<script>alert("x")</script>',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Log4Shell-style payload, meant literally
    "${jndi:ldap://x}",
  ];
  for (const name of names) {
    test(`the name ${JSON.stringify(name)} is stored and returned exactly`, async () => {
      const created = await server.api.POST("/v1/users", { body: { email: uniqueEmail("uni"), name } });
      expect(created.response.status).toBe(201);
      expect(created.data?.name).toBe(name);
      const id = created.data?.id ?? "";
      const read = await server.api.GET("/v1/users/{id}", { params: { path: { id } } });
      expect(read.data?.name).toBe(name);
      const team = await server.api.POST("/v1/teams", { body: { name } });
      expect(team.response.status).toBe(201);
      expect(team.data?.name).toBe(name);
    });
  }
});
