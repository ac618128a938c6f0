"""The `pypi` pipeline against generated files: pypi_dim reconciles exactly with the CSVs."""

import collections

import pytest

from app import data_sets

# Correctness of the warehouse: `make test` runs these on heap, on one Citus node and on Citus workers.
pytestmark = pytest.mark.warehouse


@pytest.fixture(scope='module')
def csv_rows(standard_warehouse) -> list[dict]:
    return standard_warehouse.file_rows(data_sets.PYPI)


@pytest.fixture
def query(standard_warehouse):
    return standard_warehouse.query


def test_every_file_row_is_one_fact(csv_rows, query):
    facts = query("""
SELECT day_fk, project_name, project_version_name, python_version_name, installer_name, number_of_downloads
FROM pypi_dim.download_counts
  JOIN pypi_dim.project_version ON project_version_id = project_version_fk
  JOIN pypi_dim.project ON project_id = project_fk
  JOIN pypi_dim.python_version ON python_version_id = python_version_fk
  JOIN pypi_dim.installer ON installer_id = installer_fk""")
    expected = [(int(r['day_id']), r['project'], r['project_version'], r['python_version'] or 'Unknown',
                 r['installer'] or 'Unknown', int(r['number_of_downloads'])) for r in csv_rows]
    assert collections.Counter(facts) == collections.Counter(expected)


def test_downloads_per_day_and_project(csv_rows, query):
    expected = collections.Counter()
    for r in csv_rows:
        expected[(int(r['day_id']), r['project'])] += int(r['number_of_downloads'])
    from_facts = dict(((day, project), int(total)) for day, project, total in query("""
SELECT day_fk, project_name, sum(number_of_downloads)
FROM pypi_dim.download_counts
  JOIN pypi_dim.project_version ON project_version_id = project_version_fk
  JOIN pypi_dim.project ON project_id = project_fk
GROUP BY 1, 2"""))
    from_daily = dict(((day, project), int(total)) for day, project, total in query("""
SELECT day_fk, project_name, number_of_downloads
FROM pypi_dim.daily_project_downloads JOIN pypi_dim.project ON project_id = project_fk"""))
    assert from_facts == dict(expected)
    assert from_daily == dict(expected)


def test_distinct_members_match_the_files(csv_rows, query):
    projects = {r['project'] for r in csv_rows}
    versions = {(r['project'], r['project_version']) for r in csv_rows}
    installers = {r['installer'] for r in csv_rows if r['installer']}
    pythons = {r['python_version'] for r in csv_rows if r['python_version']}
    assert set(query('SELECT project_name FROM pypi_dim.project WHERE project_id <> -1')) == {(p,) for p in projects}
    assert set(query("""
SELECT project_name, project_version_name FROM pypi_dim.project_version JOIN pypi_dim.project ON project_id = project_fk
WHERE project_version_id <> -1""")) == versions
    assert {row[0] for row in query('SELECT installer_name FROM pypi_dim.installer WHERE installer_id <> -1')} \
        == installers
    assert {row[0] for row in query(
        'SELECT python_version_name FROM pypi_dim.python_version WHERE python_version_id <> -1')} == pythons


@pytest.mark.parametrize('table, key', [('project', 'project_id'), ('project_version', 'project_version_id'),
                                        ('installer', 'installer_id'), ('python_version', 'python_version_id')])
def test_dimension_keys_are_unique_and_have_an_unknown_member(query, table, key):
    assert query(f'SELECT count(*) = count(DISTINCT {key}) FROM pypi_dim.{table}') == [(True,)]
    assert query(f'SELECT count(*) FROM pypi_dim.{table} WHERE {key} = -1') == [(1,)]
    primary_key = query("""
SELECT array_agg(attname) FROM pg_constraint JOIN pg_attribute ON attrelid = conrelid AND attnum = ANY (conkey)
WHERE conrelid = %s::REGCLASS AND contype = 'p'""", (f'pypi_dim.{table}',))
    assert primary_key == [([key],)]


def test_no_fact_points_to_a_missing_dimension_row(query):
    assert query("""
SELECT count(*) FROM pypi_dim.download_counts
WHERE day_fk NOT IN (SELECT day_id FROM time.day)
   OR project_version_fk NOT IN (SELECT project_version_id FROM pypi_dim.project_version)
   OR installer_fk NOT IN (SELECT installer_id FROM pypi_dim.installer)
   OR python_version_fk NOT IN (SELECT python_version_id FROM pypi_dim.python_version)""") == [(0,)]
    assert query("""
SELECT count(*) FROM pypi_dim.project_version WHERE project_fk NOT IN (SELECT project_id FROM pypi_dim.project)""") \
        == [(0,)]


