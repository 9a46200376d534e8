/**
 * Events and webhooks (contract §7): every committed change appends an event, delivered to each
 * subscribed endpoint signed as Standard Webhooks says, retried until a 2xx; a refused, rolled-back
 * or replayed request adds none.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { EventsService } from "../../src/modules/events/service.ts";
import { createUserWallet, fundedWalletWithCard, topUp } from "../helpers/fixtures.ts";
import { expectProblem } from "../helpers/problem-details.ts";
import { type Receiver, startReceiver, verified } from "../helpers/receiver.ts";
import { type Schemas, uniqueEmail, useServer } from "../helpers/server.ts";
import { UNKNOWN_ID } from "../helpers/values.ts";

const server = useServer(
  { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true", WEBHOOK_RETRY_DELAYS: "0.2,0.2" },
  { jobs: true },
);

let receiver: Receiver;
beforeAll(() => {
  receiver = startReceiver();
});
afterAll(async () => {
  await receiver.stop();
});

type Endpoint = Schemas["CreatedWebhookEndpoint"];
type Event = Schemas["Event"];

async function subscribe(path: string, eventTypes: "*" | string[]): Promise<Endpoint> {
  const response = await server.request("/v1/webhook-endpoints", {
    method: "POST",
    json: { url: `${receiver.url}${path}`, eventTypes },
  });
  expect(response.status).toBe(201);
  return (await response.json()) as Endpoint;
}

/** Every event, oldest first, read the way a consumer resumes: page after page with `after`. */
async function allEvents(): Promise<Event[]> {
  const events: Event[] = [];
  let after: string | undefined;
  for (;;) {
    const query = after === undefined ? "sort=asc&limit=100" : `after=${after}&limit=100`;
    const page = (await (await server.request(`/v1/events?${query}`)).json()) as Schemas["EventPage"];
    events.push(...page.data);
    if (!page.hasMore) return events;
    after = page.data.at(-1)?.id;
  }
}

const eventsAbout = (events: Event[], objectId: string) =>
  events.filter((event) => (event.data.object as { id?: unknown }).id === objectId);

/**
 * The events about `objectId` once there are `count` of them. The list shows an event once every
 * transaction that began before it has ended (on a shared PostgreSQL server, any of its transactions),
 * so a change just committed may take a moment to appear.
 */
async function eventsOf(objectId: string, count = 1): Promise<Event[]> {
  for (let tries = 0; ; tries++) {
    const found = eventsAbout(await allEvents(), objectId);
    if (found.length >= count || tries === 200) return found;
    await Bun.sleep(50);
  }
}

/** Every event up to a change made now (a new team), once that change's event is listed. */
async function eventsThroughMarker(): Promise<Event[]> {
  const marker = (await (
    await server.request("/v1/teams", { method: "POST", json: { name: `Marker ${crypto.randomUUID()}` } })
  ).json()) as Schemas["Team"];
  await eventsOf(marker.id);
  return allEvents();
}

