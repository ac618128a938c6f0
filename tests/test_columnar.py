"""Storage of the flat data sets: columnar when the server has it (COLUMNAR_STORAGE=auto), heap otherwise.

This server has no Citus: the heap path runs for real, the columnar DDL is checked as text, and the
detection is exercised with a stand-in table access method named `columnar` (a copy of heap)."""

import datetime

import psycopg2.errors
import pytest
from test_warehouse_support import (
    GITHUB,
    PYPI,
    assert_succeeded,
    generated_run_output,
    generated_warehouse,
    output,
    query,
    reset_databases,
    run_etl,
    write_file,
)

DATA_SETS = ['pypi_dim.download_counts_data_set', 'gh_dim.repo_activity_data_set',
             'pp_dim.python_project_activity_data_set']


def storage_of(table: str) -> str:
    """The storage of a data set table: of its partitions, when it is partitioned (by chunk of days)."""
    rows = query("""
SELECT DISTINCT amname FROM pg_class JOIN pg_am ON pg_am.oid = relam
WHERE pg_class.oid = %(table)s::REGCLASS
   OR pg_class.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = %(table)s::REGCLASS)""", {'table': table})
    assert len(rows) == 1, rows
    return rows[0][0]


def storage_lines(table: str) -> list[str]:
    """What the run output says about the storage of a data set table: per chunk, if chunked."""
    schema, name = table.split('.')
    if table == 'pp_dim.python_project_activity_data_set':
        return [f'{schema}_next.{name}:']
    return [f'{schema}_next.{name}_{chunk}:' for chunk in range(2)]


@pytest.fixture
def util_functions(databases, tmp_path):
    """The helper functions of schema util (the utils pipeline), in whatever state the databases are."""
    if not query("SELECT FROM pg_proc WHERE proname = 'data_set_table_ddl'"):
        assert_succeeded(run_etl(tmp_path, '--path', 'utils'))


@pytest.mark.parametrize('storage, ddl', [
    ('heap', 'CREATE TABLE pypi_dim_next.download_counts_data_set_0 (LIKE pypi_dim_next.download_counts_data_set, '
             'CHECK (util.get_chunk("Date", 2) = 0)) USING heap'),
    ('columnar', 'CREATE TABLE pypi_dim_next.download_counts_data_set_0 (LIKE pypi_dim_next.download_counts_data_set, '
                 'CHECK (util.get_chunk("Date", 2) = 0)) USING columnar'),
])
def test_data_set_ddl(util_functions, storage, ddl):
    assert query("SELECT util.data_set_table_ddl('pypi_dim_next', 'download_counts_data_set_0', "
                 "'LIKE pypi_dim_next.download_counts_data_set, CHECK (util.get_chunk(\"Date\", 2) = 0)', %s)",
                 (storage,)) == [(ddl,)]


def test_unknown_storage_is_refused(util_functions):
    with pytest.raises(psycopg2.errors.RaiseException, match='unknown storage cstore_fdw'):
        query("SELECT util.data_set_table_ddl('s', 't', 'a INTEGER', 'cstore_fdw')")


def test_data_set_ddl_quotes_identifiers(util_functions):
    assert query("SELECT util.data_set_table_ddl('My Schema', 'data set', 'a INTEGER', 'columnar')") \
        == [('CREATE TABLE "My Schema"."data set" (a INTEGER) USING columnar',)]


def test_storage_without_columnar_on_the_server(util_functions):
    assert query('SELECT util.has_columnar_storage()') == [(False,)]
    assert query("SELECT util.data_set_storage('auto'), util.data_set_storage('off')") == [('heap', 'heap')]
    with pytest.raises(psycopg2.errors.RaiseException, match='COLUMNAR_STORAGE=on, but this server has no columnar'):
        query("SELECT util.data_set_storage('on')")
    with pytest.raises(psycopg2.errors.RaiseException, match='use auto, on or off'):
        query("SELECT util.data_set_storage('sometimes')")


def test_heap_path_of_a_full_run(databases, tmp_path_factory):
    generated_warehouse(tmp_path_factory)
    assert [storage_of(table) for table in DATA_SETS] == ['heap'] * 3
    text = generated_run_output()
    for table in DATA_SETS:
        for line in storage_lines(table):
            assert f'{line} heap storage (COLUMNAR_STORAGE=auto)' in text


@pytest.fixture
def columnar_stand_in(databases, tmp_path_factory):
    """A fresh warehouse whose server seems to have columnar storage: a table access method named
    `columnar` that is really heap. One day of tiny files."""
    data_dir = tmp_path_factory.mktemp('columnar')
    day = datetime.date(2018, 4, 10)
    write_file(data_dir, day, PYPI, [('flask', '0.12.2', '3.6', 'pip', 45)])
    write_file(data_dir, day, GITHUB, [('pallets', 'flask', 10, 6, 3)])
    reset_databases()
    query('CREATE ACCESS METHOD columnar TYPE TABLE HANDLER heap_tableam_handler')
    yield data_dir
    reset_databases()


def test_columnar_storage_is_detected_and_used(columnar_stand_in):
    result = run_etl(columnar_stand_in)
    assert_succeeded(result)
    assert query("SELECT util.data_set_storage('auto'), util.data_set_storage('on')") == [('columnar', 'columnar')]
    assert [storage_of(table) for table in DATA_SETS] == ['columnar'] * 3
    for table in DATA_SETS:
        for line in storage_lines(table):
            assert f'{line} columnar storage (COLUMNAR_STORAGE=auto)' in output(result)
    assert query('SELECT "Repository", "Number of forks" FROM gh_dim.repo_activity_data_set') == [('flask', 10)]


def test_columnar_storage_can_be_switched_off(columnar_stand_in):
    assert_succeeded(run_etl(columnar_stand_in, COLUMNAR_STORAGE='off'))
    assert [storage_of(table) for table in DATA_SETS] == ['heap'] * 3


def test_columnar_on_without_columnar_fails_the_run(databases, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp('columnar-on')
    write_file(data_dir, datetime.date(2018, 4, 10), PYPI, [('flask', '0.12.2', '3.6', 'pip', 45)])
    reset_databases()
    result = run_etl(data_dir, COLUMNAR_STORAGE='on')
    assert result.returncode != 0
    assert 'COLUMNAR_STORAGE=on, but this server has no columnar storage' in output(result)
