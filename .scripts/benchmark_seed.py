"""The seed's scale (`make benchmark-seed`): the seed's 485 days, 2017-01-01 to 2018-04-30, at the seed's volume
(330k PyPI and 315k GitHub rows a day, about 7 MB of gzipped files, split as the benchmark volume), built on one Citus
node (columnar storage), against a 30-day warehouse of the same volume on the same cluster. Writes
docs/benchmarks/seed.md, after each phase (a stopped run leaves the report of the phases it finished).

Everything lives in one folder (SEED_BENCHMARK_DIR, default .benchmark-seed in the project, git-ignored): the
generated files, a PostgreSQL cluster of its own (started by .scripts/postgres.sh citus on a port of its own, with
docs/postgresql.conf), and state.json with the figures of each finished phase. A rerun goes on where the last one
stopped: generated files are kept, finished phases are not measured again, and an interrupted phase is measured
again from its start (its databases made anew). `--fresh` starts over; `--remove` takes the folder away.

Phases:
1. generate the 486 days (the 485 and one more to add);
2. the raw COPY of 30 days' files (`zcat | psql COPY` into unindexed tables), the baseline of the speeds;
3. the 30-day warehouse (databases seed30_*): its full build, adding a day and taking it out (median of --repeat);
4. the 485-day warehouse (databases seed_*): its full build in one run, the peak memory of the ETL's processes and
   PostgreSQL's temporary files meanwhile, then the vacuum and analyze that autovacuum does, and its size;
5. adding day 486 and taking it out (median of --repeat);
6. the analyst queries over the last month, median of 5 warm runs each;
7. the web UI: `make load-test`'s 20 clients for 30 s against the 485-day warehouse, while the ETL runs.

    .venv/bin/python .scripts/benchmark_seed.py [--days 485] [--repeat 3] [--fresh | --remove]
"""

import argparse
import datetime
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import benchmark
import benchmark_storage
import load_test as web_load_test

PROJECT_ROOT = benchmark.PROJECT_ROOT
FIRST_DAY = datetime.date(2017, 1, 1)
SEED_DAYS = 485  # 2017-01-01 to 2018-04-30, the seed's range
BASELINE_DAYS = 30
SEED_PYPI_ROWS, SEED_GITHUB_ROWS = 330_000, 315_000  # 1.5 x the benchmark volume: about 7 MB of files a day
RSS_SAMPLE_SECONDS = 0.5
# Targets of issue 20.
MAX_SIZE_GB = 10
MAX_FULL_BUILD_SECONDS = 3600
MAX_WORK_PER_ROW_OF_BASELINE = 1.5  # core-seconds per million rows, 485 days against 30
MAX_CHANGE_OF_BASELINE = 1.5  # adding or taking out a day at 485 days of history against at 30
MAX_README_QUERY_SECONDS = 0.1
MAX_MONTH_QUERY_SECONDS = 2
MAX_ETL_PROCESS_GB = 2
MAX_TEMP_FILES_GB = 5
MAX_PAGE_P95_MS = 300

GB = 1024 ** 3
# The seed's own figures first, the 30-day warehouse that the ratios compare with last.
PHASES = ('generate', 'raw_copy', 'full_build', 'changes', 'queries', 'web', 'baseline')


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--days', type=int, default=SEED_DAYS, help=f'days of the big warehouse ({SEED_DAYS})')
    parser.add_argument('--pypi-rows', type=int, default=SEED_PYPI_ROWS)
    parser.add_argument('--github-rows', type=int, default=SEED_GITHUB_ROWS)
    parser.add_argument('--repeat', type=int, default=3, help='measurements of adding and taking out a day')
    parser.add_argument('--folder', type=pathlib.Path,
                        default=pathlib.Path(os.environ.get('SEED_BENCHMARK_DIR', PROJECT_ROOT / '.benchmark-seed')))
    parser.add_argument('--output', type=pathlib.Path, default=PROJECT_ROOT / 'docs' / 'benchmarks' / 'seed.md')
    parser.add_argument('--until', choices=PHASES, default=PHASES[-1], help='stop after this phase')
    parser.add_argument('--fresh', action='store_true', help='start over: remove the folder first')
    parser.add_argument('--remove', action='store_true', help='stop the cluster and remove the folder, then exit')
    return parser.parse_args()


