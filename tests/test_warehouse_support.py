"""Helpers of the warehouse tests (test_pypi, test_github, test_python_projects, test_incremental,
test_bad_input, test_columnar): writing per-day files, running the ETL, reading the CSVs back and
fingerprinting the warehouse. Holds no tests itself."""

import collections
import csv
import datetime
import gzip
import io
import os
import pathlib
import subprocess

import mara_db.dbs

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent

PYPI = 'pypi'
GITHUB = 'github'
FILES = {PYPI: 'pypi/downloads-v1.csv.gz', GITHUB: 'github/repo-activity-v1.csv.gz'}
HEADERS = {PYPI: ['day_id', 'project', 'project_version', 'python_version', 'installer', 'number_of_downloads'],
           GITHUB: ['day_id', 'user', 'repository', 'number_of_forks', 'number_of_commits',
                    'number_of_closed_pull_requests']}

# The example query of the original README, verbatim.
README_QUERY = """SELECT
  _date, project_name, number_of_downloads, number_of_forks,
  number_of_commits, number_of_closed_pull_requests
FROM pp_dim.python_project_activity
  JOIN pypi_dim.project ON project_id = project_fk
  JOIN time.day ON day_fk = day_id
WHERE project_name = 'flask'
ORDER BY day_fk DESC
LIMIT 10;"""

# Its output in the README.
README_ROWS = [
    (datetime.date(2018, 4, 10), 'flask', 45104, 11, 67, 3),
    (datetime.date(2018, 4, 9), 'flask', 57177, 13, 45, 4),
    (datetime.date(2018, 4, 8), 'flask', 70392, 13, 7, None),
    (datetime.date(2018, 4, 7), 'flask', 65060, 10, 7, None),
    (datetime.date(2018, 4, 6), 'flask', 70779, 7, 11, 2),
    (datetime.date(2018, 4, 5), 'flask', 62215, 6, 22, None),
    (datetime.date(2018, 4, 4), 'flask', 33116, 11, 23, None),
    (datetime.date(2018, 4, 3), 'flask', 39248, 15, 27, None),
    (datetime.date(2018, 4, 2), 'flask', 54517, 14, 17, None),
    (datetime.date(2018, 4, 1), 'flask', 68685, 4, 6, None),
]

# The README's GitHub rows of repositories named flask on 2018-04-10 (user, forks, commits, closed PRs).
README_FLASK_GITHUB_ROWS = [('liks79', 1, None, None), ('dengyifan', None, 1, None), ('xeriok18600', None, 1, None),
                            ('manhhomienbienthuy', None, 10, None), ('davidism', None, 49, None),
                            ('pallets', 10, 6, 3)]


# ---------------------------------------------------------------- files

def file_path(data_dir: pathlib.Path, day: datetime.date, kind: str) -> pathlib.Path:
    return data_dir / f'{day:%Y/%m/%d}' / FILES[kind]


def relative_name(day: datetime.date, kind: str) -> str:
    """The file name as mara logs it and records it as read: relative to DATA_DIR."""
    return f'{day:%Y/%m/%d}/{FILES[kind]}'


