-- The flat data set of the days @days@.

BEGIN;

-- Emptied in the same transaction as the insert: the rows are written without WAL (util.empty_day_partitions).
SELECT util.empty_day_partitions('pypi_dim_next', 'download_counts_data_set', ARRAY[@days@]);

INSERT INTO pypi_dim_next.download_counts_data_set
SELECT download_date, project_name, project_version_name, python_version_name, installer_name, number_of_downloads
FROM pypi_data_next.download_staging
WHERE day_id IN (@days@);

COMMIT;
