"""The file contract of each data set: the one place that says where its files live under DATA_DIR,
which columns they have (with their PostgreSQL types), how they are encoded and which version they are.

The BigQuery downloader and the sample-data generator write files through it, the pipelines load them
through it (COPY options, raw table columns) and the tests read them back through it.

A file is `DATA_DIR/YYYY/MM/DD/<folder>/<stem>-v<version>.csv.gz`: gzipped, one header line with the
column names, then one line per row in PostgreSQL's COPY text format with a tab between fields.
A backslash escapes tab (`\\t`), newline (`\\n`), carriage return (`\\r`) and itself (`\\\\`); every
other character, quotes included, stands for itself. An empty field is NULL.
"""

import contextlib
import dataclasses
import datetime
import gzip
import io
import os
import pathlib
import secrets
from collections.abc import Iterable, Iterator, Sequence

# The day folder of a file below DATA_DIR.
DAY_FOLDER_FORMAT = '%Y/%m/%d'

# gzip level 6 compresses almost as well as 9 at a fraction of the time.
COMPRESS_LEVEL = 6

_ESCAPES = str.maketrans({'\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r'})
_UNESCAPES = {'\\': '\\', 't': '\t', 'n': '\n', 'r': '\r'}


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    sql_type: str  # in the raw table
    description: str


@dataclasses.dataclass(frozen=True)
class FileVersion:
    """One version of a data set's file: a new version is a new file name, read next to the old ones."""
    version: int
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


@dataclasses.dataclass(frozen=True)
class DataSet:
    name: str  # also the folder below the day folder
    stem: str  # the file name without version and extension
    versions: tuple[FileVersion, ...]  # oldest first; writers write the newest
    key: tuple[str, ...]  # the natural key of a row: unique within a file
    counts: tuple[str, ...]  # columns that count something: never negative

    @property
    def latest(self) -> FileVersion:
        return self.versions[-1]

    def file_name(self, version: FileVersion | None = None) -> str:
        return f'{self.stem}-v{(version or self.latest).version}.csv.gz'

    def relative_path(self, day: datetime.date, version: FileVersion | None = None) -> str:
        """The path below DATA_DIR, as the pipelines name and record files."""
        return f'{day.strftime(DAY_FOLDER_FORMAT)}/{self.name}/{self.file_name(version)}'

    def path(self, data_dir: pathlib.Path, day: datetime.date, version: FileVersion | None = None) -> pathlib.Path:
        return pathlib.Path(data_dir) / self.relative_path(day, version)

    def version_of_file(self, file_name: str) -> FileVersion | None:
        """The version whose file name this is, or None."""
        return next((version for version in self.versions if self.file_name(version) == file_name), None)

    @property
    def all_columns(self) -> tuple[Column, ...]:
        """The columns of all versions (the raw table has them all; older files leave the new ones NULL)."""
        columns = {}
        for version in self.versions:
            columns.update((column.name, column) for column in version.columns)
        return tuple(columns.values())


_DAY_ID = Column('day_id', 'INTEGER', 'the day as YYYYMMDD, always the day of the file\'s folder')

_PYPI_V1 = (
    _DAY_ID,
    Column('project', 'TEXT', 'PyPI project name, e.g. flask'),
    Column('project_version', 'TEXT', 'version of the downloaded file, e.g. 0.12.2'),
    Column('python_version', 'TEXT', 'major.minor of the downloading Python, e.g. 3.6; NULL: not reported'),
    Column('installer', 'TEXT', 'pip, uv, Browser, ...; NULL: not reported'),
    Column('number_of_downloads', 'INTEGER', 'downloads of that combination on that day'),
)

PYPI = DataSet(
    name='pypi', stem='downloads',
    versions=(FileVersion(1, _PYPI_V1),),
    key=('project', 'project_version', 'python_version', 'installer'),
    counts=('number_of_downloads',))

_GITHUB_V1 = (
    _DAY_ID,
    Column('user', 'TEXT', 'owner of the repository, e.g. pallets'),
    Column('repository', 'TEXT', 'repository name, e.g. flask'),
    Column('number_of_forks', 'INTEGER', 'forks created that day; NULL: none'),
    Column('number_of_commits', 'INTEGER',
           'commits pushed that day; NULL: none, or not known (see docs/data-sources.md)'),
    Column('number_of_closed_pull_requests', 'INTEGER', 'pull requests closed or merged that day; NULL: none'),
)

