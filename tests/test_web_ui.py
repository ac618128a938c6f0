"""Running pipelines from the web UI, with Flask's test client: permission, live event stream, one run at a time.

The pages themselves are covered by tests/test_app.py (test client) and tests/test_browser.py (Chromium).
"""

import json
import re
import threading

import pytest

from app import mara_fixes
from tests.servers import initialize_utils_blocked, last_run_id, open_run_ids, start_flask, wait_for

RUN_URL = '/pipelines/utils/run-/initialize_utils'
STREAM_URL = '/pipelines/utils/do-run/initialize_utils'


@pytest.fixture
def client(app):
    """Requests as a browser sends them from the app's own pages: app/access.py refuses runs from other sites."""
    return same_site_client(app)


def same_site_client(app):
    client = app.test_client()
    client.environ_base['HTTP_SEC_FETCH_SITE'] = 'same-origin'
    return client


def _events(response) -> list:
    """(event name, data) of every server-sent event in a whole response."""
    return _parse(response.get_data(as_text=True))


def _parse(text: str) -> list:
    return [(name, json.loads(data)) for name, data in re.findall(r'event: (\w+)\ndata: (.*)\n\n', text)]


@pytest.fixture(scope='module')
def utils_ready(app):
    """The util schema exists (the runs below need it)."""
    result = app.test_cli_runner().invoke(args=['mara-pipelines', 'run', '--path', 'utils', '--disable-colors'])
    assert result.exit_code == 0, result.output


def test_running_is_refused_when_not_allowed(client, monkeypatch, utils_ready):
    monkeypatch.setenv('ALLOW_RUN_FROM_WEB_UI', 'false')
    runs_before = last_run_id()
    page = client.get('/pipelines/utils').get_data(as_text=True)
    assert 'id="run-button"' not in page and 'id="run-with-upstreams-button"' not in page
    assert not re.search(r'href="[^"]*/run-(with-upstreams)?[/"]', page)  # nor the header's Run button
    for url in (RUN_URL, STREAM_URL, '/pipelines/run-', '/pipelines/do-run'):
        response = client.get(url)
        assert response.status_code == 403, url
        assert 'disabled' in response.get_data(as_text=True), url
    assert last_run_id() == runs_before


def test_run_buttons_are_there_when_allowed(client, monkeypatch, utils_ready):
    monkeypatch.setenv('ALLOW_RUN_FROM_WEB_UI', 'true')
    page = client.get('/pipelines/utils').get_data(as_text=True)
    assert 'id="run-button"' in page and 'id="run-with-upstreams-button"' in page
    assert re.search(r'href="/pipelines/utils/run-"', page)
    assert client.get(RUN_URL).status_code == 200


def test_output_streams_while_the_run_is_in_progress(client, utils_ready):
    """The first events reach the browser while the run is still open in mara's run log."""
    with initialize_utils_blocked():
        response = client.get(STREAM_URL)
        assert response.mimetype == 'text/event-stream' and response.is_streamed
        chunks = iter(response.response)
        received = ''
        while 'event: NodeStarted' not in received:
            received += next(chunks).decode()
        assert open_run_ids(), 'events arrived only after the run had finished'
    received += ''.join(chunk.decode() for chunk in chunks)
    events = _parse(received)
    names = [name for name, _ in events]
    assert names[0] == 'RunStarted' and names[-1] == 'RunFinished'
    assert events[-1][1]['succeeded'] is True
    assert ['utils', 'initialize_utils'] in [data['node_path'] for name, data in events if name == 'NodeFinished']
    assert not open_run_ids()


def test_a_second_run_is_refused_while_one_is_running(client, utils_ready):
    with initialize_utils_blocked():
        first = start_flask('mara-pipelines', 'run', '--path', 'utils', '--nodes', 'initialize_utils')
        running = wait_for(open_run_ids, 30, 'the first run to start')
        events = _events(client.get(STREAM_URL))
        assert [name for name, _ in events] == ['Output', 'RunFinished']
        message = events[0][1]
        assert message['is_error'] and re.search(rf'Not started, because another run is in progress: run {running[0]} '
                                                 r"of pipeline 'utils', started \d{4}-\d\d-\d\d ", message['message'])
        assert events[1][1]['succeeded'] is False
        assert open_run_ids() == running  # the refused run is not recorded
    output = first.communicate(timeout=60)[0]
    assert first.returncode == 0, output
    assert _events(client.get(STREAM_URL))[-1][1]['succeeded'] is True  # free again


