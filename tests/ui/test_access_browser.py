"""Access control as the browser sees it, in headless Chromium against gunicorn: without the run permission there
is no Run button that works, and a page of another origin cannot start a run or change the ACL.

A run starts only with the start form's POST to /runs/new (mara's Run buttons lead to the form, app/ui/runs.py):
that POST, the rerun, the cancel and the ACL's changes are what must be refused.
"""

import contextlib
import http.server
import re
import secrets
import threading

import pytest

from app import access
from app.runs import records
from tests.browser import new_page
from tests.support.run_control import last_run_id, open_runs
from tests.support.servers import gunicorn

# mara's run pages: the Run buttons lead there, and they lead to the start form (no longer start anything)
RUN_PAGE = '/pipelines/utils/run-/initialize_utils'
RUN_STREAM = '/pipelines/utils/do-run/initialize_utils'  # mara's run inside a request: gone (410)
START_FORM = '/runs/new?path=utils&nodes=initialize_utils&with_upstreams=0'  # where RUN_PAGE leads
START = {'path': 'utils', 'nodes': 'initialize_utils', 'with_upstreams': '0'}  # the start form's POST
RUN_URL = re.compile(r'/runs/(\d+)$')


@pytest.fixture
def accounts(mara_db_query):
    mara_db_query('TRUNCATE acl_user, acl_permission')
    access.set_role('admin@example.com', 'Admin')
    access.set_role('viewer@example.com', 'Guest')
    yield
    mara_db_query('TRUNCATE acl_user, acl_permission')


def _run_buttons(page) -> dict:
    """The Run buttons of a pipeline page: in the header, above the nodes, and a checkbox per node."""
    page.locator('.card', has=page.locator('.card-header-left', has_text='Nodes')).locator('tbody tr').first.wait_for()
    return {'header': page.locator('#mara-page-header .action-buttons a', has_text='Run').count(),
            'nodes card': page.locator('#run-button, #run-with-upstreams-button').count(),
            'checkboxes': page.locator('.pipeline-node-checkbox').count()}


POST_FROM_PAGE = """([url, fields]) => fetch(url, {method: 'POST', body: new URLSearchParams(fields)})
    .then(async response => [response.status, await response.text()])"""


def _run_finished(page) -> int:
    """The run id of a run page, once the page shows that the run succeeded."""
    page.wait_for_url(RUN_URL)
    page.locator('#run-status', has_text='succeeded').wait_for(timeout=60_000)
    return int(RUN_URL.search(page.url)[1])


def test_without_the_run_permission_no_run_button_works(browser, utils_run, accounts):
    env = {'SECRET_KEY': secrets.token_urlsafe(48), 'ALLOW_RUN_FROM_WEB_UI': 'true'}
    with gunicorn(workers=1, production=True, env=env) as base_url:
        viewer = new_page(browser, base_url, email='viewer@example.com')
        admin = new_page(browser, base_url, email='admin@example.com')
        try:
            runs_before = last_run_id()
            viewer.goto('/pipelines/utils')
            assert _run_buttons(viewer) == {'header': 0, 'nodes card': 0, 'checkboxes': 0}
            viewer.goto('/pipelines/utils/initialize_utils')
            assert viewer.locator('#mara-page-header .action-buttons a').count() == 0
            for url in (RUN_PAGE, START_FORM, RUN_STREAM):  # the Run button's address, the form's, mara's old stream
                response = viewer.goto(url)  # typed in
                assert response.status == 403, url
                assert 'viewer@example.com (role Guest) may not start runs' in \
                    viewer.locator('#mara-main').inner_text(), url
            # the POSTs that the start form and the Runs page send, from a page of the site (passes the site check)
            viewer.goto('/runs')
            for url, fields in (('/runs/new', START), ('/runs/rerun', {}), (f'/runs/{runs_before}/cancel', {})):
                status, text = viewer.evaluate(POST_FROM_PAGE, [url, fields])
                assert status == 403, (url, text)
                assert 'viewer@example.com (role Guest) may not start runs' in text, url
            assert last_run_id() == runs_before and not open_runs()

            # control: on the same server an Admin has the buttons, and they lead to the form that starts the run
            admin.goto('/pipelines/utils')
            assert _run_buttons(admin) == {'header': 1, 'nodes card': 2, 'checkboxes': 2}
            admin.locator('.pipeline-node-checkbox[value="initialize_utils"]').check()
            admin.locator('#run-button').click()
            admin.wait_for_url(f'{base_url}{START_FORM}')
            assert last_run_id() == runs_before  # the form asks first
            admin.locator('#start-form button', has_text='Start').click()
            run_id = _run_finished(admin)
            assert run_id == last_run_id() == runs_before + 1
            admin.locator('#main-output-area', has_text='initialize_utils.sql').wait_for()  # the output, live
            assert records.get(run_id)['started_by'] == 'web admin@example.com'  # who started it, not mara's guest
            assert f'Run {run_id} of pipeline utils [initialize_utils], started by web admin@example.com' in \
                admin.locator('#main-output-area').inner_text()
            for page in (viewer, admin):
                assert not page.problems.page_errors, page.problems
        finally:
            viewer.context.close()
            admin.context.close()