describe("events", () => {
  test("a change appends its event with the resource as the API shows it and the request id", async () => {
    const requestId = `events-${crypto.randomUUID().slice(0, 8)}`;
    const response = await server.request("/v1/users", {
      method: "POST",
      headers: { "x-request-id": requestId },
      json: { email: uniqueEmail(), name: "Eve Event" },
    });
    const user = (await response.json()) as Schemas["User"];
    const [event] = await eventsOf(user.id);
    expect(event).toMatchObject({ type: "user.created", requestId, data: { object: user } });
    const one = await server.request(`/v1/events/${event?.id}`);
    expect(await one.json()).toEqual(event as Event);
  });

  test("after = an event id lists the events after it, oldest first", async () => {
    const { wallet } = await createUserWallet(server.api);
    const first = await topUp(server.api, wallet.id, 100);
    const second = await topUp(server.api, wallet.id, 200);
    await eventsOf(second.id);
    const [firstEvent] = await eventsOf(first.id);
    const page = (await (
      await server.request(`/v1/events?after=${firstEvent?.id}&type=transaction.created`)
    ).json()) as Schemas["EventPage"];
    expect(page.data.map((event) => (event.data.object as { id?: unknown }).id)).toEqual([second.id]);
  });

  test("a refused request leaves no event: a withdrawal over the balance, a taken e-mail", async () => {
    const { wallet, user } = await createUserWallet(server.api);
    const before = (await eventsThroughMarker()).length;
    const refused = await server.request(`/v1/wallets/${wallet.id}/withdrawals`, {
      method: "POST",
      json: { amount: 500 },
    });
    await expectProblem(refused, 422, "insufficient_funds");
    const taken = await server.request("/v1/users", {
      method: "POST",
      json: { email: user.email, name: "Twin" },
    });
    await expectProblem(taken, 409, "email_taken");
    // Only the second marker's event is new.
    expect((await eventsThroughMarker()).length).toBe(before + 1);
  });

  test("a change rolled back part-way leaves no event: deleting a user whose wallet holds money", async () => {
    const { wallet, user } = await createUserWallet(server.api);
    await topUp(server.api, wallet.id, 100);
    const before = (await eventsThroughMarker()).length;
    // The cascade deletes cards and memberships before it meets the non-empty wallet, and rolls back.
    await expectProblem(
      await server.request(`/v1/users/${user.id}`, { method: "DELETE" }),
      409,
      "wallet_not_empty",
    );
    expect((await eventsThroughMarker()).length).toBe(before + 1);
  });

  test("an idempotent replay adds no second event", async () => {
    const { wallet } = await createUserWallet(server.api);
    const key = crypto.randomUUID();
    const send = () =>
      server.request(`/v1/wallets/${wallet.id}/topups`, {
        method: "POST",
        headers: { "idempotency-key": key },
        json: { amount: 700 },
      });
    const first = (await (await send()).json()) as Schemas["Transaction"];
    const replay = await send();
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    await eventsThroughMarker();
    expect(await eventsOf(first.id)).toHaveLength(1);
  });

  test("spends decided together keep apart: each authorization's events name its own request, and an unknown card is 404 for its request alone", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 1_000_000);
    const spends = Array.from({ length: 24 }, (_, index) => ({
      requestId: `batch-${index}-${crypto.randomUUID().slice(0, 8)}`,
      cardId: index % 8 === 7 ? UNKNOWN_ID : card.id,
      capture: index % 3 !== 0,
    }));
    const responses = await Promise.all(
      spends.map((spend) =>
        server.request(`/v1/cards/${spend.cardId}/authorizations`, {
          method: "POST",
          headers: { "x-request-id": spend.requestId },
          json: { amount: 100, merchant: { name: "Batch shop" }, capture: spend.capture },
        }),
      ),
    );
    const authorizations: { requestId: string; authorization: Schemas["Authorization"] }[] = [];
    for (const [index, response] of responses.entries()) {
      const spend = spends[index];
      if (spend === undefined) throw new Error("no spend");
      if (spend.cardId === UNKNOWN_ID) {
        await expectProblem(response, 404, "card_not_found");
        continue;
      }
      expect(response.status).toBe(201);
      const authorization = (await response.json()) as Schemas["Authorization"];
      expect(authorization.status).toBe(spend.capture ? "captured" : "pending");
      authorizations.push({ requestId: spend.requestId, authorization });
    }
    expect(authorizations).toHaveLength(21);
    for (const { requestId, authorization } of authorizations) {
      const [created] = await eventsOf(authorization.id);
      expect(created).toMatchObject({
        type: "authorization.created",
        requestId,
        data: { object: authorization },
      });
    }
    const spent = (await allEvents()).filter(
      (event) =>
        event.type === "transaction.created" &&
        (event.data.object as { walletId?: unknown }).walletId === wallet.id &&
        (event.data.object as { type?: unknown }).type === "card_spend",
    );
    const captured = authorizations.filter(({ authorization }) => authorization.status === "captured");
    expect(spent).toHaveLength(captured.length);
    for (const event of spent) {
      const authorizationId = (event.data.object as { authorizationId?: unknown }).authorizationId;
      const origin = captured.find(({ authorization }) => authorization.id === authorizationId);
      expect(event.requestId).toBe(origin?.requestId ?? "no such authorization");
    }
  });

  test("events are kept 30 days: the purge job deletes them only after that", async () => {
    const user = (await (
      await server.request("/v1/users", { method: "POST", json: { email: uniqueEmail(), name: "Old" } })
    ).json()) as Schemas["User"];
    const [event] = await eventsOf(user.id);
    const day = 24 * 60 * 60 * 1000;
    const purgeAt = (days: number) =>
      new EventsService(server.db, () => new Date(Date.now() + days * day)).purgeExpired();
    await purgeAt(29);
    expect((await server.request(`/v1/events/${event?.id}`)).status).toBe(200);
    expect(await purgeAt(31)).toBeGreaterThan(0);
    await expectProblem(await server.request(`/v1/events/${event?.id}`), 404, "event_not_found");
  });

  test("an unknown event is 404 event_not_found, and so is an unknown after", async () => {
    const unknown = "0190a5a0-0000-7000-8000-000000000000";
    await expectProblem(await server.request(`/v1/events/${unknown}`), 404, "event_not_found");
    await expectProblem(await server.request(`/v1/events?after=${unknown}`), 404, "event_not_found");
  });
});

