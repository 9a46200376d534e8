-- Team names are unique among live teams, in any letter case, as they were in the original service.
-- Live teams that already share a name keep the oldest as it is; each later one gets " (2)", " (3)", …
-- (cut to 200 characters), so the index can be built and no team is lost.
WITH ranked AS (
  SELECT id, name,
         row_number() OVER (PARTITION BY lower(name) ORDER BY created_at, id) AS rank
  FROM teams
  WHERE deleted_at IS NULL
)
UPDATE teams
SET name = left(ranked.name, 200 - char_length(' (' || ranked.rank || ')')) || ' (' || ranked.rank || ')',
    updated_at = now()
FROM ranked
WHERE teams.id = ranked.id AND ranked.rank > 1;

CREATE UNIQUE INDEX teams_name_live_key ON teams (lower(name)) WHERE deleted_at IS NULL;
