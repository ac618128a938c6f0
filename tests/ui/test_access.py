"""The access layer (app/access.py) with real requests through Flask's test client and a real mara database:
identity, permissions per resource, the ACL's changes, and runs that only start from a page of this site.

Production as gunicorn serves it is in tests/ui/test_production.py; the browser's view in
tests/ui/test_access_browser.py.
"""

import json
import re

import flask
import pytest

from app import access, config
from tests.support.run_control import last_run_id, open_runs

HEADER = config.email_http_header()
SAME_SITE = {'Sec-Fetch-Site': 'same-origin'}  # what Chromium sends from the app's own pages
RUN_PAGE = '/pipelines/utils/run-/initialize_utils'  # mara's: leads to the start form
DO_RUN = '/pipelines/utils/do-run/initialize_utils'  # mara's: gone (410), runs start with a POST (app/ui/runs.py)
START_FORM = '/runs/new?path=utils&nodes=initialize_utils'
START = {'path': 'utils', 'nodes': 'initialize_utils'}  # the form's POST to /runs/new
PERMISSION_MESSAGE = 'Not enough permissions'


@pytest.fixture
def fresh_acl(mara_db_query):
    """No users and no permissions, before and after the test (the next login is the first one again)."""
    mara_db_query('TRUNCATE acl_user, acl_permission')
    yield
    mara_db_query('TRUNCATE acl_user, acl_permission')


@pytest.fixture
def login_required(monkeypatch, fresh_acl):
    """Requests are identified by the login proxy's header, as in production; admin@example.com is an Admin."""
    monkeypatch.setenv('REQUIRE_EMAIL_HTTP_HEADER', 'true')
    access.set_role('admin@example.com', 'Admin')


def users(mara_db_query) -> dict:
    return dict(mara_db_query('SELECT email, role FROM acl_user'))


def as_user(email: str, **headers) -> dict:
    return {HEADER: email, **headers}


def message(response) -> str:
    """The explanation on one of mara's error pages."""
    found = re.search(r'<p style="color:#888">(.*?)</p>', response.get_data(as_text=True), re.DOTALL)
    return found[1] if found else ''


# ---------------------------------------------------------------- every endpoint in one place

def test_every_endpoint_of_the_app_is_registered(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if not access.is_static(rule.endpoint)}
    assert endpoints - set(access.ENDPOINTS) == set(), 'register them in app/access.py'
    assert set(access.ENDPOINTS) - endpoints == set(), 'stale entries in app/access.py'


def test_an_endpoint_that_is_not_registered_is_refused():
    other = flask.Flask('other')
    other.add_url_rule('/new-page', 'new_page', lambda: 'secret things')
    other.before_request(access.check_request)
    response = other.test_client().get('/new-page')
    assert response.status_code == 403
    assert 'new_page is not registered in app/access.py' in response.get_data(as_text=True)


# ---------------------------------------------------------------- identity

def test_the_development_guest_is_an_admin_and_new_users_may_only_view_pipelines(client, fresh_acl, mara_db_query):
    for url in ('/pipelines', '/mara-app/configuration', '/acl', '/db/'):
        assert client.get(url).status_code == 200, url
    assert users(mara_db_query) == {'guest@localhost': 'Admin'}
    assert sorted(mara_db_query('SELECT user_key, resource_key FROM acl_permission')) == [
        ('user__Admin', 'resource__All'), ('user__Guest', 'resource__All__All__Pipelines')]


def test_the_development_server_ignores_the_email_header(client, fresh_acl, mara_db_query):
    client.get('/pipelines')
    access.set_role('guest@localhost', 'Nobody')
    response = client.get('/acl', headers=as_user('admin@example.com'))
    assert response.status_code == 403  # still the guest, whose role may do nothing
    assert users(mara_db_query) == {'guest@localhost': 'Nobody'}  # no account for the header's email


def test_production_requires_the_email_header(client, login_required):
    response = client.get('/pipelines')
    assert response.status_code == 403
    assert f'the header {HEADER}, and this request came without it' in message(response)
    for bad in ('<script>@x', 'no-email', 'a@b@c', ' '):
        response = client.get('/pipelines', headers=as_user(bad))
        assert response.status_code == (403 if bad == ' ' else 400), bad
    assert client.get('/pipelines', headers=as_user('admin@example.com')).status_code == 200