# Every way a page of another origin can send a request on its own, to every URL that runs or changes the ACL.
# {run_id} is the last run (its events, and a cancel of it); the forms post into frames, so that all are sent.
ATTACK_PAGE = '''<!DOCTYPE html>
<html><head><title>Cute cats</title></head><body>
<img src="{target}/runs/new?path=utils&amp;nodes=initialize_utils">
<img src="{target}{run_stream}">
<iframe id="framed" src="{target}{run_page}"></iframe>
<iframe name="sink1"></iframe><iframe name="sink2"></iframe><iframe name="sink3"></iframe>
<iframe name="sink4"></iframe><iframe name="sink5"></iframe><iframe name="sink6"></iframe><iframe name="sink7"></iframe>
<form id="start" method="post" action="{target}/runs/new" target="sink1">
  <input name="path" value="utils"><input name="nodes" value="initialize_utils"><input name="with_upstreams" value="0">
</form>
<form id="rerun" method="post" action="{target}/runs/rerun" target="sink2"></form>
<form id="cancel" method="post" action="{target}/runs/{run_id}/cancel" target="sink3"></form>
<form id="add" method="post" action="{target}/acl/add-user" target="sink4">
  <input name="email" value="evil@example.com"><input name="role" value="Admin"></form>
<form id="demote" method="post" action="{target}/acl/change-user-role/guest@localhost/Nobody" target="sink5"></form>
<form id="delete" method="post" action="{target}/acl/delete-user/guest@localhost" target="sink6"></form>
<form id="permissions" method="post" action="{target}/acl/save-permissions" target="sink7">
  <input name="permissions" value="{{}}"></form>
<script>
  window.received = [];  // what the page could read of the app's answers
  fetch('{target}{run_stream}', {{mode: 'no-cors', credentials: 'include'}});
  fetch('{target}/runs/new', {{method: 'POST', mode: 'no-cors', credentials: 'include',
                               body: new URLSearchParams({{path: 'utils', nodes: 'initialize_utils'}})}});
  new EventSource('{target}/pipelines/utils/do-run-with-upstreams/initialize_utils');
  const events = new EventSource('{target}/runs/{run_id}/events');
  events.onmessage = events.onopen = () => window.received.push('events');
  events.addEventListener('RunFinished', () => window.received.push('RunFinished'));
  events.onerror = () => {{ window.eventsFailed = true; events.close(); }};
  for (const form of ['start', 'rerun', 'cancel', 'add', 'demote', 'delete', 'permissions']) {{
    document.getElementById(form).submit();
  }}
</script>
</body></html>'''
POSTING_PAGE = '''<form id="start" method="post" action="{target}/runs/new">
<input name="path" value="utils"><input name="nodes" value="initialize_utils"><input name="with_upstreams" value="0">
</form><script>document.getElementById('start').submit();</script>'''  # the whole window goes to the app
NAVIGATING_PAGE = '<script>location = "{target}{run_page}";</script>'  # as a link would


