"""Data-quality rules that need neither a database nor BigQuery: plain Python over per-day statistics.

The completeness rule: each day of a data set is compared with the days before it. A day is flagged
  - when its row count, or the total of one of its count columns, is below DROP_THRESHOLD (20 %) of the
    median of the BASELINE_DAYS (28) days before it, or
  - when one of its count columns is NULL on every row although it had values on most days before.
A day with fewer than MINIMUM_BASELINE_DAYS days of statistics before it is not judged, and a median
of zero gives nothing to compare with.

The BigQuery downloader calls `completeness_flags` with statistics read from the files in DATA_DIR and
prints the flags in its summary; a pipeline can call it with statistics queried from the warehouse.
"""

import dataclasses
import datetime
import statistics as stats
from collections.abc import Iterable, Mapping

# How many days before a day make its baseline.
BASELINE_DAYS = 28
# Fewer days with statistics in the baseline than this: the day is not judged.
MINIMUM_BASELINE_DAYS = 7
# A value below this fraction of the baseline median is a drop.
DROP_THRESHOLD = 0.2

ROWS = 'rows'  # the metric name of the row count in a flag

# PyPA's guide "Analyzing PyPI package downloads": the counts of the days before this one are low by about an
# order of magnitude. Such days are named wherever they are downloaded or shown, not flagged day by day.
PYPI_UNDERCOUNT_UNTIL = datetime.date(2018, 7, 26)


@dataclasses.dataclass(frozen=True)
class DayStatistics:
    """What the rule needs to know of one day of one data set.

    totals: for each count column of the day's file, the sum of its non-NULL values, or None when the
    column is NULL on every row. A column the file does not have (an older file version) is left out.
    """
    day: datetime.date
    rows: int
    totals: Mapping[str, int | None]


@dataclasses.dataclass(frozen=True)
class CompletenessFlag:
    data_set: str
    day: datetime.date
    metric: str  # ROWS or the name of a count column
    kind: str  # 'drop' or 'all_null'
    value: int | None  # the day's row count or total (None: all NULL)
    baseline: float  # the median of the days before (for 'all_null': the share of them that had values)
    message: str

    def __str__(self) -> str:
        return self.message


def completeness_flags(data_set: str, statistics: Iterable[DayStatistics],
                       days: Iterable[datetime.date] | None = None) -> list[CompletenessFlag]:
    """The completeness flags of `days` (default: every day in `statistics`), ordered by day and metric.

    data_set only names the data set in the messages. `statistics` must hold the judged days and the
    BASELINE_DAYS days before each of them (days without statistics are simply not in the baseline).
    """
    by_day = {s.day: s for s in statistics}
    flags = []
    for day in sorted(set(by_day) if days is None else set(days)):
        if day in by_day:
            flags += _flags_of_day(data_set, by_day[day], baseline(day, by_day))
    return flags


def baseline(day: datetime.date, by_day: Mapping[datetime.date, DayStatistics]) -> list[DayStatistics]:
    """The statistics of the BASELINE_DAYS days before `day` that are in `by_day`; the day is judged
    only when there are at least MINIMUM_BASELINE_DAYS of them."""
    days = (day - datetime.timedelta(days=offset) for offset in range(1, BASELINE_DAYS + 1))
    return [by_day[d] for d in days if d in by_day]


def _flags_of_day(data_set: str, today: DayStatistics, baseline: list[DayStatistics]) -> list[CompletenessFlag]:
    if len(baseline) < MINIMUM_BASELINE_DAYS:
        return []
    flags = []
    drop = _drop(data_set, today.day, ROWS, today.rows, [s.rows for s in baseline])
    if drop:
        flags.append(drop)
    for metric in sorted(today.totals):
        history = [s.totals[metric] for s in baseline if metric in s.totals]
        if len(history) < MINIMUM_BASELINE_DAYS:
            continue
        value = today.totals[metric]
        if value is None:
            flag = _all_null(data_set, today, metric, history)
        else:
            flag = _drop(data_set, today.day, metric, value, [total or 0 for total in history])
        if flag:
            flags.append(flag)
    return flags


def _drop(data_set: str, day: datetime.date, metric: str, value: int, history: list[int]) -> CompletenessFlag | None:
    median = stats.median(history)
    if median <= 0 or value >= DROP_THRESHOLD * median:
        return None
    what = 'rows' if metric == ROWS else f'the total of {metric}'
    message = (f'{data_set} {day}: {what} {value:,} is {100 * value / median:.1f} % of the median {median:,.0f} '
               f'of the {len(history)} days before (below {100 * DROP_THRESHOLD:.0f} %)')
    return CompletenessFlag(data_set, day, metric, 'drop', value, median, message)


def _all_null(data_set: str, today: DayStatistics, metric: str, history: list[int | None]) -> CompletenessFlag | None:
    with_values = sum(total is not None for total in history)
    if today.rows == 0 or 2 * with_values <= len(history):  # no rows, or NULL is already the usual case
        return None
    message = (f'{data_set} {today.day}: {metric} is NULL on all {today.rows:,} rows, but had values on '
               f'{with_values} of the {len(history)} days before')
    return CompletenessFlag(data_set, today.day, metric, 'all_null', None, with_values / len(history), message)


def pypi_undercount_note(first: datetime.date, last: datetime.date) -> str | None:
    """A warning when PyPI days from `first` to `last` reach before PYPI_UNDERCOUNT_UNTIL; None when none do."""
    if first >= PYPI_UNDERCOUNT_UNTIL:
        return None
    last = min(last, PYPI_UNDERCOUNT_UNTIL - datetime.timedelta(days=1))
    span = f'{first}' if first == last else f'{first} to {last}'
    return (f'PyPI downloads of {span} are undercounted: PyPA\'s guide "Analyzing PyPI package downloads" says '
            f'that counts before {PYPI_UNDERCOUNT_UNTIL} are low by about an order of magnitude '
            '(docs/data-sources.md)')
