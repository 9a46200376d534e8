-- Money: an append-only ledger, card authorizations with holds, spend windows for limits, idempotency.
--
-- wallets.balance is the sum of the wallet's ledger (credits minus debits) and changes only in the
-- transaction that appends the ledger row; wallets.held is the sum of its pending authorizations.
-- availableBalance = balance - held, kept >= 0 by the CHECK below even if code were wrong.

ALTER TABLE wallets
  ADD COLUMN held bigint NOT NULL DEFAULT 0,
  ADD CONSTRAINT wallets_held_within_balance CHECK (held >= 0 AND held <= balance);

CREATE TABLE transfers (
  id            uuid PRIMARY KEY,
  from_wallet_id uuid NOT NULL REFERENCES wallets (id),
  to_wallet_id  uuid NOT NULL REFERENCES wallets (id),
  amount        bigint NOT NULL CHECK (amount BETWEEN 1 AND 1000000000000),
  currency      char(3) NOT NULL,
  description   text CHECK (char_length(description) <= 500),
  created_at    timestamptz NOT NULL,
  CONSTRAINT transfers_between_two_wallets CHECK (from_wallet_id <> to_wallet_id)
);

-- window_day and window_month are the local day and month (wallet time zone) the authorization was
-- made in: releases, partial captures and refunds give spend back to exactly those windows.
CREATE TABLE authorizations (
  id                uuid PRIMARY KEY,
  card_id           uuid NOT NULL REFERENCES cards (id),
  wallet_id         uuid NOT NULL REFERENCES wallets (id),
  amount            bigint NOT NULL CHECK (amount BETWEEN 1 AND 1000000000000),
  currency          char(3) NOT NULL,
  merchant_name     text NOT NULL CHECK (char_length(merchant_name) BETWEEN 1 AND 200),
  merchant_category text CHECK (char_length(merchant_category) <= 100),
  status            text NOT NULL CHECK (status IN ('pending', 'captured', 'voided', 'expired', 'declined')),
  decline_reason    text CHECK (decline_reason IN (
                      'card_inactive', 'card_expired', 'wallet_frozen', 'card_daily_limit_exceeded',
                      'card_monthly_limit_exceeded', 'wallet_daily_limit_exceeded',
                      'wallet_monthly_limit_exceeded', 'insufficient_funds')),
  captured_amount   bigint NOT NULL DEFAULT 0,
  refunded_amount   bigint NOT NULL DEFAULT 0,
  window_day        date NOT NULL,
  window_month      date NOT NULL,
  expires_at        timestamptz NOT NULL,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  CONSTRAINT authorizations_reason_iff_declined CHECK ((status = 'declined') = (decline_reason IS NOT NULL)),
  CONSTRAINT authorizations_capture_within_amount CHECK (captured_amount BETWEEN 0 AND amount),
  CONSTRAINT authorizations_captured_iff_amount CHECK ((status = 'captured') = (captured_amount > 0)),
  CONSTRAINT authorizations_refunds_within_capture CHECK (refunded_amount BETWEEN 0 AND captured_amount)
);
CREATE INDEX authorizations_card_idx ON authorizations (card_id, created_at);
CREATE INDEX authorizations_pending_expiry_idx ON authorizations (expires_at) WHERE status = 'pending';
CREATE INDEX authorizations_wallet_pending_idx ON authorizations (wallet_id, expires_at) WHERE status = 'pending';

-- seq orders the ledger: it is drawn while the wallet's row lock is held, so a wallet's rows are
-- numbered in the order they were applied, whatever their clocks said.
CREATE TABLE transactions (
  id                uuid PRIMARY KEY,
  seq               bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  wallet_id         uuid NOT NULL REFERENCES wallets (id),
  card_id           uuid REFERENCES cards (id),
  authorization_id  uuid REFERENCES authorizations (id),
  transfer_id       uuid REFERENCES transfers (id),
  refund_of         uuid REFERENCES transactions (id),
  type              text NOT NULL CHECK (type IN ('topup', 'withdrawal', 'transfer_in', 'transfer_out', 'card_spend', 'refund')),
  amount            bigint NOT NULL CHECK (amount BETWEEN 1 AND 1000000000000),
  currency          char(3) NOT NULL,
  balance_after     bigint NOT NULL CHECK (balance_after BETWEEN 0 AND 1000000000000000),
  description       text CHECK (char_length(description) <= 500),
  created_at        timestamptz NOT NULL,
  CONSTRAINT transactions_transfer_rows CHECK ((type IN ('transfer_in', 'transfer_out')) = (transfer_id IS NOT NULL)),
  CONSTRAINT transactions_card_rows CHECK ((type IN ('card_spend', 'refund')) = (authorization_id IS NOT NULL AND card_id IS NOT NULL)),
  CONSTRAINT transactions_refund_rows CHECK ((type = 'refund') = (refund_of IS NOT NULL))
);
CREATE INDEX transactions_wallet_idx ON transactions (wallet_id, seq);
CREATE INDEX transactions_wallet_created_idx ON transactions (wallet_id, created_at);
CREATE INDEX transactions_refund_of_idx ON transactions (refund_of) WHERE refund_of IS NOT NULL;
-- One card_spend per authorization: a capture can never be recorded twice.
CREATE UNIQUE INDEX transactions_one_spend_per_authorization ON transactions (authorization_id) WHERE type = 'card_spend';

-- The ledger is append-only: no row is ever changed or removed.
CREATE FUNCTION transactions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the ledger is append-only: % on transactions is not allowed', TG_OP;
END
$$;
CREATE TRIGGER transactions_append_only BEFORE UPDATE OR DELETE ON transactions
  FOR EACH ROW EXECUTE FUNCTION transactions_append_only();

-- Approved card spend (pending + captured - refunded) per card and per wallet, per local day and month.
CREATE TABLE spend_windows (
  scope_id   uuid NOT NULL,
  scope      text NOT NULL CHECK (scope IN ('card', 'wallet')),
  period     text NOT NULL CHECK (period IN ('day', 'month')),
  starts_on  date NOT NULL,
  spent      bigint NOT NULL CHECK (spent >= 0),
  PRIMARY KEY (scope_id, period, starts_on)
);

-- Each key is stored with the hash of its request and the response, in the transaction of the effect.
CREATE TABLE idempotency_keys (
  api_key_id       text NOT NULL,
  key              text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
  request_hash     text NOT NULL,
  response_status  smallint NOT NULL,
  response_body    text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (api_key_id, key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
