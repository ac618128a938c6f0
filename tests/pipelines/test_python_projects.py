"""The `python_projects` pipeline: pp_dim reconciles with the CSVs, and the README's example query
answers with the README's numbers."""

import collections
import datetime

import pytest

from app import data_sets
from tests.support.db import query, reset_databases
from tests.support.readme import README_FLASK_GITHUB_ROWS, README_QUERY, README_ROWS
from tests.support.warehouse import assert_succeeded, run_etl, write_day

# Correctness of the warehouse: `make test` runs these on heap, on one Citus node and on Citus workers.
pytestmark = pytest.mark.warehouse

PYPI, GITHUB = 'pypi', 'github'
METRICS = ['number_of_forks', 'number_of_commits', 'number_of_closed_pull_requests']
FLASK_DAY = datetime.date(2018, 4, 10)


@pytest.fixture(scope='module')
def csv_rows(standard_warehouse) -> dict[str, list[dict]]:
    return {name: standard_warehouse.file_rows(data_sets.DATA_SETS[name]) for name in (PYPI, GITHUB)}


@pytest.fixture
def warehouse(standard_warehouse):
    return standard_warehouse.query


def test_readme_query_answers_with_the_readme_numbers(warehouse):
    assert warehouse(README_QUERY) == README_ROWS


def test_one_row_per_project_and_day_with_all_its_downloads(csv_rows, warehouse):
    expected = collections.Counter()
    for r in csv_rows[PYPI]:
        expected[(int(r['day_id']), r['project'])] += int(r['number_of_downloads'])
    actual = {(day, project): int(downloads) for day, project, downloads in warehouse("""
SELECT day_fk, project_name, number_of_downloads
FROM pp_dim.python_project_activity JOIN pypi_dim.project ON project_id = project_fk""")}
    assert actual == dict(expected)
    assert warehouse('SELECT count(*) = count(DISTINCT (day_fk, project_fk)) FROM pp_dim.python_project_activity') \
        == [(True,)]


@pytest.mark.parametrize('metric', METRICS)
def test_github_metrics_are_sums_over_all_repositories_named_like_the_project(csv_rows, warehouse, metric):
    projects = {r['project'] for r in csv_rows[PYPI]}
    days_with_downloads = {(int(r['day_id']), r['project']) for r in csv_rows[PYPI]}
    sums = {}
    for r in csv_rows[GITHUB]:
        key = (int(r['day_id']), r['repository'])
        if r['repository'] in projects and key in days_with_downloads:
            value = r[metric]
            sums[key] = (sums.get(key) or 0) + int(value) if value is not None else sums.get(key)
    expected = {key: sums.get(key) for key in days_with_downloads}
    actual = {(day, project): value for day, project, value in warehouse(f"""
SELECT day_fk, project_name, {metric}
FROM pp_dim.python_project_activity JOIN pypi_dim.project ON project_id = project_fk""")}
    assert actual == expected
    # enough matches that the comparison means something
    assert sum(value is not None for value in actual.values()) > 50


def test_foreign_keys_and_flat_data_set(warehouse):
    assert set(warehouse("""
SELECT attname, confrelid::REGCLASS::TEXT, convalidated
FROM pg_constraint JOIN pg_attribute ON attrelid = conrelid AND attnum = conkey[1]
WHERE contype = 'f' AND conrelid = 'pp_dim.python_project_activity'::REGCLASS""")) == {
        ('day_fk', '"time".day', True), ('project_fk', 'pypi_dim.project', True)}
    assert warehouse("""
SELECT "Date", "Project", "Number of downloads", "Number of forks", "Number of commits",
       "Number of closed pull requests"
FROM pp_dim.python_project_activity_data_set WHERE "Project" = 'flask' ORDER BY "Date" DESC""") == README_ROWS


@pytest.fixture(scope='module')
def readme_flask_day(databases, tmp_path_factory):
    """A warehouse from hand-written files of 2018-04-10: the README's six GitHub rows of repositories
    named flask, and projects with and without repositories of their name."""
    data_dir = tmp_path_factory.mktemp('readme-flask-day')
    write_day(data_dir, data_sets.PYPI, FLASK_DAY, [
        ('flask', '0.1', None, 'bandersnatch', 1),
        ('flask', '0.10', '2.6', 'pip', 1),
        ('flask', '0.12.2', '3.6', 'pip', 45102),
        ('requests', '2.18.4', '3.6', 'pip', 500),
        ('django', '2.0.4', '3.6', 'pip', 70)])
    write_day(data_dir, data_sets.GITHUB, FLASK_DAY, [
        *((user, 'flask', forks, commits, closed) for user, forks, commits, closed in README_FLASK_GITHUB_ROWS),
        ('psf', 'requests', None, 4, None),
        ('someone', 'requests', 2, None, None),
        ('someone', 'flask-login', 3, 3, 3),  # not named like a project
        ('djangoproject', 'djangox', 9, 9, 9)], version=1)  # neither
    reset_databases()
    assert_succeeded(run_etl(data_dir, FIRST_DATE='2018-04-01', LAST_DATE='2018-04-30'))
    return data_dir


def test_readme_flask_day_from_its_six_github_rows(readme_flask_day):
    assert query(README_QUERY) == [(FLASK_DAY, 'flask', 45104, 11, 67, 3)]


def test_metrics_are_null_without_such_activity_or_repository(readme_flask_day):
    rows = query("""
SELECT project_name, number_of_downloads, number_of_forks, number_of_commits, number_of_closed_pull_requests
FROM pp_dim.python_project_activity JOIN pypi_dim.project ON project_id = project_fk ORDER BY 1""")
    assert rows == [('django', 70, None, None, None), ('flask', 45104, 11, 67, 3), ('requests', 500, 2, 4, None)]


def test_the_cross_schema_keys_survive_every_pipeline_run_alone(readme_flask_day):
    """pp_dim references pypi_dim.project and time.day from other schemas: neither an incremental nor a full
    build of pypi or utils alone takes those keys away."""
    def pp_foreign_keys():
        return sorted(query("""
SELECT confrelid::REGCLASS::TEXT FROM pg_constraint
WHERE contype = 'f' AND conrelid = 'pp_dim.python_project_activity'::REGCLASS"""))

    dates = {'FIRST_DATE': '2018-04-01', 'LAST_DATE': '2018-04-30'}
    assert pp_foreign_keys() == [('"time".day',), ('pypi_dim.project',)]
    for args, env in ((['--path', 'pypi'], {}), (['--path', 'pypi'], {'FULL_REBUILD': 'true'}),
                      (['--path', 'utils'], {})):
        assert_succeeded(run_etl(readme_flask_day, *args, **dates, **env))
        assert pp_foreign_keys() == [('"time".day',), ('pypi_dim.project',)], (args, env)
        assert query(README_QUERY) == [(FLASK_DAY, 'flask', 45104, 11, 67, 3)]
