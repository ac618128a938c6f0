"""Download of per-day BigQuery query results into the data-set files of app/data_sets.py.

A run: plan the days (missing files, files that may be outdated), dry-run all of them (free) and
print the cost, refuse over the budget, then download day by day, each file written atomically, and
finish with a summary that includes the completeness check of the downloaded days.
"""

import dataclasses
import datetime
import operator
import pathlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence

from google.cloud import bigquery

from app import config, data_quality
from app import data_sets as contract
from app.bigquery_downloader import completeness, cost
from app.bigquery_downloader.client import DownloaderError, call_retry, create_client, job_retry, submit_bounds
from app.bigquery_downloader.data_sets import PYPI, QUERIES, Query
from app.bigquery_downloader.messages import TIB, human_bytes, labelled_errors, price
from app.bigquery_downloader.plan import Task, plan

# Rows per results page: large pages mean fewer round trips, small ones keep memory flat
# (BigQuery caps a page at 10 MB anyway).
PAGE_SIZE = 20_000

BudgetError = cost.BudgetError
CostLimitError = cost.CostLimitError


@dataclasses.dataclass
class Summary:
    downloaded: int = 0
    downloaded_again: int = 0
    rows: int = 0
    bytes_estimated: int = 0
    bytes_billed: int = 0
    already_there: int = 0
    missing_days: list[tuple[str, datetime.date, str]] = dataclasses.field(default_factory=list)
    # per data set whose estimate was an upper bound (an allow-list): (upper bound, bytes billed) of the days downloaded
    upper_bounds: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)
    unmatched: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)  # allow-listed, no rows
    undercount_note: str | None = None  # downloaded PyPI days that are known to be undercounted
    flags: list[data_quality.CompletenessFlag] = dataclasses.field(default_factory=list)
    days_checked: int = 0  # downloaded days with enough history for the completeness check
    seconds: float = 0.0


@dataclasses.dataclass
class _Written:
    rows: int
    bytes_billed: int
    statistics: data_quality.DayStatistics
    allow_listed_seen: frozenset[str]  # the values of the query's allow_list_column in the rows (no allow-list: empty)


def download_data(data_sets: Sequence[str] | None = None,
                  first_date: datetime.date | None = None,
                  last_date: datetime.date | None = None,
                  *,
                  dry_run: bool = False,
                  budget_tib: float | None = None,
                  page_size: int = PAGE_SIZE,
                  client_factory: Callable[[], bigquery.Client] = create_client,
                  echo: Callable[..., None] = print) -> Summary:
    """Downloads every (data set, day) from first_date to last_date that has no final file yet.

    dry_run: only estimate and print the cost (dry runs are free), download nothing.
    budget_tib: the budget for this run (default: BIGQUERY_BUDGET_TIB).
    """
    start = time.monotonic()
    first_date = first_date or config.first_date()
    last_date = last_date or config.last_date()
    _check_date_range(first_date, last_date)
    queries = [_query(name) for name in (data_sets or QUERIES)]
    summary = Summary()
    the_plan = plan(queries, first_date, last_date, config.data_dir())
    summary.already_there = the_plan.already_there

    if the_plan.tasks:  # no client (and so no credentials) needed when everything is there
        echo(f'{len(the_plan.tasks)} files to download ({first_date} to {last_date}, '
             f'{", ".join(query.name for query in queries)})', flush=True)
        client = client_factory()
        try:
            budget = config.bigquery_budget_tib() if budget_tib is None else budget_tib
            _download(client, queries, the_plan.tasks, None if dry_run else budget, page_size, summary, echo)
        finally:
            client.close()

    summary.seconds = time.monotonic() - start
    for line in _summary_lines(summary, dry_run):
        echo(line, flush=True)
    return summary


def _query(name: str) -> Query:
    if name not in QUERIES:
        raise DownloaderError(f'Unknown data set {name!r}; choose from {", ".join(QUERIES)}')
    return QUERIES[name]


def _check_date_range(first_date: datetime.date, last_date: datetime.date):
    if first_date > last_date:
        raise DownloaderError(f'First date {first_date} is after last date {last_date}')
    # A day that isn't over has no complete data anywhere yet.
    today = datetime.datetime.now(datetime.UTC).date()
    if last_date >= today:
        yesterday = today - datetime.timedelta(days=1)
        raise DownloaderError(f'Last date {last_date} is not over yet (UTC); choose {yesterday} or earlier')


