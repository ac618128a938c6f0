"""Running pipelines from the web UI, with Flask's test client: permission, POST only and same-origin only, a run
started in a process of its own and followed through its event stream, one run at a time, and the system
statistics of short runs.

The browser side (closing the browser during a run, rejoining, cancelling from a second browser) is in
tests/ui/test_runs_browser.py.
"""

import json
import os
import re

import pytest

from app.pipelines import root_pipeline
from app.runs import records
from tests.support.run_control import last_run_id, open_runs, run_lock_held


@pytest.fixture
def client(app):
    """Requests as a browser sends them from the app's own pages: app/access.py refuses state changes from other
    sites, and from requests that do not say where they come from. A test's own headers still win."""
    client = app.test_client()
    client.environ_base['HTTP_SEC_FETCH_SITE'] = 'same-origin'
    return client


def _parse(text: str) -> list:
    """(event name, data) of every server-sent event in a text."""
    return [(name, json.loads(data)) for name, data in re.findall(r'event: (\w+)\ndata: (.*)\n\n', text)]


def _small_run() -> tuple[str, str]:
    """(pipeline id, node id): the first node of the utils pipeline, whatever it is called."""
    return 'utils', next(iter(root_pipeline().nodes['utils'].nodes))


def _start(client, **headers):
    pipeline_id, node_id = _small_run()
    return client.post('/runs/new', data={'path': pipeline_id, 'nodes': node_id}, headers=headers)


def _follow(client, run_id: int) -> list:
    return _parse(client.get(f'/runs/{run_id}/events').get_data(as_text=True))


def test_running_is_refused_when_not_allowed(client, monkeypatch, utils_run):
    monkeypatch.setenv('ALLOW_RUN_FROM_WEB_UI', 'false')
    pipeline_id, node_id = _small_run()
    runs_before = last_run_id()
    page = client.get(f'/pipelines/{pipeline_id}').get_data(as_text=True)
    assert 'id="run-button"' not in page and 'id="run-with-upstreams-button"' not in page
    assert not re.search(r'href="[^"]*/run-(with-upstreams)?[/"]', page)  # nor the header's Run button
    for response in (client.get(f'/pipelines/{pipeline_id}/run-/{node_id}'), client.get('/pipelines/do-run'),
                     client.get(f'/runs/new?path={pipeline_id}'), _start(client), client.post('/runs/rerun'),
                     client.post(f'/runs/{runs_before}/cancel')):
        assert response.status_code == 403, response.request.path
        assert 'disabled' in response.get_data(as_text=True)
    assert last_run_id() == runs_before
    assert 'Rerun failed' not in client.get('/runs').get_data(as_text=True)


def test_mara_run_buttons_lead_to_a_start_form_that_starts_nothing(client, utils_run):
    pipeline_id, node_id = _small_run()
    page = client.get(f'/pipelines/{pipeline_id}').get_data(as_text=True)
    assert 'id="run-button"' in page and re.search(rf'href="/pipelines/{pipeline_id}/run-"', page)
    runs_before = last_run_id()
    response = client.get(f'/pipelines/{pipeline_id}/run-/{node_id}')
    assert (response.status_code, response.location) == (
        302, f'/runs/new?path={pipeline_id}&nodes={node_id}&with_upstreams=0')
    form = client.get(response.location).get_data(as_text=True)
    assert re.search(rf'<form method="post" action="/runs/new" id="start-form".*name="nodes" value="{node_id}"', form)
    assert client.get('/pipelines/do-run').status_code == 410  # mara's run inside a request is gone
    assert client.get(f'/pipelines/{pipeline_id}/run-with-upstreams').location == \
        f'/runs/new?path={pipeline_id}&nodes=&with_upstreams=1'
    assert last_run_id() == runs_before


