/**
 * The standard OTEL_* variables mean what the OpenTelemetry specification says: OTEL_SERVICE_NAME over
 * a service.name in OTEL_RESOURCE_ATTRIBUTES over the service's own default, and an empty variable
 * counts as unset.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startServiceProcess } from "../helpers/process.ts";
import { createScratchDatabase } from "../helpers/server.ts";
import { randomCardKey } from "../helpers/values.ts";
import { newTraceparent, type OtlpReceiver, SpanKindCode, startOtlpReceiver } from "./otlp-receiver.ts";

const HOOK_TIMEOUT_MS = 60_000;
let receiver: OtlpReceiver;

beforeAll(() => {
  receiver = startOtlpReceiver();
});
afterAll(async () => {
  await receiver?.stop();
});

/** Starts the service with `env` on top of an OTLP/JSON export to the receiver, sends one traced request and returns its server span's service.name. */
async function serviceNameOfATrace(env: Record<string, string>): Promise<string | undefined> {
  const serverUrl = process.env.DATABASE_URL;
  const scratch = serverUrl ? await createScratchDatabase(serverUrl) : undefined;
  const service = await startServiceProcess({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_BSP_SCHEDULE_DELAY: "100",
    DATA_DIR: "memory://",
    ADMIN_API_KEY: "otel-environment-key-0123456789",
    CARD_ENCRYPTION_KEY: randomCardKey(),
    ...(scratch ? { DATABASE_URL: scratch.url, DB_POOL_MAX: "2" } : {}),
    ...env,
  }).catch(async (error: unknown) => {
    await scratch?.drop();
    throw error;
  });
  try {
    const { traceId, traceparent } = newTraceparent();
    const response = await fetch(`${service.baseUrl}/health`, { headers: { traceparent } });
    expect(response.status).toBe(200);
    const spans = await receiver.waitForTrace(traceId, (trace) =>
      trace.some((span) => span.kind === SpanKindCode.SERVER),
    );
    return spans.find((span) => span.kind === SpanKindCode.SERVER)?.serviceName;
  } finally {
    service.process.kill();
    await service.process.exited;
    await scratch?.drop();
  }
}

describe("OTEL_* precedence", () => {
  test(
    "a service.name in OTEL_RESOURCE_ATTRIBUTES names the service when OTEL_SERVICE_NAME is unset",
    async () => {
      expect(
        await serviceNameOfATrace({
          OTEL_RESOURCE_ATTRIBUTES: "service.name=from-resource-attributes,deployment.environment=test",
        }),
      ).toBe("from-resource-attributes");
    },
    HOOK_TIMEOUT_MS,
  );

  test(
    "OTEL_SERVICE_NAME wins over OTEL_RESOURCE_ATTRIBUTES",
    async () => {
      expect(
        await serviceNameOfATrace({
          OTEL_SERVICE_NAME: "from-service-name",
          OTEL_RESOURCE_ATTRIBUTES: "service.name=from-resource-attributes",
        }),
      ).toBe("from-service-name");
    },
    HOOK_TIMEOUT_MS,
  );

  test(
    "without either, the service is wallet-api",
    async () => {
      expect(await serviceNameOfATrace({})).toBe("wallet-api");
    },
    HOOK_TIMEOUT_MS,
  );

  test(
    "an empty OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is unset: spans go to OTEL_EXPORTER_OTLP_ENDPOINT",
    async () => {
      expect(
        await serviceNameOfATrace({
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "",
          OTEL_SERVICE_NAME: "empty-endpoint",
        }),
      ).toBe("empty-endpoint");
    },
    HOOK_TIMEOUT_MS,
  );
});
