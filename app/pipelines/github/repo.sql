-- The repositories of the days that this run builds, in the order of their ids: publishing them into gh_dim.repo
-- (util.publish_members) then looks them up in the order of its index.

-- Rows go into a Citus reference table where the warehouse has worker nodes (see the function).
SELECT util.fill_reference_tables_serially() AS parallel_query;

BEGIN;

-- Emptied in the same transaction as the insert: with wal_level = minimal (docs/postgresql.conf) the rows are
-- written without WAL.
TRUNCATE gh_dim_next.repo;
INSERT INTO gh_dim_next.repo VALUES (-1, 'Unknown', 'Unknown');

-- Almost every row is a repository of its own, which the planner cannot know: a hash table of all of them
-- spills to disk. Sorting, which the ORDER BY needs anyway, is twice as fast (the speed trick in
-- docs/benchmarks/warehouse.md); this insert took 7.4 s for 30 days of the benchmark volume sorted, 5.6 s of it
-- without WAL, and 14.8 s hashed.
SET LOCAL enable_hashagg = off;

-- A staging row is a fact row (repo_activity.sql): their number per repository is its reference count.
INSERT INTO gh_dim_next.repo (repo_id, repo_name, user_name, number_of_references)
SELECT repo_id, repo_name, user_name, count(*)
FROM github_data_next.repo_activity_staging
WHERE repo_id <> -1
GROUP BY repo_id, repo_name, user_name
ORDER BY repo_id;

-- Two members with the same id (a hash collision) fail here, instead of merging two repositories.
ALTER TABLE gh_dim_next.repo ADD PRIMARY KEY (repo_id);

COMMIT;

-- PostgreSQL checks the foreign key to repo (publish_gh_dim.sql) day partition by day partition. With the
-- visibility map and statistics of a vacuumed table, each check reads the primary key index only: measured
-- alone, 1.4 s for 10 days of the benchmark volume against 6.7 s for the table as inserted. (While other tasks
-- of the run hold older snapshots, VACUUM cannot mark the new rows visible to all, and the statistics remain.)
VACUUM (ANALYZE) gh_dim_next.repo;