def day(number: int) -> datetime.date:
    return benchmark.day(number, FIRST_DAY)


# ---------------------------------------------------------------- the folder: files, cluster, state

class Folder:
    def __init__(self, root: pathlib.Path):
        self.root, self.files, self.state_file = root, root / 'files', root / 'state.json'

    def state(self) -> dict:
        return json.loads(self.state_file.read_text()) if self.state_file.exists() else {}

    def save(self, state: dict) -> None:
        self.state_file.with_suffix('.tmp').write_text(json.dumps(state, indent=1))
        self.state_file.with_suffix('.tmp').replace(self.state_file)

    def cluster_settings(self, state: dict) -> dict:
        if 'port' not in state:
            sys.path.insert(0, str(PROJECT_ROOT))
            from tests.support.cluster import free_ports
            state['port'] = free_ports(1)
            self.save(state)
        return {'POSTGRES_HOST': '', 'POSTGRES_PASSWORD': '', 'POSTGRES_LOCAL_DIR': str(self.root / 'pg'),
                'POSTGRES_PORT': str(state['port']), 'CITUS_WORKERS': '0'}


def data_files(root: pathlib.Path, numbers) -> list[pathlib.Path]:
    return benchmark.files_of(root, numbers, FIRST_DAY)


def warehouse_env(folder: Folder, name: str, days: int) -> dict:
    """The settings of the runs of one warehouse: its databases, its DATA_DIR of hard links, time.day with room for
    one more day."""
    data_dir = folder.root / f'data-{name}'
    return dict(os.environ, DWH_DB=f'{name}_dwh', MARA_DB=f'{name}_mara', DATA_DIR=str(data_dir),
                FIRST_DATE=f'{day(1)}', LAST_DATE=f'{day(days + 1)}')


def place(folder: Folder, env: dict, numbers) -> None:
    """Hard-links the generated files of the days `numbers` into the warehouse's DATA_DIR."""
    benchmark.place(folder.files, pathlib.Path(env['DATA_DIR']), numbers, FIRST_DAY)


def take_out(env: dict, numbers) -> None:
    benchmark.take_out(pathlib.Path(env['DATA_DIR']), numbers, FIRST_DAY)


# ---------------------------------------------------------------- measured runs

