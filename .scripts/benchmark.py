"""The warehouse benchmark (`make benchmark`): a warehouse of 30 days at the benchmark volume (220k PyPI and 210k
GitHub rows per day), built from scratch and then kept up to date day by day, against a raw COPY of the same files
in the same run. Writes docs/benchmarks/warehouse.md.

Measured, each on databases of its own (BENCHMARK_DWH_DB, BENCHMARK_MARA_DB; default benchmark_dwh and
benchmark_mara) and a temporary DATA_DIR, so the development warehouse is not touched:

1. the raw COPY of the 30 days' files, and of one day's two files (`zcat | psql COPY` into unindexed tables);
2. the full build of the 30 days, the vacuum and analyze that autovacuum does after it, and the database size
   per day;
3. a run with nothing to do (the fixed cost of starting a run);
4. adding one day to 10, 30 and 60 days of history: each is measured --repeat times, taking the day out again
   (a run that removes it) between the measurements;
5. how long a reader's query waits for a publish, during a full rebuild of the 31 days.

Before each measured run, the tables that the run before changed are vacuumed and analyzed (`settle`), so that
no measurement shares the cores with autovacuum's work on the run before. The raw COPY, the full build, the run
with nothing to do and the added days also report the machine's busy core-seconds meanwhile (`with_cpu`): the
work they took, which on a machine of few cores bounds how fast they can get.
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
import threading
import time

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

FIRST_DAY = datetime.date(2018, 4, 1)
HISTORIES = (10, 30, 60)  # days in the warehouse before one more day is added
FULL_DAYS = 30
# Targets of issue 8, as ratios of the same run.
ADD_DAY_OF_FULL_BUILD = 0.1
ADD_DAY_OF_COPY = 2
FULL_BUILD_OF_COPY = 3
MEGABYTES_PER_DAY = 95


def parse_arguments() -> argparse.Namespace:
    from app.sample_data import generator
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--pypi-rows', type=int, default=generator.BENCHMARK_PYPI_ROWS)
    parser.add_argument('--github-rows', type=int, default=generator.BENCHMARK_GITHUB_ROWS)
    parser.add_argument('--seed', type=int, default=generator.DEFAULT_SEED)
    parser.add_argument('--repeat', type=int, default=3, help='measurements of each added day (default 3)')
    parser.add_argument('--output', type=pathlib.Path, default=PROJECT_ROOT / 'docs' / 'benchmarks' / 'warehouse.md')
    return parser.parse_args()


def day(number: int, first: datetime.date = FIRST_DAY) -> datetime.date:
    """The day `number` (1 is `first`)."""
    return first + datetime.timedelta(days=number - 1)


def benchmark_env(data_dir: pathlib.Path) -> dict[str, str]:
    """The settings of the ETL runs: own databases, the temporary data, time.day covering all days."""
    return dict(os.environ,
                DWH_DB=os.environ.get('BENCHMARK_DWH_DB', 'benchmark_dwh'),
                MARA_DB=os.environ.get('BENCHMARK_MARA_DB', 'benchmark_mara'),
                DATA_DIR=str(data_dir), FIRST_DATE=f'{day(1)}', LAST_DATE=f'{day(max(HISTORIES) + 1)}')


def server() -> dict[str, str]:
    """The ETL's PostgreSQL server (app/config.py), as libpq connection parameters."""
    from app import config
    return {'host': config.postgres_host() or '127.0.0.1', 'port': str(config.postgres_port()),
            'user': config.postgres_user(), 'password': config.postgres_password()}


def connect(env: dict):
    """An autocommit psycopg2 connection to the benchmark's warehouse database."""
    import psycopg2
    connection = psycopg2.connect(dbname=env['DWH_DB'], **server())
    connection.autocommit = True
    return connection


def psql(env: dict, database: str, sql: str, stdin=None) -> str:
    result = subprocess.run(['psql', '--no-psqlrc', '-v', 'ON_ERROR_STOP=1', '-tAq', '-d', database, '-c', sql],
                            env=psql_env(env), stdin=stdin, capture_output=True, text=True, check=False)
    if result.returncode:
        raise RuntimeError(f'psql failed: {sql}\n{result.stderr}')
    return result.stdout.strip()


def fresh_databases(env: dict) -> None:
    drop_databases(env, env['DWH_DB'], env['MARA_DB'])
    subprocess.run(['bash', '.scripts/setup-db.sh'], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)


