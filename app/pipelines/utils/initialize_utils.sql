-- The helpers that every pipeline uses (schema util): publishing what a run built in `<schema>_next`,
-- day partitions, foreign keys, columnar storage and the quality gates of loaded files.
-- Identifiers are always quoted with format('%I'), never glued together with ||.
--
-- util holds nothing but functions, and no published table, view or default may use one of them: util is
-- created anew on every run (CREATE OR REPLACE cannot rename a parameter), and dropping it must never take a
-- published object with it. The guard below refuses to drop util while anything outside depends on it.

BEGIN;

DO $$
DECLARE
  dependents TEXT;
BEGIN
  SELECT string_agg(DISTINCT pg_describe_object(dependent.classid, dependent.objid, 0), ', ')
  INTO dependents
  FROM pg_depend AS dependent
    JOIN pg_proc ON dependent.refclassid = 'pg_proc'::REGCLASS AND dependent.refobjid = pg_proc.oid
  WHERE pg_proc.pronamespace = to_regnamespace('util')
    AND NOT (dependent.classid = 'pg_proc'::REGCLASS
             AND (SELECT pronamespace FROM pg_proc AS p WHERE p.oid = dependent.objid) = to_regnamespace('util'));
  IF dependents IS NOT NULL THEN
    RAISE EXCEPTION 'not recreating schema util: % depend(s) on its functions', dependents
      USING HINT = 'Objects outside util must not use util''s functions (they are recreated on every run)';
  END IF;
END
$$;

DROP SCHEMA IF EXISTS util CASCADE;
CREATE SCHEMA util;

-- What the quality gates found in the files of each day, kept across runs (see util.check_loaded_files).
CREATE SCHEMA IF NOT EXISTS data_quality;

CREATE TABLE IF NOT EXISTS data_quality.day_check (
  data_set   TEXT        NOT NULL,  -- pypi, github
  day_id     INTEGER     NOT NULL,  -- 20180410
  check_name TEXT        NOT NULL,  -- counts not negative, ...
  file_name  TEXT        NOT NULL,  -- the checked file, below DATA_DIR
  severity   TEXT        NOT NULL DEFAULT 'error',  -- error: a failed check stops the publish; warning: a flag
  passed     BOOLEAN     NOT NULL,
  details    TEXT,                  -- the first problems, with their lines; NULL when passed
  checked_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (data_set, day_id, check_name)
);
ALTER TABLE data_quality.day_check ADD COLUMN IF NOT EXISTS severity TEXT NOT NULL DEFAULT 'error';


-- ---------------------------------------------------------------- foreign keys

-- Declares the foreign key `fk_column` -> `ref_schema.ref_table(ref_column)`; on a partitioned table, every
-- partition is checked once, in bulk.
CREATE FUNCTION util.add_fk(schema_name TEXT, table_name TEXT, fk_column TEXT,
                            ref_schema TEXT, ref_table TEXT, ref_column TEXT)
  RETURNS VOID
  LANGUAGE plpgsql
AS $$
BEGIN
  EXECUTE format('ALTER TABLE %I.%I ADD CONSTRAINT %I FOREIGN KEY (%I) REFERENCES %I.%I (%I)',
                 schema_name, table_name, left(format('%s__%s_fkey', table_name, fk_column), 63),
                 fk_column, ref_schema, ref_table, ref_column);
END
$$;


-- The foreign keys of other tables that point to `referenced`: their tables and definitions (partitions
-- inherit their copies from the partitioned table, so only the partitioned table's key is listed).
CREATE FUNCTION util.inbound_foreign_keys(referenced REGCLASS)
  RETURNS TABLE (table_name REGCLASS, constraint_name TEXT, definition TEXT, fk_column TEXT, key_column TEXT)
  LANGUAGE sql STABLE
AS $$
  SELECT conrelid::REGCLASS, conname::TEXT, pg_get_constraintdef(pg_constraint.oid),
         (SELECT attname FROM pg_attribute WHERE attrelid = conrelid AND attnum = conkey[1]),
         (SELECT attname FROM pg_attribute WHERE attrelid = confrelid AND attnum = confkey[1])
  FROM pg_constraint
  WHERE contype = 'f' AND confrelid = referenced AND conrelid <> referenced AND conparentid = 0
$$;


-- ---------------------------------------------------------------- publishing a whole schema

-- Publishes a freshly built schema: drops `schema_name` and renames `replace_with` to it, in the caller's
-- transaction. Readers see either the old or the new schema, never a mix or nothing: until the
-- transaction commits they keep the old one (queries that need its tables wait for the lock instead of
-- failing).
--
-- Tables of other schemas may reference the old schema's tables (pp_dim references pypi_dim.project, every
-- fact references time.day). Dropping the old schema drops those foreign keys, so they are declared again
-- on the new tables; rows that the other schemas still reference and that the new table lacks are carried
-- over first (their days leave the other schema when its own pipeline runs next), so that the keys hold.
CREATE FUNCTION util.replace_schema(schema_name TEXT, replace_with TEXT)
  RETURNS VOID
  LANGUAGE plpgsql
AS $$
DECLARE
  reference RECORD;
  new_table REGCLASS;
  columns TEXT;
BEGIN
  PERFORM util.use_one_connection_per_worker();
  IF to_regnamespace(replace_with) IS NULL THEN
    RAISE EXCEPTION 'util.replace_schema: schema % does not exist, nothing to publish as %',
      replace_with, schema_name;
  END IF;

  CREATE TEMPORARY TABLE inbound_key ON COMMIT DROP AS
  SELECT pg_class.relname AS referenced_table, keys.*
  FROM pg_class, util.inbound_foreign_keys(pg_class.oid::REGCLASS) AS keys
  WHERE pg_class.relnamespace = to_regnamespace(schema_name) AND pg_class.relkind IN ('r', 'p')
    AND keys.table_name::TEXT NOT LIKE format('%s.%%', quote_ident(schema_name));

  FOR reference IN SELECT * FROM inbound_key LOOP
    new_table := to_regclass(format('%I.%I', replace_with, reference.referenced_table));
    IF new_table IS NULL THEN
      RAISE EXCEPTION 'util.replace_schema: %.% is referenced by % but missing in %',
        schema_name, reference.referenced_table, reference.table_name, replace_with;
    END IF;
    -- A carried-over member keeps no reference count: no day partition of the new schema references it.
    SELECT string_agg(format('%I', attname), ', ' ORDER BY attnum) INTO columns
    FROM pg_attribute
    WHERE attrelid = new_table AND attnum > 0 AND NOT attisdropped AND attname <> 'number_of_references'
      AND attname IN (SELECT attname FROM pg_attribute
                      WHERE attrelid = format('%I.%I', schema_name, reference.referenced_table)::REGCLASS
                        AND attnum > 0 AND NOT attisdropped);
    EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM %I.%I AS old '
                   'WHERE old.%I IN (SELECT %I FROM %s) AND NOT EXISTS (SELECT FROM %s AS new WHERE new.%I = old.%I)',
                   new_table, columns, columns, schema_name, reference.referenced_table,
                   reference.key_column, reference.fk_column, reference.table_name,
                   new_table, reference.key_column, reference.key_column);
  END LOOP;

  -- The old tables' references to other schemas that the new ones lack (see util.delete_unreferenced_members).
  FOR reference IN
    SELECT pg_class.oid::REGCLASS AS old_table, to_regclass(format('%I.%I', replace_with, relname)) AS new_table
    FROM pg_class
    WHERE relnamespace = to_regnamespace(schema_name) AND relkind IN ('r', 'p') AND NOT relispartition
  LOOP
    PERFORM util.record_lost_references(reference.old_table, reference.old_table, reference.new_table, schema_name);
  END LOOP;

  EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', schema_name);
  EXECUTE format('ALTER SCHEMA %I RENAME TO %I', replace_with, schema_name);

  -- The definitions name the referenced table by schema: now the new one.
  FOR reference IN SELECT * FROM inbound_key LOOP
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s',
                   reference.table_name, reference.constraint_name, reference.definition);
  END LOOP;
  DROP TABLE inbound_key;
