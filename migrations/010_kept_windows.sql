-- A card's or wallet's week, year and all-time windows are kept only while it has a limit of that
-- interval without categories (the service fills a window when such a limit is set and drops it when
-- the limit goes); the day and month windows are kept for every spend. The rows of the other windows
-- go here, once: nothing reads them.
DELETE FROM spend_windows s
WHERE s.category_key = '' AND s.period IN ('week', 'year', 'all_time')
  AND NOT EXISTS (
    SELECT 1
    FROM (SELECT spending_limits FROM cards WHERE s.scope = 'card' AND id = s.scope_id
          UNION ALL
          SELECT spending_limits FROM wallets WHERE s.scope = 'wallet' AND id = s.scope_id) owner,
         jsonb_array_elements(owner.spending_limits) AS l (limit_)
    WHERE l.limit_->>'categories' IS NULL
      AND l.limit_->>'interval' = CASE s.period WHEN 'week' THEN 'weekly' WHEN 'year' THEN 'yearly'
                                                ELSE 'all_time' END);
