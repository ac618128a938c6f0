"""Runs in headless Chromium that outlive the browser: start a run and close the browser, rejoin a run on the Runs
page (also one that the CLI started), cancel a run from a second browser, be refused with a link to the run in
progress, rerun what failed, and the system statistics of a short run.

gunicorn serves the test app (tests/support/run_control_app.py), whose pipelines these tests own.
"""

import re
import threading
import time
import urllib.error
import urllib.request

import pytest

from app.runs import records
from tests.browser import chart_points, new_page
from tests.support import run_control
from tests.support.run_control import last_run_id, node_runs, open_runs, record, sleeping_sessions
from tests.support.servers import gunicorn, page_text, wait_for


@pytest.fixture(scope='module')
def control(databases, tmp_path_factory):
    return run_control.RunControl(tmp_path_factory.mktemp('run-control'))


@pytest.fixture(scope='module')
def server(control):
    with gunicorn(app=f'{run_control.APP}:wsgi_app', env={'RUN_CONTROL_DIR': str(control.directory)}) as base_url:
        yield base_url


@pytest.fixture
def pages(browser, server, control):
    """Opens pages, each in a browser context of its own (a browser of its own, as far as the app can tell)."""
    opened = []

    def open_page(path: str):
        page = new_page(browser, server)
        opened.append(page)
        page.goto(path)
        return page

    yield open_page
    for page in opened:
        if not page.is_closed():
            page.context.close()
    assert not run_control.processes_of_the_test_app(), 'a run of the test app is still running'


def _no_problems(page):
    assert not page.problems.all() and not page.problems.external_requests, page.problems


def _start_from_pipeline_page(page, pipeline_id: str) -> int:
    """Clicks Run on a pipeline's page and Start on the form; returns the run id of the page it leads to."""
    page.locator('#mara-page-header .action-buttons a', has_text='Run').click()
    page.wait_for_url(re.compile(rf'/runs/new\?path={pipeline_id}&'))
    page.locator('#start-form button').click()
    page.wait_for_url(re.compile(r'/runs/\d+$'))
    return int(page.url.rsplit('/', 1)[1])


def _output(page) -> str:
    return page.locator('#main-output-area').inner_text()


def test_a_run_goes_on_when_the_browser_that_started_it_is_closed(pages, control):
    control.sleep(5)
    page = pages('/pipelines/slow')
    run_id = _start_from_pipeline_page(page, 'slow')
    page.locator('#main-output-area', has_text='SELECT pg_sleep(5)').wait_for()
    time.sleep(2)
    page.context.close()  # the browser is gone
    assert record(run_id)['outcome'] is None and sleeping_sessions()  # the run goes on
    wait_for(lambda: record(run_id)['outcome'], 60, 'the run to finish')
    assert record(run_id)['outcome'] == 'succeeded'
    assert node_runs(run_id) == {'slow': True, 'slow/start': True, 'slow/wait': True, 'slow/finish': True}


def test_the_runs_page_rejoins_a_run_that_the_cli_started(pages, control):
    control.sleep(6)
    cli_run = control.start('--path', 'slow')
    run_id = run_control.wait_until_slow_waits()
    page = pages('/runs')
    live = page.locator('#main-output-area')
    live.get_by_text(f'Run {run_id} of pipeline slow, started by cli').wait_for()  # the output so far
    assert page.locator('#run-status').inner_text() == 'running'
    assert page.locator('#cancel-form button', has_text='Cancel').is_visible()
    page.locator('#running-tasks-container .card', has_text='wait').wait_for()
    live.get_by_text('Run succeeded: 3 of 3 tasks succeeded.').wait_for(timeout=60_000)  # goes on, live
    assert re.search(r'^finish:\s+succeeded', _output(page), re.MULTILINE), _output(page)[-2000:]
    page.locator('text=No run in progress').wait_for(timeout=15_000)  # the page loads again without it
    assert page.locator(f'#status-of-run-{run_id}').inner_text() == 'succeeded'
    cli_run.communicate(timeout=30)
    assert cli_run.returncode == 0
    _no_problems(page)


