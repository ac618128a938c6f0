-- The installers of the days that this run builds.
-- Rows go into a Citus reference table where the warehouse has worker nodes (see the function).
SELECT util.fill_reference_tables_serially() AS parallel_query;

INSERT INTO pypi_dim_next.installer (installer_id, installer_name)
SELECT DISTINCT installer_id, installer_name
FROM pypi_data_next.download_staging
WHERE installer_id <> -1;
