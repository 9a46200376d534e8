import { context, SpanKind } from "@opentelemetry/api";
import { suppressTracing } from "@opentelemetry/core";
import { Gauge } from "prom-client";
import type { Clock } from "../../platform/clock.ts";
import { type Config, retryDelaysOf } from "../../platform/config.ts";
import type { Database } from "../../platform/db.ts";
import { found } from "../../platform/errors.ts";
import type { Metrics } from "../../platform/metrics.ts";
import { outboundUrlProblem } from "../../platform/outbound-url.ts";
import type { OutgoingFetch } from "../../platform/outgoing.ts";
import { listOptions, type Page, toPage } from "../../platform/pagination.ts";
import { iso } from "../../platform/sql.ts";
import { newSigningSecret, signatureHeaders } from "../../platform/standard-webhooks.ts";
import { inSpan, inTraceOf, REQUEST_ID_KEY, type Telemetry } from "../../platform/telemetry.ts";
import { urlNotAllowed } from "../authorization-hook/errors.ts";
import { webhookEndpointNotFound } from "./errors.ts";
import type {
  CreatedWebhookEndpoint,
  CreateWebhookEndpoint,
  ListDeliveriesQuery,
  ListWebhookEndpointsQuery,
  UpdateWebhookEndpoint,
  WebhookDelivery,
  WebhookEndpoint,
} from "./model.ts";
import {
  type AttemptOutcome,
  type ClaimedDelivery,
  webhooksRepository as repository,
  toEndpoint,
} from "./repository.ts";

/** A receiver has this long to answer 2xx (contract §7). */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** A claimed delivery is no one else's for this long: the attempt's time-out and a margin. */
const LEASE_SECONDS = 30;

/** Deliveries one instance sends at once. */
const BATCH_SIZE = 10;

/** Longest error text kept in the attempts log. */
const MAX_ERROR_LENGTH = 500;

export class WebhooksService {
  private readonly retryDelays: number[];

  constructor(
    private readonly db: Database,
    private readonly config: Pick<Config, "WEBHOOK_ALLOW_PRIVATE_TARGETS" | "WEBHOOK_RETRY_DELAYS">,
    private readonly outgoingFetch: OutgoingFetch,
    private readonly telemetry: Pick<Telemetry, "enabled" | "tracer">,
    private readonly metrics: Pick<Metrics, "registry" | "webhookDeliveries">,
    private readonly clock: Clock,
  ) {
    this.retryDelays = retryDelaysOf(config.WEBHOOK_RETRY_DELAYS);
    const read = () => repository.oldestUndeliveredAgeSeconds(db);
    new Gauge({
      name: "wallet_webhook_oldest_undelivered_event_age_seconds",
      help: "Age of the oldest event still waiting for delivery to an enabled webhook endpoint (0 when none)",
      registers: [metrics.registry],
      async collect() {
        // NaN while the database does not answer: a last known value would look healthy.
        this.set(await read().catch(() => Number.NaN));
      },
    });
  }

  async create(input: CreateWebhookEndpoint): Promise<CreatedWebhookEndpoint> {
    await this.checkUrl(input.url);
    const row = await repository.insert(
      this.db,
      {
        id: Bun.randomUUIDv7(),
        url: input.url,
        eventTypes: input.eventTypes,
        description: input.description ?? null,
        secret: newSigningSecret(),
      },
      this.clock(),
    );
    return { ...toEndpoint(row), secret: row.secret };
  }

  async get(id: string): Promise<WebhookEndpoint> {
    return toEndpoint(found(await repository.find(this.db, id), () => webhookEndpointNotFound(id)));
  }

  async list(query: ListWebhookEndpointsQuery): Promise<Page<WebhookEndpoint>> {
    const options = listOptions(query, "createdAt");
    return toPage(await repository.list(this.db, options), options, toEndpoint);
  }

  async update(id: string, changes: UpdateWebhookEndpoint): Promise<WebhookEndpoint> {
    if (changes.url !== undefined) await this.checkUrl(changes.url);
    const row = await repository.update(this.db, id, changes, this.clock());
    return toEndpoint(found(row, () => webhookEndpointNotFound(id)));
  }

