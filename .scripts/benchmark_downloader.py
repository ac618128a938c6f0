"""Measures the BigQuery downloader end to end against the local fake BigQuery API.

Serves ROWS generated PyPI rows for one day from tests/support/fake_bigquery.py (in its own process, so
it doesn't compete for the GIL) and measures, in the same run:
  - baseline: the real client alone, iterating `query(...).result(page_size=...)` without writing;
  - downloader: `download_data()` end to end (dry run, query, pages, the contract's gzipped file, fsync, rename);
  - memory: the downloader's peak RSS growth in fresh processes for ROWS/2 and 2*ROWS rows
    (flat memory: the growth depends on the page size, not on the number of rows).

Usage: .venv/bin/python .scripts/benchmark_downloader.py [--rows 200000] [--repeat 3]
"""

import argparse
import datetime
import multiprocessing
import os
import pathlib
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

DAY = datetime.date(2024, 1, 2)  # ROWS rows; the next two days have ROWS/2 and 2*ROWS


def days_and_row_counts(rows: int) -> dict[datetime.date, int]:
    return {DAY: rows, DAY + datetime.timedelta(days=1): rows // 2, DAY + datetime.timedelta(days=2): 2 * rows}


def generate_rows(day: datetime.date, count: int) -> list[tuple]:
    """PyPI-like rows: a few thousand projects, many versions, some NULLs."""
    rng = random.Random(42)
    day_id = int(f'{day:%Y%m%d}')
    pythons = ['3.12', '3.11', '3.10', '3.9', '3.8', '2.7', None]
    installers = ['pip', 'uv', 'poetry', 'requests', 'Browser', None]
    return [(day_id, f'project-{rng.randrange(5000)}-{rng.choice(["core", "utils", "client", "x"])}',
             f'{rng.randrange(10)}.{rng.randrange(30)}.{rng.randrange(10)}', rng.choice(pythons),
             rng.choice(installers), rng.randrange(1, 100_000))
            for _ in range(count)]


def serve(row_count: int, connection):
    """Runs the fake in a child process until the parent says stop."""
    from tests.support.fake_bigquery import FakeBigQuery
    results = {('pypi', day): generate_rows(day, count) for day, count in days_and_row_counts(row_count).items()}
    with FakeBigQuery(results, polls_until_done=0, cache_pages=True, bytes_processed=123_456_789) as fake:
        connection.send(fake.url)
        connection.recv()


def baseline(page_size: int) -> int:
    """The client alone: rows converted from the REST answers, nothing written."""
    from google.cloud import bigquery

    from app.bigquery_downloader.client import call_retry, create_client
    from app.bigquery_downloader.data_sets import PYPI
    client = create_client()
    job = client.query(PYPI.sql(DAY), job_config=bigquery.QueryJobConfig(query_parameters=PYPI.query_parameters(DAY)),
                       retry=call_retry(), timeout=60)
    count = sum(1 for _ in job.result(page_size=page_size, retry=call_retry(), timeout=60))
    client.close()
    return count


def downloader_run(data_dir: pathlib.Path, day: datetime.date = DAY) -> int:
    from app.bigquery_downloader.downloader import download_data
    for file in data_dir.rglob('*.csv.gz'):
        file.unlink()
    return download_data(['pypi'], day, day, echo=lambda *args, **kwargs: None).rows


def peak_rss_megabytes() -> float:
    # VmHWM, not ru_maxrss: ru_maxrss survives exec, so a spawned child would report the parent's peak.
    for line in pathlib.Path('/proc/self/status').read_text().splitlines():
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) / 1024
    raise RuntimeError('no VmHWM in /proc/self/status')


def peak_rss_growth(environment: dict, day: datetime.date, connection):
    """In a fresh process: (rows, MB of peak RSS added by one download)."""
    os.environ.update(environment)
    from app.bigquery_downloader import downloader  # noqa: F401  (imports are not the download's memory)
    before = peak_rss_megabytes()
    rows = downloader_run(pathlib.Path(environment['DATA_DIR']), day)
    connection.send((rows, peak_rss_megabytes() - before))


def memory_probe(day: datetime.date) -> tuple[int, float]:
    parent_end, child_end = multiprocessing.Pipe()
    environment = {key: os.environ[key] for key in ('BIGQUERY_API_ENDPOINT', 'DATA_DIR', 'BIGQUERY_TIMEOUT_SECONDS',
                                                     'GOOGLE_APPLICATION_CREDENTIALS')}
    process = multiprocessing.get_context('spawn').Process(target=peak_rss_growth,
                                                           args=(environment, day, child_end))
    process.start()
    result = parent_end.recv()
    process.join()
    return result


def timed(function, *args) -> tuple[int, float]:
    start = time.perf_counter()
    rows = function(*args)
    return rows, time.perf_counter() - start


def cpu_model() -> str:
    for line in pathlib.Path('/proc/cpuinfo').read_text().splitlines():
        if line.startswith('model name'):
            return line.split(':', 1)[1].strip()
    return platform.processor() or 'unknown'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rows', type=int, default=200_000)
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args()

    parent_end, child_end = multiprocessing.Pipe()
    server = multiprocessing.get_context('spawn').Process(target=serve, args=(args.rows, child_end), daemon=True)
    server.start()
    url = parent_end.recv()

    data_dir = pathlib.Path(tempfile.mkdtemp(prefix='benchmark-downloader-'))
    os.environ.update(BIGQUERY_API_ENDPOINT=url, DATA_DIR=str(data_dir), BIGQUERY_TIMEOUT_SECONDS='60',
                      GOOGLE_APPLICATION_CREDENTIALS=str(data_dir / 'no-key.json'))
    from app.bigquery_downloader.data_sets import PYPI
    from app.bigquery_downloader.downloader import PAGE_SIZE
    file = PYPI.contract.path(data_dir, DAY)

    timed(baseline, PAGE_SIZE)  # warm-up: imports, connections, the fake's page cache
    results = {'baseline': [], 'downloader': []}
    for _ in range(args.repeat):  # interleaved, so that both see the same machine state
        results['baseline'].append(timed(baseline, PAGE_SIZE))
        results['downloader'].append(timed(downloader_run, data_dir))
    file_megabytes = file.stat().st_size / 1e6
    memory = [memory_probe(day) for day in list(days_and_row_counts(args.rows))[1:]]
    parent_end.send('stop')
    server.join(timeout=10)
    shutil.rmtree(data_dir)

    print(f'machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu_model()}, '
          f'Python {platform.python_version()}')
    print(f'{args.rows:,} rows, page size {PAGE_SIZE:,}, {args.repeat} runs each; '
          f'file {file_megabytes:.1f} MB')
    print('| measurement | median rows/s | best rows/s | median seconds |')
    print('|---|---|---|---|')
    for name, runs in results.items():
        assert all(rows == args.rows for rows, _ in runs), runs
        seconds = [s for _, s in runs]
        print(f'| {name} | {args.rows / statistics.median(seconds):,.0f} | {args.rows / min(seconds):,.0f} '
              f'| {statistics.median(seconds):.2f} |')
    overhead = statistics.median(s for _, s in results['downloader']) / statistics.median(
        s for _, s in results['baseline']) - 1
    print(f'downloader overhead over the bare client: {overhead:+.0%}')
    for rows, megabytes in memory:
        print(f'memory: downloading {rows:,} rows added {megabytes:.0f} MB to the peak RSS of a fresh process')


if __name__ == '__main__':
    main()
