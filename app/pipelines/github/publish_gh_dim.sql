-- Declares the foreign keys of the filled gh_dim_next (after loading: checking them once is cheaper
-- than row by row) and publishes it as gh_dim: util.replace_schema swaps the schemas in one
-- transaction.

SELECT util.attach_chunk_tables('gh_dim_next', 'repo_activity_data_set', @number_of_chunks@);

SELECT util.add_fk('gh_dim_next', 'repo_activity', 'day_fk', 'time', 'day', 'day_id');
-- Checking this key joins two tables of about a million rows each: merging sorted ids (the repo table
-- is in id order already) is about twice as fast as probing a hash table that exceeds the CPU caches.
SET enable_hashjoin = off;
SELECT util.add_fk('gh_dim_next', 'repo_activity', 'repo_fk', 'gh_dim_next', 'repo', 'repo_id');
RESET enable_hashjoin;

SELECT util.replace_schema('gh_dim', 'gh_dim_next');
