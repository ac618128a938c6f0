"""What the web UI's requests keep for the next ones: database connections, highlighted code (app/ui/reuse.py)."""

import os

import mara_db.dbs
import mara_page.html
import psycopg2
import pygments
import pytest

from app.ui import reuse as connections


@pytest.fixture
def no_idle_connections(app):
    connections.close_idle_connections()
    yield
    connections.close_idle_connections()


def _idle_backend_pids() -> set:
    with connections._lock:
        return {connection.get_backend_pid() for (pid, *_), idle in connections._idle.items() if pid == os.getpid()
                for connection in idle}


def _backend_pid_in_a_request(app) -> int:
    with app.test_request_context(), mara_db.dbs.cursor_context('mara') as cursor:
        cursor.execute('SELECT pg_backend_pid()')
        return cursor.fetchone()[0]


def test_pages_reuse_the_connections_of_earlier_requests(client, no_idle_connections):
    assert client.get('/pipelines/pypi').status_code == 200
    kept = _idle_backend_pids()
    # the login, the permissions and the page's queries one after the other; the very first login stores the
    # initial permissions in a context of its own inside the login's
    assert 1 <= len(kept) <= 2
    for url in ['/pipelines/pypi', '/pipelines/pypi/last-runs-selector', '/pipelines/pypi/run-output-limited',
                '/runs', '/pipelines/pypi'] * 3:
        assert client.get(url).status_code == 200, url
    assert _idle_backend_pids() == kept


def test_outside_a_request_every_context_has_a_connection_of_its_own(app, no_idle_connections):
    pids = set()
    for _ in range(3):
        with mara_db.dbs.cursor_context('mara') as cursor:
            cursor.execute('SELECT pg_backend_pid()')
            pids.add(cursor.fetchone()[0])
    assert (len(pids), connections.idle_connections()) == (3, 0)


def test_a_connection_that_the_server_ended_is_replaced_without_a_failed_page(app, client, mara_db_query,
                                                                              no_idle_connections):
    first = _backend_pid_in_a_request(app)
    assert mara_db_query('SELECT pg_terminate_backend(%s)', (first,)) == [(True,)]
    assert client.get('/pipelines/pypi').status_code == 200
    second = _backend_pid_in_a_request(app)
    assert second != first
    assert _idle_backend_pids() == {second}


def test_a_failed_query_rolls_back_and_the_connection_serves_the_next_request(app, no_idle_connections):
    pid = _backend_pid_in_a_request(app)
    with pytest.raises(psycopg2.errors.DivisionByZero), app.test_request_context(), \
            mara_db.dbs.cursor_context('mara') as cursor:
        cursor.execute('SELECT 1 / 0')
    assert _backend_pid_in_a_request(app) == pid  # rolled back, so kept; an aborted transaction would fail here


def test_a_forked_process_does_not_use_the_connections_of_its_parent(app, no_idle_connections):
    parent_pid = _backend_pid_in_a_request(app)
    read_fd, write_fd = os.pipe()
    child = os.fork()
    if child == 0:  # the child: a request of its own, then out without running the parent's cleanups
        try:
            os.write(write_fd, str(_backend_pid_in_a_request(app)).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    child_backend_pid = int(os.read(read_fd, 100).decode())
    os.close(read_fd)
    os.waitpid(child, 0)
    assert child_backend_pid != parent_pid
    assert _backend_pid_in_a_request(app) == parent_pid  # the parent's connection still works, unshared


def test_the_same_code_is_highlighted_once(monkeypatch):
    calls = []
    highlight = pygments.highlight
    monkeypatch.setattr(pygments, 'highlight', lambda code, *args, **kwargs: calls.append(code)
                        or highlight(code, *args, **kwargs))
    code = f'SELECT {os.getpid()} AS pid_of_this_test'  # code that no other test highlighted
    first = mara_page.html.highlight_syntax(code, 'sql')
    second = mara_page.html.highlight_syntax(code, 'sql')
    assert calls == [code]
    assert second == first and second is not first  # a list of its own: a caller may add to it
    assert '<span class="k">SELECT</span>' in str(first[1])
    mara_page.html.highlight_syntax(code, 'postgresql')
    assert calls == [code, code]  # another language, another markup
