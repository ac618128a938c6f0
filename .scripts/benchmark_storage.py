"""The storage benchmark (`make benchmark-storage`): the 30-day benchmark warehouse (220k PyPI and 210k GitHub rows
per day) on heap, on one Citus node (columnar storage) and on a Citus coordinator with two workers, side by side in
one run. Writes docs/benchmarks/storage.md.

Each mode gets PostgreSQL clusters of its own, made by the project's scripts (.scripts/postgres.sh start, or
postgres.sh citus with CITUS_WORKERS=0 or 2, as `make citus` does) in a temporary folder on free ports, with the
project's docs/postgresql.conf: the development warehouse and its cluster are not touched. In each mode:

1. the raw COPY of the 30 days' files (`zcat | psql COPY` into unindexed heap tables), the baseline of that mode;
2. the full build of the 30 days, and the database size after the vacuum and analyze that autovacuum would do;
3. adding day 31 and taking it out again (median of --repeat each);
4. analyst queries, median of 5 warm runs each: the README query, the top 20 projects by downloads over the 30
   days, downloads per installer per day for the 30 days (each on the star schema and on the flat data set);
5. with workers, the share of each worker: its shards' sizes and rows.

On one 2-core machine the workers share the cores with the coordinator, so the distributed times say little about
speed on several machines; the share of each worker says how the work would spread.
"""

import argparse
import contextlib
import datetime
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import benchmark  # (the warehouse benchmark's helpers: files, runs, COPY, sizes)

PROJECT_ROOT = benchmark.PROJECT_ROOT
DAYS = benchmark.FULL_DAYS
MODES = {'heap': None, 'columnar': 0, 'columnar with 2 workers': 2}  # mode: Citus workers (None: no Citus)
QUERY_RUNS = 5
# Targets of issue 19.
SIZE_OF_FILES = 3  # database size at most 3 x the gzipped files, on one Citus node
ADD_DAY_OF_FULL_BUILD = 0.1

_LAST_DAY = benchmark.day(DAYS).isoformat()
QUERIES = {
    'README query': """
SELECT _date, project_name, number_of_downloads, number_of_forks, number_of_commits, number_of_closed_pull_requests
FROM pp_dim.python_project_activity JOIN pypi_dim.project ON project_id = project_fk JOIN time.day ON day_fk = day_id
WHERE project_name = 'flask' ORDER BY day_fk DESC LIMIT 10""",
    'top 20 projects, 30 days (daily aggregates)': """
SELECT project_name, sum(number_of_downloads) FROM pypi_dim.daily_project_downloads
JOIN pypi_dim.project ON project_id = project_fk GROUP BY project_name ORDER BY 2 DESC, 1 LIMIT 20""",
    'top 20 projects, 30 days (flat data set)': """
SELECT "Project", sum("Number of downloads") FROM pypi_dim.download_counts_data_set
GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20""",
    'downloads per installer per day, 30 days (facts)': """
SELECT day_fk, installer_name, sum(number_of_downloads) FROM pypi_dim.download_counts
JOIN pypi_dim.installer ON installer_id = installer_fk GROUP BY 1, 2 ORDER BY 1, 2""",
    'downloads per installer per day, 30 days (flat data set)': f"""
SELECT "Date", "Installer", sum("Number of downloads") FROM pypi_dim.download_counts_data_set
WHERE "Date" BETWEEN '{benchmark.day(1)}' AND '{_LAST_DAY}' GROUP BY 1, 2 ORDER BY 1, 2""",
}

WORKER_SHARES = """
SELECT nodename || ':' || nodeport, count(*), sum(shard_size)::BIGINT
FROM citus_shards WHERE citus_table_type = 'distributed' GROUP BY 1 ORDER BY 1"""


def parse_arguments() -> argparse.Namespace:
    from app.sample_data import generator
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--pypi-rows', type=int, default=generator.BENCHMARK_PYPI_ROWS)
    parser.add_argument('--github-rows', type=int, default=generator.BENCHMARK_GITHUB_ROWS)
    parser.add_argument('--seed', type=int, default=generator.DEFAULT_SEED)
    parser.add_argument('--repeat', type=int, default=3, help='measurements of adding and taking out a day')
    parser.add_argument('--modes', default=','.join(MODES), help=f'comma-separated, of: {", ".join(MODES)}')
    parser.add_argument('--output', type=pathlib.Path, default=PROJECT_ROOT / 'docs' / 'benchmarks' / 'storage.md')
    return parser.parse_args()


def _script(env: dict, *args: str) -> None:
    result = subprocess.run(['bash', str(PROJECT_ROOT / '.scripts' / 'postgres.sh'), *args], cwd=PROJECT_ROOT,
                            env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f'postgres.sh {" ".join(args)} failed:\n{result.stdout}{result.stderr}')


