"""How the servers start: production (gunicorn with `app.app:wsgi_app`, as the Docker image and `make run-gunicorn`
run it) refuses unsafe settings and serves logged-in users only; `make run-flask` listens on the loopback only.
"""

import os
import secrets
import signal
import subprocess

import psutil
import pytest

from app import access, config
from tests.support import PROJECT_ROOT
from tests.support.servers import free_port, gunicorn, wait_for
from tests.support.servers import http_get as fetch

HEADER = config.email_http_header()


@pytest.mark.parametrize('key', ['', config.DEFAULT_SECRET_KEY, 'x' * (access.MIN_SECRET_KEY_LENGTH - 1)])
def test_production_refuses_to_start_without_a_secret_key_of_its_own(databases, key):
    with pytest.raises(RuntimeError, match=r'exited with code \d+[\s\S]*Not starting: production needs SECRET_KEY'):
        with gunicorn(workers=1, production=True, env={'SECRET_KEY': key}, start_timeout=30):
            pass


@pytest.fixture
def accounts(mara_db_query):
    mara_db_query('TRUNCATE acl_user, acl_permission')
    access.set_role('admin@example.com', 'Admin')
    yield
    mara_db_query('TRUNCATE acl_user, acl_permission')


def test_production_serves_users_that_the_login_proxy_names(accounts, mara_db_query):
    # REQUIRE_EMAIL_HTTP_HEADER is for the development server: production requires the header anyway
    env = {'SECRET_KEY': secrets.token_urlsafe(48), 'REQUIRE_EMAIL_HTTP_HEADER': 'false'}
    with gunicorn(workers=1, production=True, env=env) as base_url:
        status, page = fetch(f'{base_url}/pipelines')
        assert status == 403 and f'the header {HEADER}, and this request came without it' in page
        # WSGI cannot tell X_Forwarded_Email from X-Forwarded-Email; gunicorn drops such headers
        assert fetch(f'{base_url}/pipelines', {HEADER.replace('-', '_'): 'admin@example.com'})[0] == 403
        assert fetch(f'{base_url}/mara-app/configuration', {HEADER: 'admin@example.com'})[0] == 200
        assert fetch(f'{base_url}/pipelines', {HEADER: 'new@example.com'})[0] == 200
        assert fetch(f'{base_url}/mara-app/configuration', {HEADER: 'new@example.com'})[0] == 403
    assert dict(mara_db_query('SELECT email, role FROM acl_user')) == {
        'admin@example.com': 'Admin', 'new@example.com': config.new_user_role()}


def _listening_addresses(port: int) -> set:
    return {connection.laddr.ip for connection in psutil.net_connections('tcp')
            if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port}


def test_make_run_flask_listens_on_the_loopback_interface_only(databases):
    port = free_port()
    server = subprocess.Popen(['make', '--no-print-directory', 'run-flask', f'FLASK_RUN_PORT={port}'],
                              cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        addresses = wait_for(lambda: _listening_addresses(port), 60, 'the development server to listen')
        assert addresses == {'127.0.0.1'}
        assert fetch(f'http://127.0.0.1:{port}/pipelines')[0] == 200
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # make and the flask server it started
        server.wait(timeout=30)
