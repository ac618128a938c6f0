"""The `github` pipeline against generated files: gh_dim reconciles exactly with the CSVs."""

import collections

import pytest

from app import data_sets

# Correctness of the warehouse: `make test` runs these on heap, on one Citus node and on Citus workers.
pytestmark = pytest.mark.warehouse


@pytest.fixture(scope='module')
def csv_rows(standard_warehouse) -> list[dict]:
    return standard_warehouse.file_rows(data_sets.GITHUB)


@pytest.fixture
def query(standard_warehouse):
    return standard_warehouse.query

METRICS = ['number_of_forks', 'number_of_commits', 'number_of_closed_pull_requests']


def optional_int(value):
    return None if value is None else int(value)


def test_every_file_row_is_one_fact(csv_rows, query):
    facts = query("""
SELECT day_fk, user_name, repo_name, number_of_forks, number_of_commits, number_of_closed_pull_requests
FROM gh_dim.repo_activity JOIN gh_dim.repo ON repo_id = repo_fk""")
    expected = [(int(r['day_id']), r['user'], r['repository'], *(optional_int(r[m]) for m in METRICS))
                for r in csv_rows]
    assert collections.Counter(facts) == collections.Counter(expected)


@pytest.mark.parametrize('metric', METRICS)
def test_metric_sums_per_day_match_the_files(csv_rows, query, metric):
    expected = collections.Counter()
    for r in csv_rows:
        expected[int(r['day_id'])] += int(r[metric] or 0)
    assert dict(query(f'SELECT day_fk, sum({metric}) FROM gh_dim.repo_activity GROUP BY 1')) == dict(expected)


def test_distinct_repositories_match_the_files(csv_rows, query):
    repositories = {(r['user'], r['repository']) for r in csv_rows}
    assert set(query('SELECT user_name, repo_name FROM gh_dim.repo WHERE repo_id <> -1')) == repositories
    assert query('SELECT count(*) - 1 FROM gh_dim.repo') == [(len(repositories),)]


def test_repo_key_is_unique_with_an_unknown_member(query):
    assert query('SELECT count(*) = count(DISTINCT repo_id) FROM gh_dim.repo') == [(True,)]
    assert query('SELECT repo_name, user_name FROM gh_dim.repo WHERE repo_id = -1') == [('Unknown', 'Unknown')]
    assert query("""
SELECT count(*) FROM pg_constraint WHERE conrelid = 'gh_dim.repo'::REGCLASS AND contype = 'p'""") == [(1,)]


def test_no_fact_points_to_a_missing_dimension_row(query):
    assert query("""
SELECT count(*) FROM gh_dim.repo_activity
WHERE day_fk NOT IN (SELECT day_id FROM time.day) OR repo_fk NOT IN (SELECT repo_id FROM gh_dim.repo)""") == [(0,)]


def test_all_foreign_keys_are_declared_and_validated(query):
    foreign_keys = set(query("""
SELECT conrelid::REGCLASS::TEXT, attname, confrelid::REGCLASS::TEXT, convalidated
FROM pg_constraint JOIN pg_attribute ON attrelid = conrelid AND attnum = conkey[1]
WHERE contype = 'f' AND conparentid = 0 AND connamespace = 'gh_dim'::REGNAMESPACE"""))
    assert foreign_keys == {('gh_dim.repo_activity', 'day_fk', '"time".day', True),
                            ('gh_dim.repo_activity', 'repo_fk', 'gh_dim.repo', True)}


def test_accepted_values(query):
    # a NULL metric means no activity: never 0, never negative
    for metric in METRICS:
        assert query(f'SELECT count(*) FROM gh_dim.repo_activity WHERE {metric} <= 0') == [(0,)]
    assert query('SELECT count(*) FROM gh_dim.repo_activity WHERE num_nulls(number_of_forks, number_of_commits, '
                 'number_of_closed_pull_requests) = 3') == [(0,)]
    assert query("SELECT count(*) FROM gh_dim.repo WHERE repo_name = '' OR user_name = ''") == [(0,)]


def test_flat_data_set_has_readable_columns_and_every_row(csv_rows, query):
    columns = [row[0] for row in query("""
SELECT attname FROM pg_attribute
WHERE attrelid = 'gh_dim.repo_activity_data_set'::REGCLASS AND attnum > 0 ORDER BY attnum""")]
    assert columns == ['Date', 'User', 'Repository', 'Number of forks', 'Number of commits',
                       'Number of closed pull requests', 'Number of pushes']
    rows = query('SELECT to_char("Date", \'YYYYMMDD\')::INTEGER, "User", "Repository", "Number of forks", '
                 '"Number of commits", "Number of closed pull requests" FROM gh_dim.repo_activity_data_set')
    expected = [(int(r['day_id']), r['user'], r['repository'], *(optional_int(r[m]) for m in METRICS))
                for r in csv_rows]
    assert collections.Counter(rows) == collections.Counter(expected)
