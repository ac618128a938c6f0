-- The facts of the days @days@: one per file row.
INSERT INTO pypi_dim_next.download_counts
SELECT project_version_id, day_id, installer_id, python_version_id, number_of_downloads
FROM pypi_data_next.download_staging
WHERE day_id IN (@days@);