describe("webhook deliveries", () => {
  test("every subscribed event arrives, signed so that the standardwebhooks package accepts it", async () => {
    const endpoint = await subscribe("/all", "*");
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const requestId = `hook-${crypto.randomUUID().slice(0, 8)}`;
    const { wallet } = await createUserWallet(server.api);
    const response = await server.request(`/v1/wallets/${wallet.id}/topups`, {
      method: "POST",
      headers: { "x-request-id": requestId },
      json: { amount: 900 },
    });
    const transaction = (await response.json()) as Schemas["Transaction"];
    const expected = [...(await eventsOf(wallet.id)), ...(await eventsOf(transaction.id))];
    const received = await receiver.waitFor((all) =>
      expected.every((event) => all.some((request) => request.headers["webhook-id"] === event.id)),
    );
    for (const event of expected) {
      const request = received.find((candidate) => candidate.headers["webhook-id"] === event.id);
      if (request === undefined) throw new Error(`event ${event.id} never arrived`);
      expect(request.path).toBe("/all");
      expect(verified(endpoint.secret, request)).toEqual(event as never);
    }
    const delivery = received.find((request) => request.headers["webhook-id"] === expected.at(-1)?.id);
    expect(delivery?.headers["x-request-id"]).toBe(requestId);
  });

  test("an endpoint subscribed to some types gets those only", async () => {
    const endpoint = await subscribe("/transactions", ["transaction.created"]);
    const { wallet } = await createUserWallet(server.api);
    const transaction = await topUp(server.api, wallet.id, 300);
    await receiver.waitFor((all) =>
      all.some((request) => request.path === "/transactions" && request.body.includes(transaction.id)),
    );
    const types = receiver.received
      .filter((request) => request.path === "/transactions")
      .map((request) => verified(endpoint.secret, request).type);
    expect(new Set(types)).toEqual(new Set(["transaction.created"]));
  });

  test("a receiver failing twice gets the event on the third attempt, and the attempts log shows all three", async () => {
    const endpoint = await subscribe("/flaky", ["wallet.created"]);
    const failures = new Map<string, number>();
    receiver.respondWith((request) => {
      if (request.path !== "/flaky") return Response.json({});
      const id = request.headers["webhook-id"] ?? "";
      const seen = failures.get(id) ?? 0;
      failures.set(id, seen + 1);
      return seen < 2 ? new Response("try later", { status: 503 }) : Response.json({});
    });
    const { wallet } = await createUserWallet(server.api);
    const [event] = await eventsOf(wallet.id);
    const eventId = String(event?.id);
    await receiver.waitFor(
      (all) => all.filter((request) => request.headers["webhook-id"] === eventId).length === 3,
    );
    // The third attempt's log entry is written just after its answer.
    let log: Schemas["WebhookDeliveryPage"] | undefined;
    for (let tries = 0; tries < 100; tries++) {
      const response = await server.request(
        `/v1/webhook-endpoints/${endpoint.id}/deliveries?eventId=${eventId}&sort=asc`,
      );
      log = (await response.json()) as Schemas["WebhookDeliveryPage"];
      if (log.data.some((entry) => entry.status === "succeeded")) break;
      await Bun.sleep(50);
    }
    expect(log?.data.map((entry) => [entry.attempt, entry.status, entry.responseStatus])).toEqual([
      [1, "failed", 503],
      [2, "failed", 503],
      [3, "succeeded", 200],
    ]);
    expect(log?.data[0]?.nextAttemptAt).not.toBeNull();
    expect(log?.data[2]?.nextAttemptAt).toBeNull();
    receiver.respondWith(() => Response.json({}));
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^wallet_webhook_deliveries_total\{result="failed"\} [1-9]/m);
    expect(metrics).toMatch(/^wallet_webhook_deliveries_total\{result="succeeded"\} [1-9]/m);
    expect(metrics).toMatch(/^wallet_webhook_oldest_undelivered_event_age_seconds \d/m);
  });

  test("endpoints are listed, changed and deleted; the secret is never shown again", async () => {
    const endpoint = await subscribe("/crud", "*");
    const patched = await server.request(`/v1/webhook-endpoints/${endpoint.id}`, {
      method: "PATCH",
      json: { status: "disabled", description: "paused" },
    });
    expect(await patched.json()).toMatchObject({
      status: "disabled",
      description: "paused",
      eventTypes: "*",
    });
    const one = (await (await server.request(`/v1/webhook-endpoints/${endpoint.id}`)).json()) as object;
    expect("secret" in one).toBe(false);
    const deleted = await server.request(`/v1/webhook-endpoints/${endpoint.id}`, { method: "DELETE" });
    expect(deleted.status).toBe(200);
    await expectProblem(
      await server.request(`/v1/webhook-endpoints/${endpoint.id}`),
      404,
      "webhook_endpoint_not_found",
    );
  });

  test("an event type that does not exist is 400 and subscribes nothing", async () => {
    const response = await server.request("/v1/webhook-endpoints", {
      method: "POST",
      json: { url: `${receiver.url}/x`, eventTypes: ["wallet.exploded"] },
    });
    expect(response.status).toBe(400);
  });
});