END
$$;


-- ---------------------------------------------------------------- day partitions

-- One day as a value of the partition key of a LIST-partitioned table: an INTEGER day id (20180410) or a
-- DATE ('2018-04-10'), as an SQL literal.
CREATE FUNCTION util.day_value(partitioned REGCLASS, day_id INTEGER)
  RETURNS TEXT
  LANGUAGE plpgsql STABLE
AS $$
DECLARE
  key_type REGTYPE;
BEGIN
  SELECT atttypid INTO key_type
  FROM pg_partitioned_table JOIN pg_attribute ON attrelid = partrelid AND attnum = partattrs[0]
  WHERE partrelid = partitioned;
  IF key_type = 'INTEGER'::REGTYPE THEN
    RETURN day_id::TEXT;
  ELSIF key_type = 'DATE'::REGTYPE THEN
    RETURN quote_literal(to_date(day_id::TEXT, 'YYYYMMDD'));
  END IF;
  RAISE EXCEPTION '% is not LIST-partitioned by an INTEGER day id or a DATE', partitioned;
END
$$;


-- A number of things for the run output, the noun in the plural unless there is one: '1 day', '2 days'.
CREATE FUNCTION util.number_of(number BIGINT, noun TEXT)
  RETURNS TEXT
  LANGUAGE sql IMMUTABLE
AS $$
  SELECT format('%s %s', number, noun || CASE WHEN number = 1 THEN '' ELSE 's' END)
$$;


-- The name of the partition of one day of a table: `<table>_<YYYYMMDD>`.
CREATE FUNCTION util.day_partition_name(table_name TEXT, day_id INTEGER)
  RETURNS TEXT
  LANGUAGE sql IMMUTABLE
AS $$
  SELECT format('%s_%s', table_name, day_id)
$$;


-- Creates the partition of each day in `day_ids` of a LIST-partitioned table (named by util.day_partition_name),
-- and returns a line for the run output. `storage` is the table access method (see util.data_set_storage). Each
-- partition also gets its bound as a CHECK constraint: it outlives a DETACH, so that util.publish_days attaches
-- the partition to the published table without scanning it.
CREATE FUNCTION util.create_day_partitions(schema_name TEXT, table_name TEXT, day_ids INTEGER[],
                                           storage TEXT DEFAULT 'heap')
  RETURNS TEXT
  LANGUAGE plpgsql
AS $$
DECLARE
  partitioned REGCLASS := format('%I.%I', schema_name, table_name)::REGCLASS;
  key_column TEXT := (SELECT attname FROM pg_partitioned_table
                        JOIN pg_attribute ON attrelid = partrelid AND attnum = partattrs[0]
                      WHERE partrelid = partitioned);
  day_id INTEGER;
BEGIN
  FOREACH day_id IN ARRAY coalesce(day_ids, '{}') LOOP
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES IN (%s) USING %I',
                   schema_name, util.day_partition_name(table_name, day_id), partitioned,
                   util.day_value(partitioned, day_id), storage);
    EXECUTE format('ALTER TABLE %I.%I ADD CONSTRAINT %I CHECK (%I = %s)',
                   schema_name, util.day_partition_name(table_name, day_id), format('day_%s', day_id), key_column,
                   util.day_value(partitioned, day_id));
  END LOOP;
  RETURN format('%s: %s day partitions, %s storage', partitioned, coalesce(cardinality(day_ids), 0), storage);
END
$$;


-- Empties the day partitions of `day_ids` that util.create_day_partitions created, for a build that fills them in
-- the same transaction: with wal_level = minimal (docs/postgresql.conf) the rows are then written without WAL
-- and the files synced at commit instead, a wait for the disk rather than work for a core (a full build of the 30
-- benchmark days wrote 2.2 GB of WAL before, 56 MB now; docs/benchmarks/warehouse.md). It locks only these
-- partitions, and finds them by name (util.day_partition_name): reading the bounds of all partitions
-- (util.day_partitions) would wait for the other chunks of the build (BuildDays in app/pipelines/loading.py),
-- which hold theirs until they commit.
CREATE FUNCTION util.empty_day_partitions(schema_name TEXT, table_name TEXT, day_ids INTEGER[])
  RETURNS TEXT
  LANGUAGE plpgsql
AS $$
BEGIN
  -- With Citus worker nodes, an insert into a distributed partitioned table locks all of its partitions' shards,
  -- and a chunk's TRUNCATE of its own ones then deadlocks with the other chunks' inserts (found by the tests):
  -- the new partitions are empty anyway, and are only filled.
  IF util.has_worker_nodes() THEN
    RETURN format('%I.%I: %s day partitions filled as created (Citus worker nodes)', schema_name, table_name,
                  coalesce(cardinality(day_ids), 0));
  END IF;
  IF cardinality(day_ids) > 0 THEN
    EXECUTE (SELECT format('TRUNCATE %s',
                           string_agg(format('%I.%I', schema_name, util.day_partition_name(table_name, day_id)), ', '))
             FROM unnest(day_ids) AS day_id);
  END IF;
  RETURN format('%I.%I: %s day partitions emptied', schema_name, table_name, coalesce(cardinality(day_ids), 0));
END
$$;


-- The day partitions of a LIST-partitioned table (one day each), with the day read from the bound.
CREATE FUNCTION util.day_partitions(partitioned REGCLASS)
  RETURNS TABLE (day_id INTEGER, partition_table REGCLASS)
  LANGUAGE sql STABLE
AS $$
  SELECT regexp_replace(pg_get_expr(relpartbound, inhrelid), '\D', '', 'g')::INTEGER, inhrelid::REGCLASS
  FROM pg_inherits JOIN pg_class ON pg_class.oid = inhrelid
  WHERE inhparent = partitioned
$$;


