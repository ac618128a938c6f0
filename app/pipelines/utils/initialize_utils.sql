-- Helpers that every pipeline uses: atomic schema publishing, chunking of days, index and foreign key DDL.
-- Identifiers are always quoted with format('%I'), never glued together with ||.

CREATE SCHEMA IF NOT EXISTS util;


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


-- ---------------------------------------------------------------- columnar storage of flat data sets

-- The columnar storage that this server offers: 'columnar' (the table access method of Citus 10+ or
-- of the citus_columnar extension), 'cstore_fdw' (the archived foreign data wrapper of Citus for
-- PostgreSQL <= 12), or NULL when there is none. The extension must have been created in this database.
CREATE OR REPLACE FUNCTION util.available_columnar_storage()
  RETURNS TEXT
  LANGUAGE sql STABLE
AS $$
  SELECT CASE
           WHEN EXISTS(SELECT FROM pg_am WHERE amname = 'columnar' AND amtype = 't') THEN 'columnar'
           WHEN EXISTS(SELECT FROM pg_foreign_data_wrapper WHERE fdwname = 'cstore_fdw') THEN 'cstore_fdw'
         END
$$;


-- The storage for flat data set tables, given the COLUMNAR_STORAGE setting: 'auto' takes columnar
-- storage when the server has it and heap otherwise; 'on' insists on columnar storage (and fails
-- loudly without it, rather than silently building slow tables); 'off' always means heap.
CREATE OR REPLACE FUNCTION util.data_set_storage(setting TEXT)
  RETURNS TEXT
  LANGUAGE plpgsql STABLE
AS $$
DECLARE
  available TEXT := util.available_columnar_storage();
BEGIN
  IF setting = 'off' THEN
    RETURN 'heap';
  ELSIF setting = 'auto' THEN
    RETURN coalesce(available, 'heap');
  ELSIF setting = 'on' THEN
    IF available IS NULL THEN
      RAISE EXCEPTION 'COLUMNAR_STORAGE=on, but this server has no columnar storage (neither the columnar access method of Citus nor cstore_fdw)'
        USING HINT = 'Install Citus and CREATE EXTENSION citus_columnar (or citus), or set COLUMNAR_STORAGE=auto';
    END IF;
    RETURN available;
  END IF;
  RAISE EXCEPTION 'COLUMNAR_STORAGE=%: use auto, on or off', setting;
END
$$;


-- The CREATE statement of a flat data set table with the given column definitions (a list like
-- '"Date" DATE, "Project" TEXT') in the given storage ('heap', 'columnar' or 'cstore_fdw').
-- Kept apart from its execution so that the DDL of every storage can be tested on any server.
CREATE OR REPLACE FUNCTION util.data_set_table_ddl(schema_name TEXT, table_name TEXT, column_definitions TEXT,
                                                   storage TEXT)
  RETURNS TEXT
  LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
  IF storage IN ('heap', 'columnar') THEN
    RETURN format('CREATE TABLE %I.%I (%s) USING %I', schema_name, table_name, column_definitions, storage);
  ELSIF storage = 'cstore_fdw' THEN
    RETURN format('CREATE FOREIGN TABLE %I.%I (%s) SERVER cstore_server OPTIONS (compression %L)',
                  schema_name, table_name, column_definitions, 'pglz');
  END IF;
  RAISE EXCEPTION 'unknown storage % for data set table %.%', storage, schema_name, table_name;
END
$$;


-- Creates a flat data set table in the storage that COLUMNAR_STORAGE (`setting`) asks for and
-- returns a line for the run output that says which storage it got.
CREATE OR REPLACE FUNCTION util.create_data_set_table(schema_name TEXT, table_name TEXT, column_definitions TEXT,
                                                      setting TEXT)
  RETURNS TEXT
  LANGUAGE plpgsql
AS $$
DECLARE
  storage TEXT := util.data_set_storage(setting);
BEGIN
  IF storage = 'cstore_fdw' THEN
    -- cstore_fdw tables live on a foreign server of that wrapper
    IF NOT EXISTS(SELECT FROM pg_foreign_server WHERE srvname = 'cstore_server') THEN
      EXECUTE 'CREATE SERVER cstore_server FOREIGN DATA WRAPPER cstore_fdw';
    END IF;
  END IF;
  EXECUTE util.data_set_table_ddl(schema_name, table_name, column_definitions, storage);
  RETURN format('%I.%I: %s storage (COLUMNAR_STORAGE=%s)', schema_name, table_name, storage, setting);
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
