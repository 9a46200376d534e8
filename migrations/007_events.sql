-- Events (a transactional outbox), webhook endpoints with their delivery queue and attempts log, and
-- the authorization hook (contract §7).
--
-- An event is inserted by the transaction that makes the change it describes, so it exists exactly
-- when that change committed. xid is that transaction's id: readers order events by (xid, seq) and
-- only show those whose transaction is older than every transaction still running (see
-- docs/events.md), so a consumer resuming `after` an event never skips one that committed late.

CREATE TABLE events (
  id          uuid PRIMARY KEY,
  seq         bigint GENERATED ALWAYS AS IDENTITY,
  xid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
  type        text NOT NULL,
  request_id  text,
  -- The W3C trace context of the request that made the change: deliveries continue its trace.
  traceparent text,
  object      jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
-- Every card spend writes events: one index beyond the primary key, to keep that cheap. The ids are
-- UUIDv7 (time first), so the purge of old events walks the primary key.
CREATE INDEX events_order_idx ON events (xid, seq);

CREATE TABLE webhook_endpoints (
  id          uuid PRIMARY KEY,
  url         text NOT NULL CHECK (char_length(url) <= 2048),
  -- '{*}' for every type.
  event_types text[] NOT NULL CHECK (cardinality(event_types) >= 1),
  description text CHECK (char_length(description) <= 500),
  status      text NOT NULL CHECK (status IN ('enabled', 'disabled')),
  secret      text NOT NULL,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL,
  deleted_at  timestamptz
);
CREATE INDEX webhook_endpoints_live_idx ON webhook_endpoints (created_at) WHERE deleted_at IS NULL;

-- One row per event and subscribed endpoint, made with the event: the queue every instance takes
-- work from (FOR UPDATE SKIP LOCKED). A claimed row's next_attempt_at is moved past the attempt's
-- time-out (a lease), so no other instance takes it while it is being sent.
CREATE TABLE webhook_deliveries (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id        uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id),
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

-- The attempts log: one row per attempt made.
CREATE TABLE webhook_attempts (
  id              uuid PRIMARY KEY,
  delivery_id     uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id),
  event_id        uuid NOT NULL,
  attempt         integer NOT NULL CHECK (attempt >= 1),
  status          text NOT NULL CHECK (status IN ('succeeded', 'failed')),
  response_status smallint,
  error           text,
  next_attempt_at timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (endpoint_id, created_at);

-- At most one hook: the row whose id is true.
CREATE TABLE authorization_hook (
  id          boolean PRIMARY KEY DEFAULT true CHECK (id),
  url         text NOT NULL CHECK (char_length(url) <= 2048),
  timeout_ms  integer NOT NULL CHECK (timeout_ms BETWEEN 100 AND 5000),
  on_timeout  text NOT NULL CHECK (on_timeout IN ('approve', 'decline')),
  secret      text NOT NULL,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);

ALTER TABLE authorizations DROP CONSTRAINT authorizations_decline_reason_check;
ALTER TABLE authorizations ADD CONSTRAINT authorizations_decline_reason_check CHECK (decline_reason IN (
  'card_inactive', 'card_expired', 'wallet_frozen', 'card_daily_limit_exceeded',
  'card_monthly_limit_exceeded', 'wallet_daily_limit_exceeded', 'wallet_monthly_limit_exceeded',
  'insufficient_funds', 'hook_declined'));