-- References that a run takes out of the warehouse: the values of the foreign keys (those declared on
-- `partitioned`) that `old` holds and `new` does not, collected in the temporary table lost_reference.
-- They are the candidates for members that nothing references any more (see
-- util.delete_unreferenced_members). A replaced day that only gained rows loses no reference.
-- `outside_schema`: only the keys that point to tables of other schemas. The keys to time.day are left out:
-- it keeps the days of FIRST_DATE..LAST_DATE whether referenced or not (util.trim_time_dimension), so
-- collecting them would only cost a scan of the old rows (1.1 s for the 30 benchmark days of gh_dim, under
-- the publish's locks).
CREATE FUNCTION util.record_lost_references(partitioned REGCLASS, old REGCLASS, new REGCLASS DEFAULT NULL,
                                            outside_schema TEXT DEFAULT NULL)
  RETURNS VOID
  LANGUAGE plpgsql
AS $$
DECLARE
  reference RECORD;
BEGIN
  -- `referenced` is the table's name, not a REGCLASS: with Citus worker nodes the SELECT below runs on the
  -- workers, which would turn a REGCLASS constant into the OID of their own copy of the table.
  CREATE TEMPORARY TABLE IF NOT EXISTS lost_reference (referenced TEXT, key BIGINT) ON COMMIT DROP;
  FOR reference IN
    SELECT confrelid::REGCLASS AS referenced,
           (SELECT attname FROM pg_attribute WHERE attrelid = conrelid AND attnum = conkey[1]) AS fk_column
    FROM pg_constraint
      JOIN pg_class ON pg_class.oid = confrelid
      JOIN pg_namespace ON pg_namespace.oid = pg_class.relnamespace
    WHERE contype = 'f' AND conrelid = partitioned AND conparentid = 0
      AND NOT (nspname = 'time' AND relname = 'day')
      AND (outside_schema IS NULL OR relnamespace <> to_regnamespace(outside_schema))
  LOOP
    EXECUTE format('INSERT INTO lost_reference SELECT %L, key FROM (SELECT %I AS key FROM %s %s) AS lost '
                   'WHERE key IS NOT NULL',
                   reference.referenced, reference.fk_column, old,
                   CASE WHEN new IS NULL THEN ''
                        ELSE format('EXCEPT SELECT %I FROM %s', reference.fk_column, new) END);
  END LOOP;
END
$$;


-- Publishes the day partitions that a run built in `next_schema` into the tables of the same name in
-- `live_schema`, and takes the days `removed_day_ids` out, in the caller's transaction: for every
-- partitioned table of `next_schema`, the live partition of each built or removed day is dropped and the
-- built partition moved into its place. Readers see each day either old or new, never half of it (they
-- wait while a partition is replaced), and a new partition is checked against the live table's foreign
-- keys when it is attached.
CREATE FUNCTION util.publish_days(live_schema TEXT, next_schema TEXT, removed_day_ids INTEGER[])
  RETURNS TEXT
  LANGUAGE plpgsql
AS $$
DECLARE
  table_name TEXT;
  live_table REGCLASS;
  next_table REGCLASS;
  day RECORD;
  number_of_partitions INTEGER := 0;
BEGIN
  FOR table_name IN
    SELECT relname FROM pg_partitioned_table JOIN pg_class ON pg_class.oid = partrelid
    WHERE relnamespace = to_regnamespace(next_schema) ORDER BY relname
  LOOP
    live_table := format('%I.%I', live_schema, table_name)::REGCLASS;
    next_table := format('%I.%I', next_schema, table_name)::REGCLASS;
    FOR day IN
      SELECT coalesce(old.day_id, new.day_id) AS day_id, old.partition_table AS old, new.partition_table AS new
      FROM (SELECT * FROM util.day_partitions(live_table)) AS old
        FULL JOIN util.day_partitions(next_table) AS new USING (day_id)
      WHERE new.day_id IS NOT NULL OR old.day_id = ANY (removed_day_ids)
      ORDER BY 1
    LOOP
      IF day.old IS NOT NULL THEN
        PERFORM util.record_lost_references(live_table, day.old, day.new);
        PERFORM util.subtract_references(live_table, day.old);
        EXECUTE format('DROP TABLE %s', day.old);
      END IF;
      IF day.new IS NOT NULL THEN
        EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', next_table, day.new);
        EXECUTE format('ALTER TABLE %s SET SCHEMA %I', day.new, live_schema);
        EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES IN (%s)', live_table, live_schema,
                       util.day_partition_name(table_name, day.day_id), util.day_value(live_table, day.day_id));
        number_of_partitions := number_of_partitions + 1;
      END IF;
    END LOOP;
  END LOOP;
  RETURN format('%s: %s published, %s taken out', live_schema,
                util.number_of(number_of_partitions, 'day partition'),
                util.number_of(coalesce(cardinality(removed_day_ids), 0), 'day'));
END
$$;


-- ---------------------------------------------------------------- dimension members

-- The single-column primary key of a table.
CREATE FUNCTION util.primary_key_column(table_name REGCLASS)
  RETURNS TEXT
  LANGUAGE sql STABLE
AS $$
  SELECT attname::TEXT
  FROM pg_constraint JOIN pg_attribute ON attrelid = conrelid AND attnum = conkey[1]
  WHERE conrelid = table_name AND contype = 'p' AND cardinality(conkey) = 1
$$;


-- A dimension may count its references, in a column `number_of_references`: per member, the rows of the
-- day-partitioned tables of its own schema that reference it (the foreign keys listed here). Its SQL file computes
-- the counts of the days a run builds, a publish adds them to the published members' (util.publish_members) and
-- subtracts those of the day partitions it replaces or takes out (util.publish_days). Whether a member of count 0
-- is still used then needs no scan of those tables: taking a day out of 485 days of GitHub activity scanned the
-- 153M rows of every day partition of gh_dim.repo_activity for the day's 315k repositories. The unknown member
-- (-1), which always stays, is not counted.
CREATE FUNCTION util.counted_foreign_keys(dimension REGCLASS)
  RETURNS TABLE (table_name REGCLASS, fk_column TEXT)
  LANGUAGE sql STABLE
AS $$
  SELECT keys.table_name, keys.fk_column
  FROM util.inbound_foreign_keys(dimension) AS keys
    JOIN pg_class AS referencing ON referencing.oid = keys.table_name
    JOIN pg_class AS referenced ON referenced.oid = dimension
  WHERE referencing.relkind = 'p' AND referencing.relnamespace = referenced.relnamespace
    AND EXISTS (SELECT FROM pg_attribute
                WHERE attrelid = dimension AND attname = 'number_of_references' AND NOT attisdropped)
$$;


-- Adds `counts` to the reference counts of the members `keys` of `dimension` (see util.counted_foreign_keys).
-- The keys as an array and the pairs unnested: with Citus worker nodes, a reference table (a dimension) is updated
-- with values, not with a join to a table of the coordinator ("relation ... is not distributed").
CREATE FUNCTION util.add_references(dimension REGCLASS, keys BIGINT[], counts INTEGER[])
  RETURNS VOID
  LANGUAGE plpgsql
AS $$
DECLARE
  key_column TEXT := util.primary_key_column(dimension);
BEGIN
  IF keys IS NULL THEN
    RETURN;
  END IF;
  -- `= ANY ($1)` walks the primary key index once for all keys, as in util.delete_unreferenced.
  EXECUTE format('UPDATE %1$s AS member SET number_of_references = member.number_of_references + counted.n '
                 'FROM unnest($1, $2) AS counted (key, n) '
                 'WHERE member.%2$I = ANY ($1) AND member.%2$I = counted.key AND member.%2$I <> -1',
                 dimension, key_column)
  USING keys, counts;
END
$$;