@contextlib.contextmanager
def clusters_of_their_own(workers: int | None):
    """Points this process (and the runs it starts) at clusters of their own for one mode; removes them after."""
    sys.path.insert(0, str(PROJECT_ROOT))
    from tests.support.cluster import free_ports
    folder = pathlib.Path(tempfile.mkdtemp(prefix='benchmark-cluster-', dir='/tmp'))
    os.chmod(folder, 0o755)  # the postgres OS user must reach it
    settings = {'POSTGRES_HOST': '', 'POSTGRES_PASSWORD': '', 'POSTGRES_LOCAL_DIR': str(folder / 'pg'),
                'POSTGRES_PORT': str(free_ports((workers or 0) + 1)), 'CITUS_WORKERS': str(workers or 0)}
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        _script(dict(os.environ), 'start' if workers is None else 'citus')
        yield
    finally:
        _script(dict(os.environ), 'stop')
        shutil.rmtree(folder, ignore_errors=True)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def timed_query(env: dict, sql: str) -> float:
    """Median seconds of QUERY_RUNS runs of `sql`, after one run that warms the caches."""
    connection = benchmark.connect(env)
    try:
        with connection.cursor() as cursor:
            seconds = []
            for _ in range(QUERY_RUNS + 1):
                start = time.perf_counter()
                cursor.execute(sql)
                cursor.fetchall()
                seconds.append(time.perf_counter() - start)
    finally:
        connection.close()
    return statistics.median(seconds[1:])


def storages(env: dict) -> dict[str, str]:
    """The storage of the day partitions of each published table ('columnar', 'heap', or both)."""
    rows = benchmark.psql(env, env['DWH_DB'], """
SELECT inhparent::REGCLASS, string_agg(DISTINCT amname, '+')
FROM pg_inherits JOIN pg_class ON pg_class.oid = inhrelid JOIN pg_am ON pg_am.oid = relam
WHERE relkind = 'r' AND inhparent::REGCLASS::TEXT ~ '^(pypi_data|github_data|pypi_dim|gh_dim|pp_dim)\\.'
GROUP BY 1 ORDER BY 1""")
    return dict(line.split('|') for line in rows.splitlines())


def worker_database_size(env: dict, node: str) -> int:
    """The size of the warehouse database on a worker node ('host:port')."""
    import psycopg2
    host, port = node.rsplit(':', 1)
    connection = psycopg2.connect(dbname=env['DWH_DB'], **dict(benchmark.server(), host=host, port=port))
    try:
        with connection.cursor() as cursor:
            cursor.execute('SELECT pg_database_size(current_database())')
            return cursor.fetchone()[0]
    finally:
        connection.close()


def measure_mode(staging: pathlib.Path, args: argparse.Namespace, workers: int | None) -> dict:
    data_dir = pathlib.Path(tempfile.mkdtemp(prefix='benchmark-data-'))
    env = benchmark.benchmark_env(data_dir)
    results = {}
    try:
        results['copy'], results['copy_cpu'] = benchmark.time_raw_copy(env, benchmark.files_of(staging,
                                                                                              range(1, DAYS + 1)))
        benchmark.fresh_databases(env)
        benchmark.place(staging, data_dir, range(1, DAYS + 1))
        (results['full'], _run), results['full_cpu'] = benchmark.with_cpu(
            lambda: benchmark.time_etl(env, f'full build of {DAYS} days'))
        benchmark.settle(env)
        results['size'] = benchmark.database_size(env)
        results['storages'] = storages(env)
        adds, removals = [], []
        for _ in range(args.repeat):
            benchmark.place(staging, data_dir, [DAYS + 1])
            adds.append(benchmark.time_etl(env, f'adding day {DAYS + 1}')[0])
            benchmark.settle(env)
            benchmark.take_out(data_dir, [DAYS + 1])
            removals.append(benchmark.time_etl(env, f'taking day {DAYS + 1} out')[0])
            benchmark.settle(env)
        results['add'], results['remove'] = statistics.median(adds), statistics.median(removals)
        results['queries'] = {name: timed_query(env, sql) for name, sql in QUERIES.items()}
        results['size_all'] = results['size'][0]
        if workers:
            shares = benchmark.psql(env, env['DWH_DB'], WORKER_SHARES)
            results['workers'] = [line.split('|') for line in shares.splitlines()]
            results['size_all'] += sum(worker_database_size(env, node) for node, _shards, _size in results['workers'])
        results['server'] = benchmark.psql(env, 'postgres', 'SHOW server_version')
    finally:
        benchmark.drop_databases(env, env['DWH_DB'], env['MARA_DB'])
        shutil.rmtree(data_dir, ignore_errors=True)
    return results