@contextlib.contextmanager
def attacker_server(target: str, values: dict):
    """Serves the attacking pages on a free port: /attack, /post and /navigate."""
    pages = {'/attack': ATTACK_PAGE, '/post': POSTING_PAGE, '/navigate': NAVIGATING_PAGE}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages[self.path].format(target=target, run_stream=RUN_STREAM, run_page=RUN_PAGE, **values).encode()
            self.send_response(200)
            self.send_header('Content-Type', 'text/html')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _answers(log_file) -> list:
    """(method, path, status) of the requests for pipelines, runs and the ACL in gunicorn's access log (no assets)."""
    return [answer for answer in re.findall(r'"(GET|POST) (\S+) HTTP/1.1" (\d{3})', log_file.read_text())
            if answer[1].startswith(('/pipelines/', '/runs', '/acl/')) and '/static/' not in answer[1]]


def _wait_for_answers(page, log_file, count: int, timeout_ms: int = 30_000) -> list:
    """The server's answers, once there are `count`; the browser is kept busy meanwhile (it delivers its events)."""
    waited = 0
    while len(_answers(log_file)) < count:
        assert waited < timeout_ms, f'{count} answers expected, got {_answers(log_file)}'
        page.wait_for_timeout(100)
        waited += 100
    return _answers(log_file)


def _browser_page(browser, allowed: tuple):
    """A page that may talk to the given origins only (nothing leaves the machine)."""
    context = browser.new_context()
    context.route(lambda url: not url.startswith(allowed), lambda route: route.abort())
    return context.new_page()


def _state(mara_db_query) -> tuple:
    """What the attack would change: the runs (the last one and any in progress), the accounts and permissions."""
    return (last_run_id(), open_runs(), mara_db_query('SELECT email, role FROM acl_user ORDER BY email'),
            mara_db_query('SELECT user_key, resource_key FROM acl_permission ORDER BY 1, 2'))


