-- The Python versions of the days that this run builds.
-- Rows go into a Citus reference table where the warehouse has worker nodes (see the function).
SELECT util.fill_reference_tables_serially() AS parallel_query;

INSERT INTO pypi_dim_next.python_version (python_version_id, python_version_name)
SELECT DISTINCT python_version_id, python_version_name
FROM pypi_data_next.download_staging
WHERE python_version_id <> -1;
