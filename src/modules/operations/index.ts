import { Elysia } from "elysia";
import { type BearerSecret, unauthorized } from "../../platform/auth.ts";
import { describe, sharedModels } from "../../platform/schemas.ts";
import { operationsModels } from "./model.ts";
import type { OperationsService } from "./service.ts";

const tag = "operations";
/** Operational routes need no API key. */
const open = (operationId: string, summary: string, description: string) => ({
  detail: { ...describe(tag, operationId, summary, description).detail, security: [] },
});

/** `metricsToken`, when set, is the bearer token /metrics asks for (METRICS_TOKEN). */
export const operationsController = (operations: OperationsService, metricsToken?: BearerSecret) =>
  new Elysia({ name: "operations" })
    .model({ ...sharedModels, ...operationsModels })
    .get("/health", () => ({ status: "ok" as const }), {
      response: { 200: "Health" },
      ...open(
        "getHealth",
        "Liveness: 200 while the process runs",
        'Liveness: 200 with `{"status":"ok"}` while the process runs; it does not ask the database. Needs no API key.',
      ),
    })
    .get(
      "/ready",
      async ({ status }) => {
        const report = await operations.readiness();
        return report.ready ? status(200, report.body) : status(503, report.body);
      },
      {
        response: { 200: "Readiness", 503: "Readiness" },
        ...open(
          "getReadiness",
          "Readiness: 200 when the database answers, 503 otherwise",
          "Readiness for traffic: 200 when the database answers and has room to write; otherwise 503, with `status` unavailable, or draining while the process shuts down, and `checks.database` saying why (unavailable, storage_full). Needs no API key.",
        ),
      },
    )
    .get(
      "/metrics",
      async ({ request }) => {
        if (metricsToken !== undefined && !metricsToken.matches(request.headers.get("authorization"))) {
          throw unauthorized();
        }
        return new Response(await operations.metricsText(), {
          headers: { "content-type": operations.metricsContentType },
        });
      },
      open(
        "getMetrics",
        "Prometheus metrics in text format; with METRICS_TOKEN set, send it as Authorization: Bearer <token>",
        "Prometheus metrics in the text exposition format. Open unless METRICS_TOKEN is set; then it asks for `Authorization: Bearer <token>` (401 unauthorized without it).",
      ),
    );