def _download(client: bigquery.Client, queries: list[Query], tasks: list[Task], budget_tib: float | None,
              page_size: int, summary: Summary, echo: Callable[..., None]):
    """Estimates the tasks' cost, then downloads them if budget_tib allows it (None: a dry run only)."""
    the_estimate = cost.estimate(client, tasks)
    for day in the_estimate.missing:
        summary.missing_days.append((day.task.query.name, day.task.day, day.missing_note))
    summary.bytes_estimated = the_estimate.total()
    for line in cost.report(the_estimate, [query.name for query in queries]):
        echo(line, flush=True)
    if budget_tib is None:
        return
    cost.check(the_estimate, budget_tib)
    echo(f'Within the budget of {human_bytes(budget_tib * TIB)}: downloading.', flush=True)

    written: dict[tuple[str, datetime.date], _Written] = {}
    for day in the_estimate.days:
        written[(day.task.query.name, day.task.day)] = _download_day(client, day.task, day.bytes_processed,
                                                                     page_size, summary, echo)
    for query in queries:
        known = {d: w.statistics for (name, d), w in written.items() if name == query.name}
        if known:
            flags, judged = completeness.check(query, known, config.data_dir(), known)
            summary.flags += flags
            summary.days_checked += judged
    _report_allow_lists(the_estimate, written, summary)
    pypi_days = sorted(d for name, d in written if name == PYPI.name)
    if pypi_days:
        summary.undercount_note = data_quality.pypi_undercount_note(pypi_days[0], pypi_days[-1])


def _report_allow_lists(the_estimate: cost.Estimate, written: dict, summary: Summary):
    """What the allow-listed downloads billed against their upper bound, and which allowed names had no rows."""
    for name in the_estimate.upper_bound_data_sets():
        days = [d for d in the_estimate.days if d.task.query.name == name and (name, d.task.day) in written]
        if not days:
            continue
        billed = sum(written[(name, d.task.day)].bytes_billed for d in days)
        summary.upper_bounds[name] = (sum(d.bytes_billed for d in days), billed)
        seen = frozenset().union(*(written[(name, d.task.day)].allow_listed_seen for d in days))
        unmatched = tuple(value for value in days[0].task.query.allow_list() if value not in seen)
        if unmatched:
            summary.unmatched[name] = unmatched


# ---------------------------------------------------------------- one day

def _download_day(client: bigquery.Client, task: Task, bytes_to_scan: int, page_size: int, summary: Summary,
                  echo: Callable[..., None]) -> _Written:
    start = time.monotonic()
    path = task.query.contract.path(config.data_dir(), task.day)
    # One line per day, finished after the download (which can take minutes).
    at_most = 'at most ' if task.query.estimate_is_upper_bound else ''
    echo(f'{task.label}: {at_most}{human_bytes(bytes_to_scan)} to scan' + (' (again)' if task.again else ''),
         end='', flush=True)
    with labelled_errors(task.label):
        try:
            written = _write_query_result(client, task, page_size, path)
        except BaseException:
            echo(' ... failed', flush=True)
            raise
    _remove_older_versions(task, path)
    seconds = time.monotonic() - start
    echo(f', {written.rows:,} rows, {human_bytes(written.bytes_billed)} billed, '
         f'{human_bytes(path.stat().st_size)} written, {seconds:.1f} s', flush=True)
    summary.downloaded += 1
    summary.downloaded_again += task.again
    summary.rows += written.rows
    summary.bytes_billed += written.bytes_billed
    return written


def _run_query(client: bigquery.Client, task: Task, page_size: int):
    job_config = bigquery.QueryJobConfig(query_parameters=task.query.query_parameters(task.day),
                                         maximum_bytes_billed=config.bigquery_maximum_bytes_billed())
    job = client.query(task.query.sql(task.day), job_config=job_config, **submit_bounds())
    rows = job.result(page_size=page_size, timeout=config.bigquery_timeout_seconds(),
                      retry=call_retry(), job_retry=job_retry())
    # Without totalRows (or with an unfinished job) the client silently returns an always
    # empty iterator; a SELECT always has a result set, so that is a broken answer.
    if type(rows) is not bigquery.table.RowIterator or rows.total_rows is None:
        raise DownloaderError('BigQuery returned no result set (totalRows missing); nothing written')
    columns = tuple(field.name for field in rows.schema)
    expected = task.query.contract.latest.column_names
    if columns != expected:
        raise DownloaderError(f'the query returns the columns {columns}, expected {expected}')
    return job, rows


