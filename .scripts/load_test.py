"""Load test of the web UI (`make load-test`): 20 clients for 30 s on a pipeline page, a task page and the Runs
page, served by gunicorn on 127.0.0.1 as in production, while the ETL runs. Writes docs/benchmarks/load.md.

Each client loops until the time is up, taking the three pages in turn. A page view is what a browser loads:
the page and its asynchronous parts (graph, charts, node table, last runs, output, navigation), one after
the other; static files are left out (browsers cache them). Meanwhile the root pipeline runs with the CLI,
again and again until the time is up. Everything is bounded: clients stop at the deadline, each request
times out after 30 s, and only loopback is used. Exit code 1 when a request failed or an ETL run failed.

    .venv/bin/python .scripts/load_test.py [--clients 20] [--seconds 30] [--pipeline pypi] [--task pypi/some_task]
"""

import argparse
import dataclasses
import datetime
import os
import pathlib
import platform
import subprocess
import sys
import threading
import time

import requests

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from tests.support.servers import first_sql_task, gunicorn  # noqa: E402  (needs the project root on sys.path)

WORKERS, THREADS = 4, 4  # as `make run-gunicorn`
REQUEST_TIMEOUT = 30
NODE_PARTS = ['dependency-graph', 'run-time-chart', 'last-runs-selector', 'system-stats', 'timeline-chart',
              'run-output-limited']


NAVIGATION_BAR = '/mara-app/navigation-bar'
# The Runs page has no asynchronous part of its own: a run in progress streams its output from /runs/N/events,
# which a browser keeps open and the clients here do not follow.
RUNS_PAGE_VIEW = ['/runs', NAVIGATION_BAR]
# The pages in the table (.scripts/benchmark_seed.py reads the rows of the pipeline and Runs pages).
PIPELINE_PAGE, TASK_PAGE, RUNS_PAGE = 'the pipeline page', 'the task page', 'the Runs page'


@dataclasses.dataclass
class Sample:
    kind: str  # 'page', 'part' or 'view' (a page with all its parts)
    seconds: float
    error: str = ''
    page: str = ''  # the page of the view: its first URL


def page_view_urls(node_path: str, is_pipeline: bool) -> list:
    parts = NODE_PARTS + (['pipeline-children-table'] if is_pipeline else [])
    return [f'/pipelines/{node_path}'] + [f'/pipelines/{node_path}/{part}' for part in parts] + [NAVIGATION_BAR]


def fetch(session: requests.Session, url: str) -> str:
    """'' when the request succeeded, otherwise what went wrong."""
    try:
        response = session.get(url, timeout=REQUEST_TIMEOUT)
        return '' if response.status_code == 200 else f'HTTP {response.status_code} {url}'
    except requests.RequestException as error:
        return f'{type(error).__name__} {url}: {error}'


def client(base_url: str, views: list, deadline: float, samples: list) -> None:
    """One user: loads the page views in turn until the deadline."""
    session = requests.Session()
    number = 0
    while time.monotonic() < deadline:
        urls = views[number % len(views)]
        view_start = time.monotonic()
        errors = []
        for index, url in enumerate(urls):
            start = time.monotonic()
            error = fetch(session, base_url + url)
            samples.append(Sample('page' if index == 0 else 'part', time.monotonic() - start, error, urls[0]))
            errors += [error] if error else []
        samples.append(Sample('view', time.monotonic() - view_start, '; '.join(errors), urls[0]))
        number += 1


def etl_runs(deadline: float, runs: list) -> None:
    """Runs the root pipeline again and again until the deadline: [(start, seconds, exit code, last line)]."""
    flask = [str(PROJECT_ROOT / '.venv' / 'bin' / 'flask'), '--app', 'app.app']
    while time.monotonic() < deadline:
        start = time.monotonic()
        result = subprocess.run([*flask, 'mara-pipelines', 'run', '--disable-colors'], cwd=PROJECT_ROOT,
                                capture_output=True, text=True)
        last_line = (result.stdout.strip().split('\n') or [''])[-1]
        runs.append((start, time.monotonic() - start, result.returncode, last_line))


