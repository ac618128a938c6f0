"""The completeness check of the downloaded days, from the files in DATA_DIR (rule: app/data_quality.py)."""

import datetime
import gzip
import pathlib
from collections.abc import Iterable, Sequence

from app import data_quality
from app import data_sets as contract
from app.bigquery_downloader.data_sets import Query
from app.bigquery_downloader.plan import existing_file


def check(query: Query, days: Iterable[datetime.date], data_dir: pathlib.Path,
          known: dict[datetime.date, data_quality.DayStatistics]) -> tuple[list[data_quality.CompletenessFlag], int]:
    """The completeness flags of `days`, and how many of them had enough history to be judged.

    `known` has statistics already at hand (of the files just written); the days before are read from
    their files.
    """
    days = sorted(set(days))
    wanted = {day - datetime.timedelta(days=offset)
              for day in days for offset in range(data_quality.BASELINE_DAYS + 1)}
    by_day = {}
    for day in sorted(wanted):
        if day in known:
            by_day[day] = known[day]
        elif (path := existing_file(query, day, data_dir)) is not None:
            by_day[day] = file_statistics(query.contract, day, path)
    judged = sum(len(data_quality.baseline(day, by_day)) >= data_quality.MINIMUM_BASELINE_DAYS for day in days)
    return data_quality.completeness_flags(query.name, by_day.values(), days), judged


class Tally:
    """Counts rows and sums the count columns of rows passing through (sequences in `column_names` order)."""

    def __init__(self, data_set: contract.DataSet, column_names: Sequence[str], rows: Iterable[Sequence]):
        self._rows = rows
        self._columns = [(name, column_names.index(name)) for name in data_set.counts if name in column_names]
        self.count = 0
        self.totals: dict[str, int | None] = {name: None for name, _ in self._columns}

    def __iter__(self):
        columns, totals = self._columns, self.totals
        for row in self._rows:
            self.count += 1
            for name, index in columns:
                if (value := row[index]) not in (None, ''):  # '' is NULL in a file
                    totals[name] = (totals[name] or 0) + int(value)
            yield row

    def statistics(self, day: datetime.date) -> data_quality.DayStatistics:
        return data_quality.DayStatistics(day, self.count, dict(self.totals))


def file_statistics(data_set: contract.DataSet, day: datetime.date, path: pathlib.Path) -> data_quality.DayStatistics:
    """Rows and count-column totals of one file (count columns are plain integers: no escapes to resolve)."""
    with gzip.open(path, 'rt', encoding='utf-8', newline='\n') as file:
        header = contract.decode_line(file.readline().rstrip('\n'))
        tally = Tally(data_set, header, (line.rstrip('\n').split('\t') for line in file))
        for _ in tally:
            pass
    return tally.statistics(day)
