/**
 * The API reference: /docs and /openapi.json are all the service serves about itself. The page loads
 * nothing from another origin and keeps no key after the browser session.
 */
import { describe, expect, test } from "bun:test";
import { expectProblem } from "../helpers/problem-details.ts";
import { useServer } from "../helpers/server.ts";

const server = useServer({ LOG_LEVEL: "silent" });

const get = (path: string) => fetch(`${server.baseUrl}${path}`);

describe("what the service serves about itself", () => {
  test("building the document at start-up made no request: the first /metrics counts none", async () => {
    const text = await (await get("/metrics")).text();
    expect(
      text.split("\n").filter((line) => line.startsWith("http_server_request_duration_seconds_count")),
    ).toEqual([]);
  });

  for (const path of ["/openapi/source-ui", "/openapi/source.json", "/swagger", "/swagger/json"]) {
    test(`${path} is 404 route_not_found`, async () => {
      await expectProblem(await get(path), 404, "route_not_found");
    });
  }

  test("/openapi.json is the document", async () => {
    const response = await get("/openapi.json");
    expect(response.status).toBe(200);
    expect(((await response.json()) as { openapi: string }).openapi).toBe("3.1.0");
  });
});

describe("/docs", () => {
  test("carries a Content-Security-Policy that allows this origin only", async () => {
    for (const path of ["/docs", "/docs/init.js", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"]) {
      const response = await get(path);
      expect(response.status, path).toBe(200);
      const policy = response.headers.get("content-security-policy") ?? "";
      expect(policy, path).toContain("default-src 'none'");
      expect(policy, path).toContain("script-src 'self'");
      expect(policy, path).toContain("frame-ancestors 'none'");
      // No directive names another origin or a scheme that could load one.
      for (const directive of policy.split(";")) {
        for (const source of directive.trim().split(/\s+/).slice(1)) {
          expect(["'self'", "'none'", "'unsafe-inline'", "data:"], `${path}: ${directive}`).toContain(source);
        }
      }
      expect(policy, path).not.toContain("'unsafe-eval'");
      await response.arrayBuffer();
    }
  });

  test("the page loads its scripts and styles from this service, with no inline script", async () => {
    const page = await (await get("/docs")).text();
    const sources = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? "");
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(source, source).toMatch(/^\/docs\//);
    expect(page).not.toMatch(/<script>(?!<\/script>)/);
  });

  test("the key typed into it is not persisted", async () => {
    const script = await (await get("/docs/init.js")).text();
    expect(script).toContain("persistAuthorization: false");
    expect(script).toContain('url: "/openapi.json"');
  });
});
