-- Idempotency request hashes become keyed (HMAC-SHA-256 under a key derived from the card key).

-- Request hashes were a bare SHA-256 of the request, which for a card request is a hash of its number
-- and CVV. They are erased; the rows stay, so a retry of such a request (within the 24 hours a key is
-- kept) is refused with 409 idempotency_key_reused instead of running a second time.
UPDATE idempotency_keys SET request_hash = 'erased: unkeyed hash';
