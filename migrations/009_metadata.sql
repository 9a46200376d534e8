-- Metadata (contract §8): up to 20 string keys (1-40 characters) with string values (at most 500) on
-- users, teams, wallets, cards, transfers, ledger transactions (top-ups, withdrawals, the two rows of a
-- transfer, a card spend) and authorizations. The service validates each entry; the schema keeps it an
-- object of at most 20 keys.
ALTER TABLE users ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'
  CONSTRAINT users_metadata_object CHECK (jsonb_typeof(metadata) = 'object');
ALTER TABLE teams ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'
  CONSTRAINT teams_metadata_object CHECK (jsonb_typeof(metadata) = 'object');
ALTER TABLE wallets ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'
  CONSTRAINT wallets_metadata_object CHECK (jsonb_typeof(metadata) = 'object');
ALTER TABLE cards ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'
  CONSTRAINT cards_metadata_object CHECK (jsonb_typeof(metadata) = 'object');
ALTER TABLE transfers ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'
  CONSTRAINT transfers_metadata_object CHECK (jsonb_typeof(metadata) = 'object');
ALTER TABLE transactions ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'
  CONSTRAINT transactions_metadata_object CHECK (jsonb_typeof(metadata) = 'object');
ALTER TABLE authorizations ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'
  CONSTRAINT authorizations_metadata_object CHECK (jsonb_typeof(metadata) = 'object');
