"""Incremental download of per-day BigQuery query results into gzipped TAB-separated CSV files."""

import concurrent.futures
import contextlib
import csv
import dataclasses
import datetime
import gzip
import io
import operator
import os
import pathlib
import re
import secrets
import time
from collections.abc import Callable, Iterable, Sequence

import google.auth.exceptions
import requests
from google.api_core import exceptions as api_exceptions
from google.cloud import bigquery

from app import config
from app.bigquery_downloader.client import (
    DownloaderError,
    call_retry,
    create_client,
    job_retry,
)
from app.bigquery_downloader.data_sets import DATA_SETS, DataSet

# Rows per results page: large pages mean fewer round trips, small ones keep memory flat
# (BigQuery caps a page at 10 MB anyway).
PAGE_SIZE = 20_000


class CostLimitError(DownloaderError):
    """The dry run says the query would scan more than BIGQUERY_MAXIMUM_BYTES_BILLED."""


@dataclasses.dataclass
class Summary:
    downloaded: int = 0
    rows: int = 0
    bytes_scanned: int = 0
    already_there: int = 0
    missing_days: list[tuple[str, datetime.date]] = dataclasses.field(default_factory=list)
    seconds: float = 0.0


def download_data(data_sets: Sequence[str] | None = None,
                  first_date: datetime.date | None = None,
                  last_date: datetime.date | None = None,
                  *,
                  page_size: int = PAGE_SIZE,
                  client_factory: Callable[[], bigquery.Client] = create_client,
                  echo: Callable[..., None] = print) -> Summary:
    """Downloads every (data set, day) from first_date to last_date whose file doesn't exist yet."""
    start = time.monotonic()
    first_date = first_date or config.first_date()
    last_date = last_date or config.last_date()
    _check_date_range(first_date, last_date)
    selected = [_data_set(name) for name in (data_sets or DATA_SETS)]

    summary = Summary()
    todo = []
    for day, data_set in _days_and_data_sets(first_date, last_date, selected):
        if data_set.file_path(config.data_dir(), day).exists():
            summary.already_there += 1
        else:
            todo.append((data_set, day))

    if todo:  # no client (and so no credentials) needed when everything is there
        echo(f'{len(todo)} files to download ({first_date} to {last_date}, '
             f'{", ".join(data_set.name for data_set in selected)})', flush=True)
        client = client_factory()
        try:
            for data_set, day in todo:
                _download_day(client, data_set, day, page_size, summary, echo)
        finally:
            client.close()

    summary.seconds = time.monotonic() - start
    echo(_summary_line(summary), flush=True)
    return summary


def _data_set(name: str) -> DataSet:
    if name not in DATA_SETS:
        raise DownloaderError(f'Unknown data set {name!r}; choose from {", ".join(DATA_SETS)}')
    return DATA_SETS[name]


def _check_date_range(first_date: datetime.date, last_date: datetime.date):
    if first_date > last_date:
        raise DownloaderError(f'First date {first_date} is after last date {last_date}')
    # A file is never downloaded again, so a day that isn't over must not be written.
    today = datetime.datetime.now(datetime.UTC).date()
    if last_date >= today:
        yesterday = today - datetime.timedelta(days=1)
        raise DownloaderError(f'Last date {last_date} is not over yet (UTC); choose {yesterday} or earlier')


def _days_and_data_sets(first_date: datetime.date, last_date: datetime.date, data_sets: list[DataSet]):
    for offset in range((last_date - first_date).days + 1):
        for data_set in data_sets:
            yield first_date + datetime.timedelta(days=offset), data_set


# ---------------------------------------------------------------- one day

