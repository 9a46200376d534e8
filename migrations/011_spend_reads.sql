-- The reads of a spend decision, as functions, so that a batch of spends locks its wallets and reads
-- its cards in one round trip (src/modules/authorizations/repository.ts).

-- A card at the instant `instant`: its controls, the local windows (its wallet's time zone) that
-- contain the instant, when each ends, and the spend of the card and its wallet in them (`windows`,
-- JSON [{scope, period, categoryKey, spent}]; the all-time window starts 1970-01-01, as in
-- src/modules/authorizations/spend-windows.ts).
CREATE FUNCTION spending_cards(card_ids uuid[], instant timestamptz)
RETURNS TABLE (
  id uuid, wallet_id uuid, status text, expiry_month smallint, expiry_year smallint,
  daily_limit bigint, monthly_limit bigint, allowed_categories text[], blocked_categories text[],
  spending_limits jsonb, window_day date, window_week date, window_month date, window_year date,
  day_ends timestamptz, week_ends timestamptz, month_ends timestamptz, year_ends timestamptz, windows json
)
LANGUAGE sql STABLE AS $$
  SELECT c.id, c.wallet_id, c.status, c.expiry_month, c.expiry_year, c.daily_limit, c.monthly_limit,
         c.allowed_categories, c.blocked_categories, c.spending_limits,
         l.day::date, l.week::date, l.month::date, l.year::date,
         (l.day + interval '1 day') AT TIME ZONE w.timezone, (l.week + interval '1 week') AT TIME ZONE w.timezone,
         (l.month + interval '1 month') AT TIME ZONE w.timezone, (l.year + interval '1 year') AT TIME ZONE w.timezone,
         (SELECT COALESCE(json_agg(json_build_object('scope', s.scope, 'period', s.period,
                                                     'categoryKey', s.category_key, 'spent', s.spent)), '[]')
            FROM spend_windows s
           WHERE s.scope_id IN (c.id, c.wallet_id)
             AND ((s.period = 'day' AND s.starts_on = l.day::date)
               OR (s.period = 'week' AND s.starts_on = l.week::date)
               OR (s.period = 'month' AND s.starts_on = l.month::date)
               OR (s.period = 'year' AND s.starts_on = l.year::date)
               OR (s.period = 'all_time' AND s.starts_on = DATE '1970-01-01')))
  FROM cards c
  JOIN wallets w ON w.id = c.wallet_id
  CROSS JOIN LATERAL (
    SELECT date_trunc('day', instant AT TIME ZONE w.timezone) AS day,
           date_trunc('week', instant AT TIME ZONE w.timezone) AS week,
           date_trunc('month', instant AT TIME ZONE w.timezone) AS month,
           date_trunc('year', instant AT TIME ZONE w.timezone) AS year
  ) l
  WHERE c.id = ANY (card_ids) AND c.deleted_at IS NULL
$$;

-- The spend's lock: the live wallets of `card_ids` row-locked in id order (the order of every locker),
-- then each live card of theirs as spending_cards reads it at `instant`, with its wallet's columns and
-- when the wallet's first pending hold runs out (null when it holds nothing). PL/pgSQL runs each
-- statement on a snapshot of its own, so the cards and windows are read after the locks are granted:
-- they show everything committed before, as the wallet columns do.
CREATE FUNCTION lock_spending(card_ids uuid[], instant timestamptz)
RETURNS TABLE (
  id uuid, wallet_id uuid, status text, expiry_month smallint, expiry_year smallint,
  daily_limit bigint, monthly_limit bigint, allowed_categories text[], blocked_categories text[],
  spending_limits jsonb, window_day date, window_week date, window_month date, window_year date,
  day_ends timestamptz, week_ends timestamptz, month_ends timestamptz, year_ends timestamptz, windows json,
  wallet_currency char(3), wallet_timezone text, wallet_status text, wallet_balance bigint, wallet_held bigint,
  wallet_daily_limit bigint, wallet_monthly_limit bigint, wallet_allowed_categories text[],
  wallet_blocked_categories text[], wallet_spending_limits jsonb, wallet_holds_due_at timestamptz
)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM wallets w
   WHERE w.id IN (SELECT c.wallet_id FROM cards c WHERE c.id = ANY (card_ids) AND c.deleted_at IS NULL)
     AND w.deleted_at IS NULL
   ORDER BY w.id FOR UPDATE;
  RETURN QUERY
    SELECT s.*, w.currency, w.timezone, w.status, w.balance, w.held, w.daily_limit, w.monthly_limit,
           w.allowed_categories, w.blocked_categories, w.spending_limits,
           CASE WHEN w.held > 0 THEN (SELECT min(a.expires_at) FROM authorizations a
                                       WHERE a.wallet_id = w.id AND a.status = 'pending') END
    FROM spending_cards(card_ids, instant) s
    JOIN wallets w ON w.id = s.wallet_id AND w.deleted_at IS NULL;
END
$$;
