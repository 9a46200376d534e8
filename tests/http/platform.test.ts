import { describe, expect, test } from "bun:test";
import { createUser } from "../helpers/fixtures.ts";
import { expectProblem } from "../helpers/problem-details.ts";
import { rowCount } from "../helpers/rows.ts";
import { TEST_ADMIN_KEY, uniqueEmail, useServer } from "../helpers/server.ts";
import { UUID_PATTERN } from "../helpers/values.ts";

const server = useServer();

interface DocumentPaths {
  paths: Record<string, Record<string, unknown>>;
}

/** Every /v1 operation the server documents, with its path parameters filled with fresh UUIDs. */
async function v1Operations(): Promise<{ method: string; path: string; template: string }[]> {
  const document = (await (await fetch(`${server.baseUrl}/openapi.json`)).json()) as DocumentPaths;
  const operations: { method: string; path: string; template: string }[] = [];
  for (const [template, item] of Object.entries(document.paths)) {
    if (!template.startsWith("/v1/")) continue;
    for (const method of Object.keys(item)) {
      const path = template.replaceAll(/\{[^}]+\}/g, () => crypto.randomUUID());
      operations.push({ method: method.toUpperCase(), path, template });
    }
  }
  return operations;
}

/** A plain fetch with exactly the headers given: no API key unless the test passes one. */
function bare(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.baseUrl}${path}`, init);
}

describe("authentication", () => {
  const unauthenticatedCases: [string, Record<string, string>][] = [
    ["no Authorization header", {}],
    ["a wrong key", { authorization: "Bearer not-the-admin-key-0000" }],
    ["the admin key with one character changed", { authorization: `Bearer ${TEST_ADMIN_KEY.slice(0, -1)}X` }],
    ["a Basic scheme", { authorization: `Basic ${btoa(`admin:${TEST_ADMIN_KEY}`)}` }],
    ["the key without a scheme", { authorization: TEST_ADMIN_KEY }],
    ["Bearer with no key", { authorization: "Bearer" }],
    ["Bearer and spaces only", { authorization: "Bearer    " }],
    ["two tokens after Bearer", { authorization: `Bearer ${TEST_ADMIN_KEY} ${TEST_ADMIN_KEY}` }],
    ["a key of 10 000 characters", { authorization: `Bearer ${"k".repeat(10_000)}` }],
  ];

  for (const [label, headers] of unauthenticatedCases) {
    test(`every /v1 route answers 401 unauthorized with ${label}`, async () => {
      const operations = await v1Operations();
      expect(operations.length).toBeGreaterThan(20);
      for (const { method, path, template } of operations) {
        const hasBody = method === "POST" || method === "PATCH";
        const response = await bare(path, {
          method,
          headers: { ...headers, ...(hasBody ? { "content-type": "application/json" } : {}) },
          ...(hasBody ? { body: "{}" } : {}),
        });
        expect(response.status, `${method} ${template}`).toBe(401);
        expect(response.headers.get("www-authenticate") ?? "", `${method} ${template}`).toMatch(/^Bearer\b/);
        await expectProblem(response, 401, "unauthorized");
      }
    });
  }

  test("a valid create without a key is 401 and creates nothing", async () => {
    const before = await rowCount(server.db, "users");
    const response = await bare("/v1/users", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: uniqueEmail("nokey"), name: "No Key" }),
    });
    await expectProblem(response, 401, "unauthorized");
    expect(await rowCount(server.db, "users")).toBe(before);
  });

  test("a key in the query string instead of the header is 401", async () => {
    const response = await bare(`/v1/users?api_key=${TEST_ADMIN_KEY}`);
    await expectProblem(response, 401, "unauthorized");
  });

  test("an unknown /v1 route is 404 route_not_found with or without a key: only a route that exists asks for one", async () => {
    await expectProblem(await bare("/v1/does-not-exist"), 404, "route_not_found");
    await expectProblem(
      await bare("/v1/does-not-exist", { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } }),
      404,
      "route_not_found",
    );
  });

  test("the Bearer scheme is case-insensitive", async () => {
    const response = await bare("/v1/users", { headers: { authorization: `bearer ${TEST_ADMIN_KEY}` } });
    expect(response.status).toBe(200);
  });

  for (const path of ["/health", "/ready", "/metrics", "/openapi.json", "/docs"]) {
    test(`${path} needs no key`, async () => {
      const response = await bare(path);
      expect(response.status).toBe(200);
      expect(response.headers.get("www-authenticate")).toBeNull();
      await response.arrayBuffer();
    });
  }
});

describe("request id", () => {
  const validIds = ["abc", "a", "trace-01.HJK:xyz_", "X".repeat(128), "0191f0a0-1234-7abc-8def-0123456789ab"];

  for (const id of validIds) {
    test(`a valid client id (${id.length} chars) is echoed on a success`, async () => {
      const response = await server.request("/v1/users", { headers: { "x-request-id": id } });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-request-id")).toBe(id);
      await response.arrayBuffer();
    });
  }

  test("a valid client id is echoed on a 404 and is the problem's requestId", async () => {
    const id = "client-req.42:retry-1";
    const response = await server.request(`/v1/users/${crypto.randomUUID()}`, {
      headers: { "x-request-id": id },
    });
    const problem = await expectProblem(response, 404, "user_not_found");
    expect(response.headers.get("x-request-id")).toBe(id);
    expect(problem.requestId).toBe(id);
  });

  test("a valid client id is echoed on a 400 validation error", async () => {
    const id = "validation-failure-1";
    const response = await server.request("/v1/users", {
      method: "POST",
      json: { email: "not-an-email", name: "X" },
      headers: { "x-request-id": id },
    });
    const problem = await expectProblem(response, 400);
    expect(problem.requestId).toBe(id);
  });

  test("a valid client id is echoed on a 401", async () => {
    const id = "unauthenticated-call";
    const response = await bare("/v1/users", { headers: { "x-request-id": id } });
    const problem = await expectProblem(response, 401, "unauthorized");
    expect(response.headers.get("x-request-id")).toBe(id);
    expect(problem.requestId).toBe(id);
  });

  test("a valid client id is echoed on an unknown route and on the operational routes", async () => {
    const notFound = await server.request("/no/such/route", { headers: { "x-request-id": "route-miss" } });
    const problem = await expectProblem(notFound, 404, "route_not_found");
    expect(problem.requestId).toBe("route-miss");
    for (const path of ["/health", "/ready", "/metrics"]) {
      const response = await bare(path, { headers: { "x-request-id": "ops-check" } });
      expect(response.headers.get("x-request-id"), path).toBe("ops-check");
      await response.arrayBuffer();
    }
  });

  const invalidIds: [string, string][] = [
    ["129 characters", "X".repeat(129)],
    ["a space", "has space"],
    ["a slash", "a/b"],
    ["angle brackets", "<script>alert(1)</script>"],
    ["a quote", 'x"y'],
    ["a semicolon", "id;drop"],
    ["an empty value", ""],
  ];

  for (const [label, id] of invalidIds) {
    test(`a client id with ${label} is replaced by a new UUID`, async () => {
      const ok = await server.request("/v1/users", { headers: { "x-request-id": id } });
      expect(ok.status).toBe(200);
      const generated = ok.headers.get("x-request-id") ?? "";
      expect(generated).toMatch(UUID_PATTERN);
      expect(generated).not.toBe(id);
      await ok.arrayBuffer();

      const failed = await server.request(`/v1/users/${crypto.randomUUID()}`, {
        headers: { "x-request-id": id },
      });
      const problem = await expectProblem(failed, 404, "user_not_found");
      expect(problem.requestId).toMatch(UUID_PATTERN);
    });
  }

  test("without a client id every response gets its own UUID", async () => {
    const first = await server.request("/v1/users");
    const second = await server.request("/v1/users");
    const a = first.headers.get("x-request-id") ?? "";
    const b = second.headers.get("x-request-id") ?? "";
    expect(a).toMatch(UUID_PATTERN);
    expect(b).toMatch(UUID_PATTERN);
    expect(a).not.toBe(b);
    await Promise.all([first.arrayBuffer(), second.arrayBuffer()]);

    const failed = await server.request("/v1/users/not-a-uuid");
    const problem = await expectProblem(failed, 400);
    expect(problem.requestId).toMatch(UUID_PATTERN);
  });
});

describe("problem bodies", () => {
  test("400: a schema violation lists each bad field as {path, message}", async () => {
    const response = await server.request("/v1/users", {
      method: "POST",
      json: { email: 42, name: true },
    });
    const problem = await expectProblem(response, 400);
    const paths = (problem.errors ?? []).map((error) => error.path);
    expect(paths).toContain("body.email");
    expect(paths).toContain("body.name");
    for (const error of problem.errors ?? []) expect(error.message.length).toBeGreaterThan(0);
  });

  test("400: a missing required field is named in errors", async () => {
    const response = await server.request("/v1/users", { method: "POST", json: { name: "No Mail" } });
    const problem = await expectProblem(response, 400);
    expect((problem.errors ?? []).map((error) => error.path)).toContain("body.email");
  });

  test("400: malformed JSON is malformed_json, titled in proper words", async () => {
    const response = await server.request("/v1/users", {
      method: "POST",
      body: '{"email": "a@b.co", "name": ',
      headers: { "content-type": "application/json" },
    });
    const problem = await expectProblem(response, 400, "malformed_json");
    expect(problem.title).toBe("Malformed JSON");
  });

  test("400: an invalid id is titled Invalid ID", async () => {
    const problem = await expectProblem(await server.request("/v1/users/not-a-uuid"), 400, "invalid_id");
    expect(problem.title).toBe("Invalid ID");
  });

  test("401 is a problem body", async () => {
    await expectProblem(await bare("/v1/users"), 401, "unauthorized");
  });

  test("404: an unknown id is a resource-specific problem", async () => {
    await expectProblem(await server.request(`/v1/users/${crypto.randomUUID()}`), 404, "user_not_found");
  });

  test("409: a duplicate is a problem body", async () => {
    const user = await createUser(server.api);
    const response = await server.request("/v1/users", {
      method: "POST",
      json: { email: user.email, name: "Twin" },
    });
    await expectProblem(response, 409, "email_taken");
  });

  test("413: a body over 1 MiB is a problem body", async () => {
    const response = await server.request("/v1/users", {
      method: "POST",
      json: { email: uniqueEmail("big"), name: "a".repeat(1024 * 1024 + 1) },
    });
    await expectProblem(response, 413, "payload_too_large");
  });

  const unknownRoutes: [string, string][] = [
    ["GET", "/nope"],
    ["GET", "/v1/nope"],
    ["GET", "/v1/users/00000000-0000-4000-8000-000000000000/nope"],
    ["PUT", "/v1/user"],
    ["POST", "/healthz"],
    ["GET", "/v2/users"],
    ["GET", "/"],
  ];
  for (const [method, path] of unknownRoutes) {
    test(`${method} ${path} is a 404 route_not_found problem, never the framework's default`, async () => {
      const response = await server.request(path, { method });
      await expectProblem(response, 404, "route_not_found");
    });
  }

  test("every response carries nosniff, and /v1 answers are not cached", async () => {
    const ok = await server.request("/v1/users");
    expect(ok.headers.get("x-content-type-options")).toBe("nosniff");
    expect(ok.headers.get("cache-control")).toBe("no-store");
    await ok.arrayBuffer();
    const failed = await server.request("/v1/users/not-a-uuid");
    expect(failed.headers.get("x-content-type-options")).toBe("nosniff");
    await failed.arrayBuffer();
  });
});

