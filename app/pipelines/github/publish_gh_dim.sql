-- Declares the foreign keys of the filled gh_dim_next (after loading: checking them once is cheaper
-- than row by row) and publishes it as gh_dim in one transaction.

SELECT util.add_fk('gh_dim_next', 'repo_activity', 'day_fk', 'time', 'day', 'day_id');
SELECT util.add_fk('gh_dim_next', 'repo_activity', 'repo_fk', 'gh_dim_next', 'repo', 'repo_id');

-- Facts are loaded day by day: a BRIN index on the day is tiny and prunes days for date filters.
SELECT util.add_index('gh_dim_next', 'repo_activity', ARRAY['day_fk'], 'brin');

SELECT util.replace_schema('gh_dim', 'gh_dim_next');
