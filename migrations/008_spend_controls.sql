-- Spend controls (contract §8): merchant categories allowed and blocked and limits per interval on cards
-- and wallets; spend windows for every interval and for categorised limits; the detail of every decline.

-- daily_limit and monthly_limit stay the uncategorised daily and monthly limits; spending_limits holds
-- every other limit as [{amount, interval, categories}] (categories null or a sorted, distinct list).
ALTER TABLE wallets
  ADD COLUMN allowed_categories text[],
  ADD COLUMN blocked_categories text[] NOT NULL DEFAULT '{}',
  ADD COLUMN spending_limits jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(spending_limits) = 'array');
ALTER TABLE cards
  ADD COLUMN allowed_categories text[],
  ADD COLUMN blocked_categories text[] NOT NULL DEFAULT '{}',
  ADD COLUMN spending_limits jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(spending_limits) = 'array');

-- Windows for weeks (from Monday), years and all time as well as days and months. category_key is ''
-- for the window of all spend, or the JSON text of a categorised limit's sorted categories: its own counter.
ALTER TABLE spend_windows DROP CONSTRAINT spend_windows_period_check;
ALTER TABLE spend_windows
  ADD CONSTRAINT spend_windows_period_check CHECK (period IN ('day', 'week', 'month', 'year', 'all_time')),
  ADD COLUMN category_key text NOT NULL DEFAULT '';
ALTER TABLE spend_windows DROP CONSTRAINT spend_windows_pkey;
ALTER TABLE spend_windows ADD PRIMARY KEY (scope_id, period, starts_on, category_key);

-- The local week and year an authorization was made in (its all-time window starts 1970-01-01), and
-- the categorised windows it counts in ([{scope, period, categoryKey}]): releases, increments and
-- refunds touch exactly those.
ALTER TABLE authorizations
  ADD COLUMN window_week date,
  ADD COLUMN window_year date,
  ADD COLUMN category_windows jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(category_windows) = 'array'),
  ADD COLUMN decline_detail jsonb;

UPDATE authorizations a
SET window_week = date_trunc('week', a.created_at AT TIME ZONE w.timezone)::date,
    window_year = date_trunc('year', a.created_at AT TIME ZONE w.timezone)::date,
    decline_detail = CASE WHEN a.status = 'declined' THEN jsonb_build_object(
      'scope', CASE WHEN a.decline_reason LIKE 'card%' THEN 'card' ELSE 'wallet' END,
      'interval', CASE WHEN a.decline_reason LIKE '%daily%' THEN 'daily'
                       WHEN a.decline_reason LIKE '%monthly%' THEN 'monthly' END,
      'limit', NULL, 'spent', NULL, 'categories', NULL) END
FROM wallets w WHERE w.id = a.wallet_id;

ALTER TABLE authorizations
  ALTER COLUMN window_week SET NOT NULL,
  ALTER COLUMN window_year SET NOT NULL,
  ADD CONSTRAINT authorizations_detail_iff_declined CHECK ((status = 'declined') = (decline_detail IS NOT NULL));

ALTER TABLE authorizations DROP CONSTRAINT authorizations_decline_reason_check;
ALTER TABLE authorizations ADD CONSTRAINT authorizations_decline_reason_check CHECK (decline_reason IN (
  'card_inactive', 'card_expired', 'wallet_frozen', 'merchant_category_not_allowed',
  'card_daily_limit_exceeded', 'card_monthly_limit_exceeded', 'wallet_daily_limit_exceeded',
  'wallet_monthly_limit_exceeded', 'spending_limit_exceeded', 'insufficient_funds', 'hook_declined'));

-- The new windows of the spend already approved: a one-off scan here, so that no decision ever scans.
INSERT INTO spend_windows (scope_id, scope, period, starts_on, spent)
SELECT scope_id, scope, period, starts_on, sum(spent) FROM (
  SELECT s.*, CASE a.status WHEN 'pending' THEN a.amount
                            WHEN 'captured' THEN a.captured_amount - a.refunded_amount ELSE 0 END AS spent
  FROM authorizations a
  CROSS JOIN LATERAL (VALUES
    (a.card_id, 'card', 'week', a.window_week), (a.card_id, 'card', 'year', a.window_year),
    (a.card_id, 'card', 'all_time', date '1970-01-01'),
    (a.wallet_id, 'wallet', 'week', a.window_week), (a.wallet_id, 'wallet', 'year', a.window_year),
    (a.wallet_id, 'wallet', 'all_time', date '1970-01-01')
  ) AS s (scope_id, scope, period, starts_on)
) counted
GROUP BY scope_id, scope, period, starts_on;
