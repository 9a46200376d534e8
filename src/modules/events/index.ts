import { Elysia } from "elysia";
import { callerOf } from "../../platform/request-context.ts";
import { describe, errorResponses, IdParams, sharedModels } from "../../platform/schemas.ts";
import { eventsModels, ListEventsQuery } from "./model.ts";
import type { EventsService } from "./service.ts";

const tag = "events";

export const eventsController = (events: EventsService) =>
  new Elysia({ name: "events", prefix: "/v1/events" })
    .model({ ...sharedModels, ...eventsModels })
    .get("", ({ query, request }) => events.list(query, callerOf(request).reach), {
      query: ListEventsQuery,
      response: { 200: "EventPage", ...errorResponses(404) },
      ...describe(
        tag,
        "listEvents",
        "List events; resume after an event id",
        "Lists the events of the last 30 days or more (every committed change appends one), newest first by default; filter by `type`. With `after` (an event id) the page holds the events after it, oldest first, in the order a consumer should apply them: pass the last id of a page as `after` to read the next, and no event is ever skipped (an event appears here only once every transaction that began before it has ended). An `after` that names no event is 404 event_not_found. Events hold resources of every team and user: a key bound to a team or a user gets none.",
        { scope: "read" },
      ),
    })
    .get("/:id", ({ params, request }) => events.get(params.id, callerOf(request).reach), {
      params: IdParams,
      response: { 200: "Event", ...errorResponses(404) },
      ...describe(
        tag,
        "getEvent",
        "Get an event",
        "Returns an event: its type, when and by which request it was made, and the resource as it was after the change. A key bound to a team or a user reaches no event (404).",
        { scope: "read" },
      ),
    });
