/**
 * A local HTTP receiver on 127.0.0.1 for webhook and authorization-hook tests: it records every
 * request (headers and body as text) and answers with whatever `respond` says.
 */
import { expect } from "bun:test";
import { Webhook } from "standardwebhooks";

export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** performance.now() when the request arrived. */
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Sets how requests are answered from now on (by default 200 `{}`). */
  respondWith(respond: (request: Received) => Response | Promise<Response>): void;
  /** Waits until `predicate` holds over what was received (throws after `timeoutMs`). */
  waitFor(predicate: (received: Received[]) => boolean, timeoutMs?: number): Promise<Received[]>;
  stop(): Promise<void>;
}

export function startReceiver(): Receiver {
  const received: Received[] = [];
  let respond: (request: Received) => Response | Promise<Response> = () => Response.json({});
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 30,
    async fetch(request) {
      const entry = {
        path: new URL(request.url).pathname,
        headers: request.headers.toJSON(),
        body: await request.text(),
        at: performance.now(),
      };
      received.push(entry);
      return respond(entry);
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    received,
    respondWith(next) {
      respond = next;
    },
    async waitFor(predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline) {
          throw new Error(`the receiver did not get what was expected; it got ${received.length} request(s)`);
        }
        await Bun.sleep(25);
      }
      return received;
    },
    async stop() {
      await server.stop(true);
    },
  };
}

/** An event a webhook receiver got, after checking its Standard Webhooks signature with `secret`. */
export interface DeliveredEvent {
  id: string;
  type: string;
  requestId: string | null;
  data: { object: Record<string, unknown> };
}

/** The payload of `request`, verified with the `standardwebhooks` package as a receiver would; throws if it does not verify. */
export function verified(secret: string, request: Received): DeliveredEvent {
  const payload = new Webhook(secret).verify(request.body, request.headers) as DeliveredEvent;
  expect(request.headers["webhook-id"]).toBe(payload.id);
  return payload;
}
