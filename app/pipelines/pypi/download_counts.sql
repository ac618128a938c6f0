-- The facts of the days @days@: one per file row.

BEGIN;

-- Emptied in the same transaction as the insert: the rows are written without WAL (util.empty_day_partitions).
SELECT util.empty_day_partitions('pypi_dim_next', 'download_counts', ARRAY[@days@]);

INSERT INTO pypi_dim_next.download_counts
SELECT project_version_id, day_id, installer_id, python_version_id, number_of_downloads
FROM pypi_data_next.download_staging
WHERE day_id IN (@days@);

COMMIT;