describe("webhook URLs without WEBHOOK_ALLOW_PRIVATE_TARGETS", () => {
  const strict = useServer();

  test.each([
    ["loopback", "http://127.0.0.1:8080/hook"],
    ["localhost", "http://localhost/hook"],
    ["private", "http://10.1.2.3/hook"],
    ["link-local (cloud metadata)", "http://169.254.169.254/latest/meta-data"],
    ["unspecified", "http://0.0.0.0/hook"],
    ["IPv6 loopback", "http://[::1]/hook"],
    ["IPv4-mapped IPv6 private", "http://[::ffff:192.168.1.1]/hook"],
    ["not http", "ftp://example.com/hook"],
  ])("a %s URL is 400 webhook_url_not_allowed and subscribes nothing", async (_, url) => {
    const before = (await (
      await strict.request("/v1/webhook-endpoints")
    ).json()) as Schemas["WebhookEndpointPage"];
    const response = await strict.request("/v1/webhook-endpoints", {
      method: "POST",
      json: { url, eventTypes: "*" },
    });
    await expectProblem(response, 400, "webhook_url_not_allowed");
    const after = (await (
      await strict.request("/v1/webhook-endpoints")
    ).json()) as Schemas["WebhookEndpointPage"];
    expect(after.data.length).toBe(before.data.length);
  });
});
