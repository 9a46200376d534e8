/**
 * Two instances on one PostgreSQL share the webhook deliveries through the database: each event
 * reaches each endpoint once under normal operation, whichever instance made it and sent it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Running, startServiceProcess, stopProcess } from "../helpers/process.ts";
import { type Receiver, startReceiver, verified } from "../helpers/receiver.ts";
import { createScratchDatabase, uniqueEmail } from "../helpers/server.ts";
import { randomCardKey } from "../helpers/values.ts";

const serverUrl = process.env.DATABASE_URL;
const ADMIN_KEY = "events-instances-admin-key-0123456789";
const HOOK_TIMEOUT_MS = 90_000;
const USERS = 40;

let instances: Running[] = [];
let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
let receivers: Receiver[] = [];

const call = (instance: Running | undefined, path: string, body: unknown) =>
  fetch(`${instance?.baseUrl}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("webhook deliveries from two instances on one PostgreSQL", () => {
  beforeAll(async () => {
    if (serverUrl === undefined) return;
    receivers = [startReceiver(), startReceiver()];
    scratch = await createScratchDatabase(serverUrl);
    const env = {
      DATABASE_URL: scratch.url,
      ADMIN_API_KEY: ADMIN_KEY,
      CARD_ENCRYPTION_KEY: randomCardKey(),
      DB_POOL_MAX: "5",
      WEBHOOK_ALLOW_PRIVATE_TARGETS: "true",
    };
    for (let index = 0; index < 2; index++) instances.push(await startServiceProcess(env, 60_000));
  }, HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(instances.map((instance) => stopProcess(instance.process)));
    instances = [];
    await Promise.all(receivers.map((receiver) => receiver.stop()));
    await scratch?.drop();
  }, HOOK_TIMEOUT_MS);

  test.skipIf(serverUrl === undefined)(
    `${USERS} changes made through both instances reach each of two endpoints exactly once, correctly signed`,
    async () => {
      const endpoints: { secret: string }[] = [];
      for (const [index, receiver] of receivers.entries()) {
        const response = await call(instances[index], "/v1/webhook-endpoints", {
          url: `${receiver.url}/events`,
          eventTypes: ["user.created"],
        });
        expect(response.status).toBe(201);
        endpoints.push((await response.json()) as { secret: string });
      }
      const created = await Promise.all(
        Array.from({ length: USERS }, async (_, index) => {
          const response = await call(instances[index % 2], "/v1/users", {
            email: uniqueEmail(),
            name: "Twin",
          });
          expect(response.status).toBe(201);
          return ((await response.json()) as { id: string }).id;
        }),
      );
      for (const [index, receiver] of receivers.entries()) {
        await receiver.waitFor(
          (all) => new Set(all.map((request) => request.headers["webhook-id"])).size >= USERS,
        );
        // A little longer: a second delivery of any event would arrive within this.
        await Bun.sleep(1_000);
        const secret = String(endpoints[index]?.secret);
        const users = receiver.received.map((request) => verified(secret, request).data.object.id);
        expect(users.toSorted()).toEqual(created.toSorted());
        const ids = receiver.received.map((request) => request.headers["webhook-id"]);
        expect(new Set(ids).size).toBe(ids.length);
      }
    },
    HOOK_TIMEOUT_MS,
  );
});
