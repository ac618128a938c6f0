"""Writes the per-day files that the BigQuery downloader would write, from made-up but realistic data."""

import concurrent.futures
import dataclasses
import datetime
import io
import os
import pathlib
import time
from collections.abc import Callable

from app import data_sets

from . import github, pypi
from .catalog import catalog

# The data set of each kind, the file version written, and the function that makes a day's lines. The lines are
# made directly in the version's column order: the generated names never hold a character that needs escaping.
KINDS = {'pypi': (data_sets.PYPI, data_sets.PYPI.versions[0], pypi.day_lines),
         'github': (data_sets.GITHUB, data_sets.GITHUB.versions[0], github.day_lines)}

DEFAULT_FIRST_DAY = datetime.date(2018, 4, 1)
DEFAULT_DAYS = 10
DEFAULT_PYPI_ROWS = 20_000
DEFAULT_GITHUB_ROWS = 20_000
BENCHMARK_PYPI_ROWS = 220_000
BENCHMARK_GITHUB_ROWS = 210_000
DEFAULT_SEED = 42
# Leaves room for the README's flask rows, which count towards a day's rows.
MIN_ROWS = 50
# Below this many rows in all, starting worker processes costs more than it saves.
PARALLEL_MIN_ROWS = 100_000


@dataclasses.dataclass(frozen=True)
class FileResult:
    path: pathlib.Path
    kind: str  # 'pypi' or 'github'
    day: datetime.date
    rows: int  # 0 when skipped
    skipped: bool
    seconds: float


@dataclasses.dataclass(frozen=True)
class GenerationSummary:
    files: tuple[FileResult, ...]
    seconds: float

    @property
    def written(self) -> int:
        return sum(not result.skipped for result in self.files)

    @property
    def skipped(self) -> int:
        return sum(result.skipped for result in self.files)

    @property
    def rows(self) -> int:
        return sum(result.rows for result in self.files)


def file_path(data_dir: pathlib.Path, day: datetime.date, kind: str) -> pathlib.Path:
    """Where the generator writes the file of a kind and day (the data set's contract)."""
    data_set, version, _ = KINDS[kind]
    return data_set.path(data_dir, day, version)


def render(kind: str, day: datetime.date, rows: int, seed: int) -> tuple[bytes, int]:
    """The gzipped file content (the same bytes for the same arguments)."""
    _, version, day_lines = KINDS[kind]
    content = io.BytesIO()
    written_rows = data_sets.write_lines(content, version, day_lines(catalog(seed), day, rows, seed))
    return content.getvalue(), written_rows


def write_file(path: pathlib.Path, kind: str, day: datetime.date, rows: int, seed: int) -> FileResult:
    start = time.perf_counter()
    data, written_rows = render(kind, day, rows, seed)
    with data_sets.atomic_file(path) as file:
        file.write(data)
    return FileResult(path, kind, day, written_rows, False, time.perf_counter() - start)


def _check(days: int, pypi_rows: int, github_rows: int) -> None:
    if days < 1:
        raise ValueError(f'days must be >= 1, not {days}')
    for name, rows in (('pypi_rows', pypi_rows), ('github_rows', github_rows)):
        if rows < MIN_ROWS:
            raise ValueError(f'{name} must be >= {MIN_ROWS}, not {rows}')


def _workers(workers: int | None, jobs: list, rows: int) -> int:
    if workers is not None:
        return max(1, workers)
    return min(len(jobs), os.cpu_count() or 1) if rows >= PARALLEL_MIN_ROWS else 1


def generate(data_dir: pathlib.Path, first_day: datetime.date, days: int, pypi_rows: int, github_rows: int,
             seed: int, overwrite: bool = False, workers: int | None = None,
             on_file: Callable[[FileResult], None] | None = None) -> GenerationSummary:
    """Writes a PyPI and a GitHub file for each of `days` days from `first_day`, exactly `pypi_rows` and
    `github_rows` data rows each. Existing files are kept unless `overwrite`. The same arguments always
    give byte-identical files. `workers`: processes (default: one per core for large volumes).
    `on_file` is called with each file's result as it is done."""
    _check(days, pypi_rows, github_rows)
    start, results, jobs = time.perf_counter(), [], []
    for offset in range(days):
        day = first_day + datetime.timedelta(days=offset)
        for kind, rows in (('pypi', pypi_rows), ('github', github_rows)):
            path = file_path(pathlib.Path(data_dir), day, kind)
            if path.exists() and not overwrite:
                results.append(FileResult(path, kind, day, 0, True, 0.0))
                if on_file:
                    on_file(results[-1])
            else:
                jobs.append((path, kind, day, rows, seed))
    catalog(seed)  # built once here, inherited by forked workers
    number_of_workers = _workers(workers, jobs, sum(job[3] for job in jobs))
    for result in _run(jobs, number_of_workers):
        results.append(result)
        if on_file:
            on_file(result)
    results.sort(key=lambda result: (result.day, result.kind != 'pypi'))
    return GenerationSummary(tuple(results), time.perf_counter() - start)


def _run(jobs: list, workers: int):
    """Results of `write_file` for all jobs, in order of completion."""
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield write_file(*job)
        return
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(write_file, *job) for job in jobs]
        for future in concurrent.futures.as_completed(futures):
            yield future.result()
