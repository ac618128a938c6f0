-- Starts pypi_dim_next, the next version of pypi_dim, with empty tables: the chunks of
-- transform_download_counts.sql fill them in parallel, then transform_dimensions.sql builds the
-- dimensions from what the chunks collected.
--
-- The flat data set is partitioned by chunk of days: each chunk creates and fills its own partition
-- in one transaction, which PostgreSQL writes without WAL (wal_level = minimal), and
-- publish_pypi_dim.sql attaches them. (Not so the facts: the utils pipeline declares the foreign keys
-- to time.day again after rebuilding it, and cannot do that for a partitioned table yet.)
--
-- Keys: every dimension member is identified by a hash of its natural key (64 bits for the many
-- projects and versions, 32 bits for the handful of installers and Python versions). The fact chunks
-- compute the keys from a file row alone, with no lookup (and hence no join that the planner could
-- get wrong on fresh tables without statistics), and the dimensions are built beside them. The ids
-- stay the same across rebuilds, so pp_dim, which references pypi_dim.project from another schema,
-- stays right while pypi_dim is replaced. A hash collision would fail a primary key, never give
-- wrong numbers. Every dimension has an unknown member -1 for facts without that attribute.

DROP SCHEMA IF EXISTS pypi_dim_next CASCADE;
CREATE SCHEMA pypi_dim_next;


-- Grain: one PyPI project.
CREATE TABLE pypi_dim_next.project (
  project_id   BIGINT NOT NULL, -- hashtextextended(project_name, 0); -1: unknown
  project_name TEXT   NOT NULL  -- flask
);

-- Grain: one version of one project. A download without a version counts for the project's own
-- 'Unknown' version, so that every download stays attributed to its project.
CREATE TABLE pypi_dim_next.project_version (
  project_version_id   BIGINT NOT NULL, -- hashtextextended(project name || tab || version, 0); -1: unknown
  project_fk           BIGINT NOT NULL,
  project_version_name TEXT   NOT NULL  -- 0.12.2
);

-- Grain: one installer (pip, uv, poetry, Browser, ...).
CREATE TABLE pypi_dim_next.installer (
  installer_id   INTEGER NOT NULL, -- hashtext(installer_name); -1: not reported
  installer_name TEXT    NOT NULL  -- pip
);

-- Grain: one Python version (3.6, 2.7, ...).
CREATE TABLE pypi_dim_next.python_version (
  python_version_id   INTEGER NOT NULL, -- hashtext(python_version_name); -1: not reported
  python_version_name TEXT    NOT NULL  -- 3.6
);


-- Grain: the downloads of one project version with one installer and Python version on one day
-- (one row of a PyPI file). The 8-byte key comes first: no alignment padding.
CREATE TABLE pypi_dim_next.download_counts (
  project_version_fk  BIGINT  NOT NULL,
  day_fk              INTEGER NOT NULL,
  installer_fk        INTEGER NOT NULL,
  python_version_fk   INTEGER NOT NULL,
  number_of_downloads INTEGER            -- NULL when the file gave none
);

-- Grain: one project on one day that has downloads. Pre-aggregated for pp_dim, and with an hll sketch
-- of the distinct versions downloaded: sketches of several days merge with hll_union_agg, so the
-- distinct versions of a month (or of any days and projects) come from this small table instead of
-- a COUNT(DISTINCT) over the facts.
CREATE TABLE pypi_dim_next.daily_project_downloads (
  project_fk               BIGINT  NOT NULL,
  day_fk                   INTEGER NOT NULL,
  number_of_downloads      BIGINT,           -- all downloads of the project that day
  distinct_versions_sketch hll     NOT NULL  -- hll_cardinality(...) = distinct versions downloaded
);

-- Collected by the chunks from their days in the scan that also feeds daily_project_downloads: the
-- versions downloaded per day (grouping_set 3), and the installers (5) and Python versions (6).
-- transform_dimensions.sql builds the dimensions from it; publish_pypi_dim.sql drops it.
-- grouping_set has a bit for each of (day_id, installer, python_version) that the set leaves out:
-- 4 + 2 + 1, so (day_id, project, project_version) is 3.
CREATE UNLOGGED TABLE pypi_dim_next.member_staging (
  grouping_set        INTEGER NOT NULL,
  day_id              INTEGER,
  project             TEXT,
  project_version     TEXT,
  installer           TEXT,
  python_version      TEXT,
  number_of_downloads BIGINT
);

-- The flat data set: the facts with all attributes as readable names, for analysts and BI tools. Its
-- partitions get columnar storage where the server has it (see transform_download_counts.sql).
CREATE TABLE pypi_dim_next.download_counts_data_set (
  "Date"                DATE    NOT NULL,
  "Project"             TEXT    NOT NULL,
  "Project version"     TEXT    NOT NULL,
  "Python version"      TEXT    NOT NULL,
  "Installer"           TEXT    NOT NULL,
  "Number of downloads" INTEGER
) PARTITION BY LIST ((util.get_chunk("Date", @number_of_chunks@)));
