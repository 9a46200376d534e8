-- Access control (contract §6): API keys made through the API, and the append-only audit trail.

-- A key's secret is never stored: secret_hash is its SHA-256 (the secret has 256 random bits, so the
-- hash cannot be searched), prefix its first 8 characters for people to recognise it.
CREATE TABLE api_keys (
  id            uuid PRIMARY KEY,
  name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  prefix        text NOT NULL CHECK (char_length(prefix) = 8),
  secret_hash   bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
  scopes        text[] NOT NULL CHECK (cardinality(scopes) >= 1
                  AND scopes <@ ARRAY['read', 'write', 'money', 'authorize', 'cards:reveal', 'admin']),
  team_id       uuid REFERENCES teams (id),
  user_id       uuid REFERENCES users (id),
  expires_at    timestamptz,
  last_used_at  timestamptz,
  revoked_at    timestamptz,
  created_at    timestamptz NOT NULL,
  CONSTRAINT api_keys_one_binding CHECK (team_id IS NULL OR user_id IS NULL),
  CONSTRAINT api_keys_bound_not_admin CHECK (
    (team_id IS NULL AND user_id IS NULL) OR NOT ('admin' = ANY (scopes)))
);
CREATE UNIQUE INDEX api_keys_secret_hash_key ON api_keys (secret_hash);
CREATE INDEX api_keys_created_at_idx ON api_keys (created_at, id);

-- Who did what: appended in the transaction of the change it records, never changed or removed.
CREATE TABLE audit_events (
  id             uuid PRIMARY KEY,
  action         text NOT NULL,
  api_key_id     text NOT NULL,
  request_id     text,
  resource_type  text NOT NULL,
  resource_id    text NOT NULL,
  changes        jsonb,
  created_at     timestamptz NOT NULL
);
CREATE INDEX audit_events_created_at_idx ON audit_events (created_at, id);
CREATE INDEX audit_events_resource_idx ON audit_events (resource_type, resource_id, created_at);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only: % on audit_events is not allowed', TG_OP;
END
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
