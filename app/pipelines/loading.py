"""Shared by the warehouse pipelines: loading the per-day files into day partitions, and chunks of days.

`ParallelReadDayFiles` is mara's `ParallelReadFile` (incremental file reading, one partition per day)
with a stricter load of each file. mara pipes `gunzip` into a `COPY` of the partitioned parent table;
that records a file as read even when it was truncated (psql commits what arrived before gunzip
failed), silently routes a row with a foreign `day_id` into another day's partition, and accepts an
empty file. Here each file is loaded by `LoadDayFile` in one transaction that

1. empties the file's own day partition (a changed file replaces its day, and the COPY writes no WAL and
   freezes the rows),
2. copies the file into that partition, whose partition constraint rejects rows of other days,
3. fails when the file had no data rows;

and a gunzip failure poisons the COPY input, so that the transaction rolls back. A failed file leaves
the partition as it was, is not recorded as read, and is read again by the next run (read mode
ONLY_CHANGED) until it is fixed or removed.
"""

import datetime
import pathlib
import re
import shlex

import mara_db.shell
from mara_page import _, html
from mara_pipelines import config as mara_config
from mara_pipelines import pipelines
from mara_pipelines.commands.files import Compression
from mara_pipelines.commands.sql import ExecuteSQL
from mara_pipelines.parallel_tasks.files import ParallelReadFile, ReadMode

from app import config

# DATA_DIR/YYYY/MM/DD/<source>/<file>: the day of a file is its folder.
DAY_FOLDER_REGEX = r'^(\d{4})/(\d{2})/(\d{2})/'

# Appended to the file content when gunzip fails: a one-column line that no COPY into the (multi-column)
# day partitions accepts, so that whatever was decompressed before the error is rolled back.
GUNZIP_FAILED_LINE = '!!! gunzip failed: the file is truncated or not valid gzip'

# The format of the downloaded files: tab-separated with a header, quoted like Python's csv module
# writes, an empty field is NULL; the bytes must be UTF-8.
COPY_OPTIONS = "FORMAT csv, HEADER true, DELIMITER E'\\t', NULL '', ENCODING 'UTF8'"


def sql_literal(value: str) -> str:
    """A string as an SQL literal."""
    return "'" + value.replace("'", "''") + "'"


def day_of_file(file_name: str) -> datetime.date:
    """The day of a file below DATA_DIR, from its YYYY/MM/DD folder."""
    match = re.match(DAY_FOLDER_REGEX, file_name)
    if not match:
        raise ValueError(f'file name "{file_name}" does not start with a YYYY/MM/DD folder')
    return datetime.date(*(int(group) for group in match.groups()))


class LoadDayFile(pipelines.Command):
    """Loads one gzipped per-day file into its day partition, atomically (see the module doc)."""

    def __init__(self, file_name: str, partition: str, db_alias: str | None = None) -> None:
        super().__init__()
        self.file_name = file_name
        self.partition = partition
        self._db_alias = db_alias

    @property
    def db_alias(self) -> str:
        return self._db_alias or mara_config.default_db_alias()

    def statements(self) -> list[str]:
        """The statements of the load transaction."""
        return [f'TRUNCATE {self.partition}',
                # Written once, frozen and all-visible (COPY FREEZE), and only ever read whole by the
                # transformations: autovacuum has nothing to do here, and its ANALYZE of a fresh partition
                # (75k sampled rows) would compete with the running ETL for the cores.
                f'ALTER TABLE {self.partition} SET (autovacuum_enabled = false)',
                # FREEZE: the partition was emptied in this transaction, so the rows can be written frozen
                f'COPY {self.partition} FROM STDIN WITH ({COPY_OPTIONS}, FREEZE true)',
                f'SELECT util.assert_file_loaded({sql_literal(self.partition)}, {sql_literal(self.file_name)})']

    def shell_command(self) -> str:
        path = shlex.quote(str(pathlib.Path(mara_config.data_dir()) / self.file_name))
        psql = mara_db.shell.query_command(self.db_alias, echo_queries=False)
        commands = ' '.join(f'--command={shlex.quote(statement)}' for statement in self.statements())
        failed = shlex.quote(f'ERROR: could not load {self.file_name} into {self.partition} '
                             '(the errors above tell why, and the line of the file where the database names one)')
        return (f'{{ gunzip --decompress --stdout {path} || echo {shlex.quote(GUNZIP_FAILED_LINE)}; }} \\\n'
                f'  | {psql} --single-transaction {commands} \\\n'
                f'  || {{ echo {failed} >&2; exit 1; }}')

    def html_doc_items(self) -> list[tuple[str, str]]:
        return [('file name', _.i[self.file_name]),
                ('partition', _.tt[self.partition]),
                ('db alias', _.tt[self.db_alias]),
                ('shell command', html.highlight_syntax(self.shell_command(), 'bash'))]


