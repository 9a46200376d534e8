/**
 * The real-time authorization hook (contract §7): a spend the service's own checks approve is held,
 * the hook is asked with no lock held, and its answer (or `onTimeout`) decides; the response of the
 * spend is the final outcome.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Webhook } from "standardwebhooks";
import { authorize, createCard, createUserWallet, getWallet, topUp } from "../helpers/fixtures.ts";
import { expectProblem } from "../helpers/problem-details.ts";
import { type Receiver, startReceiver } from "../helpers/receiver.ts";
import { type Schemas, useServer } from "../helpers/server.ts";

const server = useServer({ WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" });

let hook: Receiver;
let secret: string;

beforeAll(() => {
  hook = startReceiver();
});
afterAll(async () => {
  await hook.stop();
});

async function setHook(body: { timeoutMs?: number; onTimeout: "approve" | "decline" }) {
  const response = await server.request("/v1/authorization-hook", {
    method: "PUT",
    json: { url: `${hook.url}/authorize`, ...body },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Schemas["AuthorizationHook"];
}

/** A funded card: a wallet holding `balance` and an active card on it. */
async function fundedCard(balance = 10_000) {
  const { wallet } = await createUserWallet(server.api);
  await topUp(server.api, wallet.id, balance);
  const card = await createCard(server.api, { walletId: wallet.id });
  return { wallet, card };
}

/** The hook calls made about `authorizationId`. */
const callsAbout = (authorizationId: string) =>
  hook.received.filter((request) => request.headers["webhook-id"] === authorizationId);

describe("setting the hook", () => {
  test("the first PUT shows the signing secret, a change keeps it and does not show it, GET never does", async () => {
    const first = await setHook({ onTimeout: "decline" });
    expect(first).toMatchObject({ url: `${hook.url}/authorize`, timeoutMs: 1500, onTimeout: "decline" });
    expect(first.secret).toMatch(/^whsec_/);
    secret = String(first.secret);
    const changed = await setHook({ timeoutMs: 800, onTimeout: "decline" });
    expect(changed.timeoutMs).toBe(800);
    expect(changed.secret).toBeUndefined();
    const read = (await (await server.request("/v1/authorization-hook")).json()) as object;
    expect(read).toMatchObject({ timeoutMs: 800 });
    expect("secret" in read).toBe(false);
  });

  test("a timeoutMs outside 100-5000 is 400 and changes nothing", async () => {
    const response = await server.request("/v1/authorization-hook", {
      method: "PUT",
      json: { url: `${hook.url}/authorize`, timeoutMs: 50, onTimeout: "approve" },
    });
    expect(response.status).toBe(400);
    const read = (await (
      await server.request("/v1/authorization-hook")
    ).json()) as Schemas["AuthorizationHook"];
    expect(read.timeoutMs).toBe(800);
  });
});

