"""A local HTTP server that speaks the part of the BigQuery REST API that `google-cloud-bigquery` uses.

The real client is pointed at it with `ClientOptions(api_endpoint=fake.url)` and anonymous
credentials. It answers the downloader's queries with canned rows per (data set, day), pages them
like BigQuery (`maxResults`, `pageToken`, every value a string), records every request, and can
inject failures (HTTP errors, dropped or truncated connections, hangs).

With an `engine`, the fake runs the SQL it receives (see tests/support/bigquery_engine.py) instead of
answering with canned rows.

Endpoints: jobs.insert (POST .../jobs, also dry runs), jobs.get (GET .../jobs/{id}),
jobs.getQueryResults (GET .../queries/{id}), jobs.query (POST .../queries), jobs.cancel.
"""

import dataclasses
import datetime
import gzip
import http.server
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Self

from app.data_sets import DATA_SETS

# The result schema of each data set's query: the columns of its newest file version (app/data_sets.py).
_BIGQUERY_TYPES = {'INTEGER': 'INTEGER', 'TEXT': 'STRING'}
SCHEMAS = {name: [(column.name, _BIGQUERY_TYPES[column.sql_type]) for column in data_set.latest.columns]
           for name, data_set in DATA_SETS.items()}

# The `reason` BigQuery puts into error bodies; the client decides on retries by it.
_REASONS = {400: 'invalidQuery', 404: 'notFound', 409: 'duplicate', 429: 'rateLimitExceeded',
            500: 'internalError', 502: 'badGateway', 503: 'backendError'}
_STATUSES = {400: 'INVALID_ARGUMENT', 404: 'NOT_FOUND', 409: 'ALREADY_EXISTS', 429: 'RESOURCE_EXHAUSTED',
             500: 'INTERNAL', 502: 'INTERNAL', 503: 'UNAVAILABLE'}

_ROUTES = [
    ('POST', re.compile(r'^/bigquery/v2/projects/(?P<project>[^/]+)/jobs$'), 'jobs.insert'),
    ('GET', re.compile(r'^/bigquery/v2/projects/(?P<project>[^/]+)/jobs/(?P<job_id>[^/]+)$'), 'jobs.get'),
    ('POST', re.compile(r'^/bigquery/v2/projects/(?P<project>[^/]+)/jobs/(?P<job_id>[^/]+)/cancel$'), 'jobs.cancel'),
    ('GET', re.compile(r'^/bigquery/v2/projects/(?P<project>[^/]+)/queries/(?P<job_id>[^/]+)$'),
     'jobs.getQueryResults'),
    ('POST', re.compile(r'^/bigquery/v2/projects/(?P<project>[^/]+)/queries$'), 'jobs.query'),
]


class ApiError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code, self.message = code, message


@dataclasses.dataclass
class Request:
    method: str
    path: str
    api: str | None
    params: dict[str, str]
    body: dict | None
    fault: object = None  # the injected failure that answered it, if any


@dataclasses.dataclass
class Fault:
    """An injected failure.

    action: an HTTP status (503 ...), 'close' (drop the connection without answer), 'truncate'
    (send half of the answer, then drop the connection) or 'hang' (never answer).
    api: only calls of this API ('jobs.insert', 'jobs.getQueryResults' ...); None: all calls.
    after: let this many matching calls pass first; times: fire this often (None: forever).
    when: an extra condition on the Request.
    """
    action: int | str
    api: str | None = None
    after: int = 0
    times: int | None = None
    when: Callable[[Request], bool] | None = None
    seen: int = 0
    fired: int = 0

    def fires(self, request: Request) -> bool:
        if (self.api and request.api != self.api) or (self.when and not self.when(request)):
            return False
        self.seen += 1
        if self.seen <= self.after or (self.times is not None and self.fired >= self.times):
            return False
        self.fired += 1
        return True


@dataclasses.dataclass
class QueryCall:
    """A query as the fake received it (from jobs.insert or jobs.query)."""
    api: str
    sql: str
    parameters: list[dict]
    dry_run: bool
    use_query_cache: bool | None
    maximum_bytes_billed: str | None

    @property
    def day(self) -> str | None:
        return next((p['parameterValue']['value'] for p in self.parameters if p['name'] == 'day'), None)