def test_the_first_account_is_an_admin_and_the_next_ones_get_the_new_user_role(client, monkeypatch, fresh_acl,
                                                                                 mara_db_query):
    monkeypatch.setenv('REQUIRE_EMAIL_HTTP_HEADER', 'true')
    client.get('/pipelines', headers=as_user('First@Example.com'))
    client.get('/pipelines', headers=as_user('second@example.com'))
    assert users(mara_db_query) == {'first@example.com': 'Admin', 'second@example.com': 'Guest'}


def test_an_unknown_email_gets_the_configured_role(client, monkeypatch, login_required, mara_db_query):
    monkeypatch.setenv('NEW_USER_ROLE', 'Viewer')
    mara_db_query('TRUNCATE acl_user, acl_permission')
    access.set_role('admin@example.com', 'Admin')  # the initial permissions now name the role Viewer
    assert client.get('/pipelines/utils', headers=as_user('new@example.com')).status_code == 200
    assert users(mara_db_query)['new@example.com'] == 'Viewer'
    assert client.get('/mara-app/configuration', headers=as_user('new@example.com')).status_code == 403


# ---------------------------------------------------------------- permissions

def test_a_new_user_may_view_pipelines_only(client, login_required, utils_run):
    viewer = as_user('viewer@example.com', **SAME_SITE)
    runs_before = last_run_id()
    page = client.get('/pipelines/utils', headers=viewer)
    assert page.status_code == 200
    assert 'Creates the SQL helpers of schema util' in page.get_data(as_text=True)
    children = client.get('/pipelines/utils/pipeline-children-table', headers=viewer).get_data(as_text=True)
    assert 'initialize_utils' in children and 'pipeline-node-checkbox' not in children
    assert 'id="run-button"' not in page.get_data(as_text=True)
    assert not re.search(r'href="[^"]*/run-', page.get_data(as_text=True))  # no Run button in the header
    for url, what in (('/mara-app/configuration', 'view the configuration'),
                      ('/acl', 'change users, roles and permissions'),
                      ('/db/', 'view the database schemas'),
                      (RUN_PAGE, 'start runs'), (DO_RUN, 'start runs')):
        response = client.get(url, headers=viewer)
        assert response.status_code == 403, url
        assert message(response).startswith(f'viewer@example.com (role Guest) may not {what}.'), message(response)
    assert client.get('/db/dwh/.schemas', headers=viewer).get_data(as_text=True).count(PERMISSION_MESSAGE) == 1
    for url, data in (('/runs/new', START), ('/runs/rerun', {}), (f'/runs/{runs_before}/cancel', {})):
        response = client.post(url, data=data, headers=viewer)  # from a page of this site, but without the permission
        assert response.status_code == 403, url
        assert message(response).startswith('viewer@example.com (role Guest) may not start runs.'), message(response)
    response = client.post('/acl/add-user', data={'email': 'evil@example.com', 'role': 'Admin'}, headers=viewer)
    assert response.status_code == 403
    assert last_run_id() == runs_before


def test_a_role_without_permissions_gets_403_on_pages_and_the_message_in_fragments(client, fresh_acl,
                                                                                  mara_db_query):
    client.get('/pipelines')
    access.set_role('guest@localhost', 'Nobody')
    for url in ('/pipelines', '/pipelines/utils', '/acl', '/mara-app/configuration', '/db/', '/db/dwh'):
        assert client.get(url).status_code == 403, url
    for url in ('/pipelines/utils/dependency-graph', '/pipelines/utils/run-time-chart',
                '/pipelines/utils/pipeline-children-table', '/pipelines/utils/last-runs-selector',
                '/pipelines/utils/run-output', '/pipelines/utils/timeline-chart', '/pipelines/utils/system-stats',
                '/db/dwh/.schemas', '/db/dwh/time'):
        response = client.get(url)
        assert (response.status_code, response.get_data(as_text=True).count(PERMISSION_MESSAGE)) == (200, 1), url
    response = client.post('/acl/add-user', data={'email': 'evil@example.com', 'role': 'Admin'}, headers=SAME_SITE)
    assert response.status_code == 403
    assert users(mara_db_query) == {'guest@localhost': 'Nobody'}
    assert client.get('/mara-app/navigation-bar').status_code == 200  # for everybody who is logged in