def _download_day(client: bigquery.Client, data_set: DataSet, day: datetime.date, page_size: int,
                  summary: Summary, echo: Callable[..., None]):
    label = f'{data_set.name} {day}'
    start = time.monotonic()
    path = data_set.file_path(config.data_dir(), day)
    with _labelled_errors(label):
        try:
            bytes_to_scan = _dry_run(client, data_set, day)
        except api_exceptions.NotFound as e:
            if not data_set.allow_missing_days:
                raise DownloaderError(f'no BigQuery table for this day: {_gist(e.message)}') from None
            echo(f'{label}: no BigQuery table for this day, skipped ({_gist(e.message)})', flush=True)
            summary.missing_days.append((data_set.name, day))
            return
        _check_cost(bytes_to_scan)
        # One line per day, finished after the download (which can take minutes).
        echo(f'{label}: {_human_bytes(bytes_to_scan)} to scan', end='', flush=True)
        try:
            rows = _write_query_result(client, data_set, day, page_size, path)
        except BaseException:
            echo(' ... failed', flush=True)
            raise

    seconds = time.monotonic() - start
    echo(f', {rows:,} rows, {_human_bytes(path.stat().st_size)} written, {seconds:.1f} s', flush=True)
    summary.downloaded += 1
    summary.rows += rows
    summary.bytes_scanned += bytes_to_scan


@contextlib.contextmanager
def _labelled_errors(label: str):
    """Turns every error into a DownloaderError that names the data set and day."""
    try:
        yield
    except DownloaderError as e:
        raise type(e)(f'{label}: {e}') from e.__cause__
    except Exception as e:
        raise DownloaderError(f'{label}: {_describe_error(e)}') from e


def _dry_run(client: bigquery.Client, data_set: DataSet, day: datetime.date) -> int:
    """The bytes the query would scan (and bill); also fails early when the table is missing."""
    job_config = bigquery.QueryJobConfig(dry_run=True, use_query_cache=False,
                                         query_parameters=data_set.query_parameters(day))
    job = client.query(data_set.sql(day), job_config=job_config, **_submit_bounds())
    return job.total_bytes_processed or 0


def _check_cost(bytes_to_scan: int):
    limit = config.bigquery_maximum_bytes_billed()
    if bytes_to_scan > limit:
        raise CostLimitError(
            f'the query would scan {_human_bytes(bytes_to_scan)} ({bytes_to_scan:,} bytes), more than '
            f'BIGQUERY_MAXIMUM_BYTES_BILLED={limit:,}; not run. Raise the limit if that is intended.')


def _submit_bounds() -> dict:
    # job_retry=None here: when set, the client wraps job submission in its own fixed 10-minute
    # retry, ignoring our bound. Failed jobs are restarted by the bounded job_retry of result().
    return {'timeout': config.bigquery_timeout_seconds(), 'retry': call_retry(), 'job_retry': None}


def _run_query(client: bigquery.Client, data_set: DataSet, day: datetime.date, page_size: int):
    job_config = bigquery.QueryJobConfig(query_parameters=data_set.query_parameters(day),
                                         maximum_bytes_billed=config.bigquery_maximum_bytes_billed())
    job = client.query(data_set.sql(day), job_config=job_config, **_submit_bounds())
    rows = job.result(page_size=page_size, timeout=config.bigquery_timeout_seconds(),
                      retry=call_retry(), job_retry=job_retry())
    # Without totalRows (or with an unfinished job) the client silently returns an always
    # empty iterator; a SELECT always has a result set, so that is a broken answer.
    if type(rows) is not bigquery.table.RowIterator or rows.total_rows is None:
        raise DownloaderError('BigQuery returned no result set (totalRows missing); nothing written')
    columns = tuple(field.name for field in rows.schema)
    if columns != data_set.columns:
        raise DownloaderError(f'the query returns the columns {columns}, expected {data_set.columns}')
    return rows


def _write_query_result(client: bigquery.Client, data_set: DataSet, day: datetime.date, page_size: int,
                        path: pathlib.Path) -> int:
    rows = _run_query(client, data_set, day, page_size)
    with atomic_file(path) as file:
        count = write_gzipped_csv(file, data_set.columns, rows)
        # Checked before the rename: a short answer must not look like a complete day.
        if count != rows.total_rows:
            raise DownloaderError(f'got {count:,} rows but BigQuery announced {rows.total_rows:,}; nothing written')
    return count