describe("operations", () => {
  test('GET /health is 200 {"status":"ok"}', async () => {
    const response = await bare("/health");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type") ?? "").toContain("application/json");
    expect(await response.json()).toEqual({ status: "ok" });
  });

  test("GET /ready is 200 with the database check", async () => {
    const response = await bare("/ready");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", checks: { database: "ok", replica: "off" } });
  });

  test("GET /metrics is Prometheus text with the request histogram labelled by route template, never by id", async () => {
    const user = await createUser(server.api);
    const missing = crypto.randomUUID();
    expect((await server.request(`/v1/users/${user.id}`)).status).toBe(200);
    await (await server.request(`/v1/users/${missing}`)).arrayBuffer();
    await (await server.request(`/unknown/${missing}`)).arrayBuffer();

    const response = await bare("/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type") ?? "").toContain("text/plain");
    const text = await response.text();
    expect(text).toContain("# TYPE http_server_request_duration_seconds histogram");
    const lines = text.split("\n").filter((line) => line.startsWith("http_server_request_duration_seconds"));
    expect(lines.length).toBeGreaterThan(0);
    expect(
      lines.some((line) => line.includes('route="/v1/users/:id"') && line.includes('status_code="200"')),
    ).toBe(true);
    expect(
      lines.some((line) => line.includes('route="/v1/users/:id"') && line.includes('status_code="404"')),
    ).toBe(true);
    expect(text).not.toContain(user.id);
    expect(text).not.toContain(missing);
    for (const line of lines) expect(line).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-/);
  });

  test("GET /docs is an HTML page", async () => {
    const response = await bare("/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type") ?? "").toContain("text/html");
    expect((await response.text()).toLowerCase()).toContain("<html");
  });
});

