"""Helpers of the downloader's tests: settings that point the real client at the fake, and file contents
built from the file contract (app/data_sets.py), so that no test restates a column list."""

import contextlib
import datetime
import gzip
import pathlib
from collections.abc import Iterator, Sequence

from app import config
from app import data_sets as contract
from tests.support.fake_bigquery import FakeBigQuery


@contextlib.contextmanager
def running_fake(monkeypatch, tmp_path: pathlib.Path, first_date: datetime.date, last_date: datetime.date,
                 **fake_options) -> Iterator[FakeBigQuery]:
    """A running fake BigQuery that the downloader talks to, an empty DATA_DIR and bounded settings."""
    with FakeBigQuery(**fake_options) as server:
        monkeypatch.setenv('BIGQUERY_API_ENDPOINT', server.url)
        monkeypatch.setenv('DATA_DIR', str(tmp_path / 'data'))
        monkeypatch.setenv('FIRST_DATE', str(first_date))
        monkeypatch.setenv('LAST_DATE', str(last_date))
        monkeypatch.setenv('BIGQUERY_TIMEOUT_SECONDS', '5')
        monkeypatch.setenv('BIGQUERY_MAXIMUM_BYTES_BILLED', str(10 ** 9))
        for name in ('BIGQUERY_PROJECT', 'BIGQUERY_BUDGET_TIB', 'BIGQUERY_PYPI_PROJECTS', 'BIGQUERY_REFRESH_DAYS',
                     'BIGQUERY_PRICE_PER_TIB'):
            monkeypatch.delenv(name, raising=False)
        # never a developer's real key: anonymous credentials for the local endpoint
        monkeypatch.setenv('GOOGLE_APPLICATION_CREDENTIALS', str(tmp_path / 'no-such-key.json'))
        yield server


def path_of(data_set: contract.DataSet, day: datetime.date, version: contract.FileVersion | None = None):
    return data_set.path(config.data_dir(), day, version)


def read(data_set: contract.DataSet, day: datetime.date, version: contract.FileVersion | None = None) -> str:
    """The whole text of a day's file (default: its newest version)."""
    with gzip.open(path_of(data_set, day, version), 'rt', encoding='utf-8', newline='') as file:
        return file.read()


def file_text(version: contract.FileVersion, rows: Sequence[Sequence]) -> str:
    """What a file of `version` with `rows` (in its column order) must hold, ungzipped."""
    return contract.encode_line(version.column_names) + ''.join(map(contract.encode_line, rows))


def files_under(directory: pathlib.Path) -> list[str]:
    """All files, including hidden temporary ones."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob('*') if p.is_file())