def percentile(values: list, fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def machine() -> str:
    model = next((line.split(':', 1)[1].strip() for line in pathlib.Path('/proc/cpuinfo').read_text().split('\n')
                  if line.startswith('model name')), platform.processor() or 'unknown')
    memory_kb = next((int(line.split()[1]) for line in pathlib.Path('/proc/meminfo').read_text().split('\n')
                      if line.startswith('MemTotal')), 0)
    return f'{os.cpu_count()} CPUs (nproc), {model}, {memory_kb / 1024 ** 2:.0f} GB RAM, {platform.platform()}'


def latency_table(samples: list, pages: dict[str, str]) -> list:
    """Latencies of all pages' HTML, of the asynchronous parts and of whole page views, then of each page's HTML
    (`pages`: the label of each page's URL)."""
    lines = ['| What | Requests | Errors | p50 | p95 | max |', '|---|---:|---:|---:|---:|---:|']
    rows = [('page HTML', lambda sample: sample.kind == 'page'),
            ('asynchronous parts', lambda sample: sample.kind == 'part'),
            ('page views (page + all its parts)', lambda sample: sample.kind == 'view'),
            *((page_row(label), lambda sample, url=url: sample.kind == 'page' and sample.page == url)
              for url, label in pages.items())]
    for label, belongs in rows:
        chosen = [sample for sample in samples if belongs(sample)]
        seconds = [sample.seconds for sample in chosen] or [0]
        errors = sum(1 for sample in chosen if sample.error)
        lines.append(f'| {label} | {len(chosen)} | {errors} | {percentile(seconds, .5) * 1000:.0f} ms '
                     f'| {percentile(seconds, .95) * 1000:.0f} ms | {max(seconds) * 1000:.0f} ms |')
    return lines


def page_row(label: str) -> str:
    """The table's row of one page's HTML."""
    return f'HTML of {label}'


def page_labels(args) -> dict[str, str]:
    """The label of each page's URL in the table."""
    return {f'/pipelines/{args.pipeline}': PIPELINE_PAGE, f'/pipelines/{args.task}': TASK_PAGE,
            RUNS_PAGE_VIEW[0]: RUNS_PAGE}


def report(args, samples: list, runs: list, load_start: float, load_seconds: float) -> str:
    requests_made = [sample for sample in samples if sample.kind != 'view']
    errors = [sample.error for sample in requests_made if sample.error]
    etl_busy = sum(min(start + seconds, load_start + load_seconds) - max(start, load_start)
                   for start, seconds, _, _ in runs if start < load_start + load_seconds)
    lines = [
        '## Web UI under load, while the ETL runs',
        '',
        f'Command: `make load-test` (`.venv/bin/python .scripts/load_test.py --clients {args.clients} '
        f'--seconds {args.seconds:g}`), {datetime.date.today().isoformat()}.',
        '',
        f'- Machine: {machine()}.',
        f'- Server: gunicorn on 127.0.0.1, {WORKERS} workers x {THREADS} threads (as `make run-gunicorn`), '
        'PostgreSQL on the same machine.',
        f'- Load: {args.clients} concurrent clients for {args.seconds:g} s, each loading in turn the page of pipeline '
        f'`{args.pipeline}` and of task `{args.task}`, each with its {len(NODE_PARTS) + 1}-{len(NODE_PARTS) + 2} '
        'asynchronous parts (the navigation bar included), and the Runs page with the navigation bar, one request '
        'after the other (no think time). Static files not included.',
        f'- ETL: the root pipeline ran {len(runs)} times with `flask mara-pipelines run` during the test '
        f'(exit codes {sorted({code for _, _, code, _ in runs})}, '
        f'{", ".join(f"{seconds:.1f} s" for _, seconds, _, _ in runs)}); an ETL was running for '
        f'{100 * etl_busy / load_seconds:.0f} % of the test.',
        f'- Data: {data_volume()}.',
        '',
        f'**{len(requests_made)} requests ({len(requests_made) / load_seconds:.0f} per second), '
        f'{len(errors)} errors.**',
        '',
        *latency_table(samples, page_labels(args)),
        '',
    ]
    if errors:
        lines += ['Errors (first 10):', '', *[f'- {error}' for error in errors[:10]], '']
    return '\n'.join(lines)


def data_volume() -> str:
    import mara_db.dbs

    import app  # noqa: F401  (configures mara's database aliases)
    with mara_db.dbs.cursor_context('dwh') as cursor:
        cursor.execute("SELECT count(*) FROM pypi_dim.download_counts")
        downloads = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM gh_dim.repo_activity")
        activity = cursor.fetchone()[0]
    return f'{downloads} rows in pypi_dim.download_counts, {activity} rows in gh_dim.repo_activity'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--clients', type=int, default=20)
    parser.add_argument('--seconds', type=float, default=30)
    parser.add_argument('--pipeline', default='pypi')
    parser.add_argument('--task', help='[default: the first SQL task of --pipeline]')
    parser.add_argument('--out', type=pathlib.Path, default=PROJECT_ROOT / 'docs' / 'benchmarks' / 'load.md')
    args = parser.parse_args()
    args.task = args.task or first_sql_task(args.pipeline)[0]

    views = [page_view_urls(args.pipeline, True), page_view_urls(args.task, False), RUNS_PAGE_VIEW]
    samples, runs = [], []
    with gunicorn(workers=WORKERS, threads=THREADS) as base_url:
        for urls in views:  # fail early on a wrong page, and warm up each worker's caches a little
            for url in urls:
                error = fetch(requests.Session(), base_url + url)
                if error:
                    sys.exit(f'Not starting the load test: {error}')
        print(f'==> {args.clients} clients for {args.seconds:.0f} s against {base_url}, while the ETL runs',
              flush=True)
        load_start = time.monotonic()
        deadline = load_start + args.seconds
        etl = threading.Thread(target=etl_runs, args=(deadline, runs))
        etl.start()
        clients = [threading.Thread(target=client, args=(base_url, views, deadline, samples))
                   for _ in range(args.clients)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        load_seconds = time.monotonic() - load_start
        etl.join()

    text = report(args, samples, runs, load_start, load_seconds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    failed_runs = [run for run in runs if run[2] != 0]
    if any(sample.error for sample in samples) or failed_runs or not runs:
        sys.exit(f'FAILED: {sum(1 for s in samples if s.kind != "view" and s.error)} request errors, '
                 f'{len(failed_runs)} failed ETL runs {[run[3] for run in failed_runs]}, {len(runs)} ETL runs')


if __name__ == '__main__':
    main()
