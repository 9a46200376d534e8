-- Core resources: users, teams, memberships, wallets, cards.
-- Rows are never deleted: deleted_at marks a soft delete, and every uniqueness rule ignores deleted rows.
-- Money is bigint minor units; limits and balances are bounded by the contract (0 to 10^15).

CREATE TABLE users (
  id          uuid PRIMARY KEY,
  email       text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
  name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz
);
CREATE UNIQUE INDEX users_email_live_key ON users (lower(email)) WHERE deleted_at IS NULL;
CREATE INDEX users_created_at_idx ON users (created_at, id) WHERE deleted_at IS NULL;

CREATE TABLE teams (
  id          uuid PRIMARY KEY,
  name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz
);
CREATE INDEX teams_created_at_idx ON teams (created_at, id) WHERE deleted_at IS NULL;

CREATE TABLE team_members (
  id          uuid PRIMARY KEY,
  team_id     uuid NOT NULL REFERENCES teams (id),
  user_id     uuid NOT NULL REFERENCES users (id),
  role        text NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz
);
CREATE UNIQUE INDEX team_members_live_key ON team_members (team_id, user_id) WHERE deleted_at IS NULL;
CREATE INDEX team_members_user_idx ON team_members (user_id) WHERE deleted_at IS NULL;

CREATE TABLE wallets (
  id             uuid PRIMARY KEY,
  name           text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  user_id        uuid REFERENCES users (id),
  team_id        uuid REFERENCES teams (id),
  currency       char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  timezone       text NOT NULL CHECK (char_length(timezone) BETWEEN 1 AND 64),
  status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'frozen')),
  balance        bigint NOT NULL DEFAULT 0 CHECK (balance BETWEEN 0 AND 1000000000000000),
  daily_limit    bigint NOT NULL CHECK (daily_limit BETWEEN 0 AND 1000000000000000),
  monthly_limit  bigint NOT NULL CHECK (monthly_limit BETWEEN 0 AND 1000000000000000),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  deleted_at     timestamptz,
  CONSTRAINT wallets_exactly_one_owner CHECK ((user_id IS NULL) <> (team_id IS NULL)),
  CONSTRAINT wallets_daily_within_monthly CHECK (daily_limit <= monthly_limit)
);
CREATE INDEX wallets_user_idx ON wallets (user_id) WHERE deleted_at IS NULL;
CREATE INDEX wallets_team_idx ON wallets (team_id) WHERE deleted_at IS NULL;
CREATE INDEX wallets_created_at_idx ON wallets (created_at, id) WHERE deleted_at IS NULL;

-- The card number and CVV are AES-256-GCM ciphertexts; number_fingerprint is an HMAC of the number,
-- so uniqueness is enforced without the plain number ever being stored.
CREATE TABLE cards (
  id                  uuid PRIMARY KEY,
  wallet_id           uuid NOT NULL REFERENCES wallets (id),
  cardholder_id       uuid REFERENCES users (id),
  brand               text NOT NULL,
  last4               char(4) NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
  number_fingerprint  text NOT NULL,
  number_ciphertext   bytea NOT NULL,
  cvv_ciphertext      bytea NOT NULL,
  expiry_month        smallint NOT NULL CHECK (expiry_month BETWEEN 1 AND 12),
  expiry_year         smallint NOT NULL CHECK (expiry_year BETWEEN 2000 AND 9999),
  status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'frozen', 'cancelled')),
  daily_limit         bigint NOT NULL CHECK (daily_limit BETWEEN 0 AND 1000000000000000),
  monthly_limit       bigint NOT NULL CHECK (monthly_limit BETWEEN 0 AND 1000000000000000),
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  deleted_at          timestamptz,
  CONSTRAINT cards_daily_within_monthly CHECK (daily_limit <= monthly_limit)
);
CREATE UNIQUE INDEX cards_number_live_key ON cards (number_fingerprint) WHERE deleted_at IS NULL;
CREATE INDEX cards_wallet_idx ON cards (wallet_id) WHERE deleted_at IS NULL;
CREATE INDEX cards_cardholder_idx ON cards (cardholder_id) WHERE deleted_at IS NULL;
