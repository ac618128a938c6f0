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
