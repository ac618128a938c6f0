-- The repositories of the days that this run builds. Nearly every file row is a repository of its own, so
-- this is a distinct over many rows: sorting by the 64-bit id (the names only break ties) is cheaper than
-- hashing the names, and leaves the table in key order.
INSERT INTO gh_dim_next.repo (repo_id, repo_name, user_name)
SELECT DISTINCT ON (repo_id, repo_name, user_name) repo_id, repo_name, user_name
FROM github_data_next.repo_activity_staging
WHERE repo_id <> -1
ORDER BY repo_id, repo_name, user_name;
