"""Storage of the flat data sets: columnar when the server has it (COLUMNAR_STORAGE=auto), heap otherwise; and
day partitions that are attached to the published tables without a scan.

This server has no Citus: the heap path runs for real, and the detection is exercised with a stand-in table
access method named `columnar` (a copy of heap)."""

import datetime

import psycopg2.errors
import pytest

from app import data_sets
from tests.support.db import connect, query, reset_databases
from tests.support.warehouse import assert_succeeded, output, run_etl, write_day

# Correctness of the warehouse: `make test` runs these on heap, on one Citus node and on Citus workers.
pytestmark = pytest.mark.warehouse

DATA_SETS = ['pypi_dim.download_counts_data_set', 'gh_dim.repo_activity_data_set',
             'pp_dim.python_project_activity_data_set']
DAY = datetime.date(2018, 4, 10)
ENV = {'FIRST_DATE': '2018-04-01', 'LAST_DATE': '2018-04-30'}


def storages_of(table: str, database: str | None = None) -> set[str]:
    """The storages of the day partitions of a partitioned table."""
    return {row[0] for row in query("""
SELECT amname FROM pg_inherits JOIN pg_class ON pg_class.oid = inhrelid JOIN pg_am ON pg_am.oid = relam
WHERE inhparent = %s::REGCLASS""", (table,), database=database)}


def test_heap_where_the_server_has_no_columnar_storage(standard_warehouse):
    database = standard_warehouse.env['DWH_DB']
    assert query('SELECT util.has_columnar_storage()', database=database) == [(False,)]
    assert [storages_of(table, database) for table in DATA_SETS] == [{'heap'}] * 3
    for table in DATA_SETS:
        schema, name = table.split('.')
        assert f'{schema}_next.{name}: 10 day partitions, heap storage' in standard_warehouse.output


def test_the_storage_setting(standard_warehouse):
    database = standard_warehouse.env['DWH_DB']
    assert query("SELECT util.data_set_storage('auto'), util.data_set_storage('off')", database=database) \
        == [('heap', 'heap')]
    with pytest.raises(psycopg2.errors.RaiseException, match='COLUMNAR_STORAGE=on, but this server has no columnar'):
        query("SELECT util.data_set_storage('on')", database=database)
    with pytest.raises(psycopg2.errors.RaiseException, match='use auto, on or off'):
        query("SELECT util.data_set_storage('sometimes')", database=database)


@pytest.fixture
def columnar_stand_in(databases, tmp_path_factory):
    """A fresh warehouse whose server seems to have columnar storage: a table access method named `columnar`
    that is really heap. One day of tiny files."""
    data_dir = tmp_path_factory.mktemp('columnar')
    write_day(data_dir, data_sets.PYPI, DAY, [('flask', '0.12.2', '3.6', 'pip', 45)])
    write_day(data_dir, data_sets.GITHUB, DAY, [('pallets', 'flask', 10, 6, 3, 2)])
    reset_databases()
    query('CREATE ACCESS METHOD columnar TYPE TABLE HANDLER heap_tableam_handler')
    yield data_dir
    reset_databases()


def test_columnar_storage_is_detected_and_used(columnar_stand_in):
    result = run_etl(columnar_stand_in, **ENV)
    assert_succeeded(result)
    assert query("SELECT util.data_set_storage('auto'), util.data_set_storage('on')") == [('columnar', 'columnar')]
    assert [storages_of(table) for table in DATA_SETS] == [{'columnar'}] * 3
    assert storages_of('pypi_dim.download_counts') == {'heap'}  # facts stay heap: they take foreign keys
    for table in DATA_SETS:
        schema, name = table.split('.')
        assert f'{schema}_next.{name}: 1 day partitions, columnar storage' in output(result)
    assert query('SELECT "Repository", "Number of forks" FROM gh_dim.repo_activity_data_set') == [('flask', 10)]

    assert_succeeded(run_etl(columnar_stand_in, COLUMNAR_STORAGE='off', FULL_REBUILD='true', **ENV))
    assert [storages_of(table) for table in DATA_SETS] == [{'heap'}] * 3


def test_columnar_on_without_columnar_fails_the_run(databases, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp('columnar-on')
    write_day(data_dir, data_sets.PYPI, DAY, [('flask', '0.12.2', '3.6', 'pip', 45)])
    reset_databases()
    result = run_etl(data_dir, COLUMNAR_STORAGE='on', **ENV)
    assert result.returncode != 0
    assert 'COLUMNAR_STORAGE=on, but this server has no columnar storage' in output(result)


IMPLIED = 'partition constraint for table "{}" is implied by existing constraints'


@pytest.mark.parametrize('keep_the_check', [True, False])
def test_a_day_partition_is_attached_without_a_scan(standard_warehouse, keep_the_check):
    """util.create_day_partitions gives each partition its bound as a CHECK constraint, and PostgreSQL then
    skips the scan when util.publish_days attaches it (it says so at DEBUG1); without the constraint, it scans."""
    connection = connect(standard_warehouse.env['DWH_DB'])
    try:
        with connection.cursor() as cursor:
            cursor.execute('CREATE SCHEMA scan_demo; CREATE SCHEMA scan_demo_next')
            for schema in ('scan_demo', 'scan_demo_next'):
                cursor.execute(f'CREATE TABLE {schema}.facts (day_fk INTEGER NOT NULL, n INTEGER) '
                               'PARTITION BY LIST (day_fk)')
            cursor.execute("SELECT util.create_day_partitions('scan_demo_next', 'facts', ARRAY[20180410])")
            cursor.execute('INSERT INTO scan_demo_next.facts VALUES (20180410, 1)')
            if not keep_the_check:
                cursor.execute('ALTER TABLE scan_demo_next.facts_20180410 DROP CONSTRAINT day_20180410')
            cursor.execute('SET client_min_messages = debug1')
            cursor.execute("SELECT util.publish_days('scan_demo', 'scan_demo_next', '{}')")
            assert cursor.fetchone() == ('scan_demo: 1 day partition published, 0 days taken out',)
            cursor.execute('SELECT day_fk, n FROM scan_demo.facts')
            assert cursor.fetchall() == [(20180410, 1)]
        implied = [notice for notice in connection.notices if IMPLIED.format('facts_20180410') in notice]
        assert len(implied) == (1 if keep_the_check else 0), connection.notices
    finally:
        connection.rollback()
        connection.close()


def test_published_day_partitions_carry_their_bound(standard_warehouse):
    constraints = standard_warehouse.query("""
SELECT DISTINCT pg_get_constraintdef(pg_constraint.oid)
FROM pg_inherits JOIN pg_constraint ON conrelid = inhrelid
WHERE inhparent IN ('pypi_dim.download_counts'::REGCLASS, 'pypi_dim.download_counts_data_set'::REGCLASS)
  AND contype = 'c' AND conname = 'day_20180410'""")
    assert sorted(constraints) == [("CHECK ((\"Date\" = '2018-04-10'::date))",), ('CHECK ((day_fk = 20180410))',)]