-- Subtracts the references of `old`, a day partition of `partitioned` that a publish drops, from the counts of the
-- members that it references (the counted foreign keys of `partitioned`).
CREATE FUNCTION util.subtract_references(partitioned REGCLASS, old REGCLASS)
  RETURNS VOID
  LANGUAGE plpgsql
AS $$
DECLARE
  reference RECORD;
  keys BIGINT[];
  counts INTEGER[];
BEGIN
  FOR reference IN
    SELECT referenced.dimension, counted.fk_column
    FROM (SELECT DISTINCT confrelid::REGCLASS AS dimension FROM pg_constraint
          WHERE contype = 'f' AND conrelid = partitioned) AS referenced,
         util.counted_foreign_keys(referenced.dimension) AS counted
    WHERE counted.table_name = partitioned
  LOOP
    EXECUTE format('SELECT array_agg(key), array_agg(-n) FROM (SELECT %I AS key, count(*)::INTEGER AS n FROM %s '
                   'GROUP BY 1) AS counted', reference.fk_column, old)
    INTO keys, counts;
    PERFORM util.add_references(reference.dimension, keys, counts);
  END LOOP;
END
$$;


-- Adds the members of `next_schema.table_name` that `live_schema.table_name` lacks. Members are identified
-- by a hash of their natural key: a member that exists with other attributes is a hash collision, and
-- fails the run instead of merging two members. Each member is looked up once, for both: for a day of
-- 210k new repositories, 1.3 s, against 2.0 s for a collision check and an insert that each look up.
CREATE FUNCTION util.publish_members(live_schema TEXT, next_schema TEXT, table_name TEXT)
  RETURNS TEXT
  LANGUAGE plpgsql
AS $$
DECLARE
  live_table REGCLASS := format('%I.%I', live_schema, table_name)::REGCLASS;
  key_column TEXT := util.primary_key_column(live_table);
  counted BOOLEAN := EXISTS (SELECT FROM util.counted_foreign_keys(live_table));
  collision TEXT;
  added BIGINT;
  known_keys BIGINT[];
  known_counts INTEGER[];
BEGIN
  -- Each member is looked up in the index by a subquery: a join would hash the whole live table. A new member
  -- comes with the count of its references in the new days; a known one gets it added (the reference count
  -- is no attribute, so it is left out of the comparison).
  EXECUTE format('WITH member AS MATERIALIZED ( '
                 '       SELECT new, (SELECT old FROM %3$I.%2$I AS old WHERE old.%4$I = new.%4$I) AS old '
                 '       FROM %1$I.%2$I AS new), '
                 '     added AS (INSERT INTO %3$I.%2$I SELECT (new).* FROM member WHERE (old).%4$I IS NULL RETURNING 1) '
                 'SELECT (SELECT count(*) FROM added), '
                 '       (SELECT format(''%%s and %%s'', new, old) FROM member '
                 '        WHERE (old).%4$I IS NOT NULL '
                 '          AND to_jsonb(new) - ''number_of_references'' IS DISTINCT FROM to_jsonb(old) - ''number_of_references'' '
                 '        LIMIT 1), '
                 '       %5$s',
                 next_schema, table_name, live_schema, key_column,
                 CASE WHEN counted
                      THEN format('(SELECT array_agg((new).%1$I) FROM member WHERE (old).%1$I IS NOT NULL), '
                                  '(SELECT array_agg((new).number_of_references) FROM member WHERE (old).%1$I IS NOT NULL)',
                                  key_column)
                      ELSE 'NULL, NULL' END)
  INTO added, collision, known_keys, known_counts;
  IF collision IS NOT NULL THEN
    RAISE EXCEPTION '%.%: two members with the same id (a hash collision): %', live_schema, table_name, collision;
  END IF;
  PERFORM util.add_references(live_table, known_keys, known_counts);
  RETURN format('%I.%I: %s new members', live_schema, table_name, added);
END
$$;


-- Deletes the rows of `table_name` whose key is one of `candidates` and that no foreign key references. The values
-- that the deleted rows reference in turn become lost references (a deleted project version may leave its
-- project unused).
--
-- The foreign keys that point to the table would check each deleted row against every partition of the
-- referencing tables, which have no index on the reference. But the rows to delete are found above as exactly
-- those that nothing references, and the publish's locks (util.lock_for_publish) keep anyone from adding a
-- reference meanwhile: the delete may skip those checks (session_replication_role = replica, which only a
-- superuser may set). Otherwise the keys (except those on a partition key, which are checked per row in the one
-- partition of the value) are dropped and declared again, which checks every partition: taking a day out of 30
-- days of the benchmark volume spent 7.7 s of its 11.5 s in github's publish on that.
CREATE FUNCTION util.delete_unreferenced(table_name REGCLASS, candidates BIGINT[])
  RETURNS BIGINT
  LANGUAGE plpgsql
AS $$
DECLARE
  key_column TEXT := util.primary_key_column(table_name);
  reference RECORD;
  counted_keys BIGINT[];  -- candidates that the counted foreign keys still reference
  unreferenced_keys BIGINT[];
  deleted BIGINT;
  role_before TEXT := current_setting('session_replication_role');
  skip_checks BOOLEAN := true;
BEGIN
  CREATE TEMPORARY TABLE unreferenced ON COMMIT DROP AS SELECT DISTINCT unnest(candidates) AS key;
  ANALYZE unreferenced;
  -- The counted references (util.counted_foreign_keys) are in the members' counts; only the others are scanned.
  IF EXISTS (SELECT FROM util.counted_foreign_keys(table_name)) THEN
    EXECUTE format('SELECT array_agg(%1$I) FROM %2$s WHERE %1$I = ANY ($1) AND number_of_references <> 0',
                   key_column, table_name)
    INTO counted_keys USING candidates;
    DELETE FROM unreferenced WHERE key = ANY (counted_keys);
  END IF;
  FOR reference IN
    SELECT * FROM util.inbound_foreign_keys(delete_unreferenced.table_name) AS keys
    WHERE (keys.table_name, keys.fk_column) NOT IN
            (SELECT * FROM util.counted_foreign_keys(delete_unreferenced.table_name))
  LOOP
    -- The references are joined to the candidates (hashed) before they are made distinct: distinct references
    -- first took 7.5 s for 30 days of repos, this 2.9 s.
    EXECUTE format('DELETE FROM unreferenced WHERE key IN (SELECT referencing.%1$I FROM %2$s AS referencing '
                   '                                       JOIN unreferenced AS candidate ON candidate.key = referencing.%1$I)',
                   reference.fk_column, reference.table_name);
  END LOOP;
  IF NOT EXISTS (SELECT FROM unreferenced) THEN
    DROP TABLE unreferenced;
    RETURN 0;
  END IF;

  BEGIN
    PERFORM set_config('session_replication_role', 'replica', true);
  EXCEPTION WHEN insufficient_privilege THEN
    skip_checks := false;
  END;
  IF skip_checks THEN
    PERFORM util.set_replication_role('replica');  -- again outside the block above, for the worker nodes
  END IF;
  CREATE TEMPORARY TABLE dropped_key ON COMMIT DROP AS
  SELECT keys.* FROM util.inbound_foreign_keys(table_name) AS keys
  WHERE NOT skip_checks
    AND NOT EXISTS (SELECT FROM pg_partitioned_table JOIN pg_attribute ON attrelid = partrelid AND attnum = partattrs[0]
                    WHERE partrelid = keys.table_name AND attname = keys.fk_column);
  FOR reference IN SELECT * FROM dropped_key LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', reference.table_name, reference.constraint_name);
  END LOOP;

  EXECUTE format('CREATE TEMPORARY TABLE deleted_row (LIKE %s) ON COMMIT DROP', table_name);
  -- The keys as one array: the primary key index is walked once in key order, and with it the rows, which a full
  -- build wrote in that order. A day's 210k repositories out of 6M: 0.64 s, against 2.1 s for the planner's choice
  -- for `IN (SELECT key FROM unreferenced)` (the whole table scanned and hashed) and 1.7 s for one lookup per key.
  SELECT array_agg(key) INTO unreferenced_keys FROM unreferenced;
  EXECUTE format('WITH deleted AS (DELETE FROM %s WHERE %I = ANY ($1) RETURNING *) '
                 'INSERT INTO deleted_row SELECT * FROM deleted', table_name, key_column)
  USING unreferenced_keys;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  IF skip_checks THEN
    PERFORM util.set_replication_role(role_before);
  END IF;

  PERFORM util.record_lost_references(table_name, 'pg_temp.deleted_row'::REGCLASS);
  FOR reference IN SELECT * FROM dropped_key LOOP
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', reference.table_name, reference.constraint_name, reference.definition);
  END LOOP;
  DROP TABLE unreferenced, dropped_key, deleted_row;
  RETURN deleted;