def test_state_changes_from_another_site_are_refused(client, utils_run):
    runs_before = last_run_id()
    for headers in ({'Origin': 'https://evil.example'}, {'Sec-Fetch-Site': 'cross-site'},
                    {'Origin': 'http://localhost:1'}):
        assert _start(client, **headers).status_code == 403, headers
        assert client.post('/runs/rerun', headers=headers).status_code == 403
        assert client.post(f'/runs/{runs_before}/cancel', headers=headers).status_code == 403
    assert client.get('/runs/new', query_string={'path': _small_run()[0]}).status_code == 200
    assert last_run_id() == runs_before


def test_a_run_started_here_runs_in_its_own_process_and_its_stream_follows_it(client, utils_run):
    response = _start(client, Origin='http://localhost', **{'Sec-Fetch-Site': 'same-origin'})
    assert response.status_code == 303, response.get_data(as_text=True)
    run_id = int(re.fullmatch(r'/runs/(\d+)', response.location)[1])
    run = records.get(run_id)
    assert run['started_by'] == 'web guest@localhost' and run['pid'] != os.getpid()
    events = _follow(client, run_id)  # from the beginning, until the run has finished
    names = [name for name, _ in events]
    assert names[0] == 'RunStarted' and names[-1] == 'RunFinished' and 'RunSummary' in names
    assert events[-1][1]['succeeded'] is True
    assert [data for name, data in events if name == 'RunSummary'][0]['outcome'] == 'succeeded'
    assert not open_runs()
    page = client.get(f'/runs/{run_id}').get_data(as_text=True)
    assert f'Run {run_id}: pipeline {_small_run()[0]} [{_small_run()[1]}]' in page
    assert 'web guest@localhost' in client.get('/runs').get_data(as_text=True)
    # a second reader, later: the same events again, from the live log
    assert _follow(client, run_id) == events


def test_a_start_is_refused_while_another_run_holds_the_lock(client, utils_run):
    with run_lock_held():
        runs_before = last_run_id()
        response = _start(client)
        assert response.status_code == 409
        assert 'Not started, because another run is in progress' in response.get_data(as_text=True)
        assert last_run_id() == runs_before


@pytest.fixture
def missing_dwh(monkeypatch):
    """The dwh alias points at a database that does not exist: tasks fail, mara's run log still works."""
    import mara_db.dbs
    monkeypatch.setenv('DWH_DB', 'no_such_database')  # the background run inherits it
    mara_db.dbs.db.cache_clear()
    yield
    monkeypatch.undo()
    mara_db.dbs.db.cache_clear()


def test_a_failed_run_names_its_failed_node_in_the_stream(client, missing_dwh, utils_run):
    pipeline_id, node_id = _small_run()
    run_id = int(_start(client).location.rsplit('/', 1)[1])
    events = _follow(client, run_id)
    summary = [data for name, data in events if name == 'RunSummary'][0]
    assert (summary['outcome'], summary['node_outcomes'][f'{pipeline_id}/{node_id}']) == ('failed', 'failed')
    lines = [data['message'] for name, data in events if name == 'Output' and data['node_path'] == [pipeline_id]]
    assert f'failed: {pipeline_id} / {node_id}' in lines
    assert events[-1][0] == 'RunFinished' and events[-1][1]['succeeded'] is False
    assert '/runs/rerun' in client.get('/runs').get_data(as_text=True)  # the last run failed: rerun is offered


def test_pages_load_popper_before_bootstrap_and_the_project_assets(client):
    page = client.get('/pipelines').get_data(as_text=True)
    scripts = re.findall(r'<script src="([^"?]+)', page)
    popper, bootstrap = '/app-ui/static/vendor/popper-1.16.1.min.js', '/mara-app/static/bootstrap/bootstrap.min.js'
    assert popper in scripts and scripts.index(popper) < scripts.index(bootstrap), scripts
    assert client.get(popper).status_code == 200
    for asset in ('/app-ui/static/logo.svg', '/app-ui/static/favicon.png', '/app-ui/static/app.css'):
        assert asset in page, asset
    assert '/runs' in client.get('/mara-app/navigation-bar').get_data(as_text=True)


