"""Secrets never show: with a real password on a real role, a SECRET_KEY and a credentials file planted, every page
of the web UI (served by gunicorn as in production), the output of runs (command line, web UI, mara's run log),
the downloader's output and the server's log are searched for them.

Each search has a control next to it: the place where the secret would be is shown, masked (***).
"""

import html
import json
import logging
import re
import secrets
import subprocess
import urllib.error
import urllib.parse
import urllib.request

import pytest

from app import access, config, masking
from app.pipelines import root_pipeline
from app.runs import event_log
from tests.support import commands
from tests.support.db import autocommit
from tests.support.run_control import last_run_id
from tests.support.servers import gunicorn, page_text
from tests.support.servers import http_get as fetch

ADMIN = 'secrets-admin@example.com'
FRAGMENTS = ['dependency-graph', 'run-time-chart', 'last-runs-selector', 'run-output', 'timeline-chart',
             'system-stats']


def spellings(secret: str) -> set:
    """How a leaked secret would look in text, HTML, JSON and URLs."""
    return {secret, html.escape(secret), html.escape(secret, quote=False), json.dumps(secret)[1:-1],
            urllib.parse.quote(secret, safe=''), urllib.parse.quote_plus(secret)}


def leaks(text: str, planted: dict) -> list:
    return [name for name, secret in planted['secrets'].items() for spelling in spellings(secret) if spelling in text]


@pytest.fixture(scope='module')
def planted(databases, tmp_path_factory):
    """A role with a password, a SECRET_KEY and a service account key file; the role is dropped at the end."""
    role = f'secret_tester_{secrets.token_hex(4)}'
    password = f'Pw-{secrets.token_hex(8)}&<x>'  # & and < are spelled differently in HTML
    key_lines = [f'MIIEv{secrets.token_hex(24)}', f'KEYLINE{secrets.token_hex(24)}']
    credentials = tmp_path_factory.mktemp('credentials') / 'bigquery-credentials.json'
    private_key_id = secrets.token_hex(20)
    credentials.write_text(json.dumps({
        'type': 'service_account', 'project_id': 'secret-test', 'private_key_id': private_key_id,
        'private_key': '-----BEGIN PRIVATE KEY-----\n' + '\n'.join(key_lines) + '\n-----END PRIVATE KEY-----\n',
        'client_email': 'downloader@secret-test.iam.gserviceaccount.com', 'client_id': '1',
        'token_uri': 'https://oauth2.googleapis.com/token'}))
    autocommit(f"CREATE ROLE {role} LOGIN SUPERUSER PASSWORD '{password}'")
    env = {'POSTGRES_USER': role, 'POSTGRES_PASSWORD': password, 'SECRET_KEY': secrets.token_urlsafe(48),
           'GOOGLE_APPLICATION_CREDENTIALS': str(credentials), 'ALLOW_RUN_FROM_WEB_UI': 'true'}
    yield {'env': env, 'credentials': credentials,
           'secrets': {'POSTGRES_PASSWORD': password, 'SECRET_KEY': env['SECRET_KEY'],
                       'private_key_id': private_key_id, 'private key line 1': key_lines[0],
                       'private key line 2': key_lines[1]}}
    for database in (config.dwh_db(), config.mara_db()):
        autocommit(f'REASSIGN OWNED BY {role} TO {config.postgres_user()}; DROP OWNED BY {role}', database)
    autocommit(f'DROP ROLE {role}')


def flask_command(planted: dict, *args: str, **env: str) -> subprocess.CompletedProcess:
    return commands.flask(*args, env=dict(planted['env'], **env))


def test_run_output_on_the_command_line(planted):
    result = flask_command(planted, 'mara-pipelines', 'run', '--path', 'utils', '--disable-colors')
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "PGPASSWORD='***' " in output  # control: psql's command line is printed
    assert leaks(output, planted) == []


def test_the_downloaders_output(planted, tmp_path):
    result = flask_command(planted, 'bigquery_downloader.download_data', '--data-set', 'github',
                           '--first-date', '2018-04-01', '--last-date', '2018-04-01', DATA_DIR=str(tmp_path))
    output = result.stdout + result.stderr
    assert str(planted['credentials']) in output  # control: it read the file (and refused the invalid key)
    assert leaks(output, planted) == []


def _node_urls(node, path=()):
    base = '/pipelines/' + '/'.join(path)
    yield base.rstrip('/')
    yield from (f'{base}/{fragment}'.replace('//', '/') for fragment in FRAGMENTS)
    if hasattr(node, 'nodes'):
        yield f'{base}/pipeline-children-table'.replace('//', '/')
        for child in node.nodes.values():
            yield from _node_urls(child, (*path, child.id))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is the answer


def send(url: str, headers: dict, form: dict | None = None) -> tuple[int, str, str]:
    """(status, Location, body) of a GET, or of a POST of `form`; redirects are not followed."""
    request = urllib.request.Request(url, headers=headers, method='GET' if form is None else 'POST',
                                     data=None if form is None else urllib.parse.urlencode(form).encode())
    try:
        with urllib.request.build_opener(_NoRedirects).open(request, timeout=60) as response:
            return response.status, response.headers.get('Location', ''), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get('Location', ''), error.read().decode()