END
$$;


-- Deletes the members of a dimension that lost a reference in this transaction (util.publish_days,
-- util.delete_unreferenced) and that nothing references any more, so that the dimension holds exactly
-- the members of the days in the warehouse. The unknown member (-1) always stays.
CREATE FUNCTION util.delete_unreferenced_members(dimension REGCLASS)
  RETURNS TEXT
  LANGUAGE plpgsql
AS $$
DECLARE
  candidates BIGINT[];
BEGIN
  IF to_regclass('pg_temp.lost_reference') IS NOT NULL THEN
    SELECT array_agg(DISTINCT key) INTO candidates FROM lost_reference
    WHERE referenced = dimension::TEXT AND key <> -1;
  END IF;
  RETURN format('%s: %s members deleted that nothing references any more',
                dimension, CASE WHEN candidates IS NULL THEN 0 ELSE util.delete_unreferenced(dimension, candidates) END);
END
$$;


-- Deletes the days of time.day outside @first_day_id@ .. @last_day_id@ (the configured dates) that no fact
-- references any more. A referenced day stays until the pipeline that references it has taken it out.
CREATE FUNCTION util.trim_time_dimension(first_day_id INTEGER, last_day_id INTEGER)
  RETURNS TEXT
  LANGUAGE plpgsql
AS $$
DECLARE
  outside BIGINT[];
BEGIN
  SELECT array_agg(day_id) INTO outside FROM time.day WHERE day_id NOT BETWEEN first_day_id AND last_day_id;
  RETURN format('time.day: %s days outside %s..%s deleted', CASE WHEN outside IS NULL THEN 0
                ELSE util.delete_unreferenced('time.day', outside) END, first_day_id, last_day_id);
END
$$;


-- ---------------------------------------------------------------- quality gates of loaded files