def tsv(rows, header: list[str] | None) -> bytes:
    """Rows as the downloader writes them: tab-separated, a header, None as an empty field."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter='\t', lineterminator='\n')
    if header:
        writer.writerow(header)
    writer.writerows([['' if value is None else value for value in row] for row in rows])
    return text.getvalue().encode()


def write_file(data_dir: pathlib.Path, day: datetime.date, kind: str, rows=None, content: bytes | None = None,
               header: bool = True) -> pathlib.Path:
    """Writes a gzipped day file from `rows` (without the day_id column, which is the day's), or exactly
    the gzipped `content`. Bumps the modification time, so that a rewritten file counts as changed."""
    path = file_path(data_dir, day, kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    if content is None:
        day_id = int(f'{day:%Y%m%d}')
        content = tsv([(day_id, *row) for row in rows], HEADERS[kind] if header else None)
    path.write_bytes(gzip.compress(content))
    bump_mtime(path)
    return path


def bump_mtime(path: pathlib.Path) -> None:
    """A modification time later than any before: the file system's clock may be coarse."""
    stat = path.stat()
    later = max(stat.st_mtime_ns, getattr(bump_mtime, 'last', 0)) + 2_000_000_000
    bump_mtime.last = later
    os.utime(path, ns=(later, later))


def read_files(data_dir: pathlib.Path, kind: str) -> list[dict]:
    """All data rows of all files of a kind, as dicts of strings (None for empty fields)."""
    rows = []
    for path in sorted(data_dir.glob(f'*/*/*/{FILES[kind]}')):
        with gzip.open(path, 'rt', newline='') as f:
            for row in csv.DictReader(f, delimiter='\t'):
                rows.append({key: (value if value != '' else None) for key, value in row.items()})
    return rows


def sums(rows: list[dict], key, value: str) -> dict:
    """{key(row): sum of int(row[value])} over the rows with a value; keys with only NULLs map to None."""
    result = collections.defaultdict(lambda: None)
    for row in rows:
        k = key(row)
        if row[value] is not None:
            result[k] = (result[k] or 0) + int(row[value])
        else:
            result.setdefault(k, None)
    return dict(result)


# ---------------------------------------------------------------- databases and runs

def query(sql: str, params=None, alias: str = 'dwh') -> list[tuple]:
    with mara_db.dbs.cursor_context(alias) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def reset_databases() -> None:
    """Fresh dwh and mara databases of this test session (warehouse and incremental state)."""
    import conftest
    conftest.drop_databases()
    result = conftest.setup_databases()
    assert result.returncode == 0, result.stdout + result.stderr


def run_etl(data_dir: pathlib.Path, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    """`flask mara-pipelines run ARGS` on the files in `data_dir`, with this session's databases."""
    return subprocess.run([str(PROJECT_ROOT / '.venv' / 'bin' / 'flask'), '--app', 'app.app',
                           'mara-pipelines', 'run', *args],
                          cwd=PROJECT_ROOT, env=dict(os.environ, DATA_DIR=str(data_dir), **env),
                          capture_output=True, text=True, timeout=timeout)


def output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def assert_succeeded(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, output(result)[-5000:]


def files_read_in_last_run() -> list[str]:
    """The files that the last run loaded: mara logs each load command, which names its file."""
    rows = query("""
SELECT DISTINCT substring(message FROM 'gunzip --decompress --stdout \\S*?/(\\d{4}/\\d{2}/\\d{2}/\\S+?\\.csv\\.gz)')
FROM data_integration_node_output
  JOIN data_integration_node_run USING (node_run_id)
WHERE run_id = (SELECT max(run_id) FROM data_integration_run)
  AND message LIKE '%gunzip --decompress --stdout%'""", alias='mara')
    return sorted(row[0] for row in rows)


# ---------------------------------------------------------------- comparing warehouses

# One query per published table: all its rows in a canonical order (hll sketches as cardinalities).
FINGERPRINT_QUERIES = {
    'pypi_dim.project': 'SELECT * FROM pypi_dim.project ORDER BY 1',
    'pypi_dim.project_version': 'SELECT * FROM pypi_dim.project_version ORDER BY 1',
    'pypi_dim.installer': 'SELECT * FROM pypi_dim.installer ORDER BY 1',
    'pypi_dim.python_version': 'SELECT * FROM pypi_dim.python_version ORDER BY 1',
    'pypi_dim.download_counts': 'SELECT * FROM pypi_dim.download_counts ORDER BY 1, 2, 3, 4, 5',
    'pypi_dim.daily_project_downloads':
        'SELECT project_fk, day_fk, number_of_downloads, hll_cardinality(distinct_versions_sketch) '
        'FROM pypi_dim.daily_project_downloads ORDER BY 1, 2',
    'pypi_dim.download_counts_data_set': 'SELECT * FROM pypi_dim.download_counts_data_set ORDER BY 1, 2, 3, 4, 5, 6',
    'gh_dim.repo': 'SELECT * FROM gh_dim.repo ORDER BY 1',
    'gh_dim.repo_activity': 'SELECT * FROM gh_dim.repo_activity ORDER BY 1, 2',
    'gh_dim.repo_activity_data_set': 'SELECT * FROM gh_dim.repo_activity_data_set ORDER BY 1, 2, 3',
    'pp_dim.python_project_activity': 'SELECT * FROM pp_dim.python_project_activity ORDER BY 1, 2',
    'pp_dim.python_project_activity_data_set':
        'SELECT * FROM pp_dim.python_project_activity_data_set ORDER BY 1, 2',
}


def fingerprint() -> dict[str, tuple[int, str]]:
    """Row count and md5 of the sorted rows of every published table."""
    result = {}
    for table, sql in FINGERPRINT_QUERIES.items():
        rows = query(f"SELECT count(*), md5(string_agg(line, E'\\n' ORDER BY line)) "
                     f"FROM (SELECT t::TEXT AS line FROM ({sql}) AS t) AS lines")
        result[table] = rows[0]
    return result


def published_tables() -> set[str]:
    """All tables of the *_dim schemas (partitioned tables without their partitions)."""
    return {row[0] for row in query("""
SELECT oid::REGCLASS::TEXT FROM pg_class
WHERE relnamespace::REGNAMESPACE::TEXT IN ('pypi_dim', 'gh_dim', 'pp_dim') AND relkind IN ('r', 'p', 'f')
  AND NOT relispartition""")}


# ---------------------------------------------------------------- one warehouse of generated data

GENERATED_FIRST_DAY = datetime.date(2018, 4, 1)
GENERATED_DAYS = 10  # the README's flask days 2018-04-01..10
GENERATED_ROWS = 1500  # per file
GENERATED_SEED = 7

_generated = {}


def generated_warehouse(tmp_path_factory) -> pathlib.Path:
    """The data dir of a warehouse built by one full ETL run from generated files of the README's ten
    days. Built once and shared by the test modules, as long as nobody reset the databases or ran
    the ETL since (a marker table in the dwh and the last run id tell)."""
    if _generated and _is_current(_generated['marker'], _generated['run_id']):
        return _generated['data_dir']
    from app.sample_data import generate

    data_dir = tmp_path_factory.mktemp('generated-data')
    generate(data_dir, GENERATED_FIRST_DAY, GENERATED_DAYS, GENERATED_ROWS, GENERATED_ROWS, GENERATED_SEED)
    reset_databases()
    result = run_etl(data_dir)
    assert_succeeded(result)
    marker = os.urandom(8).hex()
    query(f"CREATE TABLE public.test_generated_warehouse AS SELECT '{marker}'::TEXT AS marker")
    _generated.update(data_dir=data_dir, marker=marker, run_id=_last_run_id(), output=output(result))
    return data_dir


def generated_run_output() -> str:
    return _generated['output']


def _last_run_id():
    return query('SELECT max(run_id) FROM data_integration_run', alias='mara')[0][0]


def _is_current(marker: str, run_id: int) -> bool:
    try:
        rows = query('SELECT marker FROM public.test_generated_warehouse')
    except Exception:
        return False
    return rows == [(marker,)] and _last_run_id() == run_id