# v2: commits are 0 when the pushes carried no new commits and NULL when their payloads do not say
# (GitHub dropped the counts on 2025-10-07, see docs/data-sources.md); the pushes themselves are counted.
_GITHUB_V2 = (
    *_GITHUB_V1[:4],
    Column('number_of_commits', 'INTEGER',
           'distinct commits pushed that day (0: the pushes had none); NULL: no push, or a push whose payload '
           'does not say (since 2025-10-07, see docs/data-sources.md)'),
    Column('number_of_closed_pull_requests', 'INTEGER',
           'pull requests closed or merged that day, each counted once; NULL: none'),
    Column('number_of_pushes', 'INTEGER', 'push events that day; NULL: none'),
)

GITHUB = DataSet(
    name='github', stem='repo-activity',
    versions=(FileVersion(1, _GITHUB_V1), FileVersion(2, _GITHUB_V2)),
    key=('user', 'repository'),
    counts=('number_of_forks', 'number_of_commits', 'number_of_closed_pull_requests', 'number_of_pushes'))

DATA_SETS: dict[str, DataSet] = {data_set.name: data_set for data_set in (PYPI, GITHUB)}


# ---------------------------------------------------------------- the encoding

def encode_line(values: Sequence) -> str:
    """One row as a line of the file (None: an empty field)."""
    return '\t'.join('' if value is None else str(value).translate(_ESCAPES) for value in values) + '\n'


def decode_line(line: str) -> list[str | None]:
    """The fields of one line (without its newline), escapes resolved; an empty field is None."""
    return [_unescape(field) if field else None for field in line.split('\t')]


def _unescape(field: str) -> str:
    if '\\' not in field:
        return field
    out, characters = [], iter(field)
    for character in characters:
        out.append(_UNESCAPES.get(following := next(characters, '\\'), following) if character == '\\' else character)
    return ''.join(out)


def copy_options() -> str:
    """The options of the COPY that loads a file: tab-separated text with the header line checked against the
    columns, and an empty field as NULL."""
    return "FORMAT text, HEADER MATCH, NULL ''"


# ---------------------------------------------------------------- writing and reading files

@contextlib.contextmanager
def atomic_file(path: pathlib.Path) -> Iterator[io.BufferedWriter]:
    """A binary file that appears at `path` only when the block finishes without an exception.

    It is written to a hidden temporary file in the same directory (same file system, so the rename is
    atomic), flushed to disk, renamed, and the rename itself made durable.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f'.{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp')
    try:
        with open(temporary, 'xb') as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:  # also KeyboardInterrupt: never leave a temporary file behind
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def write_lines(file: io.BufferedIOBase, version: FileVersion, lines: Iterable[str]) -> int:
    """Writes the header and already encoded `lines`, gzipped, to an open binary file; returns the line count."""
    count = 0
    with (gzip.GzipFile(filename='', mode='wb', fileobj=file, compresslevel=COMPRESS_LEVEL, mtime=0) as zipped,
          io.TextIOWrapper(zipped, encoding='utf-8', newline='') as text):
        text.write(encode_line(version.column_names))
        for line in lines:
            text.write(line)
            count += 1
    return count


def write_rows(file: io.BufferedIOBase, version: FileVersion, rows: Iterable[Sequence]) -> int:
    """Writes the header and `rows` (sequences in the version's column order), gzipped; returns the row count."""
    return write_lines(file, version, map(encode_line, rows))


def write_file(path: pathlib.Path, version: FileVersion, rows: Iterable[Sequence]) -> int:
    """Writes a whole file atomically; returns the row count."""
    with atomic_file(path) as file:
        return write_rows(file, version, rows)


def read_rows(path: pathlib.Path) -> list[dict[str, str | None]]:
    """The rows of a file as dicts of strings (None for empty fields), keyed by the header's names."""
    with gzip.open(path, 'rt', encoding='utf-8', newline='\n') as file:
        header = decode_line(file.readline().rstrip('\n'))
        return [dict(zip(header, decode_line(line.rstrip('\n')))) for line in file]