def report(args: argparse.Namespace, modes: list[str], results: dict, files: int, load: tuple) -> str:
    base = results[modes[0]]
    header = '| | ' + ' | '.join(modes) + ' |'
    rule = '|---|' + '---|' * len(modes)

    def row(label: str, value) -> str:
        return f'| {label} | ' + ' | '.join(value(results[mode]) for mode in modes) + ' |'

    lines = [
        '# Storage benchmark: heap, columnar, columnar with workers',
        '',
        f'Written by `make benchmark-storage` (`.scripts/benchmark_storage.py`) on '
        f'{datetime.datetime.now():%Y-%m-%d %H:%M}; load average {load[0]:.2f} before, {load[1]:.2f} after.',
        '',
        '## Machine and data',
        '',
        f'- {os.cpu_count()} cores, PostgreSQL {base["server"]}, each mode on clusters of its own with '
        '`docs/postgresql.conf`; the workers share the machine with the coordinator.',
        f'- {DAYS} days of {args.pypi_rows} PyPI and {args.github_rows} GitHub rows (seed {args.seed}): '
        f'{benchmark.megabytes(files)} of gzipped files, {benchmark.megabytes(files / DAYS)} a day.',
        '',
        '## Results',
        '',
        header, rule,
        row('raw COPY of the 30 days (baseline)', lambda r: f'{r["copy"]:.1f} s'),
        row('full build', lambda r: f'{r["full"]:.1f} s = {r["full"] / r["copy"]:.2f} x COPY'),
        row('its work (busy core-seconds)', lambda r: f'{r["full_cpu"]:.0f} core-s'),
        row(f'adding day {DAYS + 1} (median of {args.repeat})',
            lambda r: f'{r["add"]:.1f} s = {r["add"] / r["full"]:.3f} x full build'),
        row(f'taking day {DAYS + 1} out (median of {args.repeat})',
            lambda r: f'{r["remove"]:.1f} s = {r["remove"] / r["full"]:.3f} x full build'),
        row('database size, all nodes', lambda r: f'{benchmark.megabytes(r["size_all"])} = '
                                                  f'{r["size_all"] / files:.1f} x the files'),
        row('database size per day', lambda r: benchmark.megabytes(r['size_all'] / DAYS)),
        row('of which on the coordinator', lambda r: benchmark.megabytes(r['size'][0])),
        *(row(f'{name}, median of {QUERY_RUNS}, warm',
              lambda r, name=name: f'{r["queries"][name] * 1000:.0f} ms = '
                                   f'{r["queries"][name] / base["queries"][name]:.2f} x {modes[0]}')
          for name in QUERIES),
        '',
        '## Targets (issue 19)',
        '',
    ]
    if 'columnar' in results:
        size = results['columnar']['size_all'] / files
        lines.append(f'- database size on one Citus node at most {SIZE_OF_FILES} x the gzipped files: {size:.1f} x, '
                     f'{benchmark.verdict(size <= SIZE_OF_FILES)}')
    for mode in modes:
        ratio = results[mode]['add'] / results[mode]['full']
        lines.append(f'- adding a day at most {ADD_DAY_OF_FULL_BUILD} x the full build, {mode}: {ratio:.3f} x, '
                     f'{benchmark.verdict(ratio <= ADD_DAY_OF_FULL_BUILD)}')
    if 'heap' in results and 'columnar' in results:
        slower = [name for name in QUERIES if results['columnar']['queries'][name] > results['heap']['queries'][name]]
        lines.append(f'- the analyst queries on columnar no slower than on heap: '
                     f'{benchmark.verdict(not slower)}{" (slower: " + ", ".join(slower) + ")" if slower else ""}')
    lines += ['', '## Storage of the day partitions', '', header, rule]
    tables = sorted({table for mode in modes for table in results[mode]['storages']})
    lines += [row(f'`{table}`', lambda r, table=table: r['storages'].get(table, '')) for table in tables]
    lines += ['', '## Size per schema (on the coordinator)', '', header, rule]
    schemas = [schema for schema, _size in base['size'][1]]
    lines += [row(f'`{schema}`', lambda r, schema=schema: benchmark.megabytes(dict(r['size'][1]).get(schema, 0)))
              for schema in schemas]
    for mode in modes:
        if results[mode].get('workers'):
            lines += ['', f'## Share of each worker ({mode})', '', '| worker | shards | size |', '|---|---|---|']
            lines += [f'| {node} | {shards} | {benchmark.megabytes(int(size))} |'
                      for node, shards, size in results[mode]['workers']]
            lines += ['', 'The size per worker is on the workers; the coordinator keeps the raw days, the record of '
                          'published days and its copies of the reference tables.']
    return '\n'.join(lines) + '\n'


def main() -> None:
    args = parse_arguments()
    modes = [mode.strip() for mode in args.modes.split(',')]
    unknown = [mode for mode in modes if mode not in MODES]
    if unknown:
        sys.exit(f'unknown modes {unknown}; use {", ".join(MODES)}')
    staging = pathlib.Path(tempfile.mkdtemp(prefix='benchmark-staging-'))
    load_before = os.getloadavg()[0]
    try:
        from app.sample_data import generate
        print(f'==> Generating {DAYS + 1} days of {args.pypi_rows} PyPI and {args.github_rows} GitHub rows')
        generate(staging, benchmark.day(1), DAYS + 1, args.pypi_rows, args.github_rows, args.seed)
        files = sum(path.stat().st_size for path in benchmark.files_of(staging, range(1, DAYS + 1)))
        results = {}
        for mode in modes:
            print(f'==> {mode}')
            with clusters_of_their_own(MODES[mode]):
                results[mode] = measure_mode(staging, args, MODES[mode])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    text = report(args, modes, results, files, (load_before, os.getloadavg()[0]))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)
    print(f'==> Written to {args.output}')


if __name__ == '__main__':
    main()
