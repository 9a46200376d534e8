/**
 * Every status any test saw a route answer must be in the OpenAPI document for that operation: a
 * generated client treats an undocumented status as an unknown error. Each test server reports the
 * statuses it served (from its own request histogram) when it stops; after the last test file, the
 * statuses seen are checked against openapi/openapi.json. Preloaded by bunfig.toml for every run.
 */
import { afterAll, expect } from "bun:test";

const DOCUMENT_URL = new URL("../../openapi/openapi.json", import.meta.url);

/** "GET /v1/users/{id}" → the statuses tests saw it answer. */
const observed = new Map<string, Set<string>>();

/** Reads the served statuses out of a server's Prometheus text and remembers them. */
export function recordServedStatuses(metricsText: string): void {
  const line = /^http_server_request_duration_seconds_count\{([^}]*)\} [1-9]/gm;
  for (const match of metricsText.matchAll(line)) {
    const labels = Object.fromEntries(
      [...(match[1] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((label) => [label[1], label[2]]),
    );
    const { method, route, status_code: status } = labels;
    if (method === undefined || route === undefined || status === undefined || route === "unmatched")
      continue;
    // Elysia writes a parameter as :id, the document as {id}.
    const operation = `${method} ${route.replaceAll(/:(\w+)/g, "{$1}")}`;
    const statuses = observed.get(operation) ?? new Set<string>();
    statuses.add(status);
    observed.set(operation, statuses);
  }
}

afterAll(async () => {
  if (observed.size === 0) return;
  const document = (await Bun.file(DOCUMENT_URL).json()) as {
    paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
  };
  const gaps: string[] = [];
  for (const [operation, statuses] of observed) {
    const [method = "", path = ""] = operation.split(" ");
    const item = document.paths[path];
    // Routes the document leaves out on purpose (/docs, /openapi.json).
    if (item === undefined) continue;
    const documented = Object.keys(item[method.toLowerCase()]?.responses ?? {});
    for (const status of statuses) {
      if (!documented.includes(status)) gaps.push(`${operation} answered ${status}`);
    }
  }
  expect(gaps, "statuses answered but not in openapi/openapi.json").toEqual([]);
});
