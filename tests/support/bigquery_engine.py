"""An embedded engine for the downloader's BigQuery SQL: sqlglot transpiles it to DuckDB, which runs it
over small raw tables shaped like BigQuery's public ones.

Plug it into the fake (`FakeBigQuery(engine=engine)`): the fake then answers each billed query by running
the exact SQL text and parameters that the real client sent.

The raw tables:
  - githubarchive.day.YYYYMMDD: one row per event, `payload` a JSON string (as GH Archive has it);
  - bigquery-public-data.pypi.file_downloads: one row per download, with the nested `file` and
    `details` records.

Transpiling needs no workaround in the SQL itself. Two things are set up on the DuckDB side instead:
  - the three-part table names resolve because each project (githubarchive, bigquery-public-data) is
    an attached in-memory database with the data set as its schema;
  - the session time zone is UTC, as BigQuery's TIMESTAMP(date) is midnight UTC.
"""

import datetime
import json
import threading
from collections.abc import Iterable

import duckdb
import sqlglot

_GITHUB_DAY_COLUMNS = '''
    type VARCHAR, public BOOLEAN, payload VARCHAR,
    repo STRUCT(id BIGINT, name VARCHAR, url VARCHAR),
    actor STRUCT(id BIGINT, login VARCHAR, gravatar_id VARCHAR, avatar_url VARCHAR, url VARCHAR),
    org STRUCT(id BIGINT, login VARCHAR, gravatar_id VARCHAR, avatar_url VARCHAR, url VARCHAR),
    created_at TIMESTAMPTZ, id VARCHAR, other VARCHAR'''

_PYPI_COLUMNS = '''
    timestamp TIMESTAMPTZ, country_code VARCHAR, url VARCHAR, project VARCHAR,
    file STRUCT(filename VARCHAR, project VARCHAR, version VARCHAR, type VARCHAR),
    details STRUCT(installer STRUCT(name VARCHAR, version VARCHAR), python VARCHAR,
                   implementation STRUCT(name VARCHAR, version VARCHAR),
                   system STRUCT(name VARCHAR, release VARCHAR), cpu VARCHAR, ci BOOLEAN),
    tls_protocol VARCHAR, tls_cipher VARCHAR'''

PYPI_TABLE = '"bigquery-public-data".pypi.file_downloads'


class BigQueryEngine:
    def __init__(self):
        self._connection = duckdb.connect(':memory:')
        self._lock = threading.Lock()  # the fake serves requests from several threads
        self._execute("SET TimeZone = 'UTC'")
        for project, data_set in (('githubarchive', 'day'), ('bigquery-public-data', 'pypi')):
            self._execute(f'''ATTACH ':memory:' AS "{project}"''')
            self._execute(f'CREATE SCHEMA "{project}".{data_set}')
        self._execute(f'CREATE TABLE {PYPI_TABLE} ({_PYPI_COLUMNS})')
        self.queries: list[str] = []  # the DuckDB SQL that was run

    def close(self):
        self._connection.close()

    def _execute(self, sql: str, parameters=None):
        with self._lock:
            return self._connection.execute(sql, parameters).fetchall()

    def __call__(self, sql: str, parameters: dict[str, object]) -> list[tuple]:
        """Runs one BigQuery statement with its named parameters; the rows as tuples."""
        duckdb_sql = sqlglot.transpile(sql, read='bigquery', write='duckdb')[0]
        self.queries.append(duckdb_sql)
        return self._execute(duckdb_sql, parameters)

    def add_github_events(self, day: datetime.date, events: Iterable[dict]):
        """Creates githubarchive.day.YYYYMMDD (if needed) and adds events made by `github_event`."""
        table = f'githubarchive.day."{day:%Y%m%d}"'
        self._execute(f'CREATE TABLE IF NOT EXISTS {table} ({_GITHUB_DAY_COLUMNS})')
        for event in events:
            noon = datetime.datetime.combine(day, datetime.time(12), datetime.UTC)
            self._execute(f'''INSERT INTO {table} (type, public, payload, repo, created_at, id) VALUES
                              ($type, true, $payload, {{'id': 1, 'name': $repo, 'url': ''}}, $created_at, $id)''',
                          event | {'created_at': noon})

    def add_pypi_downloads(self, downloads: Iterable[dict]):
        """Adds rows made by `pypi_download`."""
        for download in downloads:
            self._execute(f'''INSERT INTO {PYPI_TABLE} (timestamp, country_code, url, project, file, details)
                VALUES ($timestamp, 'DE', '', $project,
                        {{'filename': $project || '-' || $version || '.whl', 'project': $project,
                          'version': $version, 'type': 'bdist_wheel'}},
                        {{'installer': {{'name': $installer, 'version': NULL}}, 'python': $python,
                          'implementation': NULL, 'system': NULL, 'cpu': NULL, 'ci': NULL}})''', download)


_event_ids = iter(range(10 ** 9, 2 * 10 ** 9))


def github_event(type_: str, repository: str, payload: dict) -> dict:
    """One GH Archive event of `repository` ('owner/name') with its payload (stored as a JSON string)."""
    return {'type': type_, 'repo': repository, 'payload': json.dumps(payload), 'id': str(next(_event_ids))}


def pypi_download(timestamp: datetime.datetime, project: str, version: str, python: str | None = None,
                  installer: str | None = None) -> dict:
    """One download of `project` `version` (timestamp in UTC)."""
    return {'timestamp': timestamp, 'project': project, 'version': version, 'python': python,
            'installer': installer}