-- Checks the files that a run loaded into `loaded` (a raw table of `<data schema>_next`; `planned` names each
-- day's file): counts are never negative, and the natural key is unique within a file. (A row of another day,
-- or a value of the wrong type, already failed the load with its line.) Counts the rows of each file, and sums
-- its count columns, into `planned`. Records a result per day and check in data_quality.day_check, with the
-- first problems and their lines, and returns a summary; util.fail_on_failed_checks then fails the run if a
-- check failed.
-- Each file is read once: one query per planned day (a LATERAL subquery, which reads only the day's partition)
-- counts its rows, sums its counts, counts the rows with a negative count and the distinct keys. The keys are
-- counted by a 64-bit hash of them: sorting a benchmark day's 210k hashes took 50 ms, grouping its keys 125 ms.
-- (Grouping the keys of all days, as before, made one hash table of them, which spilled to disk: the planner did
-- not aggregate partition by partition. 30 GitHub files: 1.9 s against 7.3 s, docs/benchmarks/warehouse.md.)
-- Equal keys have equal hashes, so only a day with fewer distinct hashes than rows can have a duplicate key;
-- only such a day's keys are then grouped exactly, and a collision of two different keys passes.
-- Line numbers: each day partition is filled by one COPY of its file into a table emptied in the same
-- transaction (LoadDayFile), which writes the rows in the order of the file's lines. So the n-th row in the
-- order of ctid is line n + 1 (after the header). Only the days with problems are numbered; a stored line
-- number took 4 bytes on every row (1.8 MB per benchmark day).
CREATE FUNCTION util.check_loaded_files(data_set TEXT, loaded REGCLASS, planned REGCLASS, key_columns TEXT[],
                                        count_columns TEXT[])
  RETURNS TEXT
  LANGUAGE plpgsql
AS $$
DECLARE
  problems_per_check CONSTANT INTEGER := 10;  -- problems shown per file and check; the count says how many
  lines_per_problem CONSTANT INTEGER := 5;    -- lines shown of a key that many lines repeat
  header_lines CONSTANT INTEGER := 1;
  key_list TEXT := (SELECT string_agg(format('%I', name), ', ') FROM unnest(key_columns) AS name);
  negative_count TEXT := (SELECT string_agg(format('%I < 0', name), ' OR ') FROM unnest(count_columns) AS name);
  summary TEXT;
BEGIN
  -- The statistics of each file, for the checks below, the completeness check and the record of published days.
  EXECUTE format(
    'CREATE TEMPORARY TABLE loaded_day ON COMMIT DROP AS '
    'SELECT planned.day_id, day.* '
    'FROM %1$s AS planned, '
    '  LATERAL (SELECT count(*) AS number_of_rows, '
    '                  CASE WHEN count(*) > 0 THEN jsonb_build_object(%2$s) ELSE ''{}'' END AS totals, '
    '                  count(*) FILTER (WHERE %3$s) AS negative_rows, '
    '                  count(DISTINCT hashtextextended(concat_ws(E''\t'', %4$s), 0)) AS distinct_keys '
    '           FROM %5$s AS loaded '
    '           WHERE loaded.day_id = planned.day_id) AS day',
    planned, (SELECT string_agg(format('%L, sum(%I)', name, name), ', ') FROM unnest(count_columns) AS name),
    negative_count, key_list, loaded);
  EXECUTE format('UPDATE %s AS planned SET number_of_rows = day.number_of_rows, totals = day.totals '
                 'FROM loaded_day AS day WHERE day.day_id = planned.day_id', planned);

  -- The rows with a problem: their day, their place in the partition, and what is wrong.
  CREATE TEMPORARY TABLE bad_row (day_id INTEGER, row_id TID, check_name TEXT, detail TEXT, key JSONB) ON COMMIT DROP;

  IF EXISTS (SELECT FROM loaded_day WHERE negative_rows > 0) THEN
    EXECUTE format(
      'INSERT INTO bad_row '
      'SELECT day_id, ctid, ''counts not negative'', format(''%%s is %%s'', count.name, count.value), NULL '
      'FROM %s, LATERAL (VALUES %s) AS count (name, value) '
      'WHERE day_id IN (SELECT day_id FROM loaded_day WHERE negative_rows > 0) AND (%s) AND count.value < 0',
      loaded,
      (SELECT string_agg(format('(%L, %I)', name, name), ', ') FROM unnest(count_columns) AS name),
      negative_count);
  END IF;

  -- The keys that occur more than once in a day, then their rows.
  IF EXISTS (SELECT FROM loaded_day WHERE distinct_keys < number_of_rows) THEN
    EXECUTE format(
      'CREATE TEMPORARY TABLE duplicate_key ON COMMIT DROP AS '
      'SELECT day_id, jsonb_build_array(%2$s) AS key FROM %1$s '
      'WHERE day_id IN (SELECT day_id FROM loaded_day WHERE distinct_keys < number_of_rows) '
      'GROUP BY day_id, %2$s HAVING count(*) > 1',
      loaded, key_list);
    EXECUTE format(
      'INSERT INTO bad_row '
      'SELECT day_id, ctid, ''unique natural key'', concat_ws('', '', %1$s), jsonb_build_array(%3$s) '
      'FROM %2$s '
      'WHERE day_id IN (SELECT day_id FROM duplicate_key) '
      '  AND (day_id, jsonb_build_array(%3$s)) IN (SELECT day_id, key FROM duplicate_key)',
      (SELECT string_agg(format('coalesce(%I::TEXT, ''NULL'')', name), ', ') FROM unnest(key_columns) AS name),
      loaded, key_list);
    DROP TABLE duplicate_key;
  END IF;

  -- The line numbers of the rows of the days with problems.
  EXECUTE format(
    'CREATE TEMPORARY TABLE numbered_row ON COMMIT DROP AS '
    'SELECT day_id, ctid AS row_id, row_number() OVER (PARTITION BY day_id ORDER BY ctid) + $1 AS line_number '
    'FROM %s WHERE day_id IN (SELECT day_id FROM bad_row)', loaded)
    USING header_lines;

  CREATE TEMPORARY TABLE problem ON COMMIT DROP AS
  WITH bad_line AS (SELECT * FROM bad_row JOIN numbered_row USING (day_id, row_id))
  SELECT day_id, check_name, line_number,
         format('line %s: %s, a count cannot be negative', line_number, detail) AS message
  FROM bad_line
  WHERE check_name = 'counts not negative'
  UNION ALL
  SELECT day_id, check_name, lines[1],
         format('lines %s%s: the same %s (%s)', array_to_string(lines[1:lines_per_problem], ' and '),
                CASE WHEN cardinality(lines) > lines_per_problem
                     THEN format(' and %s more', cardinality(lines) - lines_per_problem) ELSE '' END,
                array_to_string(key_columns, ', '), detail)
  FROM (SELECT day_id, check_name, detail, array_agg(line_number ORDER BY line_number) AS lines
        FROM bad_line
        WHERE check_name = 'unique natural key'
        GROUP BY day_id, check_name, key, detail) AS duplicate;

  EXECUTE format('DELETE FROM data_quality.day_check WHERE data_set = $1 AND day_id IN (SELECT day_id FROM %s)', planned)
    USING data_set;
  EXECUTE format(
    'INSERT INTO data_quality.day_check (data_set, day_id, check_name, file_name, passed, details) '
    'SELECT $1, planned.day_id, checks.check_name, planned.file_name, count(problem.*) = 0, '
    '       CASE WHEN count(problem.*) > 0 THEN format(''%%s problem%%s: %%s'', count(problem.*), '
    '            CASE WHEN count(problem.*) > 1 THEN ''s'' ELSE '''' END, '
    '            string_agg(problem.message, ''; '' ORDER BY problem.line_number) '
    '              FILTER (WHERE problem.rank <= $2)) END '
    'FROM %s AS planned '
    '  CROSS JOIN (VALUES (''counts not negative''), (''unique natural key'')) AS checks (check_name) '
    '  LEFT JOIN (SELECT *, row_number() OVER (PARTITION BY day_id, check_name ORDER BY line_number) AS rank '
    '             FROM problem) AS problem USING (day_id, check_name) '
    'GROUP BY planned.day_id, checks.check_name, planned.file_name', planned)
    USING data_set, problems_per_check;

  SELECT format('%s: %s files checked (counts not negative, unique natural key): %s', check_loaded_files.data_set,
                count(DISTINCT day_id),
                CASE WHEN bool_and(passed) THEN 'all passed'
                     ELSE format('%s checks failed', count(*) FILTER (WHERE NOT passed)) END)
  INTO summary
  FROM data_quality.day_check
  WHERE day_check.data_set = check_loaded_files.data_set AND checked_at = now()
  HAVING count(*) > 0;
  DROP TABLE loaded_day, bad_row, numbered_row, problem;
  RETURN coalesce(summary, format('%s: no files to check', check_loaded_files.data_set));
END
$$;


-- Fails with the problems that util.check_loaded_files found in the files of `planned`, file by file.
CREATE FUNCTION util.fail_on_failed_checks(data_set TEXT, planned REGCLASS)
  RETURNS TEXT
  LANGUAGE plpgsql
AS $$
DECLARE
  failures TEXT;
BEGIN
  EXECUTE format('SELECT string_agg(format(''%%s (%%s): %%s'', file_name, check_name, details), E''\n'' '
                 '                  ORDER BY day_id, check_name) '
                 'FROM data_quality.day_check '
                 'WHERE data_set = $1 AND NOT passed AND severity = ''error'' '
                 '  AND day_id IN (SELECT day_id FROM %s)', planned)
    INTO failures USING data_set;
  IF failures IS NOT NULL THEN
    RAISE EXCEPTION E'quality gates failed, nothing of this run is published:\n%', failures
      USING HINT = 'Fix or remove the file, then run the pipeline again';
  END IF;
  RETURN format('%s: all quality gates passed', data_set);
END
$$;


-- ---------------------------------------------------------------- publishing a build

-- Publishes what a run built (see app/pipelines/loading.py), in the caller's transaction:
-- 1. the day partitions of `<data schema>_next` into `data_schema` (the raw days of the files), and the
--    record of the published days;
-- 2. after a full build, `<dim schema>_next` replaces `dim_schema` (util.replace_schema); after an
--    incremental one, the new members of `dimensions` (in the order given: a member before those that
--    reference it), the day partitions, and then the members that nothing references any more;
-- 3. the days that left FIRST_DATE..LAST_DATE leave time.day once nothing references them.
CREATE FUNCTION util.publish_build(data_schema TEXT, dim_schema TEXT, dimensions TEXT[], data_set TEXT DEFAULT NULL)
  RETURNS TEXT
  LANGUAGE plpgsql
AS $$
DECLARE
  next_data TEXT := format('%s_next', data_schema);
  next_dim TEXT := format('%s_next', dim_schema);
  build RECORD;
  dimension TEXT;
  messages TEXT[] := '{}';
BEGIN
  -- Usually taken already, first thing in the publish's transaction (see util.lock_for_publish); again is free.
  PERFORM util.lock_for_publish(data_schema, dim_schema);
  EXECUTE format('SELECT * FROM %I.build', next_data) INTO build;

  messages := messages || util.publish_days(data_schema, next_data, build.removed_day_ids);
  EXECUTE format('DELETE FROM %I.published_day WHERE day_id IN (SELECT day_id FROM %I.planned_day) OR day_id = ANY ($1)',
                 data_schema, next_data) USING build.removed_day_ids;
  EXECUTE format('INSERT INTO %I.published_day SELECT *, now() FROM %I.planned_day', data_schema, next_data);
  IF data_set IS NOT NULL THEN  -- the checks of days that are not (or no longer) in the warehouse
    EXECUTE format('DELETE FROM data_quality.day_check WHERE data_set = $1 '
                   'AND day_id NOT IN (SELECT day_id FROM %I.published_day)', data_schema) USING data_set;
  END IF;

  IF build.full_rebuild THEN
    PERFORM util.replace_schema(dim_schema, next_dim);
    messages := messages || format('%s: replaced by a full build', dim_schema);
  ELSE
    FOREACH dimension IN ARRAY dimensions LOOP
      messages := messages || util.publish_members(dim_schema, next_dim, dimension);
    END LOOP;
    messages := messages || util.publish_days(dim_schema, next_dim, build.removed_day_ids);
    FOR i IN REVERSE cardinality(dimensions) .. 1 LOOP
      messages := messages || util.delete_unreferenced_members(format('%I.%I', dim_schema, dimensions[i])::REGCLASS);
    END LOOP;
    EXECUTE format('DROP SCHEMA %I CASCADE', next_dim);
  END IF;
  EXECUTE format('COMMENT ON SCHEMA %I IS %L', dim_schema, build.version_comment);
  EXECUTE format('DROP SCHEMA %I CASCADE', next_data);
  messages := messages || util.trim_time_dimension(build.first_day_id, build.last_day_id);
  RETURN array_to_string(messages, E'\n');
END
$$;


-- ---------------------------------------------------------------- locks of a publish

-- Takes every lock that publishing `dim_schema` (and `data_schema`) needs, before the publish changes anything,
-- so that readers wait for the publish and never fail. Replacing a day partition locks its table, and a reader's
-- query locks the tables it reads in its own order: a publish that locked tables one after another could hold
-- one that a reader waits for while it waits for one that the reader holds, a deadlock that PostgreSQL ends by
-- failing the reader's query. So the tables (partitioned ones without their partitions) of the two schemas and
-- of every schema that a foreign key links to `dim_schema` (time, and pypi_dim for pp_dim, which changes
-- pypi_dim's members) are locked all at once, each wait shorter than PostgreSQL's deadlock_timeout altogether:
-- when a lock is not free in time, the publish lets go of all of them, lets the readers finish and tries again,
-- for at most `max_wait`. Other publishes wait for this one first (pypi and github both change time.day).
CREATE FUNCTION util.lock_for_publish(data_schema TEXT, dim_schema TEXT, max_wait INTERVAL DEFAULT '15 minutes')
  RETURNS VOID
  LANGUAGE plpgsql
AS $$
DECLARE
  locked_tables OID[];
  lock_statement TEXT;
  wait_per_lock INTERVAL;
  deadline TIMESTAMPTZ := clock_timestamp() + max_wait;
  attempts INTEGER := 0;
  blockers TEXT;
BEGIN
  PERFORM util.use_one_connection_per_worker();
  PERFORM pg_advisory_xact_lock(hashtext('util.publish_build'));

  WITH linked_schema AS (
    SELECT to_regnamespace(data_schema) AS schema_oid
    UNION SELECT to_regnamespace(dim_schema)
    UNION SELECT other_table.relnamespace
    FROM pg_constraint
      JOIN pg_class AS referencing ON referencing.oid = conrelid
      JOIN pg_class AS referenced ON referenced.oid = confrelid
      JOIN pg_class AS other_table
        ON other_table.oid = CASE WHEN referencing.relnamespace = to_regnamespace(dim_schema) THEN confrelid
                                  ELSE conrelid END
    WHERE contype = 'f' AND to_regnamespace(dim_schema) IN (referencing.relnamespace, referenced.relnamespace))
  SELECT array_agg(oid ORDER BY oid) INTO locked_tables
  FROM pg_class
  WHERE relnamespace IN (SELECT schema_oid FROM linked_schema) AND relkind IN ('r', 'p') AND NOT relispartition;
  IF locked_tables IS NULL THEN
    RETURN;
  END IF;
  SELECT format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', string_agg(format('ONLY %s', locked::REGCLASS), ', '))
  INTO lock_statement
  FROM unnest(locked_tables) AS locked;

  -- All waits of one attempt together stay below deadlock_timeout: PostgreSQL looks for a deadlock only then.
  wait_per_lock := current_setting('deadlock_timeout')::INTERVAL / (2 * cardinality(locked_tables));
  LOOP
    attempts := attempts + 1;
    BEGIN
      PERFORM set_config('lock_timeout', format('%sms', greatest(1, floor(extract(EPOCH FROM wait_per_lock) * 1000))), TRUE);
      EXECUTE lock_statement;
      PERFORM set_config('lock_timeout', '0', TRUE);
      RETURN;
    EXCEPTION WHEN lock_not_available THEN  -- the locks of this attempt are released with it
      IF clock_timestamp() > deadline THEN
        SELECT string_agg(DISTINCT format('pid %s (%s, %s since %s)', pid, coalesce(nullif(application_name, ''), usename),
                                          state, date_trunc('second', xact_start)), ', ')
        INTO blockers
        FROM pg_stat_activity
        WHERE pid <> pg_backend_pid() AND datname = current_database()
          AND pid IN (SELECT pg_locks.pid FROM pg_locks WHERE relation = ANY (locked_tables));
        RAISE EXCEPTION 'could not publish %: its tables stayed in use for % (% attempts), by %',
          dim_schema, max_wait, attempts, coalesce(blockers, 'sessions that ended meanwhile')
          USING HINT = 'End or wait for those sessions (long queries, or transactions left open), then run again';
      END IF;
      PERFORM pg_sleep(extract(EPOCH FROM wait_per_lock));
    END;
  END LOOP;
END
$$;


-- ---------------------------------------------------------------- Citus: tables spread over worker nodes

-- Whether this database spreads the warehouse over Citus worker nodes: Citus is installed in it and has an
-- active primary worker (group 0 is the coordinator). A single Citus node only gives columnar storage.
CREATE FUNCTION util.has_worker_nodes()
  RETURNS BOOLEAN
  LANGUAGE plpgsql STABLE
AS $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') THEN
    RETURN false;
  END IF;
  RETURN EXISTS (SELECT FROM pg_dist_node WHERE groupid <> 0 AND isactive AND noderole = 'primary');
END
$$;


-- Spreads a new table of a `_next` schema over the worker nodes, before it has partitions or rows: by
-- `distribution_column` into shards (co-located with every table distributed by a column of the same type, so
-- that a day partition moves between a `_next` table and its published table, and joins on the column stay on
-- one worker), or, without a column, as a reference table (a copy on every node: the dimensions, which the facts
-- of every shard join and reference). Nothing happens without worker nodes. Returns a line for the run output.
CREATE FUNCTION util.distribute(schema_name TEXT, table_name TEXT, distribution_column TEXT DEFAULT NULL)
  RETURNS TEXT
  LANGUAGE plpgsql
AS $$
DECLARE
  qualified TEXT := format('%I.%I', schema_name, table_name);
BEGIN
  IF NOT util.has_worker_nodes() THEN
    RETURN format('%s: on this node', qualified);
  ELSIF distribution_column IS NULL THEN
    PERFORM create_reference_table(qualified);
    RETURN format('%s: a reference table on every node', qualified);
  END IF;
  PERFORM create_distributed_table(qualified, distribution_column);
  RETURN format('%s: distributed by %I', qualified, distribution_column);
END
$$;


-- Citus fills a reference table (a dimension, with worker nodes) from an INSERT ... SELECT by running the SELECT
-- on the coordinator and copying its rows into every node's copy, the coordinator's own included, while the SELECT
-- still runs. Where PostgreSQL runs that SELECT with parallel workers (it chose to at the benchmark volume), the
-- copy into the coordinator's copy fails with "cannot assign XIDs during a parallel operation" (Citus 13.2.2 on
-- PostgreSQL 15). The SQL files that fill dimensions call this first: no parallel workers for the rest of their
-- session, with worker nodes only. Returns a line for the run output.
CREATE FUNCTION util.fill_reference_tables_serially()
  RETURNS TEXT
  LANGUAGE plpgsql
AS $$
BEGIN
  IF NOT util.has_worker_nodes() THEN
    RETURN 'parallel query as configured: the dimensions are tables of this node';
  END IF;
  PERFORM set_config('max_parallel_workers_per_gather', '0', false);
  RETURN 'no parallel query in this session: the dimensions are Citus reference tables';
END
$$;


-- Sets session_replication_role (a superuser's) for the rest of the transaction, on the worker nodes too where
-- the warehouse has them. Citus runs a statement on a worker in a session of its own, where the coordinator's
-- setting does not hold: there the delete of a dimension's unreferenced members (util.delete_unreferenced) checked
-- every deleted member against every shard of the facts, unindexed (a benchmark day's 210k repositories: over 40
-- minutes, against 0.64 s on one node). Citus passes a `SET LOCAL` on to the workers of the transaction, the
-- present and the later ones, with citus.propagate_set_commands = 'local', unless it is made in a block with an
-- EXCEPTION clause (a subtransaction, whose settings Citus forgets at its end).
CREATE FUNCTION util.set_replication_role(role TEXT)
  RETURNS VOID
  LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM set_config('session_replication_role', role, true);
  IF util.has_worker_nodes() THEN
    SET LOCAL citus.propagate_set_commands = 'local';
    EXECUTE format('SET LOCAL session_replication_role = %L', role);
  END IF;
END
$$;


-- Drops a `_next` schema of a run that did not publish, on the coordinator and on the worker nodes. Where the
-- coordinator has the schema, Citus drops it on the workers in the same transaction. A run that a worker's crash
-- cut off can leave the schema on a worker alone, and the next run's CREATE SCHEMA would then fail there: that
-- copy is dropped by a command on the workers. Never both in one transaction: the command's own connections would
-- wait for the locks of the propagated drop, for ever (found by tests/pipelines/test_worker_down.py).
CREATE FUNCTION util.drop_next_schema(schema_name TEXT)
  RETURNS VOID
  LANGUAGE plpgsql
AS $$
BEGIN
  IF to_regnamespace(schema_name) IS NOT NULL THEN
    EXECUTE format('DROP SCHEMA %I CASCADE', schema_name);
  ELSIF util.has_worker_nodes() THEN
    PERFORM run_command_on_workers(format('DROP SCHEMA IF EXISTS %I CASCADE', schema_name));
  END IF;
END
$$;


-- Citus runs a statement on distributed tables over several connections per worker, in parallel; after that,
-- a transaction may no longer change a table that has a foreign key to a reference table (each worker must see
-- the changes of one connection). The publishes read and then move partitions in one transaction, so they ask
-- for one connection per worker first. Without Citus, the setting is an unused placeholder.
CREATE FUNCTION util.use_one_connection_per_worker()
  RETURNS VOID
  LANGUAGE sql
AS $$
  SELECT set_config('citus.multi_shard_modify_mode', 'sequential', true)
$$;


-- ---------------------------------------------------------------- columnar storage of flat data sets

-- Whether this server offers columnar storage: the table access method `columnar` of Citus 10+ (or of
-- the citus_columnar extension), once the extension is created in this database.
CREATE FUNCTION util.has_columnar_storage()
  RETURNS BOOLEAN
  LANGUAGE sql STABLE
AS $$
  SELECT EXISTS(SELECT FROM pg_am WHERE amname = 'columnar' AND amtype = 't')
$$;


-- The storage of flat data set tables for the COLUMNAR_STORAGE setting: 'auto' takes columnar storage
-- when the server has it and heap otherwise; 'on' insists on columnar storage (and fails loudly
-- without it, rather than silently building slower tables); 'off' always means heap.
CREATE FUNCTION util.data_set_storage(setting TEXT)
  RETURNS TEXT
  LANGUAGE plpgsql STABLE
AS $$
BEGIN
  IF setting = 'off' THEN
    RETURN 'heap';
  ELSIF setting = 'auto' THEN
    RETURN CASE WHEN util.has_columnar_storage() THEN 'columnar' ELSE 'heap' END;
  ELSIF setting = 'on' THEN
    IF NOT util.has_columnar_storage() THEN
      RAISE EXCEPTION 'COLUMNAR_STORAGE=on, but this server has no columnar storage (the columnar access method of Citus)'
        USING HINT = 'Install Citus and CREATE EXTENSION citus_columnar (or citus), or set COLUMNAR_STORAGE=auto';
    END IF;
    RETURN 'columnar';
  END IF;
  RAISE EXCEPTION 'COLUMNAR_STORAGE=%: use auto, on or off', setting;
END
$$;


-- Stores the checked raw day partitions of a `_next` table in `storage` (see util.data_set_storage), before the
-- build reads them and the publish moves them to the data schema. They are loaded as heap because the quality
-- gates number their rows by ctid (util.check_loaded_files), which columnar storage lacks; after the gates they
-- are only read. Rewriting a day costs about as much as loading it; columnar storage keeps a raw day in about a
-- fifth of the space (docs/warehouse.md, "Storage and distribution").
CREATE FUNCTION util.store_day_partitions(partitioned REGCLASS, storage TEXT)
  RETURNS TEXT
  LANGUAGE plpgsql
AS $$
DECLARE
  day_partition REGCLASS;
  rewritten INTEGER := 0;
BEGIN
  FOR day_partition IN
    SELECT partition_table FROM util.day_partitions(partitioned)
      JOIN pg_class ON pg_class.oid = partition_table JOIN pg_am ON pg_am.oid = pg_class.relam
    WHERE amname <> storage ORDER BY day_id
  LOOP
    EXECUTE format('ALTER TABLE %s SET ACCESS METHOD %I', day_partition, storage);
    rewritten := rewritten + 1;
  END LOOP;
  RETURN format('%s: %s stored as %s', partitioned, util.number_of(rewritten, 'day partition'), storage);
END
$$;

COMMIT;
