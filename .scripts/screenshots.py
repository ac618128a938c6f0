"""Screenshots of the real web UI for the README (`make screenshots`).

Runs the ETL once with the CLI (so that every page has a run to show, unless --skip-etl), serves the app
with gunicorn on 127.0.0.1, starts a run of the root pipeline from the browser and photographs its page and the
Runs page while it is in progress, then photographs a pipeline page, a task page and the star schemas of the
DB Schema page.
Works on the databases and data of the app's configuration (the development warehouse after `make`).
Every image must stay below 300 KB; the script fails otherwise.

    .venv/bin/python .scripts/screenshots.py [--pipeline pypi] [--task pypi/transform_dimensions] [--skip-etl]
"""

import argparse
import pathlib
import re
import subprocess
import sys
import time

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from tests.browser import chromium, new_page  # noqa: E402  (needs the project root on sys.path)
from tests.support.servers import gunicorn, wait_for  # noqa: E402

MAX_BYTES = 300_000
STAR_SCHEMAS = ['pp_dim', 'pypi_dim', 'gh_dim', 'time']
WIDTH, HEIGHT = 1400, 900
TALL_HEIGHT = 1600  # pipeline and task pages: down to the timeline and the start of the last run's output
RUNS_HEIGHT = 1250  # the Runs page: the run in progress and the last runs
CHART_ANIMATION_SECONDS = 1.5  # Chart.js animates a chart when it is drawn


def run_etl() -> None:
    print('==> Running the ETL (root pipeline) with the CLI', flush=True)
    result = subprocess.run([str(PROJECT_ROOT / '.venv' / 'bin' / 'flask'), '--app', 'app.app', 'mara-pipelines',
                             'run', '--disable-colors'], cwd=PROJECT_ROOT, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f'The ETL failed; fix it first:\n{result.stdout[-3000:]}{result.stderr[-3000:]}')


def settle(page, path: str) -> None:
    """Opens a page and waits until its asynchronous parts and chart animations are done."""
    page.goto(path)
    page.wait_for_load_state('networkidle')
    time.sleep(CHART_ANIMATION_SECONDS)


def check_page(page) -> None:
    if page.problems.all() or page.problems.external_requests:
        sys.exit(f'{page.url} has problems, not taking a picture of it: {page.problems}')


def shoot_run_in_progress(page, runs_page, run_target: pathlib.Path, runs_target: pathlib.Path) -> None:
    """A run of the root pipeline started in the browser, taken while tasks are running: its page, and at the same
    moment the Runs page in a second browser, which follows it too."""
    page.goto('/pipelines')
    page.locator('#mara-page-header .action-buttons a', has_text='Run').click()
    page.wait_for_url('**/runs/new?*')
    page.locator('#start-form button').click()
    page.wait_for_url(re.compile(r'/runs/\d+$'))
    runs_page.goto('/runs')
    status = page.locator('#run-status')
    # several tasks in parallel and some history in the timeline make the picture; small runs are quick
    wait_for(lambda: page.locator('#running-tasks-container .card').count() >= 2
             and page.locator('#main-output-area > div').count() > 100 or status.inner_text() != 'running',
             600, 'tasks running in the browser')
    time.sleep(1)  # the timeline is redrawn every second
    page.screenshot(path=run_target)
    runs_page.screenshot(path=runs_target)
    if status.inner_text() != 'running' or runs_page.locator('#run-status').inner_text() != 'running':
        sys.exit('The run finished before the pictures were taken; run the script again with more data')
    print(f'    run in progress: {page.locator("#running-tasks-container .card").count()} tasks running')
    status.filter(has_text='succeeded').wait_for(timeout=3_600_000)
    check_page(page)
    check_page(runs_page)


def shoot_star_schema(page, target: pathlib.Path) -> None:
    """The DB Schema page's graph of the four star schemas (the schema selection is kept in localStorage)."""
    settle(page, '/db/dwh')  # the schema boxes are loaded asynchronously
    page.evaluate("""schemas => {
        document.querySelectorAll('.schema-checkbox').forEach(box => localStorage.setItem(
            'db-schema-dwh-' + box.value, schemas.includes(box.value)));
        localStorage.setItem('db-schema-engine', 'dot');
        localStorage.setItem('db-schema-hide-columns', 'false');
    }""", STAR_SCHEMAS)
    settle(page, '/db/dwh')
    page.locator('#schema-container svg').wait_for()
    check_page(page)
    page.locator('#schema-container svg').screenshot(path=target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--pipeline', default='pypi', help='pipeline page to photograph')
    parser.add_argument('--task', default='pypi/transform_dimensions',
                        help='task page to photograph (the one the README names)')
    parser.add_argument('--skip-etl', action='store_true', help='do not run the ETL with the CLI first')
    parser.add_argument('--out', type=pathlib.Path, default=PROJECT_ROOT / 'docs')
    args = parser.parse_args()

    if not args.skip_etl:
        run_etl()
    shots = {name: args.out / file for name, file in [
        ('run', 'mara-web-ui-etl-run.png'), ('runs', 'mara-web-ui-runs.png'), ('pipeline', 'mara-web-ui-pipeline.png'),
        ('task', 'mara-web-ui-task.png'), ('schema', 'star-schema.png')]}
    # the run in the browser is a full build: an incremental one, just after the CLI's, would have nothing to do
    with gunicorn(env={'ALLOW_RUN_FROM_WEB_UI': 'true', 'FULL_REBUILD': 'true'}) as base_url, chromium() as browser:
        page = new_page(browser, base_url, WIDTH, HEIGHT)
        settle(page, '/pipelines')  # the first visit greets a new user with a message: not in the pictures
        print('==> Run in progress', flush=True)
        runs_page = new_page(browser, base_url, WIDTH, RUNS_HEIGHT)
        settle(runs_page, '/pipelines')
        shoot_run_in_progress(page, runs_page, shots['run'], shots['runs'])
        runs_page.context.close()
        page.set_viewport_size({'width': WIDTH, 'height': TALL_HEIGHT})  # mara's sidebar is as high as the window
        for name, path in [('pipeline', f'/pipelines/{args.pipeline}'), ('task', f'/pipelines/{args.task}')]:
            print(f'==> {path}', flush=True)
            settle(page, path)
            check_page(page)
            page.screenshot(path=shots[name])
        print('==> Star schemas', flush=True)
        shoot_star_schema(page, shots['schema'])

    too_big = {str(path): path.stat().st_size for path in shots.values() if path.stat().st_size >= MAX_BYTES}
    for path in shots.values():
        print(f'{path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path}: '
              f'{path.stat().st_size / 1000:.0f} KB')
    if too_big:
        sys.exit(f'Images of {MAX_BYTES / 1000:.0f} KB or more: {too_big}')


if __name__ == '__main__':
    main()