class ParallelReadDayFiles(ParallelReadFile):
    """Reads new and changed per-day files (DATA_DIR/YYYY/MM/DD/...) into the day partitions of
    `target_table`, in parallel; each file with `LoadDayFile`."""

    def __init__(self, id: str, description: str, file_pattern: str, target_table: str,
                 commands_before: list[pipelines.Command] | None = None) -> None:
        super().__init__(id=id, description=description, file_pattern=file_pattern,
                         read_mode=ReadMode.ONLY_CHANGED, compression=Compression.GZIP,
                         target_table=target_table, date_regex=DAY_FOLDER_REGEX,
                         partition_target_table_by_day_id=True, commands_before=commands_before,
                         csv_format=True, delimiter_char='\t', skip_header=True, null_value_string='')

    def partition(self, file_name: str) -> str:
        """The day partition of a file, as mara names it when it creates the partitions."""
        return f'{self.target_table}_{day_of_file(file_name):%Y%m%d}'

    def read_command(self, file_name: str) -> pipelines.Command:
        return LoadDayFile(file_name, self.partition(file_name), db_alias=self.db_alias)

    def add_parallel_tasks(self, sub_pipeline: pipelines.Pipeline) -> None:
        super().add_parallel_tasks(sub_pipeline)
        # mara follows each day with an ANALYZE of its partition, which costs more than the COPY (the
        # server samples 75k rows at default_statistics_target = 250). The transformations read whole
        # partitions and need no statistics of them.
        for task in sub_pipeline.nodes.values():
            if isinstance(task, pipelines.Task) and not task.is_dynamic_commands:
                task._commands = [command for command in task.commands if not _is_analyze(command)]


def _is_analyze(command: pipelines.Command) -> bool:
    return isinstance(command, ExecuteSQL) and (command.sql_statement or '').startswith('ANALYZE ')


def chunks() -> list[tuple[int]]:
    """The parameters of chunked SQL tasks: one (chunk number,) per chunk of days."""
    return [(chunk,) for chunk in range(config.number_of_chunks())]


def sql_replacements() -> dict[str, str]:
    """Placeholders of the warehouse SQL files: the days that time.day covers, the number of chunks
    (util.get_chunk) and the COLUMNAR_STORAGE setting."""
    return {'@first_day_id@': f'{config.first_date():%Y%m%d}',
            '@last_day_id@': f'{config.last_date():%Y%m%d}',
            '@number_of_chunks@': str(config.number_of_chunks()),
            '@columnar_storage@': config.columnar_storage()}


def sql_task(id: str, description: str, sql_file_name: str) -> pipelines.Task:
    """A task that runs one SQL file of its pipeline with the placeholders above; shows results, not the SQL."""
    return pipelines.Task(id=id, description=description, commands=[
        ExecuteSQL(sql_file_name=sql_file_name, replace=sql_replacements(), echo_queries=False)])
