"""Access control as the browser sees it, in headless Chromium against gunicorn: without the run permission there
is no Run button that works, and a page of another origin cannot start a run or change the ACL.
"""

import contextlib
import http.server
import re
import secrets
import threading

import pytest

from app import access
from tests.browser import new_page
from tests.support.run_control import last_run_id, open_runs
from tests.support.servers import gunicorn

RUN_STREAM = '/pipelines/utils/do-run/initialize_utils'
RUN_PAGE = '/pipelines/utils/run-/initialize_utils'


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
            response = viewer.goto(RUN_PAGE)  # the Run button's address, typed in
            assert response.status == 403
            assert 'viewer@example.com (role Guest) may not start runs' in viewer.locator('#mara-main').inner_text()
            viewer.goto('/pipelines/utils')
            stream_error = viewer.evaluate("""url => new Promise(resolve => {
                const source = new EventSource(url);
                source.onerror = () => { source.close(); resolve('refused'); };
                source.addEventListener('RunStarted', () => { source.close(); resolve('started'); });
            })""", RUN_STREAM)
            assert stream_error == 'refused'
            assert last_run_id() == runs_before and not open_runs()

            # control: on the same server an Admin has the buttons, and they work
            admin.goto('/pipelines/utils')
            assert _run_buttons(admin) == {'header': 1, 'nodes card': 2, 'checkboxes': 2}
            admin.locator('.pipeline-node-checkbox[value="initialize_utils"]').check()
            admin.locator('#run-button').click()
            admin.wait_for_url(re.compile(f'{re.escape(RUN_PAGE)}$'))
            admin.locator('#mara-page-header .action-buttons a', has_text='Run again').wait_for(timeout=60_000)
            assert re.search(r'initialize_utils:\s*succeeded', admin.locator('#main-output-area').inner_text())
            assert last_run_id() == runs_before + 1
            for page in (viewer, admin):
                assert not page.problems.page_errors, page.problems
        finally:
            viewer.context.close()
            admin.context.close()


ATTACK_PAGE = '''<!DOCTYPE html>
<html><head><title>Cute cats</title></head><body>
<img src="{target}{run_stream}">
<iframe src="{target}{run_page}"></iframe>
<iframe name="sink1"></iframe><iframe name="sink2"></iframe>
<form id="add" method="post" action="{target}/acl/add-user" target="sink1">
  <input name="email" value="evil@example.com"><input name="role" value="Admin"></form>
<form id="demote" method="post" action="{target}/acl/change-user-role/guest@localhost/Nobody" target="sink2"></form>
<script>
  fetch('{target}{run_stream}', {{mode: 'no-cors', credentials: 'include'}});
  new EventSource('{target}/pipelines/utils/do-run-with-upstreams/initialize_utils');
  document.getElementById('add').submit();
  document.getElementById('demote').submit();
</script>
</body></html>'''
ATTACK_REQUESTS = 6  # img, iframe, two forms, fetch, EventSource
NAVIGATING_PAGE = '<script>location = "{target}{run_page}";</script>'


@contextlib.contextmanager
def attacker_server(target: str):
    """Serves the attacking pages on a free port: /attack and /navigate."""
    pages = {'/attack': ATTACK_PAGE, '/navigate': NAVIGATING_PAGE}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages[self.path].format(target=target, run_stream=RUN_STREAM, run_page=RUN_PAGE).encode()
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
    """(method, path, status) of the requests for pipelines and the ACL in gunicorn's access log (not the assets)."""
    return [answer for answer in re.findall(r'"(GET|POST) (\S+) HTTP/1.1" (\d{3})', log_file.read_text())
            if answer[1].startswith(('/pipelines/', '/acl/'))]


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


@pytest.mark.parametrize('attacker_host', ['localhost', '127.0.0.1'], ids=['cross-site', 'same-site, other port'])
def test_a_page_of_another_origin_cannot_start_a_run_nor_change_the_acl(browser, utils_run, mara_db_query, tmp_path,
                                                                          attacker_host):
    mara_db_query('TRUNCATE acl_user, acl_permission')
    log = tmp_path / 'gunicorn.log'
    with gunicorn(workers=1, env={'ALLOW_RUN_FROM_WEB_UI': 'true'}, log_file=log) as target, \
            attacker_server(target) as port:
        attacker = f'http://{attacker_host}:{port}'
        page = _browser_page(browser, (target, attacker))
        own = new_page(browser, target)
        try:
            own.goto('/acl')  # the developer has the web UI open: the guest is an Admin
            runs_before, users_before = last_run_id(), mara_db_query('SELECT email, role FROM acl_user')
            assert users_before == [('guest@localhost', 'Admin')]
            before = len(_answers(log))

            page.goto(f'{attacker}/attack')
            _wait_for_answers(page, log, before + ATTACK_REQUESTS)
            page.goto(f'{attacker}/navigate')  # its script opens the run page, as a link would
            page.wait_for_url(f'{target}{RUN_PAGE}')
            attack = _wait_for_answers(page, log, before + ATTACK_REQUESTS + 1)[before:]
            assert sorted(attack) == sorted([
                ('GET', RUN_STREAM, '403'), ('GET', RUN_STREAM, '403'), ('GET', RUN_PAGE, '403'),
                ('GET', '/pipelines/utils/do-run-with-upstreams/initialize_utils', '403'),
                ('POST', '/acl/add-user', '403'), ('POST', '/acl/change-user-role/guest@localhost/Nobody', '403'),
                ('GET', RUN_PAGE, '403')]), attack
            assert 'Refused: this request would change something' in page.locator('#mara-main').inner_text()
            assert last_run_id() == runs_before and not open_runs()
            assert mara_db_query('SELECT email, role FROM acl_user') == users_before

            # control: the same stream, opened by a page of the app itself, starts the run
            outcome = own.evaluate("""url => new Promise(resolve => {
                const source = new EventSource(url);
                source.addEventListener('RunFinished', event => { source.close(); resolve(JSON.parse(event.data)); });
                source.onerror = () => { source.close(); resolve(null); };
            })""", RUN_STREAM)
            assert outcome and outcome['succeeded'] is True
            assert last_run_id() == runs_before + 1
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
