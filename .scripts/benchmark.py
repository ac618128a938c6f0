"""The warehouse benchmark (`make benchmark`): the full ETL on generated data of realistic volume, against a
raw COPY of the same files. Writes the results and the machine into docs/benchmarks/warehouse.md.

1. generates DAYS days (default 4) of about 220k PyPI and 210k GitHub rows each, and one more day;
2. times a raw `zcat | psql COPY` of the DAYS days' files into unindexed tables (the baseline);
3. runs the full ETL (`flask mara-pipelines run`) on fresh databases and times it;
4. reads per-pipeline and top node times from mara's run tables, and the database size;
5. adds the extra day and times the incremental run.

Steps 2-5 run --repeat times (each on fresh databases); the report gives every run and the medians.
It uses its own databases (BENCHMARK_DWH_DB, BENCHMARK_MARA_DB; default benchmark_dwh, benchmark_mara)
and a temporary DATA_DIR, so the development warehouse is not touched.
"""

import argparse
import datetime
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

FIRST_DAY = datetime.date(2018, 4, 1)
KINDS = {'pypi': ('pypi/downloads-v1.csv.gz',
                  'day_id INTEGER, project TEXT, project_version TEXT, python_version TEXT, installer TEXT, '
                  'number_of_downloads INTEGER'),
         'github': ('github/repo-activity-v1.csv.gz',
                    'day_id INTEGER, user_name TEXT, repository TEXT, number_of_forks INTEGER, '
                    'number_of_commits INTEGER, number_of_closed_pull_requests INTEGER')}
COPY_OPTIONS = "FORMAT csv, DELIMITER E'\\t', HEADER true"


def parse_arguments() -> argparse.Namespace:
    from app.sample_data import generator
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--days', type=int, default=4, help='days of the full load (default 4)')
    parser.add_argument('--pypi-rows', type=int, default=generator.BENCHMARK_PYPI_ROWS)
    parser.add_argument('--github-rows', type=int, default=generator.BENCHMARK_GITHUB_ROWS)
    parser.add_argument('--seed', type=int, default=generator.DEFAULT_SEED)
    parser.add_argument('--repeat', type=int, default=3, help='runs on fresh databases (default 3)')
    parser.add_argument('--output', type=pathlib.Path, default=PROJECT_ROOT / 'docs' / 'benchmarks' / 'warehouse.md')
    parser.add_argument('--keep', action='store_true', help='keep the databases and the data of the last run')
    return parser.parse_args()


# ---------------------------------------------------------------- environment and databases

def benchmark_env(data_dir: pathlib.Path, days: int) -> dict[str, str]:
    """The settings of the ETL runs: own databases, the temporary data, time.day covering all days."""
    return dict(os.environ,
                DWH_DB=os.environ.get('BENCHMARK_DWH_DB', 'benchmark_dwh'),
                MARA_DB=os.environ.get('BENCHMARK_MARA_DB', 'benchmark_mara'),
                DATA_DIR=str(data_dir),
                FIRST_DATE=FIRST_DAY.isoformat(),
                LAST_DATE=(FIRST_DAY + datetime.timedelta(days=days)).isoformat())


def psql(env: dict, database: str, sql: str, stdin=None) -> str:
    from app import config
    result = subprocess.run(['psql', '--no-psqlrc', '-v', 'ON_ERROR_STOP=1', '-tAq',
                             '-h', config.postgres_host() or '127.0.0.1', '-p', str(config.postgres_port()),
                             '-U', config.postgres_user(), '-d', database, '-c', sql],
                            env=dict(env, PGPASSWORD=config.postgres_password()), stdin=stdin,
                            capture_output=True, text=True, check=False)
    if result.returncode:
        raise RuntimeError(f'psql failed: {sql}\n{result.stderr}')
    return result.stdout.strip()