@dataclasses.dataclass
class _Job:
    job_id: str
    project: str
    configuration: dict
    data_set: str
    day: datetime.date
    bytes_processed: int
    polls_until_done: int
    error: dict | None = None
    rows: list[tuple] | None = None  # the engine's answer; None: the canned `results`


class FakeBigQuery:
    """Use as a context manager; `url` is the api_endpoint for the client.

    results: {(data set, day): [row tuples in schema order, None for NULL]}; other days have no rows.
    engine: instead of `results`, a callable(sql, {parameter name: value}) that returns the rows.
    missing: (data set, day) pairs whose table doesn't exist (404 notFound).
    bytes_processed: what jobs (and dry runs) report, per (data set, day) or one number for all; a job bills
        it rounded up to a MiB, at least 10 MiB (`totalBytesBilled`).
    dry_run_bytes_processed: a different estimate for dry runs. BigQuery's is an upper bound: a filter on the
        clustering column (the PyPI allow-list) lowers only what the job itself processes and bills.
    announced_total_rows: per (data set, day), a wrong `totalRows` to announce (None: leave it out).
    polls_until_done: how often a job is polled as RUNNING before it is DONE.
    cache_pages: encode each page of rows once (for benchmarks; don't change `results` afterwards).
    """

    def __init__(self, results: dict | None = None, *, engine: Callable | None = None, missing=(),
                 bytes_processed: int | dict = 12_345,
                 dry_run_bytes_processed: int | dict | None = None, announced_total_rows: dict | None = None,
                 default_page_size: int = 100_000, polls_until_done: int = 1, hang_seconds: float = 60.0,
                 gzip_responses: bool = True, cache_pages: bool = False):
        self.results = results or {}
        self.engine = engine
        self.missing = set(missing)
        self.bytes_processed = bytes_processed
        self.dry_run_bytes_processed = dry_run_bytes_processed
        self.announced_total_rows = announced_total_rows or {}
        self.default_page_size = default_page_size
        self.polls_until_done = polls_until_done
        self.hang_seconds = hang_seconds
        self.gzip_responses = gzip_responses
        self.cache_pages = cache_pages
        self._page_cache: dict[tuple, _EncodedJson] = {}
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = None
        self._thread = None

    # ------------------------------------------------------------ life cycle

    def start(self) -> Self:
        self._server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={'poll_interval': 0.05},
                                        name='fake-bigquery', daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()  # releases hanging handlers
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f'http://{host}:{port}'

    # ------------------------------------------------------------ for tests

    def add_fault(self, action: int | str, **kwargs) -> Fault:
        fault = Fault(action, **kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def calls(self, api: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if api is None or r.api == api]

    def query_calls(self, dry_run: bool | None = None) -> list[QueryCall]:
        """Every query received, in order (including those answered by an injected fault)."""
        calls = []
        for request in self.calls():
            if request.api == 'jobs.insert':
                call = _query_call_from_job(request.body)
            elif request.api == 'jobs.query':
                call = _query_call_from_query_request(request.body)
            else:
                continue
            if dry_run is None or call.dry_run == dry_run:
                calls.append(call)
        return calls

    # ------------------------------------------------------------ the API

    def handle(self, request: Request) -> dict:
        handler = {'jobs.insert': self._jobs_insert, 'jobs.get': self._jobs_get, 'jobs.cancel': self._jobs_cancel,
                   'jobs.getQueryResults': self._get_query_results, 'jobs.query': self._jobs_query}[request.api]
        return handler(request)

    def _jobs_insert(self, request: Request) -> dict:
        body = request.body or {}
        reference = body.get('jobReference', {})
        project = request.params['project']
        configuration = body.get('configuration', {})
        query = configuration.get('query', {})
        data_set, day = self._interpret(query.get('query', ''), query.get('queryParameters', []))
        bytes_processed = self._bytes_processed(data_set, day)
        if configuration.get('dryRun'):
            if self.dry_run_bytes_processed is not None:
                bytes_processed = _per_day(self.dry_run_bytes_processed, data_set, day)
            return self._job_resource(_Job(reference.get('jobId', ''), project, configuration, data_set, day,
                                           bytes_processed, 0))
        job_id = reference.get('jobId') or f'job_{len(self._jobs)}'
        with self._lock:
            if job_id in self._jobs:
                raise ApiError(409, f'Already Exists: Job {project}:US.{job_id}')
            job = self._jobs[job_id] = _Job(job_id, project, configuration, data_set, day, bytes_processed,
                                            self.polls_until_done, _limit_error(query, bytes_processed))
        job.rows = self._run_engine(job, query)
        return self._job_resource(job)

    def _jobs_get(self, request: Request) -> dict:
        job = self._job(request)
        self._poll(job)
        return self._job_resource(job)

    def _jobs_cancel(self, request: Request) -> dict:
        return {'kind': 'bigquery#jobCancelResponse', 'job': self._job_resource(self._job(request))}

    def _jobs_query(self, request: Request) -> dict:
        body = request.body or {}
        data_set, day = self._interpret(body.get('query', ''), body.get('queryParameters', []))
        bytes_processed = self._bytes_processed(data_set, day)
        job_id = f'job_query_{len(self.requests)}'
        configuration = {'query': {k: v for k, v in body.items() if k in ('query', 'queryParameters',
                                                                            'maximumBytesBilled')}}
        job = _Job(job_id, request.params['project'], configuration, data_set, day, bytes_processed, 0,
                   _limit_error(body, bytes_processed))
        if job.error:
            raise ApiError(400, job.error['message'])
        job.rows = self._run_engine(job, body)
        with self._lock:
            self._jobs[job_id] = job
        params = {'maxResults': str(body['maxResults'])} if 'maxResults' in body else {}
        return self._results_page(job, params) | {'kind': 'bigquery#queryResponse'}

    def _get_query_results(self, request: Request) -> dict:
        job = self._job(request)
        self._poll(job)
        if job.polls_until_done > 0:
            return {'kind': 'bigquery#getQueryResultsResponse', 'jobReference': self._reference(job),
                    'jobComplete': False}
        return self._results_page(job, request.params)

    # ------------------------------------------------------------ helpers

    def _interpret(self, sql: str, parameters: list[dict]) -> tuple[str, datetime.date]:
        """The (data set, day) of one of the downloader's queries, checked like BigQuery would."""
        day_values = [p['parameterValue']['value'] for p in parameters
                      if p.get('name') == 'day' and p.get('parameterType', {}).get('type') == 'DATE']
        if len(day_values) != 1:
            raise ApiError(400, 'Query parameter @day of type DATE is missing')
        day = datetime.date.fromisoformat(day_values[0])
        without_comments = re.sub(r'--[^\n]*', '', sql)
        tables = re.findall(r'\bFROM\s+`([^`]+)`', without_comments, flags=re.IGNORECASE)
        if tables == ['bigquery-public-data.pypi.file_downloads']:
            data_set = 'pypi'
        elif len(tables) == 1 and re.fullmatch(r'githubarchive\.day\.\d{8}', tables[0]):
            data_set = 'github'
            if tables[0] != f'githubarchive.day.{day:%Y%m%d}':
                raise ApiError(400, f'The table {tables[0]} does not match @day {day}')
        else:
            raise ApiError(400, f'Unrecognized name or table: {tables}')
        if (data_set, day) in self.missing:
            table = ('bigquery-public-data:pypi.file_downloads' if data_set == 'pypi'
                     else f'githubarchive:day.{day:%Y%m%d}')
            raise ApiError(404, f'Not found: Table {table} was not found in location US')
        return data_set, day

    def _run_engine(self, job: _Job, query: dict) -> list[tuple] | None:
        """The engine's rows for a billed job (None: no engine, or a job that fails anyway)."""
        if self.engine is None or job.error:
            return None
        return self.engine(query.get('query', ''), query_parameter_values(query.get('queryParameters', [])))

    def _bytes_processed(self, data_set: str, day: datetime.date) -> int:
        return _per_day(self.bytes_processed, data_set, day)

    def _job(self, request: Request) -> _Job:
        with self._lock:
            job = self._jobs.get(request.params['job_id'])
        if not job:
            raise ApiError(404, f'Not found: Job {request.params["project"]}:US.{request.params["job_id"]}')
        return job

    def _poll(self, job: _Job):
        with self._lock:
            job.polls_until_done = max(0, job.polls_until_done - 1)

    def _encoded_rows(self, job: _Job, page: list[tuple], offset: int) -> '_EncodedJson':
        key = (job.data_set, job.day, offset, len(page))
        if key not in self._page_cache:
            self._page_cache[key] = _EncodedJson(json.dumps(_rows_json(page), separators=(',', ':')))
        return self._page_cache[key]

    @staticmethod
    def _reference(job: _Job) -> dict:
        return {'projectId': job.project, 'jobId': job.job_id, 'location': 'US'}

    def _job_resource(self, job: _Job) -> dict:
        done = job.polls_until_done == 0 or job.error is not None
        status = {'state': 'DONE' if done else 'RUNNING'}
        if job.error:
            status |= {'errorResult': job.error, 'errors': [job.error]}
        query_statistics = {'totalBytesProcessed': str(job.bytes_processed), 'statementType': 'SELECT',
                            'schema': _schema(job.data_set)}
        if done and not job.error and not job.configuration.get('dryRun'):
            query_statistics |= {'totalBytesBilled': str(bytes_billed(job.bytes_processed)), 'cacheHit': False}
        now_ms = str(int(time.time() * 1000))
        return {
            'kind': 'bigquery#job', 'id': f'{job.project}:US.{job.job_id}', 'jobReference': self._reference(job),
            'configuration': job.configuration, 'status': status,
            'statistics': {'creationTime': now_ms, 'startTime': now_ms, 'totalBytesProcessed': str(job.bytes_processed),
                           'query': query_statistics} | ({'endTime': now_ms} if done else {}),
        }

    def _results_page(self, job: _Job, params: dict[str, str]) -> dict:
        rows = job.rows if job.rows is not None else self.results.get((job.data_set, job.day), [])
        token = params.get('pageToken')
        offset = int(token.removeprefix('offset-')) if token else int(params.get('startIndex', 0))
        size = int(params['maxResults']) if 'maxResults' in params else self.default_page_size
        page = rows[offset:offset + size]
        response = {'kind': 'bigquery#getQueryResultsResponse', 'jobReference': self._reference(job),
                    'jobComplete': True, 'schema': _schema(job.data_set), 'cacheHit': False,
                    'totalBytesProcessed': str(job.bytes_processed)}
        announced = self.announced_total_rows.get((job.data_set, job.day), len(rows))
        if announced is not None:
            response['totalRows'] = str(announced)
        if page:
            response['rows'] = self._encoded_rows(job, page, offset) if self.cache_pages else _rows_json(page)
        if size and offset + size < len(rows):
            response['pageToken'] = f'offset-{offset + size}'
        if 'fields' in params:  # a partial response, as BigQuery gives it
            wanted = params['fields'].split(',')
            response = {key: value for key, value in response.items() if key in wanted}
        return response


def query_parameter_values(parameters: list[dict]) -> dict[str, object]:
    """Named query parameters as the REST API sends them, as Python values (DATE, STRING, INT64, ARRAYs of them)."""
    def value(parameter_type: dict, parameter_value: dict):
        if parameter_type['type'] == 'ARRAY':
            return [value(parameter_type['arrayType'], item) for item in parameter_value.get('arrayValues', [])]
        text = parameter_value.get('value')
        if text is None:
            return None
        return {'DATE': datetime.date.fromisoformat, 'INT64': int}.get(parameter_type['type'], str)(text)
    return {p['name']: value(p['parameterType'], p.get('parameterValue', {})) for p in parameters}


def _rows_json(rows: list[tuple]) -> list[dict]:
    """Rows as the REST API sends them: every value a string, NULL as null."""
    return [{'f': [{'v': None if value is None else str(value)} for value in row]} for row in rows]


class _EncodedJson(str):
    """JSON text that goes into a response as it is."""


def _encode(body: dict) -> bytes:
    encoded = {key: value for key, value in body.items() if isinstance(value, _EncodedJson)}
    text = json.dumps({key: value for key, value in body.items() if key not in encoded}, separators=(',', ':'))
    for key, value in encoded.items():
        text = f'{text[:-1]}{"," if len(text) > 2 else ""}{json.dumps(key)}:{value}}}'
    return text.encode()


def bytes_billed(bytes_processed: int) -> int:
    """What BigQuery bills on demand for a query that processed that many bytes: rounded up to a whole MiB,
    and at least 10 MiB (the minimum per query)."""
    mib = 2 ** 20
    return max(-(-bytes_processed // mib) * mib, 10 * mib)


def _per_day(value: int | dict, data_set: str, day: datetime.date) -> int:
    return value.get((data_set, day), 0) if isinstance(value, dict) else value


def _schema(data_set: str) -> dict:
    return {'fields': [{'name': name, 'type': type_, 'mode': 'NULLABLE'} for name, type_ in SCHEMAS[data_set]]}


def _limit_error(query: dict, bytes_processed: int) -> dict | None:
    limit = query.get('maximumBytesBilled')
    if limit is not None and bytes_processed > int(limit):
        return {'reason': 'bytesBilledLimitExceeded', 'location': 'query',
                'message': f'Query exceeded limit for bytes billed: {limit}. {bytes_processed} or higher required.'}
    return None


def _query_call_from_job(body: dict) -> QueryCall:
    configuration = body.get('configuration', {})
    query = configuration.get('query', {})
    return QueryCall('jobs.insert', query.get('query', ''), query.get('queryParameters', []),
                     bool(configuration.get('dryRun')), query.get('useQueryCache'), query.get('maximumBytesBilled'))


def _query_call_from_query_request(body: dict) -> QueryCall:
    return QueryCall('jobs.query', body.get('query', ''), body.get('queryParameters', []), bool(body.get('dryRun')),
                     body.get('useQueryCache'), body.get('maximumBytesBilled'))


def error_body(code: int, message: str) -> dict:
    reason = _REASONS.get(code, 'backendError' if code >= 500 else 'invalid')
    return {'error': {'code': code, 'message': message, 'status': _STATUSES.get(code, 'UNKNOWN'),
                      'errors': [{'message': message, 'domain': 'global', 'reason': reason}]}}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'  # keep-alive, as the client expects from Google

    def do_GET(self):
        self._serve('GET')

    def do_POST(self):
        self._serve('POST')

    def log_message(self, format, *args):  # quiet
        pass

    def _serve(self, method: str):
        fake: FakeBigQuery = self.server.fake
        request = self._read_request(method)
        with fake._lock:
            fake.requests.append(request)
            fault = next((f for f in fake.faults if f.fires(request)), None)
        request.fault = fault
        if fault:
            self._fail(fault.action, fake)
            return
        if request.api is None:
            self._send_json(400, error_body(400, f'Unknown API: {method} {request.path}'))
            return
        try:
            self._send_json(200, fake.handle(request))
        except ApiError as e:
            self._send_json(e.code, error_body(e.code, e.message))

    def _read_request(self, method: str) -> Request:
        url = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''
        body = json.loads(raw) if raw else None
        api = None
        for route_method, pattern, name in _ROUTES:
            match = pattern.match(url.path)
            if match and route_method == method:
                api = name
                params |= match.groupdict()
                break
        return Request(method, url.path, api, params, body)

    def _fail(self, action: int | str, fake: FakeBigQuery):
        if isinstance(action, int):
            self._send_json(action, error_body(action, f'Injected error {action}'))
        elif action == 'truncate':
            payload = json.dumps({'kind': 'bigquery#getQueryResultsResponse', 'rows': []}).encode()
            self.send_response(200)
            self.send_header('Content-Type', 'application/json; charset=UTF-8')
            self.send_header('Content-Length', str(len(payload) * 2))
            self.end_headers()
            self.wfile.write(payload)
            self.close_connection = True
        elif action == 'hang':
            fake._stopping.wait(fake.hang_seconds)
            self.close_connection = True
        elif action == 'close':
            self.close_connection = True
        else:
            raise ValueError(f'unknown fault action {action!r}')

    def _send_json(self, code: int, body: dict):
        payload = _encode(body)
        zipped = self.server.fake.gzip_responses and 'gzip' in self.headers.get('Accept-Encoding', '')
        if zipped and len(payload) > 1024:
            payload = gzip.compress(payload, compresslevel=1)
        else:
            zipped = False
        self.send_response(code)
        self.send_header('Content-Type', 'application/json; charset=UTF-8')
        if zipped:
            self.send_header('Content-Encoding', 'gzip')
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
