-- Initialisation of the postgres container of docker-compose.yml.
--
-- The image's entrypoint runs this file with psql once, when the data volume is empty,
-- as POSTGRES_USER connected to POSTGRES_DB. To run it again, remove the volume
-- (docker compose down --volumes).
--
-- The database names must equal the defaults of DWH_DB and MARA_DB in app/config.py
-- (tests/test_docker_files.py checks it). If you set other names in .env, change them here too.

-- Stop at the first error: a half-initialised volume would otherwise go unnoticed.
\set ON_ERROR_STOP on

-- The data warehouse (DWH_DB): the ETL's schemas and tables.
-- CREATE DATABASE has no IF NOT EXISTS: \gexec runs it only when the database is missing
-- (e.g. when POSTGRES_DB already has this name).
SELECT 'CREATE DATABASE example_project_dwh'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'example_project_dwh')\gexec

-- mara's own database (MARA_DB): run logs, node runs, file dependencies, incremental-processing
-- state, users. Its tables are created by the app container (flask --app app.app mara-db migrate).
SELECT 'CREATE DATABASE example_project_mara'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'example_project_mara')\gexec

-- Extensions are per database: install them where the ETL uses them.
\connect example_project_dwh

-- hll (HyperLogLog): mergeable sketches for approximate distinct counts, so that distinct
-- counts can be pre-aggregated per day and still be combined over any date range.
CREATE EXTENSION IF NOT EXISTS hll;

-- citus_columnar: the `columnar` table access method (CREATE TABLE ... USING columnar), a
-- compressed column store for the large flat data sets, which are written once and scanned
-- by few columns. Only the columnar part of Citus (a separate extension since Citus 11.1),
-- so the dwh does not become a distributed Citus coordinator.
CREATE EXTENSION IF NOT EXISTS citus_columnar;