def test_all_foreign_keys_are_declared_and_validated(query):
    foreign_keys = set(query("""
SELECT conrelid::REGCLASS::TEXT, attname, confrelid::REGCLASS::TEXT, convalidated
FROM pg_constraint JOIN pg_attribute ON attrelid = conrelid AND attnum = conkey[1]
  JOIN pg_class ON pg_class.oid = conrelid  -- Citus hides its shards from pg_class (not from pg_constraint)
WHERE contype = 'f' AND conparentid = 0 AND connamespace = 'pypi_dim'::REGNAMESPACE"""))
    assert foreign_keys == {
        ('pypi_dim.download_counts', 'day_fk', '"time".day', True),
        ('pypi_dim.download_counts', 'project_version_fk', 'pypi_dim.project_version', True),
        ('pypi_dim.download_counts', 'installer_fk', 'pypi_dim.installer', True),
        ('pypi_dim.download_counts', 'python_version_fk', 'pypi_dim.python_version', True),
        ('pypi_dim.project_version', 'project_fk', 'pypi_dim.project', True),
        ('pypi_dim.daily_project_downloads', 'day_fk', '"time".day', True),
        ('pypi_dim.daily_project_downloads', 'project_fk', 'pypi_dim.project', True)}


def test_accepted_values(query):
    assert query('SELECT min(number_of_downloads) > 0, bool_and(number_of_downloads IS NOT NULL) '
                 'FROM pypi_dim.download_counts') == [(True, True)]
    assert query("SELECT count(*) FROM pypi_dim.project WHERE project_name = ''") == [(0,)]
    assert query("""
SELECT min(day_fk) >= 20180401 AND max(day_fk) <= 20180410 FROM pypi_dim.download_counts""") == [(True,)]


def test_flat_data_set_has_readable_columns_and_every_row(csv_rows, query):
    columns = [row[0] for row in query("""
SELECT attname FROM pg_attribute
WHERE attrelid = 'pypi_dim.download_counts_data_set'::REGCLASS AND attnum > 0 ORDER BY attnum""")]
    assert columns == ['Date', 'Project', 'Project version', 'Python version', 'Installer', 'Number of downloads']
    rows = query('SELECT to_char("Date", \'YYYYMMDD\')::INTEGER, "Project", "Project version", "Python version", '
                 '"Installer", "Number of downloads" FROM pypi_dim.download_counts_data_set')
    expected = [(int(r['day_id']), r['project'], r['project_version'], r['python_version'] or 'Unknown',
                 r['installer'] or 'Unknown', int(r['number_of_downloads'])) for r in csv_rows]
    assert collections.Counter(rows) == collections.Counter(expected)


# Distinct versions of flask downloaded in a month: one query over the daily sketches (docs/warehouse.md).
MONTH_QUERY = """
SELECT year_and_month_name, project_name,
       hll_cardinality(hll_union_agg(distinct_versions_sketch))::INTEGER AS distinct_versions_downloaded
FROM pypi_dim.daily_project_downloads
  JOIN pypi_dim.project ON project_id = project_fk
  JOIN time.day ON day_fk = day_id
WHERE project_name = 'flask'
GROUP BY year_and_month_name, project_name"""


def test_hll_sketch_rolls_up_distinct_versions_to_the_month(csv_rows, query):
    flask_versions = {r['project_version'] for r in csv_rows if r['project'] == 'flask'}
    per_day = collections.defaultdict(set)
    for r in csv_rows:
        if r['project'] == 'flask':
            per_day[r['day_id']].add(r['project_version'])
    # the sketches count exactly up to 160 distinct values (explicit representation)
    assert 10 < len(flask_versions) <= 160
    assert query(MONTH_QUERY) == [('2018 April', 'flask', len(flask_versions))]
    # not additive: the sum of the daily distinct counts is larger than the month's
    assert sum(len(versions) for versions in per_day.values()) > len(flask_versions)


# hll's explicit representation counts exactly up to this many distinct values (log2m 11, regwidth 5); beyond,
# the estimate is within a few per cent.
EXACT_UP_TO = 160


def test_sketches_match_exact_distinct_counts(csv_rows, query):
    exact = collections.defaultdict(set)
    for r in csv_rows:
        exact[r['project']].add(r['project_version'])
    estimated = dict(query("""
SELECT project_name, hll_cardinality(hll_union_agg(distinct_versions_sketch))::INTEGER
FROM pypi_dim.daily_project_downloads JOIN pypi_dim.project ON project_id = project_fk
GROUP BY project_name"""))
    assert estimated.keys() == exact.keys()
    small = {project for project, versions in exact.items() if len(versions) <= EXACT_UP_TO}
    assert {project: estimated[project] for project in small} == {project: len(exact[project]) for project in small}
    for project in exact.keys() - small:
        assert abs(estimated[project] - len(exact[project])) <= 0.05 * len(exact[project]), project
    assert len(small) > 100 and exact.keys() - small


def test_no_temporary_schemas_are_left(query):
    assert query("SELECT nspname FROM pg_namespace WHERE nspname LIKE '%\\_next' ORDER BY 1") == []
