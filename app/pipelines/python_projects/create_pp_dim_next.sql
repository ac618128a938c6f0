-- pp_dim_next: the next version of pp_dim, with its tables and, as partitions, the days that this run builds
-- (pp_data_next.planned_day). The foreign keys are declared when publishing (publish_pp_dim.sql).

SELECT util.drop_next_schema('pp_dim_next');
CREATE SCHEMA pp_dim_next;

-- Grain: one project on one day that has downloads. Units: downloads, and the forks, commits, closed pull
-- requests and push events of the repositories named like the project, whoever owns them (pallets/flask and
-- its forks for flask), summed; NULL when there is no such repository with that activity that day.
CREATE TABLE pp_dim_next.python_project_activity (
  day_fk                         INTEGER NOT NULL,
  project_fk                     BIGINT  NOT NULL,
  number_of_downloads            BIGINT,
  number_of_forks                BIGINT,
  number_of_commits              BIGINT,
  number_of_closed_pull_requests BIGINT,
  number_of_pushes               BIGINT,
  -- The project first: in a day partition day_fk is one value, so a key led by it would be read whole to find one
  -- project (the README query looks up flask in every day partition).
  PRIMARY KEY (project_fk, day_fk)
) PARTITION BY LIST (day_fk);

-- The flat data set, with readable names. Its partitions get columnar storage where the server has it.
CREATE TABLE pp_dim_next.python_project_activity_data_set (
  "Date"                           DATE   NOT NULL,
  "Project"                        TEXT   NOT NULL,
  "Number of downloads"            BIGINT,
  "Number of forks"                BIGINT,
  "Number of commits"              BIGINT,
  "Number of closed pull requests" BIGINT,
  "Number of pushes"               BIGINT
) PARTITION BY LIST ("Date");

-- With Citus worker nodes (util.distribute): sharded by project, co-located with pypi_dim.daily_project_downloads
-- (a column of the same type), so that building a day and the README query stay on each worker; the flat data
-- set by project name.
SELECT util.distribute('pp_dim_next', table_name, distribution_column) AS distribution
FROM (VALUES ('python_project_activity', 'project_fk'), ('python_project_activity_data_set', 'Project'))
  AS day_table (table_name, distribution_column);

SELECT util.create_day_partitions('pp_dim_next', table_name, days, storage) AS partitions
FROM (SELECT array_agg(day_id ORDER BY day_id) AS days FROM pp_data_next.planned_day) AS planned,
     (VALUES ('python_project_activity', 'heap'),
             ('python_project_activity_data_set', util.data_set_storage('@columnar_storage@'))) AS day_table (table_name, storage);
