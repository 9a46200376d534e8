/** METRICS_TOKEN: /metrics is open by default (scrapers expect it) and asks for the token once it is set. */
import { describe, expect, test } from "bun:test";
import { expectProblem } from "../helpers/problem-details.ts";
import { TEST_ADMIN_KEY, useServer } from "../helpers/server.ts";

const METRICS_TOKEN = "scrape-token-0123456789abcdef";
const guarded = useServer({ METRICS_TOKEN });
const open = useServer();

describe("with METRICS_TOKEN set", () => {
  test("/metrics without the token is 401 and shows no figure", async () => {
    const response = await fetch(`${guarded.baseUrl}/metrics`);
    const problem = await expectProblem(response, 401, "unauthorized");
    expect(JSON.stringify(problem)).not.toContain("http_request_duration");
  });

  test("/metrics with a wrong token, or with the admin key, is 401", async () => {
    for (const token of [`${METRICS_TOKEN}x`, TEST_ADMIN_KEY]) {
      const response = await fetch(`${guarded.baseUrl}/metrics`, {
        headers: { authorization: `Bearer ${token}` },
      });
      await expectProblem(response, 401, "unauthorized");
    }
  });

  test("/metrics with the token is the Prometheus text", async () => {
    const response = await fetch(`${guarded.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("# TYPE");
  });

  test("/health and /ready stay open for probes", async () => {
    for (const path of ["/health", "/ready"]) {
      const response = await fetch(`${guarded.baseUrl}${path}`);
      expect(response.status, path).toBe(200);
      await response.arrayBuffer();
    }
  });
});

describe("without METRICS_TOKEN", () => {
  test("/metrics needs no token", async () => {
    const response = await fetch(`${open.baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("# TYPE");
  });
});