@pytest.mark.parametrize('attacker_host', ['localhost', '127.0.0.1'], ids=['cross-site', 'same-site, other port'])
def test_a_page_of_another_origin_cannot_start_a_run_nor_change_the_acl(browser, utils_run, mara_db_query, tmp_path,
                                                                          attacker_host):
    mara_db_query('TRUNCATE acl_user, acl_permission')
    log = tmp_path / 'gunicorn.log'
    values = {}
    with gunicorn(workers=1, env={'ALLOW_RUN_FROM_WEB_UI': 'true'}, log_file=log) as target, \
            attacker_server(target, values) as port:
        attacker = f'http://{attacker_host}:{port}'
        page = _browser_page(browser, (target, attacker))
        own = new_page(browser, target)
        try:
            own.goto('/acl')  # the developer has the web UI open: the guest is an Admin
            before = _state(mara_db_query)
            run_id = values['run_id'] = before[0]
            assert before[2] == [('guest@localhost', 'Admin')] and run_id
            answered = len(_answers(log))

            # Every request that would change something is refused. The GETs change nothing: mara's run pages lead
            # to the start form (302), which only asks; mara's run inside a request is gone (410); the events of a
            # run are a read, which the browser keeps from the other origin's page (no CORS).
            refused = ('POST', '/runs/new', '403')
            link = [('GET', RUN_PAGE, '302'), ('GET', START_FORM, '200')]
            expected = {
                '/attack': [('GET', '/runs/new?path=utils&nodes=initialize_utils', '200'),  # img
                            ('GET', RUN_STREAM, '410'), *link,  # img, iframe
                            ('GET', RUN_STREAM, '410'), refused,  # fetch
                            ('GET', '/pipelines/utils/do-run-with-upstreams/initialize_utils', '410'),  # EventSource
                            ('GET', f'/runs/{run_id}/events', '200'),  # EventSource
                            refused, ('POST', '/runs/rerun', '403'), ('POST', f'/runs/{run_id}/cancel', '403'),
                            ('POST', '/acl/add-user', '403'),
                            ('POST', '/acl/change-user-role/guest@localhost/Nobody', '403'),
                            ('POST', '/acl/delete-user/guest@localhost', '403'),
                            ('POST', '/acl/save-permissions', '403')],
                '/post': [refused],  # the whole window posts the form
                '/navigate': link}
            attack, seen = {}, []
            for attacking_page, answers in expected.items():
                page.goto(f'{attacker}{attacking_page}')
                if attacking_page == '/attack':  # (goto waits for the load of the frames too)
                    framed = [frame.url for frame in page.frames if frame.locator('#start-form').count()]
                elif attacking_page == '/post':
                    page.wait_for_url(f'{target}/runs/new')
                    assert 'Refused: this request would change something' in page.locator('#mara-main').inner_text()
                else:
                    page.wait_for_url(f'{target}{START_FORM}')
                attack[attacking_page] = _wait_for_answers(page, log, answered + len(seen) + len(answers))[
                    answered + len(seen):]
                seen += attack[attacking_page]
                if attacking_page == '/attack':
                    page.wait_for_function('window.eventsFailed')  # an EventSource that may read opens first
                    received = page.evaluate('window.received')
            assert {name: sorted(answers) for name, answers in attack.items()} == \
                {name: sorted(answers) for name, answers in expected.items()}
            assert received == [] and framed == []  # nothing read, the framed start form not shown (X-Frame-Options)
            assert _state(mara_db_query) == before  # no run, no cancel, no change of the ACL

            # control: the form that the link led to is a page of the app; its Start button sends the same POST
            assert page.locator('#start-form input[type=hidden]').evaluate_all(
                'inputs => Object.fromEntries(inputs.map(input => [input.name, input.value]))') == START
            page.locator('#start-form button', has_text='Start').click()
            assert _run_finished(page) == last_run_id() == run_id + 1
            assert _answers(log)[answered + len(seen)] == ('POST', '/runs/new', '303')
        finally:
            page.context.close()
            own.context.close()
    mara_db_query('TRUNCATE acl_user, acl_permission')


def test_the_acl_page_changes_roles_and_deletes_users_with_posts(browser, accounts, mara_db_query, tmp_path):
    """mara's ACL page links these changes as GETs; app/ui/static/access.js sends them as POSTs."""
    access.set_role('bob@example.com', 'Guest')
    log = tmp_path / 'gunicorn.log'
    env = {'SECRET_KEY': secrets.token_urlsafe(48)}
    with gunicorn(workers=1, production=True, env=env, log_file=log) as base_url:
        page = new_page(browser, base_url, email='admin@example.com')
        try:
            page.goto('/acl')
            bob = page.locator('td.user', has_text='bob@example.com')
            bob.locator('a[title="Change role"]').click()
            role = bob.locator('.user-role-input input')
            role.fill('Runner')
            with page.expect_navigation():
                role.press('Enter')
            assert dict(mara_db_query('SELECT email, role FROM acl_user'))['bob@example.com'] == 'Runner'
            with page.expect_navigation():
                page.locator('td.user', has_text='bob@example.com').locator('a[title="Delete user"]').click()
            assert 'bob@example.com' not in dict(mara_db_query('SELECT email, role FROM acl_user'))
            assert 'Deleted user bob@example.com' in page.locator('#alerts').inner_text()
            assert not page.problems.page_errors, page.problems
        finally:
            page.context.close()
    changes = [answer for answer in _answers(log) if '-user' in answer[1]]
    assert changes == [('POST', '/acl/change-user-role/bob%40example.com/Runner', '302'),
                       ('POST', '/acl/delete-user/bob%40example.com', '302')]
