"""How each data set is queried from BigQuery: its SQL file, its parameters and what a missing table means.

Where its files go and which columns they have is the file contract in app/data_sets.py; the downloader
writes the newest version of each.
"""

import dataclasses
import datetime
import pathlib

from google.cloud import bigquery

from app import config
from app import data_sets as contract

QUERY_DIR = pathlib.Path(__file__).resolve().parent

# Installer names (as PyPI's linehaul parses them from the user agent) of mirror clients and caching
# proxies. Each download by them stands for a copy that many users then fetch from the mirror, not for
# a user's download, so they are excluded. Downloads without an installer name are kept.
#   bandersnatch, z3c.pypimirror, pep381client: clients that mirror all of PyPI
#   devpi, Artifactory, Nexus: caching proxies and repository managers
MIRROR_INSTALLERS = ('bandersnatch', 'z3c.pypimirror', 'pep381client', 'devpi', 'Artifactory', 'Nexus')


@dataclasses.dataclass(frozen=True)
class Query:
    contract: contract.DataSet  # path, versions and columns of the files
    sql_file: str
    table_per_day: bool  # the day is part of the table name (GH Archive), not only a query parameter
    allow_list_column: str | None = None  # the file column that allow_list() filters on

    @property
    def name(self) -> str:
        return self.contract.name

    @property
    def missing_days_are_real(self) -> bool:
        """A missing table is a day without data (skipped with a note) rather than an error.

        With one table per day, a day the archive lacks has no table. With one table for all days
        (PyPI), NotFound means the table itself is gone or unreachable: an error.
        """
        return self.table_per_day

    def sql(self, day: datetime.date) -> str:
        sql = (QUERY_DIR / self.sql_file).read_text()
        if not self.table_per_day:
            return sql
        # Identifiers can't be query parameters. Building the suffix only from a real
        # date keeps free text (and SQL injection) out of the table name.
        if type(day) is not datetime.date:
            raise TypeError(f'day must be a datetime.date, not {type(day).__name__}')
        return sql.replace('{yyyymmdd}', f'{day:%Y%m%d}')

    def query_parameters(self, day: datetime.date) -> list:
        return [bigquery.ScalarQueryParameter('day', 'DATE', day)]

    def allow_list(self) -> tuple[str, ...]:
        """The values of `allow_list_column` the query is limited to; empty: no limit."""
        return ()

    @property
    def estimate_is_upper_bound(self) -> bool:
        """Whether a dry run's bytes are only an upper bound of what the query bills.

        That is the case for a filter on a clustering column (the PyPI allow-list): BigQuery learns which
        blocks the filter skips only while the query runs, so a dry run estimates about the whole day.
        """
        return bool(self.allow_list())


@dataclasses.dataclass(frozen=True)
class PypiQuery(Query):
    allow_list_column: str | None = 'project'

    def query_parameters(self, day: datetime.date) -> list:
        return [*super().query_parameters(day),
                bigquery.ArrayQueryParameter('mirror_installers', 'STRING', list(MIRROR_INSTALLERS)),
                bigquery.ArrayQueryParameter('projects', 'STRING', list(self.allow_list()))]

    def allow_list(self) -> tuple[str, ...]:
        return config.bigquery_pypi_projects()


PYPI = PypiQuery(contract.PYPI, 'pypi_downloads.sql', table_per_day=False)
GITHUB = Query(contract.GITHUB, 'github_repo_activity.sql', table_per_day=True)

QUERIES: dict[str, Query] = {query.name: query for query in (PYPI, GITHUB)}
