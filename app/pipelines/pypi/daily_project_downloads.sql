-- The downloads and the sketch of the distinct versions of each project on the days @days@.

BEGIN;

-- Emptied in the same transaction as the insert: the rows are written without WAL (util.empty_day_partitions).
SELECT util.empty_day_partitions('pypi_dim_next', 'daily_project_downloads', ARRAY[@days@]);

-- hll_add_agg keeps a state of 128 kB per group. Aggregating sorted groups needs one state at a time; a hash
-- table would hold one per project and day (and spill to disk).
SET LOCAL enable_hashagg = off;

INSERT INTO pypi_dim_next.daily_project_downloads
SELECT project_id, day_id, sum(number_of_downloads), hll_add_agg(hll_hash_text(project_version_name))
FROM pypi_data_next.download_staging
WHERE day_id IN (@days@)
GROUP BY project_id, day_id;

COMMIT;