def test_every_page_the_web_runs_and_the_servers_log(planted, tmp_path, mara_db_query):
    log = tmp_path / 'gunicorn.log'
    access.set_role(ADMIN, 'Admin')
    admin = {config.email_http_header(): ADMIN, 'Sec-Fetch-Site': 'same-origin'}
    with gunicorn(workers=1, production=True, env=planted['env'], log_file=log) as base_url:
        # a run in the browser: the start form's POST, then the run's live output as its page reads it
        status, location, body = send(f'{base_url}/runs/new', admin, {'path': 'utils', 'nodes': 'initialize_utils'})
        assert status == 303, body
        run_id = int(re.fullmatch(r'(?:http://[^/]+)?/runs/(\d+)', location)[1])
        status, stream = fetch(f'{base_url}/runs/{run_id}/events', admin)  # until the run has finished
        assert status == 200 and 'event: RunFinished' in stream
        assert "PGPASSWORD='***' " in stream  # control
        assert leaks(stream, planted) == []
        live_log = event_log.path(run_id).read_text()  # what the stream is read from
        assert "PGPASSWORD='***' " in live_log  # control
        assert leaks(live_log, planted) == []

        pages = {}
        for url in [*_node_urls(root_pipeline()), '/mara-app/configuration', '/mara-app/navigation-bar', '/acl',
                    '/db/', '/db/dwh', '/db/dwh/.schemas', '/db/mara', '/runs', f'/runs/{run_id}',
                    '/runs/new?path=utils&nodes=initialize_utils']:
            status, pages[url] = fetch(base_url + url, admin)
            assert status == 200, url
        assert f'Run {run_id}: pipeline utils [initialize_utils]' in pages[f'/runs/{run_id}']  # control
        # error pages: (method, url, headers, status); mara's run pages no longer run (410), a POST of another site
        # or without the login header is refused (403)
        not_logged_in = {'Sec-Fetch-Site': 'same-origin'}
        errors = [('GET', '/pipelines/utils/do-run/nope', admin, 404),
                  ('GET', '/pipelines/utils/do-run/initialize_utils', admin, 410),
                  ('GET', '/pipelines/utils/initialize_utils/run-', admin, 400),
                  ('GET', '/runs/new?path=utils&nodes=nope', admin, 404), ('GET', '/runs/999999', admin, 404),
                  ('GET', '/no-such-page', admin, 404), ('GET', '/acl/delete-user/x@example.com', admin, 405),
                  ('GET', '/runs/rerun', admin, 405), ('POST', '/runs/new', {config.email_http_header(): ADMIN}, 403),
                  ('POST', '/runs/rerun', not_logged_in, 403), ('GET', '/pipelines', {}, 403),
                  ('GET', '/pipelines', {config.email_http_header(): 'not an email'}, 400)]
        for method, url, headers, expected in errors:
            status, _location, pages[f'error {method} {url}'] = send(base_url + url, headers,
                                                                      {} if method == 'POST' else None)
            assert status == expected, (method, url)
        assert last_run_id() == run_id  # none of them started a run
    assert len(pages) > 100
    assert {url: leaks(page, planted) for url, page in pages.items() if leaks(page, planted)} == {}
    # controls: the places where the secrets would be
    assert re.search(r"PGPASSWORD<.{0,60}>'\*\*\*'<", pages['/pipelines/utils/initialize_utils'])
    configuration = page_text(pages['/mara-app/configuration'])
    for setting in ('postgres_password', 'secret_key', 'password_masks'):
        assert re.search(rf'{setting}\s*[^\n]*?\*\*\*', configuration), setting
    assert str(planted['credentials']) in configuration  # the path is shown, not what is in the file

    stored = '\n'.join(output for (output,) in mara_db_query(
        'SELECT message FROM data_integration_node_output JOIN data_integration_node_run USING (node_run_id) '
        'WHERE run_id = %s', (run_id,)))  # the run's output in mara's run log
    assert "PGPASSWORD='***' " in stored  # control
    assert leaks(stored, planted) == []
    background_log = config.run_log_dir() / 'background.log'  # the errors of the runs that the web UI started
    server_log = log.read_text() + (background_log.read_text() if background_log.exists() else '')
    assert 'Booting worker' in server_log  # control: the log was written
    assert leaks(server_log, planted) == []


def test_log_records_and_their_tracebacks_are_masked(planted, monkeypatch, capsys):
    monkeypatch.setenv('POSTGRES_PASSWORD', planted['secrets']['POSTGRES_PASSWORD'])
    logger = logging.getLogger('tests.secrets')
    logger.addHandler(handler := logging.StreamHandler())
    try:
        try:
            raise RuntimeError(f'could not connect with password={config.postgres_password()}')
        except RuntimeError:
            logger.exception('connecting as %s failed', f'user:{config.postgres_password()}@host')
    finally:
        logger.removeHandler(handler)
    logged = capsys.readouterr().err
    assert 'connecting as user:***@host failed' in logged
    assert 'RuntimeError: could not connect with password=***' in logged
    assert planted['secrets']['POSTGRES_PASSWORD'] not in logged


def test_short_secrets_are_masked_in_settings_and_output_but_not_in_whole_pages(monkeypatch):
    """A short password ('mara') also occurs in the pages' own URLs: whole pages mask only longer ones."""
    monkeypatch.setenv('POSTGRES_PASSWORD', 'mara')
    assert masking.mask("PGPASSWORD='mara' psql") == "PGPASSWORD='***' psql"
    assert masking.mask('/mara-app/static/mara.js', masking.MIN_LENGTH_IN_PAGES) == '/mara-app/static/mara.js'