def test_a_short_run_shows_its_system_statistics_in_the_charts_order(client, flask_cli, mara_db_query):
    pipeline_id = _small_run()[0]
    result = flask_cli('mara-pipelines', 'run', '--path', pipeline_id)
    assert result.returncode == 0, result.stdout + result.stderr
    run_id = last_run_id()
    (seconds,), = mara_db_query('SELECT extract(EPOCH FROM end_time - start_time) FROM data_integration_node_run '
                                'WHERE run_id = %s AND node_path = %s', (run_id, [pipeline_id]))
    measured = mara_db_query('''
SELECT cpu_usage, disc_read, mem_usage FROM data_integration_system_statistics s JOIN data_integration_node_run n
  ON n.run_id = s.run_id AND s.timestamp BETWEEN n.start_time AND n.end_time
WHERE n.run_id = %s AND n.node_path = %s ORDER BY s.timestamp''', (run_id, [pipeline_id]))
    assert seconds < 15 and len(measured) >= 2, (seconds, measured)  # mara would have shown nothing

    html = client.get(f'/pipelines/{pipeline_id}/system-stats/{run_id}').get_data(as_text=True)
    rows = json.loads(re.search(r'nodePage\.showSystemStats\((\[.*\])\);', html)[1])
    assert [(row[1], row[2], row[6]) for row in rows] == [tuple(row) for row in measured]  # CPU first

    # mara's own view still shows nothing for fewer than 15 measurements: when it does, drop the replacement
    import mara_pipelines.ui.last_runs
    with client.application.test_request_context():
        client.application.preprocess_request()  # logs the request in (app/access.py), as for every request
        assert mara_pipelines.ui.last_runs.system_stats(path=pipeline_id, run_id=run_id) == ''


@pytest.fixture
def many_finished_runs(mara_db_query, databases) -> list[int]:
    """45 finished runs of the utils pipeline recorded in mara's run log (newest last), taken out again after."""
    ids = [run_id for (run_id,) in mara_db_query(
        "INSERT INTO data_integration_run (node_path, pid, start_time, end_time, succeeded) "
        "SELECT '{utils}', 1, now() - make_interval(mins => 50 - n), now() - make_interval(mins => 50 - n), true "
        "FROM generate_series(1, 45) n ORDER BY n RETURNING run_id")]
    yield sorted(ids)
    mara_db_query('DELETE FROM data_integration_run WHERE run_id = ANY(%s)', (ids,))


def _listed_runs(page: str) -> list[int]:
    return [int(run_id) for run_id in re.findall(r'<tr><td><a href="/runs/(\d+)">', page)]


def test_the_runs_page_lists_older_runs_a_page_further(client, many_finished_runs):
    newest_first = many_finished_runs[::-1]
    page = client.get('/runs').get_data(as_text=True)
    assert _listed_runs(page) == newest_first[:20]
    assert 'id="newest-runs"' not in page
    assert re.findall(r'<a id="older-runs"[^>]* href="([^"]+)"', page) == [f'/runs?before={newest_first[19]}']
    page = client.get(f'/runs?before={newest_first[19]}').get_data(as_text=True)
    assert f'Runs before run {newest_first[19]}' in page
    assert _listed_runs(page) == newest_first[20:40]
    assert re.findall(r'<a id="newest-runs" href="([^"]+)"', page) == ['/runs']
    assert re.findall(r'<a id="older-runs"[^>]* href="([^"]+)"', page) == [f'/runs?before={newest_first[39]}']
    page = client.get(f'/runs?before={newest_first[39]}').get_data(as_text=True)
    assert _listed_runs(page)[:5] == newest_first[40:45]  # then the session's own runs, older still
    assert _listed_runs(client.get('/runs?before=oops').get_data(as_text=True)) == newest_first[:20]  # not an id
