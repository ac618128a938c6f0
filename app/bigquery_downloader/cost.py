"""The cost of a download, known before anything is billed: a dry run (free) of every day's query.

The estimate is checked against the budget (BIGQUERY_BUDGET_TIB) and against the per-query limit
(BIGQUERY_MAXIMUM_BYTES_BILLED). Only when both allow it is a single billed query sent.
"""

import concurrent.futures
import dataclasses
from collections.abc import Sequence

from google.api_core import exceptions as api_exceptions
from google.cloud import bigquery

from app import config
from app.bigquery_downloader.client import DownloaderError, submit_bounds
from app.bigquery_downloader.messages import TIB, gist, human_bytes, labelled_errors, price
from app.bigquery_downloader.plan import Task

# BigQuery bills at least 10 MiB for each query (on-demand pricing), however little it scans.
MINIMUM_BILLED_BYTES = 10 * 2 ** 20
# Dry runs sent at once: they are free, but one at a time they take minutes for years of days.
DRY_RUN_WORKERS = 8


# Why a dry run of an allow-listed PyPI day is only an upper bound (BigQuery's documentation on clustered tables).
UPPER_BOUND_REASON = ('an upper bound: BIGQUERY_PYPI_PROJECTS filters on the column the table is clustered by, '
                      'and a dry run cannot see which blocks that filter skips, so it estimates about the whole '
                      'day however short the list')


class BudgetError(DownloaderError):
    """The dry runs add up to more than the budget: nothing was billed."""


class CostLimitError(DownloaderError):
    """One day's query would scan more than BIGQUERY_MAXIMUM_BYTES_BILLED."""


@dataclasses.dataclass(frozen=True)
class DayEstimate:
    task: Task
    bytes_processed: int | None  # None: the table does not exist
    missing_note: str = ''

    @property
    def bytes_billed(self) -> int:
        return max(self.bytes_processed or 0, MINIMUM_BILLED_BYTES)

    @property
    def upper_bound(self) -> bool:
        """Whether the query may bill far less than its dry run says (a filter on the clustering column)."""
        return self.task.query.estimate_is_upper_bound


@dataclasses.dataclass
class Estimate:
    days: list[DayEstimate]  # to download, in the order of the plan
    missing: list[DayEstimate]  # days without a table, skipped

    def total(self, data_set: str | None = None) -> int:
        return sum(d.bytes_billed for d in self.days if data_set in (None, d.task.query.name))

    def upper_bound_data_sets(self) -> list[str]:
        """The data sets whose estimate is only an upper bound, in the order of the plan."""
        return list(dict.fromkeys(d.task.query.name for d in self.days if d.upper_bound))


def estimate(client: bigquery.Client, tasks: Sequence[Task]) -> Estimate:
    """Dry-runs every task; a missing table is skipped where missing days are real, an error elsewhere."""
    def dry_run(task: Task) -> DayEstimate:
        with labelled_errors(task.label):
            job_config = bigquery.QueryJobConfig(dry_run=True, use_query_cache=False,
                                                 query_parameters=task.query.query_parameters(task.day))
            try:
                job = client.query(task.query.sql(task.day), job_config=job_config, **submit_bounds())
            except api_exceptions.NotFound as e:
                if not task.query.missing_days_are_real:
                    raise DownloaderError(
                        f'the BigQuery table is missing ({gist(e.message)}). This data set has one table '
                        'for all days, so it is not a missing day: check the table name and that '
                        'BIGQUERY_PROJECT may read it.') from None
                return DayEstimate(task, None, gist(e.message))
            return DayEstimate(task, job.total_bytes_processed or 0)

    with concurrent.futures.ThreadPoolExecutor(DRY_RUN_WORKERS, thread_name_prefix='dry-run') as pool:
        futures = [pool.submit(dry_run, task) for task in tasks]
        try:
            results = [future.result() for future in futures]  # in the order of the tasks
        except BaseException:
            for future in futures:  # the first error ends the estimate: don't wait for years of dry runs
                future.cancel()
            raise
    return Estimate([r for r in results if r.bytes_processed is not None],
                    [r for r in results if r.bytes_processed is None])


def report(estimate: Estimate, names: Sequence[str]) -> list[str]:
    """The estimate as lines: per data set and overall, bytes and on-demand price."""
    lines = ['Cost estimate from dry runs (free), at least 10 MiB billed per query:']
    for name in names:
        days = [d for d in estimate.days if d.task.query.name == name]
        again = sum(d.task.again for d in days)
        what = _days(len(days)) + (f' ({len(days) - again} new, {again} again)' if again else '')
        lines.append(_line(name, what, estimate.total(name)))
    lines.append(_line('total', _days(len(estimate.days)), estimate.total())
                 + f' at ${config.bigquery_price_per_tib():g} per TiB on demand')
    lines += [f'  {name}: {UPPER_BOUND_REASON}; the bytes billed are reported after the download.'
              for name in estimate.upper_bound_data_sets()]
    return lines


def _days(count: int) -> str:
    return f'{count} day' if count == 1 else f'{count} days'


def _line(name: str, what: str, number_of_bytes: int) -> str:
    return f'  {name:<7} {what:<28} {human_bytes(number_of_bytes):>10}  {price(number_of_bytes):>10}'


def check(estimate: Estimate, budget_tib: float):
    """Refuses, before anything is billed, a download over the budget or a query over the per-query limit.

    The budget is checked against the dry runs' figures, also where they are only an upper bound (the PyPI
    allow-list): nothing smaller is known before the queries run, and so the budget holds whatever they bill.
    """
    if estimate.total() > budget_tib * TIB:
        raise BudgetError(budget_message(estimate, budget_tib))
    limit = config.bigquery_maximum_bytes_billed()
    for day in estimate.days:
        if day.bytes_processed > limit:
            raise CostLimitError(
                f'{day.task.label}: the query would scan {human_bytes(day.bytes_processed)} '
                f'({day.bytes_processed:,} bytes), more than BIGQUERY_MAXIMUM_BYTES_BILLED={limit:,}; '
                'nothing was billed. Raise the limit if that is intended.')


def budget_message(estimate: Estimate, budget_tib: float) -> str:
    """Why the download is refused and what really lowers or accepts the estimate."""
    total, budget, upper_bounds = estimate.total(), budget_tib * TIB, estimate.upper_bound_data_sets()
    needed = f'{total / TIB + 0.005:.2f}'
    scan = 'would scan at most' if upper_bounds else 'would scan'
    message = (f'the download {scan} {human_bytes(total)} ({total:,} bytes, {price(total)} on demand), more than '
               f'the budget BIGQUERY_BUDGET_TIB={budget_tib:g} ({human_bytes(budget)}). '
               'Nothing was billed and no file was written. ')
    message += ''.join(f'The estimate of {name} ({human_bytes(estimate.total(name))}) is {UPPER_BOUND_REASON}; '
                       'what the download bills is known only afterwards, and the summary reports it. '
                       for name in upper_bounds)
    accept = ' to accept the upper bound' if upper_bounds else ''
    message += (f'To go ahead, raise the budget{accept}: BIGQUERY_BUDGET_TIB={needed} (in .env or the environment) '
                f'or --budget-tib {needed}; or download fewer days (--first-date, --data-set).')
    if not upper_bounds:
        message += (' A PyPI allow-list (BIGQUERY_PYPI_PROJECTS) lowers what is billed, but not this estimate '
                    '(docs/data-sources.md).')
    return message