def _write_query_result(client: bigquery.Client, task: Task, page_size: int, path: pathlib.Path) -> _Written:
    job, rows = _run_query(client, task, page_size)
    version = task.query.contract.latest
    # itemgetter reads a bigquery Row without Row.values()' deep copy (twice as fast).
    values = map(operator.itemgetter(*range(len(version.columns))), rows)
    seen: set[str] = set()
    if task.query.allow_list():
        values = _noting(values, version.column_names.index(task.query.allow_list_column), seen)
    tally = completeness.Tally(task.query.contract, version.column_names, values)
    with contract.atomic_file(path) as file:
        contract.write_rows(file, version, tally)
        # Checked before the rename: a short answer must not look like a complete day.
        if tally.count != rows.total_rows:
            raise DownloaderError(f'got {tally.count:,} rows but BigQuery announced {rows.total_rows:,}; '
                                  'nothing written')
    # total_bytes_billed: what BigQuery charged, which for an allow-list is far below the dry run's figure
    return _Written(tally.count, job.total_bytes_billed or 0, tally.statistics(task.day), frozenset(seen))


def _noting(rows: Iterable[Sequence], index: int, seen: set) -> Iterator[Sequence]:
    """Passes the rows through, adding the value at `index` of each to `seen`."""
    for row in rows:
        seen.add(row[index])
        yield row


def _remove_older_versions(task: Task, path: pathlib.Path):
    """A day has one file: the newest version replaces an older one (read next to it, it would count twice)."""
    for version in task.query.contract.versions:
        older = task.query.contract.path(config.data_dir(), task.day, version)
        if older != path:
            older.unlink(missing_ok=True)


# ---------------------------------------------------------------- summary

def _summary_lines(summary: Summary, dry_run: bool) -> list[str]:
    if dry_run:
        lines = [f'Dry run: nothing downloaded; {summary.already_there} files already there']
    else:
        again = f', {summary.downloaded_again} of them again' if summary.downloaded_again else ''
        lines = [f'{summary.downloaded} files downloaded{again} ({summary.rows:,} rows, '
                 f'{human_bytes(summary.bytes_billed)} billed, {price(summary.bytes_billed)}), '
                 f'{summary.already_there} already there, {summary.seconds:.1f} s']
    if summary.missing_days:
        lines.append(f'{len(summary.missing_days)} days without a BigQuery table skipped (the archive has no '
                     'data for them; they are tried again next time):')
        lines += [f'  {name} {day}: {note}' for name, day, note in summary.missing_days]
    for name, (upper_bound, billed) in summary.upper_bounds.items():
        lines.append(f'  {name}: {human_bytes(billed)} billed ({billed:,} bytes, {price(billed)}), against the '
                     f'dry runs\' upper bound of {human_bytes(upper_bound)} (the allow-list BIGQUERY_PYPI_PROJECTS)')
    for name, values in summary.unmatched.items():
        lines.append(f'  {name}: no downloads of {", ".join(values)} on the days downloaded (BIGQUERY_PYPI_PROJECTS, '
                     'compared as PEP 503 normalizes names: check the spelling on pypi.org)')
    if summary.undercount_note:
        lines.append(f'  {summary.undercount_note}')
    if summary.downloaded:
        lines += _completeness_lines(summary)
    return lines


def _completeness_lines(summary: Summary) -> list[str]:
    rule = (f'rows and totals against the median of the {data_quality.BASELINE_DAYS} days before, '
            f'below {100 * data_quality.DROP_THRESHOLD:.0f} % or suddenly all NULL is flagged')
    unchecked = summary.downloaded - summary.days_checked
    too_little = (f'; {unchecked} with fewer than {data_quality.MINIMUM_BASELINE_DAYS} days of files before them '
                  'not checked' if unchecked else '')
    flagged = f'{len(summary.flags)} flags, see docs/data-sources.md' if summary.flags else 'none flagged'
    return [f'Completeness ({rule}): {summary.days_checked} downloaded days checked, {flagged}{too_little}',
            *(f'  {flag}' for flag in summary.flags)]
