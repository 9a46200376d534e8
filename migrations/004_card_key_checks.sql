-- The key check value of every card encryption key the stored cards may be encrypted under: an HMAC of
-- a constant under a key derived (HKDF) from the card key, never the key. Start-up refuses a key set
-- that does not cover every row; a finished key rotation leaves only the new key's row.
CREATE TABLE card_key_checks (
  check_value  text PRIMARY KEY CHECK (check_value ~ '^[0-9a-f]{64}$'),
  created_at   timestamptz NOT NULL DEFAULT now()
);
