-- pypi_dim_next: the next version of pypi_dim, with pypi_dim's tables and, as partitions, the days that this
-- run builds (pypi_data_next.planned_day). A full build fills it with every day and replaces pypi_dim by it;
-- an incremental build moves its day partitions and new members into pypi_dim (publish_pypi_dim.sql).
--
-- Keys: every dimension member is identified by a hash of its natural key, computed once in
-- pypi_data_next.download_staging (64 bits for the many projects and versions, 32 bits for the handful of
-- installers and Python versions). The ids stay the same across runs, so new days only add members, and
-- pp_dim, which references pypi_dim.project from another schema, stays valid. A hash collision fails the run,
-- never gives wrong numbers. Each dimension has the member -1 'Unknown' for facts without that attribute.
--
-- The foreign keys are declared when publishing (publish_pypi_dim.sql): checking a whole day at once is
-- cheaper than checking every inserted row.

SELECT util.drop_next_schema('pypi_dim_next');
CREATE SCHEMA pypi_dim_next;


-- Grain: one PyPI project.
CREATE TABLE pypi_dim_next.project (
  project_id   BIGINT NOT NULL PRIMARY KEY, -- hashtextextended(project_name, 0); -1: unknown
  project_name TEXT   NOT NULL              -- flask
);

-- Grain: one version of one project. A download without a version counts for the project's own 'Unknown'
-- version, so that every download stays attributed to its project.
CREATE TABLE pypi_dim_next.project_version (
  project_version_id   BIGINT NOT NULL PRIMARY KEY, -- hashtextextended(project name, tab, version); -1: unknown
  project_fk           BIGINT NOT NULL,
  project_version_name TEXT   NOT NULL,             -- 0.12.2
  number_of_references INTEGER NOT NULL DEFAULT 0   -- rows of download_counts with the version (util.counted_foreign_keys)
);

-- Grain: one installer (pip, uv, poetry, Browser, ...).
CREATE TABLE pypi_dim_next.installer (
  installer_id   INTEGER NOT NULL PRIMARY KEY, -- hashtext(installer_name); -1: not reported
  installer_name       TEXT    NOT NULL,             -- pip
  number_of_references INTEGER NOT NULL DEFAULT 0    -- rows of download_counts with the installer
);

-- Grain: one Python version (3.6, 2.7, ...).
CREATE TABLE pypi_dim_next.python_version (
  python_version_id   INTEGER NOT NULL PRIMARY KEY, -- hashtext(python_version_name); -1: not reported
  python_version_name  TEXT    NOT NULL,             -- 3.6
  number_of_references INTEGER NOT NULL DEFAULT 0    -- rows of download_counts with the Python version
);

INSERT INTO pypi_dim_next.project VALUES (-1, 'Unknown');
INSERT INTO pypi_dim_next.project_version VALUES (-1, -1, 'Unknown');
INSERT INTO pypi_dim_next.installer VALUES (-1, 'Unknown');
INSERT INTO pypi_dim_next.python_version VALUES (-1, 'Unknown');


-- Grain: the downloads of one project version with one installer and Python version on one day (one row of a
-- PyPI file). Unit: downloads. The 8-byte key comes first: no alignment padding.
CREATE TABLE pypi_dim_next.download_counts (
  project_version_fk  BIGINT  NOT NULL,
  day_fk              INTEGER NOT NULL,
  installer_fk        INTEGER NOT NULL,
  python_version_fk   INTEGER NOT NULL,
  number_of_downloads INTEGER            -- NULL when the file gave none
) PARTITION BY LIST (day_fk);

-- Grain: one project on one day that has downloads. Pre-aggregated for pp_dim, and with an hll sketch of the
-- distinct versions downloaded: sketches of several days merge with hll_union_agg, so the distinct versions of
-- a month (or of any days and projects) come from this small table instead of a COUNT(DISTINCT) over the facts.
CREATE TABLE pypi_dim_next.daily_project_downloads (
  project_fk               BIGINT  NOT NULL,
  day_fk                   INTEGER NOT NULL,
  number_of_downloads      BIGINT,           -- all downloads of the project that day
  distinct_versions_sketch hll     NOT NULL, -- hll_cardinality(...) = distinct versions downloaded
  PRIMARY KEY (project_fk, day_fk)
) PARTITION BY LIST (day_fk);

-- The flat data set: the facts with all attributes as readable names, for analysts and BI tools. Grain and
-- unit as download_counts. Its partitions get columnar storage where the server has it.
CREATE TABLE pypi_dim_next.download_counts_data_set (
  "Date"                DATE    NOT NULL,
  "Project"             TEXT    NOT NULL,
  "Project version"     TEXT    NOT NULL,
  "Python version"      TEXT    NOT NULL,
  "Installer"           TEXT    NOT NULL,
  "Number of downloads" INTEGER
) PARTITION BY LIST ("Date");


-- With Citus worker nodes (util.distribute): the dimensions on every node, the facts, daily aggregates and the
-- flat data set in shards. The daily aggregates are sharded by project like pp_dim's facts, which are built from
-- them; the facts by project version, the flat data set by project name.
SELECT util.distribute('pypi_dim_next', table_name, distribution_column) AS distribution
FROM (VALUES ('project', NULL), ('project_version', NULL), ('installer', NULL), ('python_version', NULL),
             ('download_counts', 'project_version_fk'), ('daily_project_downloads', 'project_fk'),
             ('download_counts_data_set', 'Project')) AS day_table (table_name, distribution_column);

-- The partitions of the days that this run builds.
SELECT util.create_day_partitions('pypi_dim_next', table_name, days, storage) AS partitions
FROM (SELECT array_agg(day_id ORDER BY day_id) AS days FROM pypi_data_next.planned_day) AS planned,
     (VALUES ('download_counts', 'heap'),
             ('daily_project_downloads', 'heap'),
             ('download_counts_data_set', util.data_set_storage('@columnar_storage@'))) AS day_table (table_name, storage);
