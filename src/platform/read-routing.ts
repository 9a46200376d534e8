import { Elysia } from "elysia";
import type { Database } from "./db.ts";
import { badRequest } from "./errors.ts";
import type { Metrics } from "./metrics.ts";
import { ReadIntent, WAL_POSITION, withReadIntent } from "./read-replica.ts";

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * A malformed X-Read-After is refused rather than ignored: ignoring it would silently drop the
 * read-your-writes promise the client asked for.
 */
export function checkReadAfter(request: Request): void {
  const readAfter = request.headers.get("x-read-after");
  if (request.method !== "GET" || readAfter === null || WAL_POSITION.test(readAfter)) return;
  const message = "Expected a WAL position as sent in X-Read-After, such as 0/16B3748";
  throw badRequest("validation_failed", `The request is invalid: header.x-read-after: ${message}.`, [
    { path: "header.x-read-after", message },
  ]);
}

/**
 * Contract §9 around every request: a GET runs with the intent to read from the replica and says where
 * it was read (X-Served-By); a write that succeeded tells the client the primary's WAL position after
 * its commit (X-Read-After), which a later GET sends back to read its own writes.
 */
export const readRouting = (db: Database, metrics: Metrics) =>
  new Elysia({ name: "read-routing" }).wrap((handle, request) => {
    if (request.method === "GET") {
      const readAfter = request.headers.get("x-read-after") ?? undefined;
      // checkReadAfter refuses a malformed position before any handler reads; it is never used.
      const intent = new ReadIntent(
        readAfter !== undefined && WAL_POSITION.test(readAfter) ? readAfter : undefined,
      );
      return (...args: unknown[]) =>
        withReadIntent(intent, async () => {
          const response: unknown = await handle(...args);
          if (intent.readTheDatabase) metrics.readRequests.inc({ target: intent.servedBy });
          if (response instanceof Response) response.headers.set("x-served-by", intent.servedBy);
          return response;
        });
    }
    if (!WRITE_METHODS.has(request.method)) return handle;
    return async (...args: unknown[]) => {
      const response: unknown = await handle(...args);
      // Read after the handler returned: its commit is done, so the position covers it.
      if (response instanceof Response && response.status >= 200 && response.status < 300) {
        const position = await db.positionAfterWrite();
        if (position !== undefined) response.headers.set("x-read-after", position);
      }
      return response;
    };
  });
