-- The staging layer of the PyPI files: every loaded row with its dimension keys, its date and 'Unknown' for
-- missing attributes, computed here and nowhere else. The dimensions and facts below read from it. A view:
-- the planner folds it into each query, so a query of a few days reads only their partitions.

CREATE VIEW pypi_data_next.download_staging AS
SELECT day_id,
       -- day_id is YYYYMMDD: taking the number apart costs an eighth of parsing its text (to_date)
       make_date(day_id / 10000, day_id / 100 % 100, day_id % 100) AS download_date,
       CASE WHEN project IS NULL THEN -1
            ELSE hashtextextended(project, 0) END  AS project_id,
       coalesce(project, 'Unknown')                AS project_name,
       CASE WHEN project IS NULL THEN -1
            ELSE hashtextextended(project || E'\t' || coalesce(project_version, ''), 0) END
                                                   AS project_version_id,
       coalesce(project_version, 'Unknown')        AS project_version_name,
       coalesce(hashtext(installer), -1)           AS installer_id,
       coalesce(installer, 'Unknown')              AS installer_name,
       coalesce(hashtext(python_version), -1)      AS python_version_id,
       coalesce(python_version, 'Unknown')         AS python_version_name,
       number_of_downloads
FROM pypi_data_next.downloads;