def drop_databases(env: dict, *databases: str) -> None:
    for database in databases:
        psql(env, 'postgres', f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


# ---------------------------------------------------------------- files

def generate(staging: pathlib.Path, args: argparse.Namespace) -> None:
    from app.sample_data import generate as generate_files
    days = max(HISTORIES) + 1
    print(f'==> Generating {days} days of {args.pypi_rows} PyPI and {args.github_rows} GitHub rows in {staging}')
    summary = generate_files(staging, day(1), days, args.pypi_rows, args.github_rows, args.seed)
    print(f'    {summary.rows} rows in {summary.seconds:.1f} s')


def files_of(root: pathlib.Path, numbers, first: datetime.date = FIRST_DAY) -> list[pathlib.Path]:
    """The files of the days `numbers` (1 is `first`) under `root`, of every data set."""
    from app import data_sets
    return [data_set.path(root, day(number, first), data_set.versions[0])
            for number in numbers for data_set in data_sets.DATA_SETS.values()]


def place(staging: pathlib.Path, data_dir: pathlib.Path, numbers, first: datetime.date = FIRST_DAY) -> None:
    """Hard-links the files of the days `numbers` from the staging directory into the ETL's data dir (kept when
    there: a resumed benchmark places them again)."""
    for source, target in zip(files_of(staging, numbers, first), files_of(data_dir, numbers, first)):
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.link(source, target)


def take_out(data_dir: pathlib.Path, numbers, first: datetime.date = FIRST_DAY) -> None:
    for path in files_of(data_dir, numbers, first):
        path.unlink(missing_ok=True)


# ---------------------------------------------------------------- measurements

def busy_core_seconds() -> float:
    """The core-seconds that the machine's cores have been busy since it booted (/proc/stat: user, nice, system,
    irq and softirq time; not idle, waiting for the disk, or taken by the hypervisor)."""
    with open('/proc/stat') as stat:
        user, nice, system, _idle, _iowait, irq, softirq = (int(value) for value in stat.readline().split()[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf('SC_CLK_TCK')


def with_cpu(measurement):
    """Runs `measurement()`; returns its result and the machine's busy core-seconds meanwhile (everything
    the machine did, the database server and the ETL's own processes included)."""
    before = busy_core_seconds()
    result = measurement()
    return result, busy_core_seconds() - before


def time_raw_copy(env: dict, files: list[pathlib.Path]) -> tuple[float, float]:
    """Seconds and busy core-seconds of `zcat | psql COPY` of the files, one after another, into unindexed
    tables."""
    from app import data_sets
    database = env['DWH_DB'] + '_copy'
    drop_databases(env, database)
    psql(env, 'postgres', f'CREATE DATABASE "{database}"')
    for data_set in data_sets.DATA_SETS.values():
        columns = ', '.join(f'"{column.name}" {column.sql_type}' for column in data_set.versions[0].columns)
        psql(env, database, f'CREATE TABLE {data_set.name} ({columns})')

    def copy_files() -> None:
        for path in files:
            with subprocess.Popen(['zcat', str(path)], stdout=subprocess.PIPE) as zcat:
                psql(env, database, f'COPY {path.parent.name} FROM STDIN WITH ({data_sets.copy_options()})',
                     stdin=zcat.stdout)

    start = time.perf_counter()
    _, core_seconds = with_cpu(copy_files)
    seconds = time.perf_counter() - start
    drop_databases(env, database)
    return seconds, core_seconds


def time_etl(env: dict, label: str) -> tuple[float, int]:
    """Seconds of a `flask mara-pipelines run` (starting flask included), and its run id."""
    start = time.perf_counter()
    result = subprocess.run([str(PROJECT_ROOT / '.venv' / 'bin' / 'flask'), '--app', 'app.app', 'mara-pipelines',
                             'run'], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        # The whole output to a file: the failed node's error is often far above the run's last lines.
        log = pathlib.Path(tempfile.gettempdir()) / f'benchmark-failed-run-{os.getpid()}.log'
        log.write_text(result.stdout + result.stderr)
        errors = [line for line in (result.stdout + result.stderr).splitlines() if 'ERROR:' in line]
        sys.exit(f'{label}: the ETL failed; its output is in {log}. Its errors:\n' + '\n'.join(errors[:20]))
    print(f'    {label}: {seconds:.2f} s (load average {os.getloadavg()[0]:.2f})')
    return seconds, int(psql(env, env['MARA_DB'], 'SELECT max(run_id) FROM data_integration_run'))


# A reader's query of one member of each dimension that a publish changes: it waits while a publish holds the table.
READER_QUERIES = {'gh_dim.repo': 'SELECT repo_name FROM gh_dim.repo WHERE repo_id = -1',
                  'pypi_dim.project': 'SELECT project_name FROM pypi_dim.project WHERE project_id = -1'}


def time_rebuild_with_readers(env: dict) -> tuple[float, dict[str, str]]:
    """Seconds of a full rebuild (FULL_REBUILD=true) of the warehouse, and for each of READER_QUERIES, run again
    and again meanwhile, the longest it took (or the error that ended it)."""
    import psycopg2
    done, waits = threading.Event(), {}

    def read(name: str, sql: str) -> None:
        connection = connect(env)
        longest = 0.0
        try:
            with connection.cursor() as cursor:
                while not done.is_set():
                    start = time.perf_counter()
                    cursor.execute(sql)
                    cursor.fetchall()
                    longest = max(longest, time.perf_counter() - start)
                    time.sleep(0.05)
            waits[name] = f'{longest:.2f} s'
        except psycopg2.Error as error:
            waits[name] = f'failed: {error}'.strip()
        finally:
            connection.close()

    readers = [threading.Thread(target=read, args=query) for query in READER_QUERIES.items()]
    for reader in readers:
        reader.start()
    try:
        seconds = time_etl(dict(env, FULL_REBUILD='true'), 'a full rebuild, with readers')[0]
    finally:
        done.set()
        for reader in readers:
            reader.join()
    print(f'    longest read: {waits}')
    return seconds, waits


def settle(env: dict) -> float:
    """Vacuums and analyzes the tables that autovacuum would take care of after a run (those with rows inserted,
    changed or deleted since their last vacuum or analyze), at once; returns the seconds. Done before the next
    measurement, so that no measurement shares the cores with autovacuum's work on the run before."""
    tables = psql(env, env['DWH_DB'], """
SELECT string_agg(format('%I.%I', schemaname, relname), ', ') FROM pg_stat_user_tables
WHERE n_ins_since_vacuum > 0 OR n_dead_tup > 0 OR n_mod_since_analyze > 0""")
    start = time.perf_counter()
    if tables:
        psql(env, env['DWH_DB'], f'VACUUM (ANALYZE) {tables}')
    return time.perf_counter() - start


def node_times(env: dict, run_id: int) -> list[tuple[str, bool, float]]:
    """(node path, is pipeline, seconds) of every node of a run."""
    rows = psql(env, env['MARA_DB'], f"""
SELECT array_to_string(node_path, '/'), is_pipeline, extract(EPOCH FROM end_time - start_time)
FROM data_integration_node_run WHERE run_id = {run_id} AND node_path <> '{{}}' ORDER BY start_time""")
    return [(path, flag == 't', float(seconds))
            for path, flag, seconds in (line.split('|') for line in rows.splitlines())]


def database_size(env: dict) -> tuple[int, list[tuple[str, int]]]:
    """The size of the dwh database, and of each of its schemas (bytes)."""
    total = int(psql(env, env['DWH_DB'], 'SELECT pg_database_size(current_database())'))
    rows = psql(env, env['DWH_DB'], """
SELECT nspname, sum(pg_total_relation_size(pg_class.oid))::BIGINT
FROM pg_class JOIN pg_namespace ON pg_namespace.oid = relnamespace
WHERE relkind IN ('r', 'm') AND nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
GROUP BY 1 ORDER BY 2 DESC""")
    return total, [(schema, int(size)) for schema, size in (line.split('|') for line in rows.splitlines())]


def timed_sql(env: dict, statements: list[str]) -> float:
    """Seconds of the last statement, run after the others in one psql session."""
    script = ''.join(f'{statement};\n' for statement in statements[:-1]) + f'\\timing on\n{statements[-1]};\n'
    result = subprocess.run(['psql', '--no-psqlrc', '-v', 'ON_ERROR_STOP=1', '-q', '-d', env['DWH_DB']],
                            input=script, env=psql_env(env), capture_output=True, text=True, check=True)
    milliseconds = [float(line.split()[1]) for line in result.stdout.splitlines() if line.startswith('Time: ')]
    return milliseconds[-1] / 1000


def timed_block(env: dict, setup: list[str], block: list[str], cleanup: list[str]) -> float:
    """Seconds of the statements `block`, each committed (autocommit), after `setup` and before `cleanup`."""
    connection = connect(env)
    try:
        with connection.cursor() as cursor:
            for statement in setup:
                cursor.execute(statement)
            start = time.perf_counter()
            for statement in block:
                cursor.execute(statement)
            seconds = time.perf_counter() - start
            for statement in cleanup:
                cursor.execute(statement)
    finally:
        connection.close()
    return seconds


def psql_env(env: dict) -> dict:
    """`env` with the server's connection parameters as libpq's environment variables (PGHOST, ...)."""
    return dict(env, **{f'PG{name.upper()}': value for name, value in server().items()})


def timed_copy(env: dict, path: pathlib.Path, freeze: bool) -> float:
    """Seconds of the pipelines' load of one file into a table emptied in the same transaction, with or without
    FREEZE, and of the VACUUM (FREEZE) that autovacuum eventually does to every table (anti-wraparound): rows
    loaded frozen need none of its writes."""
    from app import data_sets
    columns = ', '.join(data_sets.PYPI.versions[0].column_names)
    options = data_sets.copy_options() + (', FREEZE true' if freeze else '')
    command = (f"gunzip -c {path} | psql --no-psqlrc -q -v ON_ERROR_STOP=1 -d {env['DWH_DB']} "
               "-c 'CREATE TEMPORARY TABLE loaded (LIKE pypi_data.downloads)' -c 'BEGIN' -c 'TRUNCATE loaded' "
               f"-c \"COPY loaded ({columns}) FROM STDIN WITH ({options})\" -c 'COMMIT' -c 'VACUUM (FREEZE) loaded'")
    start = time.perf_counter()
    subprocess.run(['bash', '-o', 'pipefail', '-c', command], env=psql_env(env), check=True, capture_output=True)
    return time.perf_counter() - start


def speed_tricks(env: dict, staging: pathlib.Path, repeat: int) -> list[tuple[str, float, float]]:
    """(trick, seconds with it, seconds without it) of the speed tricks that the pipelines use, in the warehouse
    just built: on one day of the benchmark volume unless the trick says otherwise (medians)."""
    from app import data_sets
    one_day = f'{day(1):%Y%m%d}'
    aggregate = ('EXPLAIN ANALYZE SELECT project_id, day_id, sum(number_of_downloads), '
                 'hll_add_agg(hll_hash_text(project_version_name)) '
                 'FROM (SELECT hashtextextended(project, 0) AS project_id, day_id, number_of_downloads, '
                 "coalesce(project_version, 'Unknown') AS project_version_name "
                 f'FROM pypi_data.downloads_{one_day}) AS staged GROUP BY project_id, day_id')

    def attach(check: bool) -> float:
        return timed_sql(env, [
            'BEGIN',
            'CREATE TABLE public.attach_demo (LIKE pypi_dim.download_counts) PARTITION BY LIST (day_fk)',
            'CREATE TABLE public.attach_demo_day (LIKE pypi_dim.download_counts)',
            f'INSERT INTO public.attach_demo_day SELECT * FROM pypi_dim.download_counts_{one_day}',
            f'ALTER TABLE public.attach_demo_day ADD CHECK (day_fk = {one_day})' if check else 'SELECT 1',
            f'ALTER TABLE public.attach_demo ATTACH PARTITION public.attach_demo_day FOR VALUES IN ({one_day})'])

    # repo.sql: the distinct repositories of all days (almost every row is one of its own)
    repositories = ('SELECT count(*) FROM (SELECT DISTINCT '
                    '  hashtextextended(coalesce("user", \'\') || \'/\' || repository, 0), repository, '
                    '  coalesce("user", \'Unknown\') '
                    'FROM github_data.repo_activity WHERE repository IS NOT NULL ORDER BY 1) AS repo')
    # util.publish_members: the members of a day looked up in gh_dim.repo
    day_members = ('CREATE TEMPORARY TABLE day_repo AS SELECT * FROM gh_dim.repo '
                   f'WHERE repo_id IN (SELECT repo_fk FROM gh_dim.repo_activity_{one_day})')
    lookup = 'WITH member AS MATERIALIZED ({}) SELECT count(*) FROM member WHERE (old).repo_id IS NULL'
    by_subquery = lookup.format('SELECT new, (SELECT old FROM gh_dim.repo AS old WHERE old.repo_id = new.repo_id) '
                                'AS old FROM day_repo AS new')
    by_join = lookup.format('SELECT new, old FROM day_repo AS new LEFT JOIN gh_dim.repo AS old USING (repo_id)')

    # util.check_loaded_files: is a key in a file twice? The distinct hashes of each day's keys against their rows,
    # or the keys grouped (as the gate did before)
    key_hash = 'hashtextextended(concat_ws(E\'\\t\', "user", repository), 0)'
    distinct_hashes = ('SELECT sum(duplicates) FROM github_data.published_day AS planned, LATERAL ('
                       f'  SELECT count(*) - count(DISTINCT {key_hash}) AS duplicates '
                       '  FROM github_data.repo_activity AS loaded WHERE loaded.day_id = planned.day_id) AS day')
    grouped_keys = ('SELECT count(*) FROM (SELECT day_id FROM github_data.repo_activity '
                    'GROUP BY day_id, "user", repository HAVING count(*) > 1) AS duplicate')

    # util.empty_day_partitions: 5 days of pypi's flat data set, inserted into a table emptied in the same
    # transaction (no WAL with wal_level = minimal; the file is synced at commit), or into one created before
    five_days = ('INSERT INTO public.wal_demo SELECT * FROM pypi_dim.download_counts_data_set '
                 f"WHERE \"Date\" BETWEEN '{day(1)}' AND '{day(5)}'")
    wal_demo = ['DROP TABLE IF EXISTS public.wal_demo',
                'CREATE TABLE public.wal_demo (LIKE pypi_dim.download_counts_data_set)']

    # util.delete_unreferenced: the repositories of a day deleted from gh_dim.repo (in a transaction rolled back;
    # the foreign keys' checks skipped, as there)
    unreferenced = ['BEGIN', 'SET LOCAL session_replication_role = replica',
                    'CREATE TEMPORARY TABLE unreferenced ON COMMIT DROP AS '
                    f'SELECT DISTINCT repo_fk AS key FROM gh_dim.repo_activity_{one_day}',
                    'ANALYZE unreferenced']
    delete_repos = 'DELETE FROM gh_dim.repo WHERE repo_id {}'

    # the staging views: the date of each row from its day id (YYYYMMDD), taken apart or parsed as text
    one_process = 'SET max_parallel_workers_per_gather = 0'
    count_dates = 'SELECT count({}) FROM github_data.repo_activity'

    path = data_sets.PYPI.path(staging, day(1), data_sets.PYPI.versions[0])
    measured = [
        ('hll aggregate over sorted groups (`enable_hashagg = off`)',
         lambda: timed_sql(env, ['SET enable_hashagg = off', aggregate]),
         lambda: timed_sql(env, ['SET enable_hashagg = on', aggregate])),
        ('COPY FREEZE into a table emptied in the same transaction, then the VACUUM (FREEZE) that every table '
         'gets eventually',
         lambda: timed_copy(env, path, True), lambda: timed_copy(env, path, False)),
        ('attaching a day partition whose CHECK implies its bound',
         lambda: attach(True), lambda: attach(False)),
        (f'the distinct repositories of all {FULL_DAYS} days by sorting (`enable_hashagg = off`)',
         lambda: timed_sql(env, ['SET enable_hashagg = off', repositories]),
         lambda: timed_sql(env, ['SET enable_hashagg = on', repositories])),
        ("a day's repositories looked up in the dimension by a subquery (index), not a join",
         lambda: timed_sql(env, [day_members, 'ANALYZE day_repo', by_subquery]),
         lambda: timed_sql(env, [day_members, 'ANALYZE day_repo', by_join])),
        (f'the check for duplicate keys in all {FULL_DAYS} GitHub files: distinct key hashes counted per day, '
         'not the keys grouped',
         lambda: timed_sql(env, [distinct_hashes]),
         lambda: timed_sql(env, ['SET enable_partitionwise_aggregate = on', grouped_keys])),
        ('5 days of the PyPI flat data set inserted without WAL (table emptied in the same transaction), the sync '
         'at commit included',
         lambda: timed_block(env, wal_demo, ['BEGIN', 'TRUNCATE public.wal_demo', five_days, 'COMMIT'],
                             wal_demo[:1]),
         lambda: timed_block(env, wal_demo, [five_days], wal_demo[:1])),
        ("a day's repositories deleted from the dimension by an array of their keys (`= ANY`), not "
         '`IN (SELECT ...)`',
         lambda: timed_block(env, unreferenced, [delete_repos.format('= ANY (ARRAY(SELECT key FROM unreferenced))')],
                             ['ROLLBACK']),
         lambda: timed_block(env, unreferenced, [delete_repos.format('IN (SELECT key FROM unreferenced)')],
                             ['ROLLBACK'])),
        (f'the dates of the rows of all {FULL_DAYS} GitHub files from their day ids by `make_date`, not `to_date`',
         lambda: timed_sql(env, [one_process, count_dates.format('make_date(day_id / 10000, day_id / 100 % 100, '
                                                                 'day_id % 100)')]),
         lambda: timed_sql(env, [one_process, count_dates.format("to_date(day_id::TEXT, 'YYYYMMDD')")]))]
    return [(name, statistics.median(with_it() for _ in range(repeat)),
             statistics.median(without() for _ in range(repeat))) for name, with_it, without in measured]


def add_day(env: dict, staging: pathlib.Path, data_dir: pathlib.Path, number: int, repeat: int) -> dict:
    """Adds day `number` `repeat` times, taking it out in between; returns the seconds and the last run's nodes."""
    seconds, core_seconds, removals = [], [], []
    for attempt in range(repeat):
        settle(env)
        place(staging, data_dir, [number])
        (measured, run_id), cpu = with_cpu(lambda: time_etl(env, f'adding day {number} to {number - 1} days'))
        seconds.append(measured)
        core_seconds.append(cpu)
        nodes = node_times(env, run_id)
        if attempt < repeat - 1:
            take_out(data_dir, [number])
            settle(env)
            removals.append(time_etl(env, f'taking day {number} out again')[0])
    return {'seconds': seconds, 'median': statistics.median(seconds), 'cpu': statistics.median(core_seconds),
            'nodes': nodes, 'removals': removals}


def measure(staging: pathlib.Path, args: argparse.Namespace) -> dict:
    data_dir = pathlib.Path(tempfile.mkdtemp(prefix='benchmark-data-'))
    env = benchmark_env(data_dir)
    results = {'load_before': os.getloadavg()[0]}
    try:
        print('==> Raw COPY')
        results['copy_full'], results['copy_full_cpu'] = time_raw_copy(
            env, files_of(staging, range(1, FULL_DAYS + 1)))
        copies_of_day = [time_raw_copy(env, files_of(staging, [FULL_DAYS + 1])) for _ in range(args.repeat)]
        results['copy_day'] = statistics.median(seconds for seconds, _ in copies_of_day)
        results['copy_day_cpu'] = statistics.median(cpu for _, cpu in copies_of_day)
        print(f"    {FULL_DAYS} days: {results['copy_full']:.2f} s, one day: {results['copy_day']:.2f} s")

        print(f'==> {FULL_DAYS} days, from scratch')
        fresh_databases(env)
        place(staging, data_dir, range(1, FULL_DAYS + 1))
        (results['full'], run_id), results['full_cpu'] = with_cpu(
            lambda: time_etl(env, f'full build of {FULL_DAYS} days'))
        results['full_nodes'] = node_times(env, run_id)
        results['vacuum'] = settle(env)
        print(f"    the vacuum and analyze after it: {results['vacuum']:.2f} s")
        results['size'] = database_size(env)
        results['tricks'] = speed_tricks(env, staging, args.repeat)
        empty_runs = [with_cpu(lambda: time_etl(env, 'a run with nothing to do')) for _ in range(args.repeat)]
        results['empty'] = statistics.median(seconds for (seconds, _), _ in empty_runs)
        results['empty_cpu'] = statistics.median(cpu for _, cpu in empty_runs)
        results['adds'] = {FULL_DAYS: add_day(env, staging, data_dir, FULL_DAYS + 1, args.repeat)}
        settle(env)
        results['rebuild'], results['reader_waits'] = time_rebuild_with_readers(env)

        print('==> 10 and 60 days of history')
        shutil.rmtree(data_dir)
        data_dir.mkdir()
        fresh_databases(env)
        place(staging, data_dir, range(1, HISTORIES[0] + 1))
        time_etl(env, f'full build of {HISTORIES[0]} days')
        settle(env)
        results['adds'][HISTORIES[0]] = add_day(env, staging, data_dir, HISTORIES[0] + 1, args.repeat)
        place(staging, data_dir, range(HISTORIES[0] + 2, HISTORIES[-1] + 1))
        results['bulk'] = time_etl(env, f'adding days {HISTORIES[0] + 2}..{HISTORIES[-1]} in one run')[0]
        settle(env)
        results['adds'][HISTORIES[-1]] = add_day(env, staging, data_dir, HISTORIES[-1] + 1, args.repeat)
        results['size_60'] = database_size(env)
    finally:
        drop_databases(env, env['DWH_DB'], env['MARA_DB'])
        shutil.rmtree(data_dir, ignore_errors=True)
    results['load_after'] = os.getloadavg()[0]
    return results


# ---------------------------------------------------------------- report

def machine() -> list[str]:
    cpu = next((line.split(':', 1)[1].strip() for line in open('/proc/cpuinfo') if line.startswith('model name')), '?')
    memory = next((int(line.split()[1]) // 1024 // 1024 for line in open('/proc/meminfo')
                   if line.startswith('MemTotal')), '?')
    env = benchmark_env(pathlib.Path('.'))
    server = psql(env, 'postgres', 'SHOW server_version')
    settings = psql(env, 'postgres', "SELECT string_agg(name || ' = ' || current_setting(name), ', ' ORDER BY name) "
                                     "FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'wal_level', "
                                     "'synchronous_commit', 'max_parallel_workers_per_gather')")
    return [f'- {os.cpu_count()} cores (nproc), {cpu}, {memory} GB RAM, {platform.system()} {platform.release()}',
            f'- PostgreSQL {server}: {settings}',
            f'- Python {platform.python_version()}, MAX_PARALLEL_TASKS at its default']


def megabytes(size: float) -> str:
    return f'{size / 1024 / 1024:.0f} MB'


def seconds_list(seconds: list[float]) -> str:
    """'1.2, 3.4 s', or what there is to say about no measurement (--repeat 1 takes no day out)."""
    return f"{', '.join(f'{s:.1f}' for s in seconds)} s" if seconds else 'not measured'


def verdict(ok: bool) -> str:
    return 'yes' if ok else '**no**'


def report(args: argparse.Namespace, results: dict) -> str:
    adds = {history: results['adds'][history] for history in HISTORIES}
    add_30 = adds[FULL_DAYS]['median']
    per_day = results['size'][0] / FULL_DAYS
    copy_budget = ADD_DAY_OF_COPY * results['copy_day'] + results['empty']
    lines = [
        '# Warehouse benchmark',
        '',
        f'Written by `make benchmark` (`.scripts/benchmark.py`) on {datetime.datetime.now():%Y-%m-%d %H:%M}; '
        f"load average {results['load_before']:.2f} before, {results['load_after']:.2f} after.",
        '',
        '## Machine',
        '',
        *machine(),
        '',
        '## Data',
        '',
        f'- {max(HISTORIES) + 1} days from {FIRST_DAY}, {args.pypi_rows} PyPI and {args.github_rows} GitHub rows per '
        f'day (seed {args.seed}, `app.sample_data`)',
        '',
        '## Results',
        '',
        '| measure | value | target | met |',
        '|---|---|---|---|',
        f"| raw COPY of the {FULL_DAYS} days' files | {results['copy_full']:.1f} s | | |",
        f"| raw COPY of one day's two files (median) | {results['copy_day']:.2f} s | | |",
        f"| full build of {FULL_DAYS} days | {results['full']:.1f} s = {results['full'] / results['copy_full']:.2f} x "
        f'COPY | at most {FULL_BUILD_OF_COPY} x COPY | '
        f"{verdict(results['full'] <= FULL_BUILD_OF_COPY * results['copy_full'])} |",
        f"| the vacuum and analyze that autovacuum does after the full build, at once | {results['vacuum']:.1f} s "
        f"= {results['vacuum'] / results['copy_full']:.2f} x COPY | | |",
        f"| a run with nothing to do (median) | {results['empty']:.1f} s | | |",
        f'| adding day {FULL_DAYS + 1} (median) | {add_30:.1f} s = {add_30 / results["full"]:.3f} x the full build | '
        f'at most {ADD_DAY_OF_FULL_BUILD} x | {verdict(add_30 <= ADD_DAY_OF_FULL_BUILD * results["full"])} |',
        f'| the same, against COPY | {add_30:.1f} s; {ADD_DAY_OF_COPY} x COPY of the day + the empty run = '
        f'{copy_budget:.1f} s | at most that | {verdict(add_30 <= copy_budget)} |',
        f'| the longest that a query of one dimension member waited during a full rebuild of the {FULL_DAYS + 1} '
        f"days ({results['rebuild']:.1f} s) | "
        + ', '.join(f'{name}: {wait}' for name, wait in results['reader_waits'].items()) + ' | | |',
        f'| database size after the full build | {megabytes(results["size"][0])} = {megabytes(per_day)} per day | '
        f'at most {MEGABYTES_PER_DAY} MB per day | {verdict(per_day <= MEGABYTES_PER_DAY * 1024 * 1024)} |',
        '',
        '### CPU work: the busy core-seconds of the machine meanwhile',
        '',
        f'A run can be no faster than its core-seconds divided by the {os.cpu_count()} cores; the raw COPY runs '
        '`zcat`, `psql` and the server side by side.',
        '',
        '| measure | busy core-seconds | ratio | at best on these cores |',
        '|---|---|---|---|',
        f"| raw COPY of the {FULL_DAYS} days' files | {results['copy_full_cpu']:.1f} | 1 | |",
        f"| full build of {FULL_DAYS} days | {results['full_cpu']:.1f} | "
        f"{results['full_cpu'] / results['copy_full_cpu']:.2f} x the COPY's | "
        f"{results['full_cpu'] / os.cpu_count():.1f} s = "
        f"{results['full_cpu'] / os.cpu_count() / results['copy_full']:.2f} x the COPY's seconds |",
        f"| raw COPY of one day's two files (median) | {results['copy_day_cpu']:.2f} | 1 | |",
        f"| a run with nothing to do (median) | {results['empty_cpu']:.2f} | | "
        f"{results['empty_cpu'] / os.cpu_count():.1f} s |",
        f"| adding day {FULL_DAYS + 1} (median) | {adds[FULL_DAYS]['cpu']:.2f} | "
        f"{(adds[FULL_DAYS]['cpu'] - results['empty_cpu']) / results['copy_day_cpu']:.1f} x the day's COPY, "
        f"beyond the empty run | {adds[FULL_DAYS]['cpu'] / os.cpu_count():.1f} s |",
        '',
        '### Speed tricks, each with what it saves (medians; one day of the benchmark volume unless it says otherwise)',
        '',
        '| trick | with it | without it |',
        '|---|---|---|',
        *(f'| {name} | {with_it:.3f} s | {without:.3f} s |' for name, with_it, without in results['tricks']),
        '',
        '### Adding a day: the cost must stay flat as the history grows',
        '',
        '| days in the warehouse | adding one day (median) | each measurement | taking it out again |',
        '|---|---|---|---|',
        *(f"| {history} | {add['median']:.1f} s | {seconds_list(add['seconds'])} | {seconds_list(add['removals'])} |"
          for history, add in adds.items()),
        '',
        f"Ratio of the 60-day to the 10-day median: {adds[60]['median'] / adds[10]['median']:.2f}. "
        f"Adding days {HISTORIES[0] + 2}..{HISTORIES[-1]} in one run took {results['bulk']:.1f} s; "
        f"the warehouse of {HISTORIES[-1] + 1} days is {megabytes(results['size_60'][0])}.",
        '',
        '### Database size per schema after the full build',
        '',
        '| schema | size |',
        '|---|---|',
        *(f'| {schema} | {megabytes(size)} |' for schema, size in results['size'][1]),
        '',
        "### Pipelines and top tasks of the full build, from mara's run tables",
        '',
        '| node | seconds |',
        '|---|---|',
        *(f'| {path} | {seconds:.2f} |' for path, is_pipeline, seconds in results['full_nodes']
          if is_pipeline and '/' not in path),
        *(f'| {path} | {seconds:.2f} |' for path, seconds in sorted(
            ((path, seconds) for path, is_pipeline, seconds in results['full_nodes'] if not is_pipeline),
            key=lambda node: -node[1])[:10]),
        '',
        f'### Tasks of the last run that added day {FULL_DAYS + 1}',
        '',
        '| node | seconds |',
        '|---|---|',
        *(f'| {path} | {seconds:.2f} |' for path, is_pipeline, seconds in adds[FULL_DAYS]['nodes'] if not is_pipeline),
        '',
    ]
    return '\n'.join(lines)


def main() -> None:
    args = parse_arguments()
    staging = pathlib.Path(tempfile.mkdtemp(prefix='benchmark-staging-'))
    try:
        generate(staging, args)
        results = measure(staging, args)
    finally:
        shutil.rmtree(staging)
    text = report(args, results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)
    print(f'==> Written to {args.output}')


if __name__ == '__main__':
    main()
