-- Declares the foreign keys of the filled gh_dim_next (after loading: checking them once is cheaper
-- than row by row) and publishes it as gh_dim: util.replace_schema swaps the schemas in one
-- transaction.

SELECT util.add_fk('gh_dim_next', 'repo_activity', 'day_fk', 'time', 'day', 'day_id');
SELECT util.add_fk('gh_dim_next', 'repo_activity', 'repo_fk', 'gh_dim_next', 'repo', 'repo_id');

SELECT util.replace_schema('gh_dim', 'gh_dim_next');