  delete(id: string): Promise<WebhookEndpoint> {
    return this.db.transaction(async (tx) => {
      const row = await repository.softDelete(tx, id, this.clock());
      return toEndpoint(found(row, () => webhookEndpointNotFound(id)));
    });
  }

  async deliveries(endpointId: string, query: ListDeliveriesQuery): Promise<Page<WebhookDelivery>> {
    await this.get(endpointId);
    const options = listOptions(query, "createdAt");
    return toPage(
      await repository.attempts(this.db, endpointId, query.eventId, options),
      options,
      (row) => row,
    );
  }

  /**
   * One round of the delivery worker, which every instance runs: claims a batch of due deliveries
   * (none that another instance holds), sends them with no transaction open, and records each
   * attempt. Returns how many were sent.
   */
  async deliverDue(): Promise<number> {
    // Polled four times a second: a trace per poll would bury the deliveries' own traces.
    const claimed = await context.with(suppressTracing(context.active()), async () =>
      (await repository.anyDue(this.db)) ? repository.claimDue(this.db, BATCH_SIZE, LEASE_SECONDS) : [],
    );
    await Promise.all(claimed.map((delivery) => this.attempt(delivery)));
    return claimed.length;
  }

  /** One attempt, in the trace of the request that made the event (see docs/events.md). */
  private attempt(delivery: ClaimedDelivery): Promise<void> {
    const attempt = async () => {
      const outcome = await this.send(delivery);
      const retry = outcome.succeeded ? undefined : this.retryDelays[delivery.attempt - 1];
      await repository.recordAttempt(this.db, delivery, { ...outcome, retryInSeconds: retry });
      this.metrics.webhookDeliveries.inc({
        result: outcome.succeeded ? "succeeded" : retry === undefined ? "exhausted" : "failed",
      });
    };
    return inTraceOf(delivery.traceparent, delivery.request_id, () =>
      this.telemetry.enabled
        ? inSpan(
            this.telemetry.tracer,
            `webhook ${delivery.type}`,
            {
              "app.webhook.event_id": delivery.event_id,
              "app.webhook.endpoint_id": delivery.endpoint_id,
              "app.webhook.attempt": delivery.attempt,
              ...(delivery.request_id === null ? {} : { [REQUEST_ID_KEY]: delivery.request_id }),
            },
            attempt,
            SpanKind.PRODUCER,
          )
        : attempt(),
    );
  }

  /** One signed POST of the event; a 2xx within DELIVERY_TIMEOUT_MS is a success. */
  private async send(delivery: ClaimedDelivery): Promise<Omit<AttemptOutcome, "retryInSeconds">> {
    const failed = (error: string, responseStatus: number | null = null) => ({
      succeeded: false,
      responseStatus,
      error: error.slice(0, MAX_ERROR_LENGTH),
    });
    const problem = await outboundUrlProblem(delivery.url, this.config.WEBHOOK_ALLOW_PRIVATE_TARGETS);
    if (problem !== undefined) return failed(problem);
    const body = JSON.stringify({
      id: delivery.event_id,
      type: delivery.type,
      createdAt: iso(delivery.created_at),
      requestId: delivery.request_id,
      data: { object: delivery.object },
    });
    try {
      const response = await this.outgoingFetch(delivery.url, {
        method: "POST",
        headers: {
          ...(await signatureHeaders(delivery.secret, delivery.event_id, body)),
          ...(delivery.request_id === null ? {} : { "x-request-id": delivery.request_id }),
        },
        body,
        timeoutMs: DELIVERY_TIMEOUT_MS,
        redirect: "manual",
      });
      await response.body?.cancel();
      if (response.ok) return { succeeded: true, responseStatus: response.status, error: null };
      return failed(`HTTP ${response.status}`, response.status);
    } catch (error) {
      if (error instanceof DOMException && error.name === "TimeoutError") {
        return failed(`no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`);
      }
      return failed(error instanceof Error ? error.message : String(error));
    }
  }

  private async checkUrl(url: string): Promise<void> {
    const problem = await outboundUrlProblem(url, this.config.WEBHOOK_ALLOW_PRIVATE_TARGETS);
    if (problem !== undefined) throw urlNotAllowed(problem);
  }
}
