-- Helpers that every pipeline uses: atomic schema publishing, chunking of days, index and foreign key DDL.
-- Identifiers are always quoted with format('%I'), never glued together with ||.

-- util holds nothing but these functions. It is created anew, in one transaction, so that a changed
-- function signature never clashes with the old one (CREATE OR REPLACE cannot rename parameters).
BEGIN;
DROP SCHEMA IF EXISTS util CASCADE;
CREATE SCHEMA util;


-- Publishes a freshly built schema: drops `schema_name` and renames `replace_with` to it, in the
-- caller's transaction. Readers see either the old or the new schema, never a mix or nothing:
-- until the transaction commits they keep the old one (queries that need its tables wait for the
-- lock instead of failing).
CREATE OR REPLACE FUNCTION util.replace_schema(schema_name TEXT, replace_with TEXT)
  RETURNS VOID
  LANGUAGE plpgsql
AS $$
BEGIN
  IF NOT EXISTS(SELECT FROM pg_namespace WHERE nspname = replace_with) THEN
    RAISE EXCEPTION 'util.replace_schema: schema % does not exist, nothing to publish as %',
      replace_with, schema_name;
  END IF;
  EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', schema_name);
  EXECUTE format('ALTER SCHEMA %I RENAME TO %I', replace_with, schema_name);
END
$$;


-- Maps a day (YYYYMMDD) to one of `number_of_chunks` chunks. Consecutive days land in different
-- chunks, so parallel tasks over chunks get about the same amount of data.
CREATE OR REPLACE FUNCTION util.get_chunk(day_id INTEGER, number_of_chunks INTEGER)
  RETURNS INTEGER
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$
  SELECT ((make_date(day_id / 10000, day_id / 100 % 100, day_id % 100) - DATE '2000-01-01')
          % number_of_chunks)::INTEGER
$$;


-- Creates a (by default btree) index on `columns` of a table; the index name is derived from them.
CREATE OR REPLACE FUNCTION util.add_index(schema_name TEXT, table_name TEXT, columns TEXT[],
                                          method TEXT DEFAULT 'btree')
  RETURNS VOID
  LANGUAGE plpgsql
AS $$
BEGIN
  EXECUTE format('CREATE INDEX %I ON %I.%I USING %s (%s)',
                 left(table_name || '__' || array_to_string(columns, '_') || '_idx', 63),
                 schema_name, table_name, method,
                 (SELECT string_agg(format('%I', c), ', ') FROM unnest(columns) AS c));
END
$$;


-- Declares a foreign key `fk_column` -> `ref_schema.ref_table(ref_column)`.
CREATE OR REPLACE FUNCTION util.add_fk(schema_name TEXT, table_name TEXT, fk_column TEXT,
                                       ref_schema TEXT, ref_table TEXT, ref_column TEXT)
  RETURNS VOID
  LANGUAGE plpgsql
AS $$
BEGIN
  EXECUTE format('ALTER TABLE %I.%I ADD CONSTRAINT %I FOREIGN KEY (%I) REFERENCES %I.%I (%I)',
                 schema_name, table_name, left(table_name || '__' || fk_column || '_fkey', 63),
                 fk_column, ref_schema, ref_table, ref_column);
END
$$;


-- ---------------------------------------------------------------- chunks of days

-- The chunk of a date: the same as util.get_chunk of its day_id, for tables with a date column.
CREATE OR REPLACE FUNCTION util.get_chunk(day DATE, number_of_chunks INTEGER)
  RETURNS INTEGER
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$
  SELECT ((day - DATE '2000-01-01') % number_of_chunks)::INTEGER
$$;


-- Attaches the tables `table_name`_0 .. _<n-1>, which parallel tasks filled with one chunk of days
-- each, as the partitions of `table_name` (partitioned by LIST (util.get_chunk(..., n))). Each chunk
-- table has a CHECK constraint that matches its partition bound, so attaching it needs no scan.
CREATE OR REPLACE FUNCTION util.attach_chunk_tables(schema_name TEXT, table_name TEXT, number_of_chunks INTEGER)
  RETURNS VOID
  LANGUAGE plpgsql
AS $$
BEGIN
  FOR chunk IN 0 .. number_of_chunks - 1 LOOP
    EXECUTE format('ALTER TABLE %I.%I ATTACH PARTITION %I.%I FOR VALUES IN (%s)',
                   schema_name, table_name, schema_name, format('%s_%s', table_name, chunk), chunk);
  END LOOP;
