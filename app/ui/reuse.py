"""What the web UI's requests reuse from earlier ones: database connections, and highlighted source code.

Connections. A page and each of its parts run a few short queries (the login, the user's permissions, mara's run
tables), each through `mara_db.dbs.cursor_context`, which opens a new connection every time: a new PostgreSQL server
process, which fills its catalog caches anew (8.4 ms of a page's 17 ms for its two connections, and most of its time
under load: docs/benchmark.md). In a request, a cursor context here takes an idle connection of this process
instead, checks that the server still has it (one round trip, so a restarted server costs no failed page), and gives
it back once committed or rolled back.

Only requests use it. The CLI and the ETL, whose tasks mara runs in forked processes, keep mara's connection per
context. The idle connections are per process id: a forked process never uses its parent's, which would mix two
conversations on one socket.

Highlighted code. A task page shows its SQL files and commands highlighted by pygments, with the style sheet made
again for each (mara_page.html.highlight_syntax): 2-3 ms of CPU per piece, the largest part of a task page once
connections are kept. The same code gives the same markup, so the last pieces made are kept.
"""

import contextlib
import functools
import os
import threading

import flask
import mara_db.dbs
import mara_page.html
import psycopg2
import psycopg2.extensions
from mara_app.monkey_patch import wrap

# per web server process: as many as a gunicorn worker serves requests at once (make run-gunicorn)
MAX_IDLE_PER_DATABASE = 4
HIGHLIGHTED_PIECES_KEPT = 512  # a task page shows up to about 10; the project has 22 nodes

_lock = threading.Lock()
_idle: dict[tuple, list] = {}  # (process id, connection parameters) -> idle connections


def _key(db: mara_db.dbs.PostgreSQLDB) -> tuple:
    return os.getpid(), db.host, db.port, db.user, db.password, db.database


def _alive(connection) -> bool:
    """Whether the server still has the connection (it may have restarted, or ended idle sessions)."""
    if connection.closed:
        return False
    try:
        with connection.cursor() as cursor:
            cursor.execute('SELECT 1')
        return True
    except psycopg2.Error:
        connection.close()
        return False


def _take(db: mara_db.dbs.PostgreSQLDB):
    with _lock:
        idle = _idle.setdefault(_key(db), [])
    while True:
        with _lock:
            connection = idle.pop() if idle else None
        if connection is None:
            return mara_db.dbs.connect(db)
        if _alive(connection):
            return connection


def _give_back(db: mara_db.dbs.PostgreSQLDB, connection) -> None:
    """Keeps the connection for the next request when it is healthy and outside a transaction, else closes it."""
    if not connection.closed and connection.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE:
        with _lock:
            idle = _idle.setdefault(_key(db), [])
            if len(idle) < MAX_IDLE_PER_DATABASE:
                idle.append(connection)
                return
    connection.close()


def idle_connections() -> int:
    """How many connections this process keeps open (for tests)."""
    with _lock:
        return sum(len(idle) for (pid, *_), idle in _idle.items() if pid == os.getpid())


def close_idle_connections() -> None:
    """Closes this process's idle connections, e.g. before a test drops the database they are connected to."""
    with _lock:
        mine = [key for key in _idle if key[0] == os.getpid()]
        connections = [connection for key in mine for connection in _idle.pop(key)]
    for connection in connections:
        connection.close()


@wrap(mara_db.dbs.cursor_context)
@contextlib.contextmanager
def cursor_context(original, db):
    """mara's cursor context, on a kept connection in a request of the web UI (commit at the end, rollback on
    an error, as mara's)."""
    db = mara_db.dbs.db(db) if isinstance(db, str) else db
    if not (flask.has_request_context() and isinstance(db, mara_db.dbs.PostgreSQLDB)):
        with original(db) as cursor:
            yield cursor
        return
    connection = _take(db)
    try:
        with connection.cursor() as cursor:
            yield cursor
        connection.commit()
    except BaseException:
        with contextlib.suppress(psycopg2.Error):  # a connection that the server closed cannot roll back
            connection.rollback()
        raise
    finally:
        _give_back(db, connection)


@wrap(mara_page.html.highlight_syntax)
def highlight_syntax(original, code: str, language: str) -> list:
    """mara's highlighted markup of `code`, made once for the same code and language."""
    return list(_highlighted(original, code, language))


@functools.lru_cache(maxsize=HIGHLIGHTED_PIECES_KEPT)
def _highlighted(original, code: str, language: str) -> tuple:
    return tuple(original(code, language))