def test_a_run_is_cancelled_from_a_second_browser(pages, control):
    control.sleep(600)
    first = pages('/pipelines/slow')
    run_id = _start_from_pipeline_page(first, 'slow')
    first.locator('#main-output-area', has_text='SELECT pg_sleep(600)').wait_for()
    processes = run_control.processes_of(record(run_id)['pid'])

    # meanwhile, a second run is refused, with a link to the one in progress
    second = pages('/runs/new?path=flaky')
    second.locator('#start-form button').click()
    assert re.search(rf'Not started, because run {run_id} of pipeline slow is in progress \(started .* by web '
                     rf'guest@localhost\): see http://localhost:5000/runs/{run_id}\.',
                     second.locator('#start-message').inner_text())
    assert second.problems.console_errors == [  # the refusal's status, and nothing else
        'Failed to load resource: the server responded with a status of 409 (CONFLICT)']
    second.problems.console_errors.clear()
    second.locator('a', has_text=f'Follow run {run_id}').click()
    second.wait_for_url(re.compile(rf'/runs/{run_id}$'))
    second.locator('#main-output-area', has_text='SELECT pg_sleep(600)').wait_for()

    second.locator('#cancel-form button').click()
    for page in (first, second):
        page.locator('#run-status', has_text='cancelled').wait_for(timeout=30_000)
        assert 'Run cancelled (cancelled by web guest@localhost): 1 of 3 tasks succeeded, 1 failed, 1 not run.' \
            in _output(page)
        assert page.locator('#cancel-form').is_hidden()
        _no_problems(page)
    assert not run_control.wait_gone(processes) and not sleeping_sessions()
    assert (record(run_id)['outcome'], record(run_id)['cancel_requested_by']) == ('cancelled', 'web guest@localhost')


def test_two_starts_at_the_same_moment_start_exactly_one_run(server, control):
    """Two browsers click Start at the same time: one run starts, the other is refused (409)."""
    control.sleep(600)
    # mara-acl 2.1.1 adds a user at the first request; two first requests at once clash in acl_user (500)
    urllib.request.urlopen(f'{server}/runs').close()
    results = []

    def start():
        request = urllib.request.Request(f'{server}/runs/new', data=b'path=slow', method='POST')
        try:
            with urllib.request.urlopen(request) as response:  # follows the redirect to the run's page
                results.append((response.status, response.url))
        except urllib.error.HTTPError as error:
            results.append((error.code, error.read().decode()))

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        (started, page), (refused, message) = sorted(results)
        assert (started, refused) == (200, 409), results
        run_id = int(page.rsplit('/', 1)[1])
        # the refusal names the run, unless the other start came before the run had recorded itself
        text = page_text(message)
        assert (f'Not started, because run {run_id} of pipeline slow is in progress' in text
                or 'Not started, because another run is in progress (it has not recorded itself yet).' in text), text
        processes = run_control.processes_of(record(run_id)['pid'])
        assert records.request_cancel(run_id, 'the test')
        wait_for(lambda: record(run_id)['outcome'], 30, 'the run to be cancelled')
        assert record(run_id)['outcome'] == 'cancelled' and not run_control.wait_gone(processes)
    finally:  # a failed check must not leave the 10-minute run blocking the tests after it
        for open_run in open_runs():
            records.request_cancel(open_run, 'the test')
        wait_for(lambda: not open_runs(), 60, 'the runs to end')


def test_rerun_from_the_runs_page_runs_what_failed(pages, control):
    control.break_flaky()
    assert control.run('--path', 'flaky').returncode != 0
    failed = last_run_id()
    control.break_flaky(False)
    page = pages('/runs')
    page.locator('#rerun-form button', has_text='Rerun failed and not-run nodes').click()
    page.wait_for_url(re.compile(r'/runs/\d+$'))
    rerun = int(page.url.rsplit('/', 1)[1])
    page.locator('#run-status', has_text='succeeded').wait_for(timeout=60_000)
    assert rerun != failed and record(rerun)['rerun_of'] == failed
    assert node_runs(rerun) == {'flaky': True, 'flaky/breaks': True, 'flaky/blocked': True}
    assert page.locator('#rerun-form').count() == 0  # the last run succeeded
    _no_problems(page)


def test_a_short_run_shows_system_statistics_on_its_pipeline_page(pages, control, server):
    assert control.run('--path', 'flaky').returncode == 0
    run_id = last_run_id()
    page = pages('/pipelines/flaky')
    page.wait_for_load_state('networkidle')
    assert chart_points(page, '#system-stats-chart') >= 2
    with urllib.request.urlopen(f'{server}/pipelines/flaky/system-stats/{run_id}') as response:
        assert 'showSystemStats' in response.read().decode()
    _no_problems(page)
