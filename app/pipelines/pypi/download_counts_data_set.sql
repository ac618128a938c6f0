-- The flat data set of the days @days@.
INSERT INTO pypi_dim_next.download_counts_data_set
SELECT download_date, project_name, project_version_name, python_version_name, installer_name, number_of_downloads
FROM pypi_data_next.download_staging
WHERE day_id IN (@days@);
