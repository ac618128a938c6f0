-- The flat data set of the days @days@.

BEGIN;

-- Emptied in the same transaction as the insert: the rows are written without WAL (util.empty_day_partitions).
SELECT util.empty_day_partitions('gh_dim_next', 'repo_activity_data_set', ARRAY[@days@]);

INSERT INTO gh_dim_next.repo_activity_data_set
SELECT activity_date, user_name, repo_name, number_of_forks, number_of_commits, number_of_closed_pull_requests,
       number_of_pushes
FROM github_data_next.repo_activity_staging
WHERE day_id IN (@days@);

COMMIT;