def test_a_role_named_like_admin_gets_none_of_the_admins_rights(client, login_required):
    """mara-acl compares keys with LIKE prefixes: its check lets the role Admin grant to Administrators."""
    access.set_role('admins@example.com', 'Administrators')
    for url in ('/acl', '/mara-app/configuration', '/pipelines'):
        assert client.get(url, headers=as_user('admins@example.com')).status_code == 403, url


def test_a_permission_of_one_user(client, login_required, mara_db_query):
    """Saved on the ACL page as the admin does: bob may view the configuration, the other guests may not."""
    for email in ('bob@example.com', 'carol@example.com'):
        access.set_role(email, 'Guest')
    admin = as_user('admin@example.com', **SAME_SITE)
    permissions = {f'{user}__{resource}': [user, resource]
                   for user, resource in mara_db_query('SELECT user_key, resource_key FROM acl_permission')}
    bob, configuration = 'user__Guest__bob-example-com', access.resource_key(access.CONFIGURATION)
    permissions[f'{bob}__{configuration}'] = [bob, configuration]
    response = client.post('/acl/save-permissions', data={'permissions': json.dumps(permissions)}, headers=admin)
    assert response.status_code == 302
    assert client.get('/mara-app/configuration', headers=as_user('bob@example.com')).status_code == 200
    assert client.get('/mara-app/configuration', headers=as_user('carol@example.com')).status_code == 403
    assert client.get('/acl', headers=as_user('bob@example.com')).status_code == 403


def test_running_is_its_own_resource(client, login_required, utils_run, mara_db_query):
    access.set_role('runner@example.com', 'Runner')
    access.set_role('viewer@example.com', 'Guest')
    pipelines, run = access.resource_key(access.PIPELINES), access.resource_key(access.RUN)
    mara_db_query('INSERT INTO acl_permission VALUES (%s, %s), (%s, %s)',
                  ('user__Runner', pipelines, 'user__Runner', run))
    runner = as_user('runner@example.com', **SAME_SITE)
    assert 'id="run-button"' in client.get('/pipelines/utils', headers=runner).get_data(as_text=True)
    children = client.get('/pipelines/utils/pipeline-children-table', headers=runner).get_data(as_text=True)
    assert 'pipeline-node-checkbox' in children
    assert client.get(START_FORM, headers=runner).status_code == 200
    for url in ('/mara-app/configuration', '/acl'):
        assert client.get(url, headers=runner).status_code == 403, url
    assert client.get(START_FORM, headers=as_user('viewer@example.com', **SAME_SITE)).status_code == 403


# ---------------------------------------------------------------- no state change without intent

def test_acl_changes_are_posts_from_this_site(client, fresh_acl, mara_db_query):
    client.get('/acl')  # the guest, an Admin
    evil = {'Origin': 'http://evil.example'}
    add = {'email': 'bob@example.com', 'role': 'Guest'}
    assert client.post('/acl/add-user', data=add, headers=evil).status_code == 403
    assert client.post('/acl/add-user', data=add).status_code == 403  # nothing says where it comes from
    assert client.post('/acl/add-user', data=add, headers={'Referer': 'http://localhost/acl'}).status_code == 302
    assert users(mara_db_query)['bob@example.com'] == 'Guest'

    change = '/acl/change-user-role/bob@example.com/Admin'
    assert client.get(change, headers=SAME_SITE).status_code == 405
    assert client.post(change, headers={'Sec-Fetch-Site': 'same-site'}).status_code == 403  # another port
    assert users(mara_db_query)['bob@example.com'] == 'Guest'
    assert client.post(change, headers=SAME_SITE).status_code == 302
    assert users(mara_db_query)['bob@example.com'] == 'Admin'

    delete = '/acl/delete-user/bob@example.com'
    assert client.get(delete, headers=SAME_SITE).status_code == 405
    assert client.post(delete, headers=evil).status_code == 403
    assert 'bob@example.com' in users(mara_db_query)
    assert client.post(delete, headers={'Origin': 'http://localhost'}).status_code == 302
    assert 'bob@example.com' not in users(mara_db_query)