describe("spends with the hook set", () => {
  test("approved: captured; the call is signed, with traceparent, X-Request-Id and { authorization, card, wallet }", async () => {
    hook.respondWith(() => Response.json({ approved: true }));
    const { wallet, card } = await fundedCard();
    const traceId = crypto.randomUUID().replaceAll("-", "");
    const traceparent = `00-${traceId}-${"a".repeat(16)}-01`;
    const requestId = `hook-approve-${crypto.randomUUID().slice(0, 8)}`;
    const response = await server.request(`/v1/cards/${card.id}/authorizations`, {
      method: "POST",
      headers: { traceparent, "x-request-id": requestId },
      json: { amount: 2_500, merchant: { name: "Kopi Corner", category: "5814" } },
    });
    expect(response.status).toBe(201);
    const authorization = (await response.json()) as Schemas["Authorization"];
    expect(authorization).toMatchObject({ status: "captured", declineReason: null, capturedAmount: 2_500 });
    const [call] = callsAbout(authorization.id);
    if (call === undefined) throw new Error("the hook was not called");
    const payload = new Webhook(secret).verify(call.body, call.headers) as Record<string, { id: string }>;
    expect(payload.authorization).toMatchObject({ id: authorization.id, status: "pending", amount: 2_500 });
    expect(payload.card?.id).toBe(card.id);
    expect(payload.wallet?.id).toBe(wallet.id);
    expect(call.headers["x-request-id"]).toBe(requestId);
    expect(call.headers.traceparent).toStartWith(`00-${traceId}-`);
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ balance: 7_500, availableBalance: 7_500 });
  });

  test("declined by the hook: declineReason hook_declined, the hold released, no money moved", async () => {
    hook.respondWith(() => Response.json({ approved: false, reason: "risk score" }));
    const { wallet, card } = await fundedCard();
    const authorization = await authorize(server.api, card.id, 4_000);
    expect(authorization).toMatchObject({
      status: "declined",
      declineReason: "hook_declined",
      capturedAmount: 0,
    });
    expect(await getWallet(server.api, wallet.id)).toMatchObject({
      balance: 10_000,
      availableBalance: 10_000,
      spentToday: 0,
    });
  });

  test("approved with capture: false: the hold stays pending", async () => {
    hook.respondWith(() => Response.json({ approved: true }));
    const { wallet, card } = await fundedCard();
    const authorization = await authorize(server.api, card.id, 3_000, { capture: false });
    expect(authorization.status).toBe("pending");
    expect(await getWallet(server.api, wallet.id)).toMatchObject({
      balance: 10_000,
      availableBalance: 7_000,
    });
  });

  test("a spend the service's own checks decline never reaches the hook", async () => {
    const { card } = await fundedCard(100);
    const authorization = await authorize(server.api, card.id, 5_000);
    expect(authorization.declineReason).toBe("insufficient_funds");
    expect(callsAbout(authorization.id)).toHaveLength(0);
  });

  describe.each(["approve", "decline"] as const)("onTimeout %s", (onTimeout) => {
    const expected =
      onTimeout === "approve"
        ? { status: "captured", declineReason: null }
        : { status: "declined", declineReason: "hook_declined" };

    test(`no answer within timeoutMs: ${expected.status}`, async () => {
      await setHook({ timeoutMs: 200, onTimeout });
      hook.respondWith(async () => {
        await Bun.sleep(1_500);
        return Response.json({ approved: onTimeout !== "approve" });
      });
      const { card } = await fundedCard();
      expect(await authorize(server.api, card.id, 1_000)).toMatchObject(expected);
    });

    test(`a non-2xx answer: ${expected.status}`, async () => {
      await setHook({ timeoutMs: 1_000, onTimeout });
      hook.respondWith(() => new Response("oops", { status: 500 }));
      const { card } = await fundedCard();
      expect(await authorize(server.api, card.id, 1_000)).toMatchObject(expected);
    });

    test(`an unreadable answer: ${expected.status}`, async () => {
      await setHook({ timeoutMs: 1_000, onTimeout });
      hook.respondWith(() => new Response("approved!", { status: 200 }));
      const { card } = await fundedCard();
      expect(await authorize(server.api, card.id, 1_000)).toMatchObject(expected);
    });
  });

  test("while the hook is asked about a spend on wallet W, a top-up on W completes before the hook answers", async () => {
    await setHook({ timeoutMs: 3_000, onTimeout: "decline" });
    let hookAnsweredAt = Number.POSITIVE_INFINITY;
    hook.respondWith(async () => {
      await Bun.sleep(1_000);
      hookAnsweredAt = performance.now();
      return Response.json({ approved: true });
    });
    const { wallet, card } = await fundedCard();
    const before = hook.received.length;
    const spend = authorize(server.api, card.id, 2_000);
    await hook.waitFor((all) => all.length > before);
    await topUp(server.api, wallet.id, 500);
    const toppedUpAt = performance.now();
    expect(toppedUpAt).toBeLessThan(hookAnsweredAt);
    expect((await spend).status).toBe("captured");
    expect(await getWallet(server.api, wallet.id)).toMatchObject({ balance: 8_500 });
  });

  test("with an Idempotency-Key, a retry replays the hook's outcome and asks it nothing more", async () => {
    await setHook({ timeoutMs: 1_000, onTimeout: "approve" });
    hook.respondWith(() => Response.json({ approved: false, reason: "no" }));
    const { card } = await fundedCard();
    const key = crypto.randomUUID();
    const send = () =>
      server.request(`/v1/cards/${card.id}/authorizations`, {
        method: "POST",
        headers: { "idempotency-key": key },
        json: { amount: 1_000, merchant: { name: "Shop" } },
      });
    const first = (await (await send()).json()) as Schemas["Authorization"];
    expect(first.declineReason).toBe("hook_declined");
    const replay = await send();
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.json()).toEqual(first);
    expect(callsAbout(first.id)).toHaveLength(1);
  });

  test("/metrics has the hook's latency by result", async () => {
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    for (const result of ["approved", "declined", "timeout", "error"]) {
      expect(metrics).toMatch(
        new RegExp(`^wallet_authorization_hook_duration_seconds_count\\{result="${result}"\\} [1-9]`, "m"),
      );
    }
  });

  test("after DELETE, spends are decided without the hook", async () => {
    expect((await server.request("/v1/authorization-hook", { method: "DELETE" })).status).toBe(200);
    await expectProblem(await server.request("/v1/authorization-hook"), 404, "authorization_hook_not_found");
    const { card } = await fundedCard();
    const authorization = await authorize(server.api, card.id, 1_000);
    expect(authorization.status).toBe("captured");
    expect(callsAbout(authorization.id)).toHaveLength(0);
  });
});

describe("hook URLs without WEBHOOK_ALLOW_PRIVATE_TARGETS", () => {
  const strict = useServer();
  test("a loopback URL is 400 webhook_url_not_allowed and sets no hook", async () => {
    const response = await strict.request("/v1/authorization-hook", {
      method: "PUT",
      json: { url: "http://127.0.0.1:9/authorize", onTimeout: "approve" },
    });
    await expectProblem(response, 400, "webhook_url_not_allowed");
    await expectProblem(await strict.request("/v1/authorization-hook"), 404, "authorization_hook_not_found");
  });
});
