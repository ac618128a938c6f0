"""Helpers of the warehouse tests: day files written through the data-set contract, runs of the ETL, warehouses
built from sample data in databases of their own, and the state of a whole warehouse, to compare an incremental
build with a from-scratch build of the same files and with sums computed from the files alone."""

import collections
import contextlib
import dataclasses
import datetime
import pathlib
import subprocess

from app import data_sets
from tests.support import commands
from tests.support.db import connect, databases_of_their_own, query

PUBLISHED_SCHEMAS = ('time', 'pypi_dim', 'gh_dim', 'pp_dim')
# What the published schemas are built from, the record of the published days, and the gates' results.
STATE_SCHEMAS = (*PUBLISHED_SCHEMAS, 'pypi_data', 'github_data', 'pp_data', 'data_quality')
# Columns that say when something happened, not what: they differ between two builds of the same files.
WHEN_COLUMNS = {'published_at', 'checked_at'}


def day_id(day: datetime.date) -> int:
    return int(day.strftime('%Y%m%d'))


# ---------------------------------------------------------------- files

def write_day(data_dir: pathlib.Path, data_set: data_sets.DataSet, day: datetime.date, rows: list[tuple],
              version: int | None = None) -> pathlib.Path:
    """Writes the file of a day from rows without their day_id (the day's is put in front), in the column order
    of the file version (default: the newest)."""
    file_version = next(v for v in data_set.versions if v.version == version) if version else data_set.latest
    path = data_set.path(data_dir, day, file_version)
    data_sets.write_file(path, file_version, [(day_id(day), *row) for row in rows])
    return path


def newest_day_file(data_dir: pathlib.Path, data_set: data_sets.DataSet, day: datetime.date) -> pathlib.Path | None:
    """The file of the day that the pipelines read: of the newest version there is, or None."""
    files = [data_set.path(data_dir, day, version) for version in reversed(data_set.versions)]
    return next((path for path in files if path.exists()), None)


def read_day_files(data_dir: pathlib.Path, data_set: data_sets.DataSet, first: datetime.date,
                   last: datetime.date) -> list[dict]:
    """The rows of the files that the pipelines read: per day within first..last, the newest version."""
    rows = []
    for day_folder in sorted(pathlib.Path(data_dir).glob(f'*/*/*/{data_set.name}')):
        day = datetime.date(*map(int, day_folder.relative_to(data_dir).parts[:3]))
        newest = newest_day_file(data_dir, data_set, day)
        if newest and first <= day <= last:
            rows.extend(data_sets.read_rows(newest))
    return rows


def sums(rows: list[dict], key, value: str) -> dict:
    """{key(row): sum of the values}, where a key whose values are all empty maps to None."""
    result = {}
    for row in rows:
        k = key(row)
        if row[value] is not None:
            result[k] = (result.get(k) or 0) + int(row[value])
        else:
            result.setdefault(k, None)
    return result


# ---------------------------------------------------------------- runs

