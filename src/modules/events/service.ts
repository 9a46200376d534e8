import type { Reach } from "../../platform/auth.ts";
import type { Clock } from "../../platform/clock.ts";
import type { Database } from "../../platform/db.ts";
import { found } from "../../platform/errors.ts";
import { listOptions, type Page, toPage } from "../../platform/pagination.ts";
import { reachesEvents } from "../access/reach.ts";
import { eventNotFound } from "./errors.ts";
import type { Event, ListEventsQuery } from "./model.ts";
import { eventsRepository as repository } from "./repository.ts";

/** Events are kept at least this long (contract §7: at least 30 days), then purged. */
export const EVENT_RETENTION_DAYS = 30;

export class EventsService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /** Out of reach (see `reachesEvents`), an event is 404 and a list is empty. */
  async get(id: string, reach: Reach): Promise<Event> {
    if (!reachesEvents(reach)) throw eventNotFound(id);
    return found(await repository.find(this.db, id), () => eventNotFound(id));
  }

  async list(query: ListEventsQuery, reach: Reach): Promise<Page<Event>> {
    const options = listOptions(query, "createdAt");
    if (
      query.after !== undefined &&
      (!reachesEvents(reach) || !(await repository.exists(this.db, query.after)))
    ) {
      throw eventNotFound(query.after);
    }
    if (!reachesEvents(reach)) return toPage([], options, (event: Event) => event);
    const rows = await repository.list(this.db, { type: query.type, after: query.after }, options);
    return toPage(rows, options, (event) => event);
  }

  /** Deletes the events past their retention, in short batches. */
  async purgeExpired(batchSize = 1000): Promise<number> {
    const cutoff = new Date(this.clock().getTime() - EVENT_RETENTION_DAYS * 24 * 60 * 60 * 1000);
    let purged = 0;
    for (;;) {
      const deleted = await repository.purgeBefore(this.db, cutoff, batchSize);
      purged += deleted;
      if (deleted < batchSize) return purged;
    }
  }
}