CROSS_SITE = [
    {},  # no header says where the request comes from
    {'Sec-Fetch-Site': 'cross-site'},
    {'Sec-Fetch-Site': 'same-site'},  # another port or subdomain
    {'Origin': 'http://evil.example'},
    {'Origin': 'null'},  # sandboxed frames, file:// pages
    {'Origin': 'http://localhost.evil.example'},
    {'Referer': 'http://evil.example/attack.html'},
    {'Sec-Fetch-Site': 'same-origin', 'Origin': 'http://evil.example'},
]


@pytest.mark.parametrize('headers', CROSS_SITE, ids=[json.dumps(h) for h in CROSS_SITE])
def test_runs_do_not_start_from_other_sites(client, utils_run, headers):
    runs_before = last_run_id()
    for url, data in (('/runs/new', START), ('/runs/rerun', {}), (f'/runs/{runs_before}/cancel', {})):
        response = client.post(url, data=data, headers=headers)
        assert response.status_code == 403, url
        assert message(response).startswith('Refused: this request would change something'), url
    assert last_run_id() == runs_before


def test_runs_start_from_this_site(client, utils_run):
    runs_before = last_run_id()
    assert client.get(START_FORM, headers={'Sec-Fetch-Site': 'none'}).status_code == 200  # typed into the address bar
    assert client.get(RUN_PAGE, headers={'Referer': 'http://localhost/pipelines/utils'}).status_code == 302
    started = client.post('/runs/new', data=START, headers={'Origin': 'http://localhost:80', **SAME_SITE})
    assert (started.status_code, started.location) == (303, f'/runs/{runs_before + 1}'), started.get_data(as_text=True)
    stream = client.get(f'{started.location}/events').get_data(as_text=True)  # what its page shows, to the end
    assert '"succeeded": true' in stream.split('event: RunFinished')[-1]
    assert last_run_id() == runs_before + 1 and not open_runs()


@pytest.mark.parametrize('url, status, text', [
    ('/pipelines/utils/do-run/no_such_task', 404, 'The pipeline &#34;utils&#34; has no node &#34;no_such_task&#34;.'),
    ("/pipelines/utils/do-run/x';drop table x--", 404, 'has no node &#34;x&#39;;drop table x--&#34;.'),
    ('/pipelines/utils/run-/initialize_utils/nope', 404, 'has no node &#34;nope&#34;.'),
    ('/pipelines/no_such_pipeline/do-run', 404, 'There is no pipeline &#34;no_such_pipeline&#34;.'),
    ('/pipelines/utils/initialize_utils/run-', 400,
     '&#34;utils/initialize_utils&#34; is a task, not a pipeline: run it from the page of its pipeline.'),
    ('/pipelines/utils/initialize_utils/do-run', 400, 'is a task, not a pipeline'),
])
def test_unknown_nodes_and_paths_are_answered_with_the_reason(client, utils_run, url, status, text):
    runs_before = last_run_id()
    response = client.get(url, headers=SAME_SITE)
    assert response.status_code == status
    assert text in message(response)
    assert last_run_id() == runs_before


def test_pages_may_not_be_framed_by_other_sites_nor_learn_their_urls(client):
    headers = client.get('/pipelines').headers
    assert (headers['X-Frame-Options'], headers['Referrer-Policy']) == ('SAMEORIGIN', 'same-origin')
    assert headers['X-Content-Type-Options'] == 'nosniff'


# ---------------------------------------------------------------- command line

def test_the_first_admin_is_made_on_the_command_line(flask_cli, fresh_acl, mara_db_query):
    result = flask_cli('acl', 'set-role', 'Alice@Example.com', 'Admin')
    assert (result.returncode, result.stdout) == (0, 'alice@example.com has the role Admin.\n'), result.stderr
    assert users(mara_db_query) == {'alice@example.com': 'Admin'}
    assert ('user__Admin', 'resource__All') in mara_db_query('SELECT user_key, resource_key FROM acl_permission')
    result = flask_cli('acl', 'set-role', 'not an email', 'Admin')
    assert result.returncode == 2 and 'not an email address' in result.stderr
