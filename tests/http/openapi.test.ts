import { beforeAll, describe, expect, test } from "bun:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { SERVER_HOOK_TIMEOUT_MS, useServer } from "../helpers/server.ts";

const COMMITTED_PATH = new URL("../../openapi/openapi.json", import.meta.url);
const OPERATIONAL_PATHS = ["/health", "/ready", "/metrics"];
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** SwaggerParser's own document type, without importing its transitive openapi-types package. */
type ParserDocument = Exclude<Parameters<typeof SwaggerParser.validate>[1], string>;

interface Operation {
  operationId?: string;
  tags?: string[];
  summary?: string;
  security?: Record<string, string[]>[];
  requestBody?: unknown;
  responses?: Record<string, { content?: Record<string, unknown> }>;
}

interface Document {
  openapi: string;
  security?: Record<string, string[]>[];
  components?: { securitySchemes?: Record<string, { type?: string; scheme?: string }> };
  paths: Record<string, Record<string, Operation>>;
}

const server = useServer();
let served: string;
let document: Document;

beforeAll(async () => {
  const response = await fetch(`${server.baseUrl}/openapi.json`);
  expect(response.status).toBe(200);
  served = await response.text();
  document = JSON.parse(served) as Document;
}, SERVER_HOOK_TIMEOUT_MS);

function operations(): { path: string; method: string; operation: Operation }[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => ({ path, method, operation })),
  );
}

/** The first line where two texts differ, to point at what changed. */
function firstDifference(a: string, b: string): string {
  const left = a.split("\n");
  const right = b.split("\n");
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    if (left[i] !== right[i]) {
      return `line ${i + 1}: committed ${JSON.stringify(left[i])}, served ${JSON.stringify(right[i])}`;
    }
  }
  return "the texts differ only in bytes the line split does not show";
}

describe("the OpenAPI document", () => {
  test("GET /openapi.json is byte-identical to the committed openapi/openapi.json", async () => {
    const committed = await Bun.file(COMMITTED_PATH).text();
    if (served !== committed) {
      throw new Error(
        "openapi/openapi.json is stale: the routes changed but the committed document did not; " +
          `run \`bun run openapi\` and commit the result (${firstDifference(committed, served)})`,
      );
    }
    expect(served).toBe(committed);
  });

  test("is served as JSON without a key", async () => {
    const response = await fetch(`${server.baseUrl}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type") ?? "").toContain("application/json");
    await response.arrayBuffer();
  });

  test("is a valid OpenAPI 3.x document", async () => {
    expect(document.openapi).toMatch(/^3\.\d+\.\d+$/);
    const validated = await SwaggerParser.validate(structuredClone(document) as unknown as ParserDocument);
    expect(validated.info.title.length).toBeGreaterThan(0);
  });

  test("every operation has an operationId, tags and a summary, and operationIds are unique", () => {
    const ids = new Set<string>();
    for (const { path, method, operation } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(operation.operationId ?? "", where).toMatch(/^[a-z][A-Za-z0-9]+$/);
      expect(operation.tags?.length ?? 0, where).toBeGreaterThan(0);
      expect(operation.summary?.trim().length ?? 0, where).toBeGreaterThan(0);
      expect(ids.has(operation.operationId ?? ""), `duplicate operationId at ${where}`).toBe(false);
      ids.add(operation.operationId ?? "");
    }
    expect(ids.size).toBeGreaterThan(20);
  });

  test("every business route is under /v1 and needs the bearer key; /health, /ready and /metrics need none", () => {
    const schemes = document.components?.securitySchemes ?? {};
    const bearerNames = Object.entries(schemes)
      .filter(([, scheme]) => scheme.type === "http" && scheme.scheme?.toLowerCase() === "bearer")
      .map(([name]) => name);
    expect(bearerNames.length).toBeGreaterThan(0);
    const requiresBearer = (security: Record<string, string[]>[] | undefined) =>
      security !== undefined &&
      security.length > 0 &&
      security.every((requirement) => Object.keys(requirement).some((name) => bearerNames.includes(name)));
    expect(requiresBearer(document.security)).toBe(true);

    for (const { path, method, operation } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      if (OPERATIONAL_PATHS.includes(path)) {
        expect(operation.security, where).toEqual([]);
      } else {
        expect(path.startsWith("/v1/"), where).toBe(true);
        // Either inherits the document's bearer requirement or repeats it; never opts out.
        if (operation.security !== undefined) expect(requiresBearer(operation.security), where).toBe(true);
      }
    }
    for (const path of OPERATIONAL_PATHS) expect(Object.keys(document.paths)).toContain(path);
  });

  test("every error response is application/problem+json, every success application/json (a statement CSV too)", () => {
    for (const { path, method, operation } of operations()) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const where = `${method.toUpperCase()} ${path} ${status}`;
        const types = Object.keys(response.content ?? {});
        if (Number(status) >= 400 && !(path === "/ready" && status === "503")) {
          expect(types, where).toEqual(["application/problem+json"]);
        } else if (path === "/v1/wallets/{id}/statement") {
          expect(types, where).toEqual(["application/json", "text/csv"]);
        } else if (path !== "/metrics") {
          expect(types, where).toEqual(["application/json"]);
        }
      }
    }
  });

  test("every /v1 operation documents 400, 401 and 429, and every one with a request body 413", () => {
    for (const { path, method, operation } of operations()) {
      if (!path.startsWith("/v1/")) continue;
      const statuses = Object.keys(operation.responses ?? {});
      const where = `${method.toUpperCase()} ${path}`;
      for (const status of ["400", "401", "429"]) expect(statuses, where).toContain(status);
      if (operation.requestBody !== undefined) expect(statuses, where).toContain("413");
    }
  });

  test("every route the document lists exists on the server", async () => {
    for (const { path, method } of operations()) {
      const concrete = path.replaceAll(/\{[^}]+\}/g, () => crypto.randomUUID());
      const response = await server.request(concrete, {
        method: method.toUpperCase(),
        ...(method === "post" || method === "patch" ? { json: {} } : {}),
      });
      const text = await response.text();
      expect(text.includes('"route_not_found"'), `${method.toUpperCase()} ${path}`).toBe(false);
    }
  });
});