describe("read routing without a replica (DATABASE_READ_URL unset)", () => {
  const authorized = { authorization: `Bearer ${TEST_ADMIN_KEY}` };

  test("every GET says it was served by the primary, a read, an operational route and an error alike", async () => {
    const user = await createUser(server.api);
    for (const path of [`/v1/users/${user.id}`, "/v1/users", `/v1/users/${crypto.randomUUID()}`, "/ready"]) {
      const response = await bare(path, { headers: authorized });
      await response.arrayBuffer();
      expect(response.headers.get("x-served-by"), path).toBe("primary");
    }
  });

  test("a well-formed X-Read-After is served by the primary at once", async () => {
    const user = await createUser(server.api);
    const response = await bare(`/v1/users/${user.id}`, {
      headers: { ...authorized, "x-read-after": "0/16B3748" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-served-by")).toBe("primary");
  });

  test("writes carry no X-Read-After: there is no replica to wait for", async () => {
    const response = await bare("/v1/users", {
      method: "POST",
      headers: { ...authorized, "content-type": "application/json" },
      body: JSON.stringify({ email: uniqueEmail(), name: "No Replica" }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("x-read-after")).toBeNull();
  });

  for (const malformed of ["0/16b3748", "16B3748", "0/", "/1", "123456789/0", "latest"]) {
    test(`a GET with X-Read-After ${JSON.stringify(malformed)} is 400 validation_failed`, async () => {
      const response = await bare("/v1/users", { headers: { ...authorized, "x-read-after": malformed } });
      const problem = await expectProblem(response, 400, "validation_failed");
      expect(problem.errors?.[0]?.path).toBe("header.x-read-after");
    });
  }
});

describe("methods a path does not have", () => {
  test("every documented path answers 405 with Allow listing its methods, for any method it lacks", async () => {
    const document = (await (await bare("/openapi.json")).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    for (const [template, item] of Object.entries(document.paths)) {
      const path = template.replaceAll(/\{[^}]+\}/g, () => crypto.randomUUID());
      const declared = Object.keys(item).map((method) => method.toUpperCase());
      for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"].filter((m) => !declared.includes(m))) {
        const response = await bare(path, {
          method,
          headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
        });
        const where = `${method} ${template}`;
        await expectProblem(response, 405, "method_not_allowed");
        expect(response.headers.get("allow"), where).toBe([...declared].sort().join(", "));
      }
    }
  });

  test("405 needs no key: the path and its methods are public in the document", async () => {
    const response = await bare("/v1/users", { method: "PUT" });
    await expectProblem(response, 405, "method_not_allowed");
    expect(response.headers.get("allow")).toBe("GET, POST");
  });

  test("a path no route has is still 404", async () => {
    await expectProblem(await bare("/v1/nothing-here", { method: "PUT" }), 404, "route_not_found");
  });
});