# ---------------------------------------------------------------- files

@contextlib.contextmanager
def atomic_file(path: pathlib.Path):
    """A binary file that appears at `path` only when the block finishes without an exception.

    It is written to a hidden temporary file in the same directory (same file system, so the
    rename is atomic), flushed to disk, and then renamed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f'.{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp')
    try:
        with open(temporary, 'xb') as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:  # also KeyboardInterrupt: never leave a temporary file behind
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: pathlib.Path):
    """Makes the rename itself durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_gzipped_csv(file, columns: Sequence[str], rows: Iterable) -> int:
    """Writes a header and the rows as gzipped TAB-separated CSV (None → empty field); returns the row count."""
    # Level 6 compresses almost as well as the default 9 at a fraction of the time.
    with (gzip.GzipFile(filename='', mode='wb', fileobj=file, compresslevel=6, mtime=0) as zipped,
          io.TextIOWrapper(zipped, encoding='utf-8', newline='') as text):
        writer = csv.writer(text, delimiter='\t', lineterminator='\n')
        writer.writerow(columns)
        counter = _Counter(rows)
        # itemgetter reads a bigquery Row without Row.values()' deep copy (twice as fast).
        writer.writerows(map(operator.itemgetter(*range(len(columns))), counter))
    return counter.count


class _Counter:
    """Counts the items passing through an iterable."""

    def __init__(self, items: Iterable):
        self._items = items
        self.count = 0

    def __iter__(self):
        for item in self._items:
            self.count += 1
            yield item


# ---------------------------------------------------------------- messages

def _describe_error(e: Exception) -> str:
    timeout = config.bigquery_timeout_seconds()
    endpoint = config.bigquery_api_endpoint() or 'https://bigquery.googleapis.com'
    if isinstance(e, api_exceptions.RetryError):
        return (f'no successful answer from BigQuery at {endpoint} within the retry bound of {timeout:g} s '
                f'(BIGQUERY_TIMEOUT_SECONDS); last error: {_describe_cause(e.cause)}')
    if isinstance(e, concurrent.futures.TimeoutError):
        return f'the query did not finish within {timeout:g} s (BIGQUERY_TIMEOUT_SECONDS)'
    if isinstance(e, api_exceptions.GoogleAPICallError):
        return f'BigQuery error {e.code}: {_gist(e.message)}'
    if isinstance(e, (requests.RequestException, google.auth.exceptions.GoogleAuthError)):
        return f'could not talk to BigQuery at {endpoint}: {type(e).__name__}: {e}'
    return f'{type(e).__name__}: {e}'


def _describe_cause(cause: BaseException | None) -> str:
    while isinstance(cause, api_exceptions.RetryError):  # job retries wrap call retries
        cause = cause.cause
    if isinstance(cause, api_exceptions.GoogleAPICallError):
        return f'{cause.code} {_gist(cause.message)}'
    return f'{type(cause).__name__}: {cause}'


def _gist(message: str | None) -> str:
    """The client prefixes the URL and appends location, job id and SQL: keep the message."""
    lines = (message or '').strip().splitlines()
    return re.sub(r'^[A-Z]+ https?://\S+: ', '', lines[0]) if lines else ''


def _human_bytes(number: float) -> str:
    if number < 1000:
        return f'{number:.0f} B'
    for unit in ('kB', 'MB', 'GB'):
        number /= 1000
        if number < 1000:
            return f'{number:.1f} {unit}'
    return f'{number / 1000:.1f} TB'


def _summary_line(summary: Summary) -> str:
    line = (f'{summary.downloaded} files downloaded ({summary.rows:,} rows, {_human_bytes(summary.bytes_scanned)} '
            f'scanned), {summary.already_there} already there')
    if summary.missing_days:
        line += f', {len(summary.missing_days)} days without a BigQuery table skipped'
    return f'{line}, {summary.seconds:.1f} s'
