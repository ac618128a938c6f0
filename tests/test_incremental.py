"""Incremental runs: only new (and changed) files are read, and the result equals a fresh full build."""

import datetime

import pytest
from test_warehouse_support import (
    GITHUB,
    PYPI,
    assert_succeeded,
    files_read_in_last_run,
    fingerprint,
    output,
    published_tables,
    query,
    relative_name,
    reset_databases,
    run_etl,
)

FIRST_DAY = datetime.date(2018, 4, 8)
ROWS = 800


def generate(data_dir, first_day, days):
    from app.sample_data import generate as generate_files
    generate_files(data_dir, first_day, days, ROWS, ROWS, seed=3)


def names(*days):
    return sorted(relative_name(day, kind) for day in days for kind in (PYPI, GITHUB))


@pytest.fixture(scope='module')
def incremental(databases, tmp_path_factory):
    """Two days, a full run, a run without new files, then a third day and a run."""
    data_dir = tmp_path_factory.mktemp('incremental')
    days = [FIRST_DAY + datetime.timedelta(days=n) for n in range(3)]
    generate(data_dir, days[0], 2)
    reset_databases()
    runs = {}
    for name in ('first', 'nothing_new'):
        result = run_etl(data_dir)
        assert_succeeded(result)
        runs[name] = (files_read_in_last_run(), output(result), fingerprint())
    generate(data_dir, days[2], 1)
    result = run_etl(data_dir)
    assert_succeeded(result)
    runs['one_more_day'] = (files_read_in_last_run(), output(result), fingerprint())
    return data_dir, days, runs


def test_first_run_reads_all_files(incremental):
    _, days, runs = incremental
    assert runs['first'][0] == names(days[0], days[1])


def test_second_run_without_new_files_reads_nothing(incremental):
    _, _, runs = incremental
    files, text, result = runs['nothing_new']
    assert files == []
    assert text.count('No newer files') == 2  # pypi and github
    assert result == runs['first'][2]


def test_adding_a_day_reads_exactly_that_days_files(incremental):
    _, days, runs = incremental
    assert runs['one_more_day'][0] == names(days[2])
    rows = query('SELECT array_agg(DISTINCT day_fk ORDER BY day_fk) FROM pp_dim.python_project_activity')
    assert rows == [([int(f'{day:%Y%m%d}') for day in days],)]


def test_incremental_result_equals_a_fresh_full_build(incremental):
    data_dir, days, runs = incremental
    incremental_result = runs['one_more_day'][2]
    assert all(count > 0 for count, _ in incremental_result.values())
    # every published table is compared
    assert published_tables() == set(incremental_result)

    reset_databases()
    result = run_etl(data_dir)
    assert_succeeded(result)
    assert files_read_in_last_run() == names(*days)
    assert fingerprint() == incremental_result
