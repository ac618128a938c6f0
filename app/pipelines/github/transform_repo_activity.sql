-- Fills the facts and the flat data set of gh_dim_next with the days of chunk @chunk@
-- (of @number_of_chunks@). The chunks run in parallel; each reads only its own days. No joins: the
-- repository key is a hash of the name (see transform_repo.sql).
--
-- One transaction: the chunk's partition of the flat data set is created and filled in it, so that it
-- is written without WAL (wal_level = minimal). Its CHECK constraint spells out the partition bound
-- (IS NOT NULL included, else PostgreSQL does not see that it implies it), so that publish_gh_dim.sql
-- attaches it without a scan.

BEGIN;

-- The ETL runs as many tasks at once as there are cores: parallel workers per query would only
-- oversubscribe them.
SET max_parallel_workers_per_gather = 0;

INSERT INTO gh_dim_next.repo_activity
SELECT CASE WHEN repository IS NULL THEN -1
            ELSE hashtextextended(coalesce(user_name, '') || '/' || repository, 0) END,
       day_id,
       number_of_forks,
       number_of_commits,
       number_of_closed_pull_requests
FROM github_data.repo_activity
WHERE day_id BETWEEN @first_day_id@ AND @last_day_id@
  AND util.get_chunk(day_id, @number_of_chunks@) = @chunk@;

SELECT util.create_chunk_data_set_table('gh_dim_next', 'repo_activity_data_set', 'Date',
                                         @chunk@, @number_of_chunks@, '@columnar_storage@') AS storage;

INSERT INTO gh_dim_next.repo_activity_data_set_@chunk@
SELECT make_date(day_id / 10000, day_id / 100 % 100, day_id % 100),
       coalesce(user_name, 'Unknown'),
       coalesce(repository, 'Unknown'),
       number_of_forks,
       number_of_commits,
       number_of_closed_pull_requests
FROM github_data.repo_activity
WHERE day_id BETWEEN @first_day_id@ AND @last_day_id@
  AND util.get_chunk(day_id, @number_of_chunks@) = @chunk@;

COMMIT;