def _process_tree_rss(root_pid: int) -> int:
    """The largest resident memory of one process in the tree of `root_pid` (bytes; 0 when it is gone)."""
    import psutil
    try:
        root = psutil.Process(root_pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    largest = 0
    for process in processes:
        try:
            largest = max(largest, process.memory_info().rss)
        except psutil.NoSuchProcess:
            pass
    return largest


def temp_bytes(env: dict) -> int:
    return int(benchmark.psql(env, 'postgres', 'SELECT sum(temp_bytes) FROM pg_stat_database'))


def run_etl(env: dict, label: str) -> dict:
    """A `flask mara-pipelines run`: seconds, busy core-seconds, the largest ETL process, PostgreSQL's temporary
    files meanwhile, and its run id. Prints the run's progress lines as they come."""
    temp_before, cores_before = temp_bytes(env), benchmark.busy_core_seconds()
    start = time.perf_counter()
    process = subprocess.Popen([str(PROJECT_ROOT / '.venv' / 'bin' / 'flask'), '--app', 'app.app', 'mara-pipelines',
                                'run', '--disable-colors'], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.wait(RSS_SAMPLE_SECONDS):
            peak[0] = max(peak[0], _process_tree_rss(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = []
    for line in process.stdout:
        output.append(line)
        if 'Progress: ' in line:
            print(f'    {time.strftime("%H:%M:%S")} {label}: {line.split("Progress: ", 1)[1].strip()}', flush=True)
    process.wait()
    done.set()
    sampler.join()
    seconds = time.perf_counter() - start
    if process.returncode:
        log = folder_of(env) / f'failed-run-{int(time.time())}.log'
        log.write_text(''.join(output))
        errors = [line.rstrip() for line in output if 'ERROR:' in line or 'Error' in line]
        sys.exit(f'{label}: the ETL failed; its output is in {log}. Its errors:\n' + '\n'.join(errors[:20]))
    result = {'seconds': seconds, 'core_seconds': benchmark.busy_core_seconds() - cores_before,
              'peak_rss': peak[0], 'temp_bytes': temp_bytes(env) - temp_before,
              'run_id': int(benchmark.psql(env, env['MARA_DB'], 'SELECT max(run_id) FROM data_integration_run'))}
    print(f'    {label}: {seconds:.1f} s, {result["core_seconds"]:.0f} core-s, largest process '
          f'{result["peak_rss"] / 2 ** 20:.0f} MB (load average {os.getloadavg()[0]:.2f})', flush=True)
    return result


def folder_of(env: dict) -> pathlib.Path:
    return pathlib.Path(env['DATA_DIR']).parent


def built(folder: Folder, env: dict, days: int, label: str) -> dict:
    """The full build of `days` days, the vacuum and analyze after it, the size and the storages."""
    benchmark.fresh_databases(env)
    take_out(env, [days + 1])
    place(folder, env, range(1, days + 1))
    rows = sum(count_rows(path) for path in data_files(folder.files, range(1, days + 1)))
    result = run_etl(env, label)
    result['settle'] = benchmark.settle(env)
    result['size'], result['schemas'] = benchmark.database_size(env)
    result['storages'] = benchmark_storage.storages(env)
    result['rows'] = rows
    return result


def count_rows(path: pathlib.Path) -> int:
    """Data rows of a gzipped file (without its header line)."""
    with subprocess.Popen(['zcat', str(path)], stdout=subprocess.PIPE) as zcat:
        lines = sum(chunk.count(b'\n') for chunk in iter(lambda: zcat.stdout.read(1 << 20), b''))
    return lines - 1


def changes(folder: Folder, env: dict, days: int, repeat: int) -> dict:
    """Adding day `days + 1` and taking it out again, `repeat` times each: the medians and all measurements."""
    adds, removals = [], []
    for _ in range(repeat):
        place(folder, env, [days + 1])
        adds.append(run_etl(env, f'adding day {days + 1}')['seconds'])
        benchmark.settle(env)
        take_out(env, [days + 1])
        removals.append(run_etl(env, f'taking day {days + 1} out')['seconds'])
        benchmark.settle(env)
    return {'add': statistics.median(adds), 'remove': statistics.median(removals), 'adds': adds,
            'removals': removals}


def month_queries(days: int) -> dict[str, str]:
    """The analyst queries of issue 20 over the last 30 days of the warehouse. The month is given as day ids of
    the facts' partition key `day_fk`, so that PostgreSQL reads only its 30 day partitions (docs/warehouse.md); a
    filter on `time.day._date` read all of them (12.3 s against 2 s allowed at 485 days)."""
    first, last = day(days - 29), day(days)
    month = (f"JOIN time.day ON day_id = day_fk "
             f"WHERE day_fk BETWEEN {first.strftime('%Y%m%d')} AND {last.strftime('%Y%m%d')}")
    return {
        'README query': benchmark_storage.QUERIES['README query'],
        f'top 20 projects by downloads, {first} to {last}': f"""
SELECT project_name, sum(number_of_downloads) FROM pypi_dim.daily_project_downloads
JOIN pypi_dim.project ON project_id = project_fk {month} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20""",
        f'downloads per installer per day, {first} to {last}': f"""
SELECT _date, installer_name, sum(number_of_downloads) FROM pypi_dim.download_counts
JOIN pypi_dim.installer ON installer_id = installer_fk {month} GROUP BY 1, 2 ORDER BY 1, 2""",
    }


def load_test(folder: Folder, env: dict) -> dict:
    """`make load-test` against the big warehouse: its report's table, and the HTML's p95 of all pages, of the
    pipeline page and of the Runs page."""
    out = folder.root / 'load.md'
    result = subprocess.run([str(PROJECT_ROOT / '.venv' / 'bin' / 'python'), '.scripts/load_test.py', '--out',
                             str(out)], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    text = out.read_text() if out.exists() else ''
    if result.returncode or not text:
        sys.exit(f'the load test failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}')
    table = [line for line in text.splitlines() if line.startswith('|')]

    def p95_ms(label: str) -> float:
        return float(next(line for line in table if line.startswith(f'| {label} |')).split('|')[5].split()[0])

    return {'table': table, 'page_p95_ms': p95_ms('page HTML'),
            'pipeline_p95_ms': p95_ms(web_load_test.page_row(web_load_test.PIPELINE_PAGE)),
            'runs_p95_ms': p95_ms(web_load_test.page_row(web_load_test.RUNS_PAGE)),
            'summary': next(line for line in text.splitlines() if line.startswith('**'))}


# ---------------------------------------------------------------- phases

def phases(folder: Folder, args: argparse.Namespace) -> dict:
    small = warehouse_env(folder, 'seed30', BASELINE_DAYS)
    big = warehouse_env(folder, 'seed', args.days)

    def generate() -> dict:
        from app.sample_data import generate as generate_files
        from app.sample_data import generator
        print(f'==> Generating {args.days + 1} days of {args.pypi_rows} PyPI and {args.github_rows} GitHub rows')
        summary = generate_files(folder.files, day(1), args.days + 1, args.pypi_rows, args.github_rows,
                                 generator.DEFAULT_SEED)
        made = [result for result in summary.files if not result.skipped]
        return {'seconds': summary.seconds, 'files_made': len(made),
                'bytes': sum(path.stat().st_size for path in data_files(folder.files, range(1, args.days + 1))),
                'baseline_bytes': sum(path.stat().st_size
                                      for path in data_files(folder.files, range(1, BASELINE_DAYS + 1)))}

    def raw_copy() -> dict:
        seconds, core_seconds = benchmark.time_raw_copy(small, data_files(folder.files, range(1, BASELINE_DAYS + 1)))
        return {'seconds': seconds, 'core_seconds': core_seconds}

    def baseline() -> dict:
        result = built(folder, small, BASELINE_DAYS, f'full build of {BASELINE_DAYS} days')
        result.update(changes(folder, small, BASELINE_DAYS, args.repeat))
        benchmark.drop_databases(small, small['DWH_DB'], small['MARA_DB'])  # room on the disk for the big one
        return result

    def full_build() -> dict:
        return built(folder, big, args.days, f'full build of {args.days} days')

    def big_changes() -> dict:
        return changes(folder, big, args.days, args.repeat)

    def queries() -> dict:
        return {name: benchmark_storage.timed_query(big, sql) for name, sql in month_queries(args.days).items()}

    def web() -> dict:
        return load_test(folder, big)

    return {'generate': generate, 'raw_copy': raw_copy, 'baseline': baseline, 'full_build': full_build,
            'changes': big_changes, 'queries': queries, 'web': web}


# ---------------------------------------------------------------- the report

NOT_YET = 'not measured yet'


def _gb(size: float) -> str:
    return f'{size / GB:.2f} GB'


def _verdict(ok: bool) -> str:
    return 'met' if ok else '**missed**'


def _seconds(values: list[float]) -> str:
    return ', '.join(f'{value:.1f}' for value in values)


def _query_limit(name: str) -> float:
    """The target of an analyst query, in seconds."""
    return MAX_README_QUERY_SECONDS if name == 'README query' else MAX_MONTH_QUERY_SECONDS


def _cell(phase: dict | None, value) -> str:
    return value(phase) if phase else NOT_YET


def results_table(args: argparse.Namespace, state: dict) -> list[str]:
    small = state.get('baseline')
    big = dict(state['full_build'], **state.get('changes', {})) if 'full_build' in state else None
    lines = [f'| | {BASELINE_DAYS} days | {args.days} days | target (issue 20) |', '|---|---|---|---|']

    def row(label: str, value, target: str = '', phases=(small, big)) -> None:
        lines.append(f'| {label} | {_cell(phases[0], value)} | {_cell(phases[1], value)} | {target} |')

    row('rows in the files', lambda r: f'{r["rows"]:,}')
    row('full build, one run', lambda r: f'{r["seconds"]:.0f} s', f'≤ {MAX_FULL_BUILD_SECONDS} s')
    row('its work (busy core-seconds per million rows)', lambda r: f'{r["core_seconds"] / r["rows"] * 1e6:.1f}',
        f'≤ {MAX_WORK_PER_ROW_OF_BASELINE} x that of {BASELINE_DAYS} days')
    row('largest process of the ETL (peak RSS)', lambda r: benchmark.megabytes(r['peak_rss']),
        f'≤ {MAX_ETL_PROCESS_GB} GB')
    row("PostgreSQL's temporary files during the build", lambda r: benchmark.megabytes(r['temp_bytes']),
        f'< {MAX_TEMP_FILES_GB} GB')
    row('vacuum and analyze after the build', lambda r: f'{r["settle"]:.0f} s')
    row('database size', lambda r: _gb(r['size']), f'≤ {MAX_SIZE_GB} GB')
    changed = (small, big if big and 'add' in big else None)
    row(f'adding a day (median of {args.repeat})', lambda r: f'{r["add"]:.1f} s ({_seconds(r["adds"])})',
        f'≤ {MAX_CHANGE_OF_BASELINE} x at {BASELINE_DAYS} days', changed)
    row(f'taking it out (median of {args.repeat})', lambda r: f'{r["remove"]:.1f} s ({_seconds(r["removals"])})',
        f'≤ {MAX_CHANGE_OF_BASELINE} x at {BASELINE_DAYS} days', changed)
    for name, seconds in state.get('queries', {}).items():
        limit = _query_limit(name)
        lines.append(f'| {name} (median of {benchmark_storage.QUERY_RUNS}, warm) | | {seconds * 1000:.0f} ms '
                     f'| < {limit * 1000:.0f} ms |')
    for key, what in WEB_PAGES:
        if key in state.get('web', {}):
            lines.append(f'| web UI, 20 clients while the ETL runs: {what} p95 | | {state["web"][key]:.0f} ms '
                         f'| < {MAX_PAGE_P95_MS} ms |')
    return lines


# The web phase's figures: all pages' HTML, and the two pages of issue 20's target (measured since the Runs page
# joined the load test).
WEB_PAGES = (('page_p95_ms', 'page HTML'), ('pipeline_p95_ms', 'pipeline page HTML'),
             ('runs_p95_ms', 'Runs page HTML'))


def verdicts(args: argparse.Namespace, state: dict) -> list[str]:
    small, big, found = state.get('baseline'), state.get('full_build'), []
    if big:
        found += [f'- database size at most {MAX_SIZE_GB} GB: {_gb(big["size"])}, '
                  f'{_verdict(big["size"] <= MAX_SIZE_GB * GB)}',
                  f'- full build within {MAX_FULL_BUILD_SECONDS} s: {big["seconds"]:.0f} s, '
                  f'{_verdict(big["seconds"] <= MAX_FULL_BUILD_SECONDS)}',
                  f'- largest ETL process at most {MAX_ETL_PROCESS_GB} GB: {benchmark.megabytes(big["peak_rss"])}, '
                  f'{_verdict(big["peak_rss"] <= MAX_ETL_PROCESS_GB * GB)}',
                  f'- temporary files under {MAX_TEMP_FILES_GB} GB: {benchmark.megabytes(big["temp_bytes"])}, '
                  f'{_verdict(big["temp_bytes"] < MAX_TEMP_FILES_GB * GB)}']
    if big and small:
        ratio = (big['core_seconds'] / big['rows']) / (small['core_seconds'] / small['rows'])
        found.append(f'- work per million rows at most {MAX_WORK_PER_ROW_OF_BASELINE} x that of {BASELINE_DAYS} days: '
                     f'{ratio:.2f} x, {_verdict(ratio <= MAX_WORK_PER_ROW_OF_BASELINE)}')
    if 'changes' in state and small:
        for key, what in (('add', 'adding a day'), ('remove', 'taking a day out')):
            ratio = state['changes'][key] / small[key]
            found.append(f'- {what} at {args.days} days at most {MAX_CHANGE_OF_BASELINE} x at {BASELINE_DAYS} days: '
                         f'{ratio:.2f} x, {_verdict(ratio <= MAX_CHANGE_OF_BASELINE)}')
    for name, seconds in state.get('queries', {}).items():
        limit = _query_limit(name)
        found.append(f'- {name} under {limit * 1000:.0f} ms: {seconds * 1000:.0f} ms, {_verdict(seconds < limit)}')
    for key, what in WEB_PAGES[1:]:
        if key in state.get('web', {}):
            p95 = state['web'][key]
            found.append(f'- {what} p95 under {MAX_PAGE_P95_MS} ms: {p95:.0f} ms, {_verdict(p95 < MAX_PAGE_P95_MS)}')
    return found or ['- none measured yet']


def report(args: argparse.Namespace, state: dict) -> str:
    done = [name for name in PHASES if name in state]
    lines = ["# The seed's scale: the seed's days on one Citus node", '',
             f'Written by `make benchmark-seed` (`.scripts/benchmark_seed.py --days {args.days} --repeat '
             f'{args.repeat}`) on {datetime.datetime.now():%Y-%m-%d %H:%M}. Phases done: {", ".join(done) or "none"}; '
             f'not yet: {", ".join(name for name in PHASES if name not in state) or "none"}.', '',
             '## Machine and data', '', *state.get('machine', [])]
    if 'generate' in state:
        files = state['generate']
        lines += [f'- {args.days} days, {day(1)} to {day(args.days)}, of {args.pypi_rows} PyPI and {args.github_rows} '
                  f'GitHub rows a day: {_gb(files["bytes"])} of gzipped files, '
                  f'{benchmark.megabytes(files["bytes"] / args.days)} a day (the seed: 3.5 GB, about 7 MB a day). '
                  f'Generating the {files["files_made"]} files that were missing took {files["seconds"]:.0f} s.']
    if 'raw_copy' in state:
        copy = state['raw_copy']
        lines.append(f'- Baseline: the raw COPY of the {BASELINE_DAYS} days\' files took {copy["seconds"]:.1f} s '
                     f'({copy["core_seconds"]:.0f} busy core-seconds).')
    lines += ['', '## Results', '', *results_table(args, state), '', '## Targets', '', *verdicts(args, state)]
    if 'full_build' in state:
        big = state['full_build']
        lines += ['', f'## Size per schema, {args.days} days', '', '| schema | size |', '|---|---|',
                  *[f'| `{schema}` | {benchmark.megabytes(size)} |' for schema, size in big['schemas']],
                  '', '## Storage of the day partitions', '', '| table | storage |', '|---|---|',
                  *[f'| `{table}` | {storage} |' for table, storage in big['storages'].items()]]
    if 'web' in state:
        lines += ['', f'## The web UI at {args.days} days', '', state['web']['summary'], '', *state['web']['table']]
    return '\n'.join(lines) + '\n'



def main() -> None:
    args = parse_arguments()
    folder = Folder(args.folder.resolve())
    if (args.fresh or args.remove) and folder.root.exists():
        if (folder.root / 'pg').exists():
            benchmark_storage._script(dict(os.environ, **folder.cluster_settings(folder.state())), 'stop')
        shutil.rmtree(folder.root)
        print(f'==> Removed {folder.root}')
    if args.remove:
        return
    folder.root.mkdir(parents=True, exist_ok=True)
    os.chmod(folder.root, 0o755)  # the postgres OS user must reach the cluster's folder
    state = folder.state()
    volume = {'days': args.days, 'pypi_rows': args.pypi_rows, 'github_rows': args.github_rows}
    if state.setdefault('volume', volume) != volume:
        sys.exit(f'{folder.root} holds a run of {state["volume"]}, not {volume}: rerun with --fresh to start over')
    os.environ.update(folder.cluster_settings(state))
    benchmark_storage._script(dict(os.environ), 'citus')
    state['machine'] = benchmark.machine()
    try:
        steps = phases(folder, args)
        for name in PHASES:
            if name in state:
                print(f'==> {name}: done in an earlier run')
                continue
            print(f'==> {name}', flush=True)
            state[name] = steps[name]()
            folder.save(state)
            args.output.write_text(report(args, state))
            if name == args.until:
                break
    finally:
        benchmark_storage._script(dict(os.environ), 'stop')
    print(args.output.read_text())
    print(f'==> Written to {args.output}; the files and the cluster stay in {folder.root} (--remove takes them away)')


if __name__ == '__main__':
    main()