END
$$;


-- ---------------------------------------------------------------- columnar storage of flat data sets

-- Whether this server offers columnar storage: the table access method `columnar` of Citus 10+ (or of
-- the citus_columnar extension), once the extension is created in this database.
CREATE OR REPLACE FUNCTION util.has_columnar_storage()
  RETURNS BOOLEAN
  LANGUAGE sql STABLE
AS $$
  SELECT EXISTS(SELECT FROM pg_am WHERE amname = 'columnar' AND amtype = 't')
$$;


-- The storage of flat data set tables for the COLUMNAR_STORAGE setting: 'auto' takes columnar storage
-- when the server has it and heap otherwise; 'on' insists on columnar storage (and fails loudly
-- without it, rather than silently building slower tables); 'off' always means heap.
CREATE OR REPLACE FUNCTION util.data_set_storage(setting TEXT)
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


-- The CREATE statement of a flat data set table: `table_elements` is what goes between the parentheses
-- (column definitions, LIKE, constraints), `storage` the table access method ('heap' or 'columnar').
-- Kept apart from its execution, so that the DDL of either storage can be tested on any server.
CREATE OR REPLACE FUNCTION util.data_set_table_ddl(schema_name TEXT, table_name TEXT, table_elements TEXT,
                                                   storage TEXT)
  RETURNS TEXT
  LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
  IF storage NOT IN ('heap', 'columnar') THEN
    RAISE EXCEPTION 'unknown storage % for data set table %.%', storage, schema_name, table_name;
  END IF;
  RETURN format('CREATE TABLE %I.%I (%s) USING %I', schema_name, table_name, table_elements, storage);
END
$$;


-- Creates a flat data set table in the storage that COLUMNAR_STORAGE (`setting`) asks for and returns
-- a line for the run output that says which storage it got.
CREATE OR REPLACE FUNCTION util.create_data_set_table(schema_name TEXT, table_name TEXT, table_elements TEXT,
                                                      setting TEXT)
  RETURNS TEXT
  LANGUAGE plpgsql
AS $$
DECLARE
  storage TEXT := util.data_set_storage(setting);
BEGIN
  EXECUTE util.data_set_table_ddl(schema_name, table_name, table_elements, storage);
  RETURN format('%I.%I: %s storage (COLUMNAR_STORAGE=%s)', schema_name, table_name, storage, setting);
END
$$;


-- Creates `table_name`_`chunk`, the table that one parallel task fills with its chunk of days: like the
-- partitioned flat data set `table_name`, in the storage that `setting` asks for, and with the CHECK
-- constraint on `day_column` that lets util.attach_chunk_tables attach it as a partition without a scan.
CREATE OR REPLACE FUNCTION util.create_chunk_data_set_table(schema_name TEXT, table_name TEXT, day_column TEXT,
                                                            chunk INTEGER, number_of_chunks INTEGER, setting TEXT)
  RETURNS TEXT
  LANGUAGE plpgsql
AS $$
BEGIN
  RETURN util.create_data_set_table(
    schema_name, format('%s_%s', table_name, chunk),
    format('LIKE %I.%I, CHECK (util.get_chunk(%I, %s) IS NOT NULL AND util.get_chunk(%I, %s) = %s)',
           schema_name, table_name, day_column, number_of_chunks, day_column, number_of_chunks, chunk),
    setting);
END
$$;


-- ---------------------------------------------------------------- loading files

-- Fails when a freshly loaded table (a day partition) holds no rows: an empty file or one with only
-- a header is a failed download, not a day without data, and must not be recorded as read.
CREATE OR REPLACE FUNCTION util.assert_file_loaded(table_name REGCLASS, file_name TEXT)
  RETURNS TEXT
  LANGUAGE plpgsql
AS $$
DECLARE
  has_rows BOOLEAN;
BEGIN
  -- a regclass prints as an already quoted, schema-qualified name: %s, not %I
  EXECUTE format('SELECT EXISTS(SELECT FROM %s)', table_name) INTO has_rows;
  IF NOT has_rows THEN
    RAISE EXCEPTION 'file % has no data rows (empty, or only a header)', file_name
      USING HINT = 'Fix or remove the file, then run the pipeline again';
  END IF;
  RETURN format('%s loaded from %s', table_name, file_name);
END
$$;

COMMIT;
