-- The balance a ledger row is posted with (the running balance PostgreSQL works out from the wallet
-- row it updates), checked against `expected`, the one the service worked out under the wallet's lock
-- and wrote into the row's event (null: nothing to check). The COMMIT of a batch of spends goes out
-- with its writes (src/platform/db.ts), so a difference must fail the statement itself: the
-- transaction then commits nothing, rather than a ledger row that its event contradicts. A row with
-- no balance (its wallet row was not updated) fails the same way.
CREATE FUNCTION checked_balance_after(computed bigint, expected bigint, transaction_id uuid)
RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
  IF computed IS NULL THEN
    RAISE EXCEPTION 'ledger row % moved no wallet row', transaction_id;
  ELSIF computed <> expected THEN
    RAISE EXCEPTION 'ledger row % would be posted with balance %, not the % its event shows',
      transaction_id, computed, expected;
  END IF;
  RETURN computed;
END
$$;
