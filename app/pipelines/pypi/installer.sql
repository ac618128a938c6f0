-- The installers of the days that this run builds.
INSERT INTO pypi_dim_next.installer (installer_id, installer_name)
SELECT DISTINCT installer_id, installer_name
FROM pypi_data_next.download_staging
WHERE installer_id <> -1;
