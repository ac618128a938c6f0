-- The facts of the days @days@: one per file row, in the order of their repository: the foreign key check of
-- each day partition (publish_gh_dim.sql) then walks the repo index in order, 3x faster than in file order.

BEGIN;

-- Emptied in the same transaction as the insert: the rows are written without WAL (util.empty_day_partitions).
SELECT util.empty_day_partitions('gh_dim_next', 'repo_activity', ARRAY[@days@]);

INSERT INTO gh_dim_next.repo_activity
SELECT repo_id, day_id, number_of_forks, number_of_commits, number_of_closed_pull_requests, number_of_pushes
FROM github_data_next.repo_activity_staging
WHERE day_id IN (@days@)
ORDER BY repo_id;

COMMIT;