def run_etl(data_dir: pathlib.Path, *args: str, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
    """`flask mara-pipelines run ARGS` on the files in `data_dir`, with this session's databases (or `DWH_DB`)."""
    return commands.flask('mara-pipelines', 'run', '--disable-colors', *args, timeout=timeout,
                          env=dict(env, DATA_DIR=str(data_dir)))


def start_etl(data_dir: pathlib.Path, *args: str, stderr=subprocess.PIPE, start_new_session: bool = False,
              **env: str) -> subprocess.Popen:
    """`run_etl` in the background; `finish(process)` waits for it."""
    return commands.start_flask('mara-pipelines', 'run', '--disable-colors', *args,
                                env=dict(env, DATA_DIR=str(data_dir)), stderr=stderr,
                                start_new_session=start_new_session)


def finish(process: subprocess.Popen, timeout: float = 600) -> subprocess.CompletedProcess:
    stdout, stderr = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def assert_succeeded(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, output(result)[-6000:]


# ---------------------------------------------------------------- warehouses built from sample data

@dataclasses.dataclass(frozen=True)
class Warehouse:
    """A warehouse built from generated sample data, in databases of its own."""
    data_dir: pathlib.Path
    env: dict  # DWH_DB and MARA_DB of its databases
    first_day: datetime.date
    last_day: datetime.date
    output: str  # of the run that built it
    run_id: int  # of that run, in its mara database

    def query(self, sql: str, params=None) -> list[tuple]:
        return query(sql, params, database=self.env['DWH_DB'])

    def mara_query(self, sql: str, params=None) -> list[tuple]:
        return query(sql, params, database=self.env['MARA_DB'])

    def file_rows(self, data_set: data_sets.DataSet) -> list[dict]:
        """The rows of the data set's files that the warehouse was built from."""
        return read_day_files(self.data_dir, data_set, self.first_day, self.last_day)

    @property
    def settings(self) -> dict:
        """The settings that point a command or a server at this warehouse: its databases and files."""
        return dict(self.env, DATA_DIR=str(self.data_dir))


@contextlib.contextmanager
def built_from_sample(name: str, data_dir: pathlib.Path, *generate_options: str):
    """Generates sample data into `data_dir` (`flask sample-data generate` with the options: by default the sample
    that `make` generates on a fresh clone) and builds a warehouse from it with one run of the root pipeline, in
    databases of its own (`<name>_dwh`, `<name>_mara`). Yields the `Warehouse`; drops its databases at the end."""
    generated = commands.flask('sample-data', 'generate', '--data-dir', str(data_dir), *generate_options, timeout=300)
    assert generated.returncode == 0, output(generated)
    days = sorted(datetime.date(*map(int, path.relative_to(data_dir).parts[:3]))
                  for path in data_dir.glob('*/*/*') if path.is_dir())
    assert days, output(generated)
    with databases_of_their_own(name) as env:
        result = run_etl(data_dir, **env)
        assert_succeeded(result)
        (run_id,), = query('SELECT max(run_id) FROM data_integration_run', database=env['MARA_DB'])
        yield Warehouse(data_dir, env, days[0], days[-1], output(result), run_id)


# ---------------------------------------------------------------- the state of a warehouse

def tables(database: str | None = None, schemas=STATE_SCHEMAS) -> list[str]:
    """The tables of the schemas (partitioned tables without their partitions)."""
    return [row[0] for row in query("""
SELECT format('%%I.%%I', nspname, relname) FROM pg_class JOIN pg_namespace ON pg_namespace.oid = relnamespace
WHERE nspname = ANY (%s) AND relkind IN ('r', 'p') AND NOT relispartition ORDER BY 1""", (list(schemas),),
                                    database=database)]


def state(database: str | None = None, schemas=STATE_SCHEMAS) -> dict[str, object]:
    """Everything that two builds of the same files must have in common: the rows of every table (count and
    hash; hll sketches by their cardinality), the day partitions of every partitioned table, and the
    constraints, with names and definitions."""
    result = {}
    connection = connect(database)
    try:
        with connection, connection.cursor() as cursor:
            def one(sql: str, params=None):
                cursor.execute(sql, params)
                return cursor.fetchone()

            cursor.execute("""
SELECT format('%I.%I', nspname, relname) FROM pg_class JOIN pg_namespace ON pg_namespace.oid = relnamespace
WHERE nspname = ANY (%s) AND relkind IN ('r', 'p') AND NOT relispartition ORDER BY 1""".replace('%I', '%%I'),
                           (list(schemas),))
            for (table,) in cursor.fetchall():
                columns = one("""
SELECT string_agg(CASE WHEN format_type(atttypid, atttypmod) = 'hll' THEN format('hll_cardinality(%%I)', attname)
                       ELSE format('%%I', attname) END, ', ' ORDER BY attnum)
FROM pg_attribute WHERE attrelid = %s::REGCLASS AND attnum > 0 AND NOT attisdropped AND NOT attname = ANY (%s)""",
                              (table, list(WHEN_COLUMNS)))[0]
                result[table] = one(f"""
SELECT count(*), md5(coalesce(string_agg(line, E'\\n' ORDER BY line), ''))
FROM (SELECT ROW({columns})::TEXT AS line FROM {table}) AS lines""")
                result[f'{table} partitions'] = one("""
SELECT array_agg(pg_get_expr(relpartbound, inhrelid) ORDER BY pg_get_expr(relpartbound, inhrelid))
FROM pg_inherits JOIN pg_class ON oid = inhrelid WHERE inhparent = %s::REGCLASS""", (table,))[0]
                result[f'{table} constraints'] = one("""
SELECT array_agg(conname || ': ' || pg_get_constraintdef(oid) ORDER BY conname) FROM pg_constraint
WHERE conrelid = %s::REGCLASS""", (table,))[0]
    finally:
        connection.close()
    return result


def differences(a: dict, b: dict) -> dict:
    """The entries in which two states differ (for readable assertion messages)."""
    return {key: (a.get(key), b.get(key)) for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)}


def from_scratch(data_dir: pathlib.Path, name: str, **env: str) -> dict:
    """The state of a warehouse built from nothing out of the files in `data_dir`, in databases of its own."""
    with databases_of_their_own(name) as databases:
        assert_succeeded(run_etl(data_dir, **env, **databases))
        return state(databases['DWH_DB'])


# ---------------------------------------------------------------- the numbers, computed from the files alone

def expected_numbers(data_dir: pathlib.Path, first: datetime.date, last: datetime.date) -> dict:
    """What the warehouse must say, computed from the CSV files without the database: downloads per day and
    project, GitHub metrics per day, and pp_dim's rows (project, day: downloads and the metrics of the
    repositories named like the project)."""
    pypi = read_day_files(data_dir, data_sets.PYPI, first, last)
    github = read_day_files(data_dir, data_sets.GITHUB, first, last)
    downloads = sums(pypi, lambda row: (int(row['day_id']), row['project'] or 'Unknown'), 'number_of_downloads')
    metrics = {metric: sums(github, lambda row: int(row['day_id']), metric)
               for metric in ('number_of_forks', 'number_of_commits', 'number_of_closed_pull_requests')}
    by_name = collections.defaultdict(list)
    for row in github:
        by_name[(int(row['day_id']), row['repository'])].append(row)
    activity = {}
    for (day, project), number in downloads.items():
        repositories = by_name.get((day, project), []) if project != 'Unknown' else []
        activity[(day, project)] = (number, *(sums(repositories, lambda _row: 0, metric).get(0) for metric in
                                              ('number_of_forks', 'number_of_commits',
                                               'number_of_closed_pull_requests')))
    return {'downloads': downloads, 'metrics': metrics, 'activity': activity}


def warehouse_numbers(database: str | None = None) -> dict:
    """The same numbers, read from the published star schemas."""
    downloads = dict(((day, project), int(total)) for day, project, total in query("""
SELECT day_fk, project_name, sum(number_of_downloads) FROM pypi_dim.download_counts
  JOIN pypi_dim.project_version ON project_version_id = project_version_fk
  JOIN pypi_dim.project ON project_id = project_fk
GROUP BY 1, 2""", database=database))
    metrics = {}
    for metric in ('number_of_forks', 'number_of_commits', 'number_of_closed_pull_requests'):
        metrics[metric] = {day: None if total is None else int(total) for day, total in query(
            f'SELECT day_fk, sum({metric}) FROM gh_dim.repo_activity GROUP BY 1', database=database)}
    activity = {(day, project): tuple(None if value is None else int(value) for value in values)
                for day, project, *values in query("""
SELECT day_fk, project_name, number_of_downloads, number_of_forks, number_of_commits, number_of_closed_pull_requests
FROM pp_dim.python_project_activity JOIN pypi_dim.project ON project_id = project_fk""", database=database)}
    return {'downloads': downloads, 'metrics': metrics, 'activity': activity}