def fresh_databases(env: dict) -> None:
    for database in (env['DWH_DB'], env['MARA_DB']):
        psql(env, 'postgres', f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    subprocess.run(['bash', '.scripts/setup-db.sh'], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)


def drop_databases(env: dict, *databases: str) -> None:
    for database in databases:
        psql(env, 'postgres', f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


# ---------------------------------------------------------------- steps

def generate(staging: pathlib.Path, args: argparse.Namespace) -> None:
    from app.sample_data import generate as generate_files
    print(f'==> Generating {args.days} + 1 days of {args.pypi_rows} PyPI and {args.github_rows} GitHub rows '
          f'in {staging}')
    summary = generate_files(staging, FIRST_DAY, args.days + 1, args.pypi_rows, args.github_rows, args.seed)
    print(f'    {summary.rows} rows in {summary.seconds:.1f} s')


def day_folder(root: pathlib.Path, day: datetime.date) -> pathlib.Path:
    return root / f'{day:%Y/%m/%d}'


def place_days(staging: pathlib.Path, data_dir: pathlib.Path, days: list[datetime.date]) -> None:
    """Hard-links the files of `days` from the staging directory into the ETL's data dir."""
    for day in days:
        shutil.copytree(day_folder(staging, day), day_folder(data_dir, day), copy_function=os.link)


def time_raw_copy(env: dict, data_dir: pathlib.Path) -> float:
    """Seconds for `zcat | psql COPY` of every file, one after another, into unindexed tables."""
    database = env['DWH_DB'] + '_copy'
    drop_databases(env, database)
    psql(env, 'postgres', f'CREATE DATABASE "{database}"')
    for kind, (_, columns) in KINDS.items():
        psql(env, database, f'CREATE TABLE {kind} ({columns})')
    files = sorted((kind, path) for kind, (pattern, _) in KINDS.items() for path in data_dir.glob(f'*/*/*/{pattern}'))
    start = time.perf_counter()
    for kind, path in files:
        with subprocess.Popen(['zcat', str(path)], stdout=subprocess.PIPE) as zcat:
            psql(env, database, f'COPY {kind} FROM STDIN WITH ({COPY_OPTIONS})', stdin=zcat.stdout)
    seconds = time.perf_counter() - start
    rows = psql(env, database, 'SELECT (SELECT count(*) FROM pypi) + (SELECT count(*) FROM github)')
    drop_databases(env, database)
    print(f'    raw COPY of {len(files)} files ({rows} rows): {seconds:.2f} s')
    return seconds


def time_etl(env: dict, label: str) -> tuple[float, int]:
    """Seconds of a `flask mara-pipelines run`, and the run id in mara's tables."""
    start = time.perf_counter()
    flask = str(PROJECT_ROOT / '.venv' / 'bin' / 'flask')
    result = subprocess.run([flask, '--app', 'app.app', 'mara-pipelines', 'run'],
                            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        sys.exit(f'{label}: the ETL failed\n{result.stdout[-5000:]}\n{result.stderr[-5000:]}')
    run_id = int(psql(env, env['MARA_DB'], 'SELECT max(run_id) FROM data_integration_run'))
    print(f'    {label}: {seconds:.2f} s')
    return seconds, run_id


def node_times(env: dict, run_id: int) -> list[tuple[str, bool, float]]:
    """(node path, is pipeline, seconds) of every node of a run."""
    rows = psql(env, env['MARA_DB'], f"""
SELECT array_to_string(node_path, '/'), is_pipeline, extract(EPOCH FROM end_time - start_time)
FROM data_integration_node_run WHERE run_id = {run_id} AND node_path <> '{{}}' ORDER BY start_time""")
    return [(path, flag == 't', float(seconds))
            for path, flag, seconds in (line.split('|') for line in rows.splitlines())]


def database_sizes(env: dict) -> tuple[int, list[tuple[str, int]]]:
    """The size of the dwh database, and of each of its schemas (bytes)."""
    total = int(psql(env, env['DWH_DB'], 'SELECT pg_database_size(current_database())'))
    rows = psql(env, env['DWH_DB'], """
SELECT nspname, sum(pg_total_relation_size(pg_class.oid))::BIGINT
FROM pg_class JOIN pg_namespace ON pg_namespace.oid = relnamespace
WHERE relkind IN ('r', 'm') AND nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
GROUP BY 1 ORDER BY 2 DESC""")
    return total, [(schema, int(size)) for schema, size in (line.split('|') for line in rows.splitlines())]


def one_run(staging: pathlib.Path, args: argparse.Namespace, number: int) -> dict:
    data_dir = pathlib.Path(tempfile.mkdtemp(prefix='benchmark-data-'))
    days = [FIRST_DAY + datetime.timedelta(days=n) for n in range(args.days + 1)]
    env = benchmark_env(data_dir, args.days)
    place_days(staging, data_dir, days[:-1])
    print(f'==> Run {number}: load average {os.getloadavg()[0]:.2f}')
    copy_seconds = time_raw_copy(env, data_dir)
    fresh_databases(env)
    etl_seconds, run_id = time_etl(env, 'full ETL')
    sizes = database_sizes(env)
    nodes = node_times(env, run_id)
    place_days(staging, data_dir, days[-1:])
    add_day_seconds, add_day_run_id = time_etl(env, 'adding one day')
    add_day_nodes = node_times(env, add_day_run_id)
    if not args.keep or number < args.repeat:
        drop_databases(env, env['DWH_DB'], env['MARA_DB'])
        shutil.rmtree(data_dir)
    return dict(copy=copy_seconds, etl=etl_seconds, sizes=sizes, nodes=nodes, add_day=add_day_seconds,
                add_day_nodes=add_day_nodes, load=os.getloadavg()[0])


# ---------------------------------------------------------------- report

def machine() -> list[str]:
    cpu = next((line.split(':', 1)[1].strip() for line in open('/proc/cpuinfo') if line.startswith('model name')), '?')
    memory = next((int(line.split()[1]) // 1024 // 1024 for line in open('/proc/meminfo')
                   if line.startswith('MemTotal')), '?')
    env = benchmark_env(pathlib.Path('.'), 1)
    server = psql(env, 'postgres', 'SHOW server_version')
    settings = psql(env, 'postgres', "SELECT string_agg(name || ' = ' || current_setting(name), ', ' ORDER BY name) "
                                     "FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'wal_level', "
                                     "'synchronous_commit', 'max_parallel_workers_per_gather')")
    return [f'- {os.cpu_count()} cores (nproc), {cpu}, {memory} GB RAM, {platform.system()} {platform.release()}',
            f'- PostgreSQL {server}: {settings}',
            f'- Python {platform.python_version()}, MAX_PARALLEL_TASKS and NUMBER_OF_CHUNKS at their defaults']


def megabytes(size: int) -> str:
    return f'{size / 1024 / 1024:.0f} MB'


def top_nodes(nodes: list[tuple[str, bool, float]], count: int) -> list[tuple[str, float]]:
    tasks = [(path, seconds) for path, is_pipeline, seconds in nodes if not is_pipeline]
    return sorted(tasks, key=lambda node: -node[1])[:count]


def phase_seconds(nodes: list[tuple[str, bool, float]]) -> list[tuple[str, float]]:
    """Task seconds per phase: the tasks of both cores added up."""
    phases = {'reading files (COPY into day partitions, checks, mara bookkeeping)': 0.0,
              'transforming and publishing pypi_dim and gh_dim': 0.0, 'python_projects': 0.0, 'utils': 0.0}
    for path, is_pipeline, seconds in nodes:
        if is_pipeline:
            continue
        if '/read_' in path:
            phases['reading files (COPY into day partitions, checks, mara bookkeeping)'] += seconds
        elif path.startswith(('pypi/', 'github/')):
            phases['transforming and publishing pypi_dim and gh_dim'] += seconds
        else:
            phases[path.split('/')[0]] += seconds
    return list(phases.items())


def report(args: argparse.Namespace, runs: list[dict]) -> str:
    median = {key: statistics.median(run[key] for run in runs) for key in ('copy', 'etl', 'add_day')}
    ratio = median['etl'] / median['copy']
    best = min(runs, key=lambda run: run['etl'])
    total, schemas = runs[-1]['sizes']
    lines = [
        '# Warehouse benchmark',
        '',
        f'Written by `make benchmark` (`.scripts/benchmark.py`) on {datetime.datetime.now():%Y-%m-%d %H:%M}.',
        '',
        '## Machine',
        '',
        *machine(),
        '',
        '## Data',
        '',
        f'- {args.days} days from {FIRST_DAY}, {args.pypi_rows} PyPI and {args.github_rows} GitHub rows per day '
        f'(seed {args.seed}, `app.sample_data`), plus one more day for the incremental run',
        '',
        '## Results',
        '',
        f'Medians of {len(runs)} runs, each on fresh databases:',
        '',
        '| measure | value |',
        '|---|---|',
        f"| full ETL (`flask mara-pipelines run`, wall) | {median['etl']:.1f} s |",
        f"| raw COPY of the same files (`zcat \\| psql COPY`, one file after another) | {median['copy']:.2f} s |",
        f'| ETL / COPY | {ratio:.1f} x (target: at most 6 x) |',
        f"| adding one day (incremental run) | {median['add_day']:.1f} s |",
        f'| database size after the full ETL | {megabytes(total)} (target: at most 400 MB) |',
        '',
        'The COPY baseline loads every file with its own `zcat | psql -c "COPY ... FROM STDIN"`, one after '
        'another, into unindexed tables of a scratch database. The full ETL is `flask mara-pipelines run` '
        '(all pipelines, starting flask included) on fresh databases; adding one day is the next run after '
        'the files of one more day appeared (it reads those two files and rebuilds the star schemas from '
        'all days). Both are wall times on a machine that others may use at the same time: the load '
        'average is given per run.',
        '',
        'Every run:',
        '',
        '| run | load average | COPY | full ETL | ETL / COPY | adding one day |',
        '|---|---|---|---|---|---|',
        *(f"| {n} | {run['load']:.2f} | {run['copy']:.2f} s | {run['etl']:.1f} s | {run['etl'] / run['copy']:.1f} x "
          f"| {run['add_day']:.1f} s |" for n, run in enumerate(runs, 1)),
        '',
        '### Database size per schema (last run)',
        '',
        '| schema | size |',
        '|---|---|',
        *(f'| {schema} | {megabytes(size)} |' for schema, size in schemas),
        '',
        f"### Pipelines of the fastest full ETL ({best['etl']:.1f} s), from mara's run tables",
        '',
        '| pipeline | seconds |',
        '|---|---|',
        *(f'| {path} | {seconds:.2f} |' for path, is_pipeline, seconds in best['nodes']
          if is_pipeline and '/' not in path),
        '',
        '### Where the time goes in that run',
        '',
        'Task seconds per phase (two tasks run at a time, so they add up to about twice the wall time '
        'they take; the rest of the wall time is starting flask and mara, and mara scheduling):',
        '',
        '| phase | task seconds |',
        '|---|---|',
        *(f'| {phase} | {seconds:.1f} |' for phase, seconds in phase_seconds(best['nodes'])),
        '',
        '### Top nodes of that run',
        '',
        '| node | seconds |',
        '|---|---|',
        *(f'| {path} | {seconds:.2f} |' for path, seconds in top_nodes(best['nodes'], 12)),
        '',
        '### Pipelines when adding one day (same run)',
        '',
        '| pipeline | seconds |',
        '|---|---|',
        *(f'| {path} | {seconds:.2f} |' for path, is_pipeline, seconds in best['add_day_nodes']
          if is_pipeline and '/' not in path),
        '',
    ]
    return '\n'.join(lines)


def main() -> None:
    args = parse_arguments()
    staging = pathlib.Path(tempfile.mkdtemp(prefix='benchmark-staging-'))
    try:
        generate(staging, args)
        runs = [one_run(staging, args, number) for number in range(1, args.repeat + 1)]
    finally:
        shutil.rmtree(staging)
    text = report(args, runs)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)
    print(f'==> Written to {args.output}')


if __name__ == '__main__':
    main()