def test_leaving_the_run_page_stops_the_run_and_frees_the_lock(client, utils_ready):
    """mara closes the run as failed when the browser goes away; its processes must not go on unobserved."""
    import multiprocessing

    import mara_db.dbs
    with initialize_utils_blocked():
        response = client.get(STREAM_URL)
        chunks = iter(response.response)
        wait_for(lambda: b'NodeStarted' in next(chunks), 30, 'the task to start', interval=0)
        run_id = open_run_ids()[-1]
        executors = [child for child in multiprocessing.active_children() if child.name.startswith('pipeline-')]
        assert executors
        response.close()  # what the server does when the browser disconnects
        for executor in executors:
            executor.join(timeout=10)
            assert not executor.is_alive()
    assert run_id not in open_run_ids()
    with mara_db.dbs.cursor_context('mara') as cursor:
        cursor.execute('SELECT succeeded FROM data_integration_run WHERE run_id = %s', (run_id,))
        assert cursor.fetchone() == (False,)
        cursor.execute('SELECT pg_try_advisory_lock(%s), pg_advisory_unlock(%s)',
                       (mara_fixes.RUN_LOCK_ID, mara_fixes.RUN_LOCK_ID))
        assert cursor.fetchone() == (True, True)


@pytest.fixture
def missing_dwh(monkeypatch):
    """The dwh alias points at a database that does not exist: tasks fail, mara's run log still works."""
    import mara_db.dbs
    monkeypatch.setenv('DWH_DB', 'no_such_database')
    mara_db.dbs.db.cache_clear()  # mara caches the resolved aliases
    yield
    monkeypatch.undo()
    mara_db.dbs.db.cache_clear()


def test_a_failed_run_names_its_failed_node_in_the_stream(client, missing_dwh, utils_ready):
    events = _events(client.get(STREAM_URL))
    summary = [data['message'] for name, data in events if name == 'Output' and data['node_path'] == ['utils']]
    assert summary[-1] == 'Run failed. Failed nodes: utils / initialize_utils'
    assert events[-1][0] == 'RunFinished' and events[-1][1]['succeeded'] is False


def test_pages_load_popper_before_bootstrap_and_the_project_assets(client):
    page = client.get('/pipelines').get_data(as_text=True)
    scripts = re.findall(r'<script src="([^"?]+)', page)
    popper, bootstrap = '/app-ui/static/vendor/popper-1.16.1.min.js', '/mara-app/static/bootstrap/bootstrap.min.js'
    assert popper in scripts and scripts.index(popper) < scripts.index(bootstrap), scripts
    assert client.get(popper).status_code == 200
    for asset in ('/app-ui/static/logo.svg', '/app-ui/static/favicon.png', '/app-ui/static/app.css'):
        assert asset in page, asset


def test_concurrent_stream_requests_start_exactly_one_run(client, utils_ready):
    """Two run requests at the same moment (two tabs): one runs, the other is refused."""
    results = []

    def request():
        results.append(_events(same_site_client(client.application).get(STREAM_URL)))

    with initialize_utils_blocked():
        threads = [threading.Thread(target=request) for _ in range(2)]
        for thread in threads:
            thread.start()
        wait_for(lambda: any(results) or open_run_ids(), 30, 'a run or a refusal')
        wait_for(lambda: len(results) == 1, 30, 'the refusal')
    for thread in threads:
        thread.join(timeout=60)
    outcomes = sorted(events[-1][1]['succeeded'] for events in results)
    assert outcomes == [False, True]
    refused = next(events for events in results if not events[-1][1]['succeeded'])
    assert 'Not started, because another run is in progress' in refused[0][1]['message']
