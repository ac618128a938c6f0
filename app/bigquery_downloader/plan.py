"""Which (data set, day) pairs a run downloads: days without a file, and days whose file may be outdated."""

import dataclasses
import datetime
import pathlib
from collections.abc import Iterable

from app import config
from app.bigquery_downloader.data_sets import Query


@dataclasses.dataclass(frozen=True)
class Task:
    query: Query
    day: datetime.date
    existing: pathlib.Path | None  # the day's file as it is (any version), None: there is none

    @property
    def label(self) -> str:
        return f'{self.query.name} {self.day}'

    @property
    def again(self) -> bool:
        return self.existing is not None


@dataclasses.dataclass
class Plan:
    tasks: list[Task]
    already_there: int  # files that are final and stay as they are


def plan(queries: Iterable[Query], first_date: datetime.date, last_date: datetime.date,
         data_dir: pathlib.Path) -> Plan:
    """Day by day, each data set's missing files, and the files written too soon to be final."""
    tasks, already_there = [], 0
    for offset in range((last_date - first_date).days + 1):
        day = first_date + datetime.timedelta(days=offset)
        for query in queries:
            existing = existing_file(query, day, data_dir)
            if existing is None or not is_final(existing, day):
                tasks.append(Task(query, day, existing))
            else:
                already_there += 1
    return Plan(tasks, already_there)


def existing_file(query: Query, day: datetime.date, data_dir: pathlib.Path) -> pathlib.Path | None:
    """The day's file of the newest version that is there, if any."""
    for version in reversed(query.contract.versions):
        path = query.contract.path(data_dir, day, version)
        if path.is_file():
            return path
    return None


def is_final(path: pathlib.Path, day: datetime.date) -> bool:
    """Whether the file was written late enough for its source to have been complete.

    Yesterday's PyPI partition can still be filling, and GH Archive loads a day's table after the day:
    a file written less than BIGQUERY_REFRESH_DAYS days after its day (by the UTC date of its
    modification time) is downloaded again. Rewriting it makes it final in time.
    """
    written = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.UTC).date()
    return written >= day + datetime.timedelta(days=config.bigquery_refresh_days())
