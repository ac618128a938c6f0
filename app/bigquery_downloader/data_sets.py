"""The data sets that are downloaded: their query, query parameters and file layout."""

import dataclasses
import datetime
import pathlib

from google.cloud import bigquery

QUERY_DIR = pathlib.Path(__file__).resolve().parent


@dataclasses.dataclass(frozen=True)
class DataSet:
    name: str
    file_name: str  # relative to the day's directory DATA_DIR/YYYY/MM/DD
    sql_file: str
    columns: tuple[str, ...]
    allow_missing_days: bool  # a day without a BigQuery table is skipped instead of failing
    table_per_day: bool = False  # the day is part of the table name, not only a query parameter

    def file_path(self, data_dir: pathlib.Path, day: datetime.date) -> pathlib.Path:
        return data_dir / f'{day:%Y/%m/%d}' / self.file_name

    def sql(self, day: datetime.date) -> str:
        sql = (QUERY_DIR / self.sql_file).read_text()
        if not self.table_per_day:
            return sql
        # Identifiers can't be query parameters. Building the suffix only from a real
        # date keeps free text (and SQL injection) out of the table name.
        if type(day) is not datetime.date:
            raise TypeError(f'day must be a datetime.date, not {type(day).__name__}')
        return sql.replace('{yyyymmdd}', f'{day:%Y%m%d}')

    def query_parameters(self, day: datetime.date) -> list[bigquery.ScalarQueryParameter]:
        return [bigquery.ScalarQueryParameter('day', 'DATE', day)]


PYPI = DataSet(
    name='pypi',
    file_name='pypi/downloads-v1.csv.gz',
    sql_file='pypi_downloads.sql',
    columns=('day_id', 'project', 'project_version', 'python_version', 'installer', 'number_of_downloads'),
    allow_missing_days=True,
)

GITHUB = DataSet(
    name='github',
    file_name='github/repo-activity-v1.csv.gz',
    sql_file='github_repo_activity.sql',
    columns=('day_id', 'user', 'repository', 'number_of_forks', 'number_of_commits',
             'number_of_closed_pull_requests'),
    allow_missing_days=False,
    table_per_day=True,
)

DATA_SETS: dict[str, DataSet] = {data_set.name: data_set for data_set in (PYPI, GITHUB)}
