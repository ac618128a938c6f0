-- Fills the fact tables of pypi_dim_next with the days of chunk @chunk@ (of @number_of_chunks@).
-- The chunks run in parallel; each reads only its own days of pypi_data.downloads. No joins: the
-- dimension keys are hashes of the names (see create_pypi_dim_next.sql).
--
-- One transaction: the chunk's partition of the flat data set is created and filled in it, so that it
-- is written without WAL (wal_level = minimal). Its CHECK constraint spells out the partition bound
-- (IS NOT NULL included, else PostgreSQL does not see that it implies it), so that
-- publish_pypi_dim.sql attaches it without a scan.

BEGIN;

-- The ETL runs as many tasks at once as there are cores: parallel workers per query would only
-- oversubscribe them.
SET max_parallel_workers_per_gather = 0;

INSERT INTO pypi_dim_next.download_counts
SELECT CASE WHEN project IS NULL THEN -1
            ELSE hashtextextended(project || E'\t' || coalesce(project_version, ''), 0) END,
       day_id,
       coalesce(hashtext(installer), -1),
       coalesce(hashtext(python_version), -1),
       number_of_downloads
FROM pypi_data.downloads
WHERE day_id BETWEEN @first_day_id@ AND @last_day_id@
  AND util.get_chunk(day_id, @number_of_chunks@) = @chunk@;

-- One scan for the rest: the versions downloaded per day (the input of the daily sketches, and the
-- members of the project and version dimensions), and the installers and Python versions.
INSERT INTO pypi_dim_next.member_staging
SELECT GROUPING(day_id, installer, python_version),
       day_id, project, project_version, installer, python_version,
       sum(number_of_downloads)
FROM pypi_data.downloads
WHERE day_id BETWEEN @first_day_id@ AND @last_day_id@
  AND util.get_chunk(day_id, @number_of_chunks@) = @chunk@
GROUP BY GROUPING SETS ((day_id, project, project_version), (installer), (python_version));

-- hll_add_agg keeps a state of 128 kB per group. Aggregating sorted groups needs one state at a time;
-- a hash table would hold one per project and day (and spill to disk). The groups are sorted by
-- integer keys, which is cheap.
SET enable_hashagg = off;

INSERT INTO pypi_dim_next.daily_project_downloads
SELECT project_fk,
       day_id,
       sum(number_of_downloads),
       hll_add_agg(hll_hash_text(project_version))
FROM (SELECT coalesce(hashtextextended(project, 0), -1) AS project_fk,
             day_id,
             coalesce(project_version, 'Unknown') AS project_version,
             number_of_downloads
      FROM pypi_dim_next.member_staging
      WHERE grouping_set = 3
        AND util.get_chunk(day_id, @number_of_chunks@) = @chunk@) AS version_downloads
GROUP BY day_id, project_fk;

RESET enable_hashagg;

SELECT util.create_chunk_data_set_table('pypi_dim_next', 'download_counts_data_set', 'Date',
                                         @chunk@, @number_of_chunks@, '@columnar_storage@') AS storage;

INSERT INTO pypi_dim_next.download_counts_data_set_@chunk@
SELECT make_date(day_id / 10000, day_id / 100 % 100, day_id % 100),
       coalesce(project, 'Unknown'),
       coalesce(project_version, 'Unknown'),
       coalesce(python_version, 'Unknown'),
       coalesce(installer, 'Unknown'),
       number_of_downloads
FROM pypi_data.downloads
WHERE day_id BETWEEN @first_day_id@ AND @last_day_id@
  AND util.get_chunk(day_id, @number_of_chunks@) = @chunk@;

COMMIT;
