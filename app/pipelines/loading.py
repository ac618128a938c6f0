"""The day model of the warehouse, and the mara nodes that build and publish days.

A pipeline publishes days. A day of a data set is its file `DATA_DIR/YYYY/MM/DD/<data set>/<stem>-vN.csv.gz`
(app/data_sets.py; the newest version when a day has several). Every run of a pipeline

1. plans: it compares the files within FIRST_DATE..LAST_DATE with the days it published (recorded in
   `<data schema>.published_day` with each file's size and SHA-256), and lists the days to build (new or
   changed files, whatever their modification time) and the days to take out (removed files, days that left
   the date range). A file's hash is computed again whenever its size, mtime, ctime or inode changed.
   A pipeline whose SQL files changed, whose tables were never built or that is asked to (FULL_REBUILD)
   builds every day instead;
2. loads the planned files into day partitions of `<data schema>_next` and checks them (quality gates);
3. builds the days' rows of its star schema in `<star schema>_next`;
4. publishes, in one transaction: the raw days, the record of published days, new dimension members and
   the day partitions of facts and flat data sets (util.publish_days; readers see each day old or new,
   never half of it), or the whole new schema after a full build (util.replace_schema).

A failed or killed run publishes nothing; its `_next` schemas are dropped by the next run, which plans the
same days again.
"""

import dataclasses
import datetime
import hashlib
import pathlib
import re
import shlex
from collections.abc import Callable, Iterable

import mara_db.dbs
import mara_db.shell
import psycopg2
from mara_page import _, html
from mara_pipelines import config as mara_config
from mara_pipelines import pipelines
from mara_pipelines.commands.sql import ExecuteSQL
from mara_pipelines.logging import logger

from app import config, data_quality, data_sets
from app.pipelines import progress
from app.runs import outcomes

# DATA_DIR/YYYY/MM/DD/<data set>/<file>
_DAY_PATH = re.compile(r'^(?P<year>\d{4})/(?P<month>\d{2})/(?P<day>\d{2})/(?P<folder>[^/]+)/(?P<file>[^/]+)$')


class DayFileError(Exception):
    """A file that is not where the day model expects it; the message names it."""


@dataclasses.dataclass(frozen=True)
class Layers:
    """The schemas of a pipeline that publishes days. Each is built in `<schema>_next` during a run."""
    data_schema: str  # what the star schema is built from, and the record of the published days
    dim_schema: str  # the published star schema

    @property
    def next_data_schema(self) -> str:
        return f'{self.data_schema}_next'

    @property
    def next_dim_schema(self) -> str:
        return f'{self.dim_schema}_next'


# ---------------------------------------------------------------- settings, read when a run starts

def day_id(day: datetime.date) -> int:
    return int(day.strftime('%Y%m%d'))


def day_partition_name(table_name: str, day: int) -> str:
    """The name of a table's partition of the day id `day`, as util.day_partition_name names it in SQL."""
    return f'{table_name}_{day}'


def sql_settings() -> dict[str, str]:
    """Placeholders of the warehouse SQL files, read when the command runs: the configured days and storage."""
    return {'@first_day_id@': str(day_id(config.first_date())),
            '@last_day_id@': str(day_id(config.last_date())),
            '@columnar_storage@': config.columnar_storage()}


class ExecuteSQLFile(ExecuteSQL):
    """mara's ExecuteSQL of a file, whose placeholders are computed when the command runs (so that a web UI
    process started a week ago still uses today's settings) and which shows results, not the statements."""

    def __init__(self, sql_file_name: str, replace: Callable[[], dict[str, str]] = sql_settings) -> None:
        self._replace_function = replace
        super().__init__(sql_file_name=sql_file_name, echo_queries=False)

    @property
    def replace(self) -> dict[str, str]:
        return self._replace_function()

    @replace.setter
    def replace(self, value: dict) -> None:
        assert not value, 'ExecuteSQLFile computes its replacements itself'


def sql_task(id: str, description: str, *sql_file_names: str) -> pipelines.Task:
    """A task that runs SQL files of its pipeline with the placeholders of `sql_settings`."""
    return pipelines.Task(id=id, description=description,
                          commands=[ExecuteSQLFile(file_name) for file_name in sql_file_names])


def pipeline_version(sql_dir: pathlib.Path, *more: str) -> str:
    """The version of what a pipeline builds: a hash of its SQL files (and of `more`). When it changes, the
    pipeline builds all days again, so that the warehouse never mixes days of two versions."""
    digest = hashlib.sha256()
    for path in sorted(pathlib.Path(sql_dir).glob('*.sql')):
        digest.update(path.name.encode() + b'\0' + path.read_bytes() + b'\0')
    for text in more:
        digest.update(text.encode() + b'\0')
    return digest.hexdigest()[:16]


# ---------------------------------------------------------------- files on disk

@dataclasses.dataclass(frozen=True)
class DayFile:
    """A data set file of one day, with what identifies its content."""
    file_name: str  # below DATA_DIR
    day: datetime.date
    version: int
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    sha256: str = ''

    @property
    def stat_key(self) -> tuple:
        return self.size, self.mtime_ns, self.ctime_ns, self.inode


def find_day_files(data_dir: pathlib.Path, data_set: data_sets.DataSet, first_date: datetime.date,
                   last_date: datetime.date) -> tuple[dict[datetime.date, DayFile], list[str]]:
    """The file of each day of `data_set` within first_date..last_date, and notes on the files that are not
    used (outside the dates, or an older version of a day that has a newer one). A file named like one of the
    data set's files (`<stem>-v<N>.csv.gz`) that is not at YYYY/MM/DD/<data set>/ with a real date and a
    known version raises DayFileError. Hidden files (downloads in progress) are not looked at."""
    name_pattern = re.compile(rf'^{re.escape(data_set.stem)}-v\d+\.csv\.gz$')
    candidates, notes, outside = {}, [], []
    for path in sorted(pathlib.Path(data_dir).rglob(f'{data_set.stem}-v*.csv.gz')):
        if not name_pattern.match(path.name) or not path.is_file():
            continue
        relative = path.relative_to(data_dir).as_posix()
        if any(part.startswith('.') for part in relative.split('/')):
            continue
        day, version = _day_and_version(relative, data_set)
        if not first_date <= day <= last_date:
            outside.append(relative)
            continue
        stat = path.stat()
        candidates.setdefault(day, []).append(
            DayFile(relative, day, version.version, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino))
    files = {}
    for day, versions in candidates.items():
        newest, *older = sorted(versions, key=lambda file: file.version, reverse=True)
        files[day] = newest
        notes.extend(f'{file.file_name} is not read: the newer {newest.file_name} is there' for file in older)
    if outside:
        notes.append(f'{len(outside)} files outside FIRST_DATE..LAST_DATE ({first_date}..{last_date}) are not '
                     f'read: {_some(outside)}')
    return files, notes


def _day_and_version(relative: str, data_set: data_sets.DataSet) -> tuple[datetime.date, data_sets.FileVersion]:
    match = _DAY_PATH.match(relative)
    if not match or match['folder'] != data_set.name:
        raise DayFileError(f'{relative}: a {data_set.name} file must be at '
                           f'YYYY/MM/DD/{data_set.name}/{relative.split("/")[-1]} below DATA_DIR')
    try:
        day = datetime.date(int(match['year']), int(match['month']), int(match['day']))
    except ValueError:
        raise DayFileError(f'{relative}: {match["year"]}/{match["month"]}/{match["day"]} is not a date') from None
    version = data_set.version_of_file(match['file'])
    if version is None:
        known = ', '.join(data_set.file_name(version) for version in data_set.versions)
        raise DayFileError(f'{relative}: unknown version of the {data_set.name} file (this code reads {known})')
    return day, version


def with_hashes(files: Iterable[DayFile], data_dir: pathlib.Path, published: dict[str, DayFile]) -> list[DayFile]:
    """The files with their SHA-256; a published file whose size, mtime, ctime and inode are unchanged keeps
    its recorded hash (any write changes the ctime, even when the mtime is set back)."""
    result = []
    for file in files:
        known = published.get(file.file_name)
        if known and known.stat_key == file.stat_key:
            result.append(dataclasses.replace(file, sha256=known.sha256))
        else:
            with open(pathlib.Path(data_dir) / file.file_name, 'rb') as f:
                result.append(dataclasses.replace(file, sha256=hashlib.file_digest(f, 'sha256').hexdigest()))
    return result


def _some(names: list[str], limit: int = 5) -> str:
    return ', '.join(names[:limit]) + (f' and {len(names) - limit} more' if len(names) > limit else '')


# ---------------------------------------------------------------- the database side of a plan

def cursor_context():
    """A cursor of the warehouse database, committed and closed at the end of the block."""
    return mara_db.dbs.cursor_context(mara_config.default_db_alias())


def start_build(cursor, layers: Layers, version: str, force_full: str = '') -> tuple[bool, str]:
    """Creates `<data schema>_next` with the table `build` that the run's SQL reads (full build or not, the
    configured days, the days to take out) and decides whether this is a full build. Returns (full, reason)."""
    cursor.execute('SELECT obj_description(to_regnamespace(%s), %s)', (layers.dim_schema, 'pg_namespace'))
    comment = cursor.fetchone()[0]
    if comment is None and _schema_exists(cursor, layers.dim_schema):
        comment = 'unknown'
    if config.full_rebuild():
        full, reason = True, 'FULL_REBUILD is set'
    elif force_full:
        full, reason = True, force_full
    elif comment is None:
        full, reason = True, f'{layers.dim_schema} does not exist yet'
    elif comment != version_comment(version):
        full, reason = True, f'the pipeline changed since {layers.dim_schema} was built (version {version})'
    else:
        full, reason = False, ''
    next_schema = layers.next_data_schema
    cursor.execute('SELECT util.drop_next_schema(%s), util.drop_next_schema(%s)', (next_schema, layers.next_dim_schema))
    cursor.execute(f'CREATE SCHEMA {_ident(next_schema)}')
    cursor.execute(f"""
CREATE TABLE {_ident(next_schema)}.build (
  full_rebuild    BOOLEAN   NOT NULL,  -- true: every day is built, and {layers.dim_schema}_next replaces it
  version         TEXT      NOT NULL,  -- of the pipeline's SQL files
  version_comment TEXT      NOT NULL,  -- on the published schema
  first_day_id    INTEGER   NOT NULL,  -- FIRST_DATE when the run started
  last_day_id     INTEGER   NOT NULL,  -- LAST_DATE when the run started
  removed_day_ids INTEGER[] NOT NULL   -- published days that leave the warehouse
)""")
    cursor.execute(f'INSERT INTO {_ident(next_schema)}.build VALUES (%s, %s, %s, %s, %s, %s)',
                   (full, version, version_comment(version), day_id(config.first_date()),
                    day_id(config.last_date()), []))
    return full, reason


def version_comment(version: str) -> str:
    return f'built by version {version} of its pipeline'


def _schema_exists(cursor, schema: str) -> bool:
    cursor.execute('SELECT to_regnamespace(%s) IS NOT NULL', (schema,))
    return cursor.fetchone()[0]


def _ident(name: str) -> str:
    """A schema or table name as an SQL identifier (the project's names are plain, but quote anyway)."""
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------- planning a file pipeline

@dataclasses.dataclass(frozen=True)
class FilePipeline:
    """A pipeline that loads one data set's files: its contract, schemas, raw table and SQL folder."""
    data_set: data_sets.DataSet
    layers: Layers
    raw_table: str  # in the data schema: the rows of the files, one partition per day
    sql_dir: pathlib.Path

    def raw_table_ddl(self, schema: str) -> str:
        """The raw table: every column of every file version, partitioned by day. Its rows are in the order of
        their lines in the file (see util.check_loaded_files)."""
        columns = [(column.name, column.sql_type + (' NOT NULL' if column.name == 'day_id' else ''),
                     column.description) for column in self.data_set.all_columns]
        definitions = ',\n'.join(f'  {_ident(name)} {sql_type}' for name, sql_type, _description in columns)
        comments = '\n'.join(f'-- {name}: {description}' for name, _sql_type, description in columns)
        return (f'{comments}\nCREATE TABLE {_ident(schema)}.{_ident(self.raw_table)} (\n{definitions}\n'
                f') PARTITION BY LIST (day_id)')

    @property
    def published_day_ddl(self) -> str:
        return f"""
CREATE TABLE {_ident(self.layers.data_schema)}.published_day (
  day_id         INTEGER     NOT NULL PRIMARY KEY,
  file_name      TEXT        NOT NULL UNIQUE,  -- below DATA_DIR
  version        INTEGER     NOT NULL,         -- of the file format
  size           BIGINT      NOT NULL,         -- bytes
  sha256         TEXT        NOT NULL,         -- of the file's content
  mtime_ns       BIGINT      NOT NULL,         -- size, times and inode tell when the hash must be computed again
  ctime_ns       BIGINT      NOT NULL,
  inode          BIGINT      NOT NULL,
  number_of_rows BIGINT,                       -- data rows, counted when loaded
  totals         JSONB,                        -- the sum of each count column (null: NULL on every row)
  published_at   TIMESTAMPTZ NOT NULL DEFAULT now()
)"""

    def version(self) -> str:
        return pipeline_version(self.sql_dir, self.raw_table_ddl('raw'))

    def plan(self) -> bool:
        """The first command of a run: plans the days (see the module doc) and prints what it found."""
        try:
            with cursor_context() as cursor:
                messages = self._plan(cursor)
        except DayFileError as error:
            logger.log(f'ERROR: {error}', is_error=True)
            return False
        for message in messages:
            logger.log(message)
        return True

    def _plan(self, cursor) -> list[str]:
        layers, data_dir = self.layers, config.data_dir()
        first_date, last_date = config.first_date(), config.last_date()
        messages = []
        raw_rebuilt = self._ensure_raw_table(cursor)
        if raw_rebuilt:
            messages.append(f'The raw table {layers.data_schema}.{self.raw_table} changed: loading every file again.')
        files, notes = find_day_files(data_dir, self.data_set, first_date, last_date)
        published = self._published(cursor)
        full, reason = start_build(cursor, layers, self.version(), 'the raw table changed' if raw_rebuilt else '')
        files = with_hashes(files.values(), data_dir, {file.file_name: file for file in published.values()})
        planned = [file for file in files
                   if full or published.get(file.day) is None or published[file.day].sha256 != file.sha256
                   or published[file.day].file_name != file.file_name]
        present = {file.day for file in files}
        removed = sorted(day for day in published if day not in present)
        self._write_plan(cursor, planned, removed)
        self._record_touched_files(cursor, [file for file in files if file not in planned
                                            and published[file.day].stat_key != file.stat_key])

        messages.extend(notes)
        if full:
            messages.append(f'Full build ({reason}): {len(planned)} days of {first_date}..{last_date}.')
        changed = [file for file in planned if file.day in published]
        messages.append(f'{len(planned) - len(changed)} new days, {len(changed)} changed, {len(removed)} taken out, '
                        f'{len(files) - len(planned)} unchanged ({self.data_set.name}, {first_date}..{last_date}).')
        if changed and not full:
            messages.append(f'Changed: {_some([file.file_name for file in changed])}')
        if removed:
            messages.append('Taken out of the warehouse (file removed or outside FIRST_DATE..LAST_DATE): '
                            + _some([published[day].file_name for day in removed]))
        return messages

    def _record_touched_files(self, cursor, files: list[DayFile]) -> None:
        """Files that were written again with the same content (a download of an unchanged day, a restore): their
        new size, times and inode are recorded, so that the next run need not compute their hash again."""
        for file in files:
            cursor.execute(f'UPDATE {_ident(self.layers.data_schema)}.published_day '
                           'SET size = %s, mtime_ns = %s, ctime_ns = %s, inode = %s WHERE day_id = %s',
                           (file.size, file.mtime_ns, file.ctime_ns, file.inode, day_id(file.day)))

    def _ensure_raw_table(self, cursor) -> bool:
        """Creates the data schema with the raw table and the record of published days when missing, and
        anew when their definitions changed (the raw table's comment holds the definitions' hash). Returns
        whether it was created anew (then every day must be loaded again)."""
        schema, ddl = self.layers.data_schema, self.raw_table_ddl(self.layers.data_schema)
        digest = hashlib.sha256((ddl + self.published_day_ddl).encode()).hexdigest()[:16]
        cursor.execute('SELECT obj_description(to_regclass(%s), %s)', (f'{schema}.{self.raw_table}', 'pg_class'))
        comment = cursor.fetchone()[0]
        if comment == f'definition {digest}':
            return False
        rebuilt = _schema_exists(cursor, schema)
        cursor.execute(f'DROP SCHEMA IF EXISTS {_ident(schema)} CASCADE; CREATE SCHEMA {_ident(schema)}')
        cursor.execute(ddl)
        cursor.execute(f'COMMENT ON TABLE {_ident(schema)}.{_ident(self.raw_table)} IS %s', (f'definition {digest}',))
        cursor.execute(self.published_day_ddl)
        return rebuilt

    def _published(self, cursor) -> dict[datetime.date, DayFile]:
        cursor.execute(f'SELECT file_name, day_id, version, size, mtime_ns, ctime_ns, inode, sha256 '
                       f'FROM {_ident(self.layers.data_schema)}.published_day')
        return {datetime.datetime.strptime(str(row[1]), '%Y%m%d').date():
                DayFile(row[0], datetime.datetime.strptime(str(row[1]), '%Y%m%d').date(), *row[2:])
                for row in cursor.fetchall()}

    def _write_plan(self, cursor, planned: list[DayFile], removed: list[datetime.date]) -> None:
        schema = _ident(self.layers.next_data_schema)
        cursor.execute(f'UPDATE {schema}.build SET removed_day_ids = %s', ([day_id(day) for day in removed],))
        cursor.execute(f'CREATE TABLE {schema}.planned_day (LIKE {_ident(self.layers.data_schema)}.published_day '
                       'INCLUDING ALL)')
        cursor.execute(f'ALTER TABLE {schema}.planned_day DROP COLUMN published_at')
        for file in planned:
            cursor.execute(f'INSERT INTO {schema}.planned_day VALUES (%s, %s, %s, %s, %s, %s, %s, %s)',
                           (day_id(file.day), file.file_name, file.version, file.size, file.sha256,
                            file.mtime_ns, file.ctime_ns, file.inode))
        cursor.execute(self.raw_table_ddl(self.layers.next_data_schema))
        for file in planned:
            partition = _ident(day_partition_name(self.raw_table, day_id(file.day)))
            cursor.execute(f'CREATE TABLE {schema}.{partition} PARTITION OF {schema}.{_ident(self.raw_table)} '
                           f'FOR VALUES IN ({day_id(file.day)})')
            # Named for its message: a row of another day fails the load with it (before the partition bound).
            constraint = f"day_id is the day of the file's folder, {file.day}"
            cursor.execute(f'ALTER TABLE {schema}.{partition} ADD CONSTRAINT {_ident(constraint)} '
                           f'CHECK (day_id = {day_id(file.day)})')

    # ---------------------------------------------------------------- nodes

    def plan_task(self, id: str, description: str, *sql_file_names: str) -> pipelines.Task:
        """Plans, then runs the SQL files that create the `_next` tables of the planned days. A rerun of the
        pipeline's later nodes plans again (`outcomes.plans`): the files may have changed since."""
        from mara_pipelines.commands.python import RunFunction
        return outcomes.plans(pipelines.Task(
            id=id, description=description,
            commands=[RunFunction(self.plan)] + [ExecuteSQLFile(name) for name in sql_file_names]))

    def read_task(self, id: str, description: str) -> 'ReadDayFiles':
        return ReadDayFiles(id=id, description=description, file_pipeline=self)

    def check_task(self, id: str, description: str) -> pipelines.Task:
        """The quality gates of the loaded files (util.check_loaded_files): results go to the run output and
        data_quality.day_check; a failed gate fails the task, so that nothing of the run is published. The
        checked days are then stored columnar where the server has it (COLUMNAR_STORAGE)."""
        from mara_pipelines.commands.python import RunFunction
        return pipelines.Task(id=id, description=description,
                              commands=[RunFunction(self.check), RunFunction(self.store_checked_days)])

    def check(self) -> bool:
        loaded = f'{self.layers.next_data_schema}.{self.raw_table}'
        planned = f'{self.layers.next_data_schema}.planned_day'
        try:
            with cursor_context() as cursor:
                cursor.execute('SELECT util.check_loaded_files(%s, %s, %s, %s, %s)',
                               (self.data_set.name, loaded, planned, list(self.data_set.key),
                                list(self.data_set.counts)))
                logger.log(cursor.fetchone()[0])
                for flag in self._check_completeness(cursor):
                    logger.log(f'Warning: {flag}', is_error=True)
            with cursor_context() as cursor:
                cursor.execute('SELECT util.fail_on_failed_checks(%s, %s)', (self.data_set.name, planned))
        except psycopg2.Error as error:
            logger.log(f'ERROR: {error.diag.message_primary}', is_error=True)
            if error.diag.message_hint:
                logger.log(error.diag.message_hint, is_error=True)
            return False
        return True

    def store_checked_days(self) -> bool:
        """Stores the checked raw days in the storage of COLUMNAR_STORAGE (util.store_day_partitions)."""
        try:
            with cursor_context() as cursor:
                cursor.execute('SELECT util.store_day_partitions(%s, util.data_set_storage(%s))',
                               (f'{self.layers.next_data_schema}.{self.raw_table}', config.columnar_storage()))
                logger.log(cursor.fetchone()[0])
        except psycopg2.Error as error:
            logger.log(f'ERROR: {error.diag.message_primary}', is_error=True)
            return False
        return True

    def _check_completeness(self, cursor) -> list:
        """Compares each loaded file's rows and totals with the days before (app/data_quality.py) and records
        the result in data_quality.day_check as a warning: an incomplete day is published, but flagged."""
        data, planned = _ident(self.layers.data_schema), f'{_ident(self.layers.next_data_schema)}.planned_day'
        cursor.execute(f'SELECT day_id, version, number_of_rows, totals, file_name, true FROM {planned} UNION ALL '
                       f'SELECT day_id, version, number_of_rows, totals, file_name, false FROM {data}.published_day '
                       f'WHERE day_id NOT IN (SELECT day_id FROM {planned})')
        statistics, judged = [], {}
        for day, version, rows, totals, file_name, is_planned in cursor.fetchall():
            columns = self.data_set.versions[version - 1].column_names
            date = datetime.datetime.strptime(str(day), '%Y%m%d').date()
            statistics.append(data_quality.DayStatistics(
                date, rows, {name: value for name, value in totals.items() if name in columns}))
            if is_planned:
                judged[date] = file_name
        flags = data_quality.completeness_flags(self.data_set.name, statistics, days=judged)
        for date, file_name in judged.items():
            messages = [flag.message for flag in flags if flag.day == date]
            cursor.execute('INSERT INTO data_quality.day_check (data_set, day_id, check_name, file_name, severity, '
                           'passed, details) VALUES (%s, %s, %s, %s, %s, %s, %s)',
                           (self.data_set.name, day_id(date), COMPLETENESS_CHECK, file_name, 'warning', not messages,
                            '; '.join(messages) or None))
        return flags


# The name of the completeness check in data_quality.day_check.
COMPLETENESS_CHECK = f'complete compared with the {data_quality.BASELINE_DAYS} days before'


# ---------------------------------------------------------------- loading files

class LoadDayFile(pipelines.Command):
    """Loads one day file into its partition of the `_next` raw table, in one transaction: gunzip and a COPY with
    the header checked against the file version's columns. The partition was emptied in the same transaction,
    so the rows are written frozen and without WAL (wal_level = minimal), in the order of the file's lines
    (the quality gates number them from that order, see util.check_loaded_files)."""

    def __init__(self, file_pipeline: FilePipeline, file_name: str, day: int, version: int) -> None:
        super().__init__()
        self.file_pipeline = file_pipeline
        self.file_name = file_name
        self.day = day
        self.version = version

    @property
    def partition(self) -> str:
        """The day's partition of the raw table, as SQL."""
        return (f'{_ident(self.file_pipeline.layers.next_data_schema)}.'
                f'{_ident(day_partition_name(self.file_pipeline.raw_table, self.day))}')

    def statements(self) -> list[str]:
        file_version = next(v for v in self.file_pipeline.data_set.versions if v.version == self.version)
        columns = ', '.join(_ident(name) for name in file_version.column_names)
        return [f'TRUNCATE {self.partition}',
                f'COPY {self.partition} ({columns}) FROM STDIN WITH ({data_sets.copy_options()}, FREEZE true)']

    def count_rows(self) -> int:
        """The rows loaded (for the progress of the load; the heap partition was just written, so this is quick)."""
        with cursor_context() as cursor:
            cursor.execute(f'SELECT count(*) FROM {self.partition}')
            return cursor.fetchone()[0]

    def shell_command(self) -> str:
        path = shlex.quote(str(pathlib.Path(config.data_dir()) / self.file_name))
        psql = mara_db.shell.query_command(mara_config.default_db_alias(), echo_queries=False)
        commands = ' '.join(f'--command={shlex.quote(statement)}' for statement in self.statements())
        failed = shlex.quote(f'ERROR: could not load {self.file_name} (see above: the database names the line)')
        return (f'gunzip --decompress --stdout {path} \\\n'
                f'  | {psql} --single-transaction {commands} \\\n'
                f'  || {{ echo {failed} >&2; exit 1; }}')

    def html_doc_items(self) -> list[tuple[str, str]]:
        return [('file name', _.i[self.file_name]), ('file version', _.tt[str(self.version)]),
                ('shell command', html.highlight_syntax(self.shell_command(), 'bash'))]


class ReadDayFiles(pipelines.ParallelTask):
    """Loads the planned files (see FilePipeline.plan) in parallel: one task per group of files, balanced
    by size, at most as many as tasks run at once. Each loaded file prints the progress of the load (its time
    left estimated by the bytes loaded)."""

    def __init__(self, id: str, description: str, file_pipeline: FilePipeline) -> None:
        super().__init__(id=id, description=description)
        self.file_pipeline = file_pipeline

    def add_parallel_tasks(self, sub_pipeline: pipelines.Pipeline) -> None:
        with cursor_context() as cursor:
            cursor.execute(f'SELECT file_name, day_id, version, size '
                           f'FROM {_ident(self.file_pipeline.layers.next_data_schema)}.planned_day ORDER BY size DESC')
            files = cursor.fetchall()
        groups = [[] for _ in range(min(len(files), config.max_parallel_tasks()))]
        sizes = [0] * len(groups)
        for file_name, day, version, size in files:
            smallest = sizes.index(min(sizes))
            groups[smallest].append((LoadDayFile(self.file_pipeline, file_name, day, version), size))
            sizes[smallest] += size
        step = progress.Progress(planned_days=len(files), planned_work=sum(sizes))
        for number, loads in enumerate(groups, start=1):
            commands = []
            for load, size in sorted(loads, key=lambda load_and_size: load_and_size[0].day):
                commands += [load, progress.ReportProgress(step, days=1, work=size, count_rows=load.count_rows)]
            sub_pipeline.add(pipelines.Task(id=f'files_{number}', description=f'Loads {len(loads)} files.',
                                            commands=commands))

    def html_doc_items(self) -> list[tuple[str, str]]:
        data_set = self.file_pipeline.data_set
        return [('data set', _.tt[data_set.name]),
                ('files', _.i[', '.join(f'YYYY/MM/DD/{data_set.name}/{data_set.file_name(version)}'
                                        for version in data_set.versions)]),
                ('target', _.tt[f'{self.file_pipeline.layers.next_data_schema}.{self.file_pipeline.raw_table}'])]


# ---------------------------------------------------------------- building days

# The days that a task of BuildDays builds at most: a run over hundreds of days then reports its progress every
# few days, and a task's sort of its days' rows stays small; a day's build is seconds, a task's start far less.
DAYS_PER_BUILD_TASK = 7


class BuildDays(pipelines.ParallelTask):
    """Runs SQL files for the days that the run builds (`@days@`: a list of day ids), in parallel tasks of at
    most DAYS_PER_BUILD_TASK consecutive days, each of which prints the progress of the build; no task when no
    day is planned. `rows_column`: the planned days' rows (counted by the quality gates), for the progress."""

    def __init__(self, id: str, description: str, planned_days_table: str, sql_file_names: list[str],
                 rows_column: str | None = None) -> None:
        super().__init__(id=id, description=description)
        self.planned_days_table = planned_days_table
        self.sql_file_names = sql_file_names
        self.rows_column = rows_column

    def add_parallel_tasks(self, sub_pipeline: pipelines.Pipeline) -> None:
        rows = _ident(self.rows_column) if self.rows_column else 'NULL::BIGINT'
        with cursor_context() as cursor:
            cursor.execute(f'SELECT day_id, {rows} FROM {self.planned_days_table} ORDER BY day_id')
            days = cursor.fetchall()
        def work(some_days: list) -> int:  # the rows to build, or the days where they are not counted
            return sum(rows or 1 for _day, rows in some_days)

        step = progress.Progress(planned_days=len(days), planned_work=work(days))
        for number, first in enumerate(range(0, len(days), DAYS_PER_BUILD_TASK), start=1):
            chunk = days[first:first + DAYS_PER_BUILD_TASK]
            chunk_rows = None if self.rows_column is None else sum(row or 0 for _day, row in chunk)
            replace = _with_days([day for day, _rows in chunk])
            # Numbered like the loading tasks, not named by a day: mara orders a run's tasks by the average
            # run times of the nodes of the same name before, and a name per first day would add one more
            # node to that sum (and to the web UI) with every day.
            sub_pipeline.add(pipelines.Task(
                id=f'days_{number}', description=f'Builds {len(chunk)} days from {chunk[0][0]}.',
                commands=[*(ExecuteSQLFile(file_name, replace) for file_name in self.sql_file_names),
                          progress.ReportProgress(step, days=len(chunk), work=work(chunk),
                                                  count_rows=lambda rows=chunk_rows: rows)]))

    def html_doc_items(self) -> list[tuple[str, str]]:
        return [('planned days', _.tt[self.planned_days_table]),
                ('sql files', [_.i[name, _.br] for name in self.sql_file_names])]


def _with_days(days: list[int]) -> Callable[[], dict[str, str]]:
    """The settings, and the days of a chunk as day ids (`@days@`) and as dates (`@dates@`)."""
    dates = ', '.join(f"DATE '{datetime.datetime.strptime(str(day), '%Y%m%d').date()}'" for day in days)
    return lambda: {**sql_settings(), '@days@': ', '.join(map(str, days)), '@dates@': dates}


# ---------------------------------------------------------------- planning a pipeline built from star schemas

@dataclasses.dataclass(frozen=True)
class DerivedPipeline:
    """A pipeline whose days are built from published star schemas (python_projects); an SQL file plans them."""
    layers: Layers
    sql_dir: pathlib.Path
    upstream_schemas: tuple[str, ...]  # their versions are part of this pipeline's version

    def start(self) -> bool:
        with cursor_context() as cursor:
            cursor.execute('SELECT obj_description(to_regnamespace(name), %s) FROM unnest(%s::TEXT[]) AS name',
                           ('pg_namespace', list(self.upstream_schemas)))
            full, reason = start_build(cursor, self.layers,
                                       pipeline_version(self.sql_dir, *(str(row[0]) for row in cursor.fetchall())))
        if full:
            logger.log(f'Full build: {reason}.')
        return True

    def plan_task(self, id: str, description: str, before: str, after: list[str]) -> pipelines.Task:
        """`before` creates the data schema, then the build is started, then `after` plans the days and creates
        the `_next` tables. A rerun of the pipeline's later nodes plans again (`outcomes.plans`)."""
        from mara_pipelines.commands.python import RunFunction
        return outcomes.plans(pipelines.Task(id=id, description=description, commands=[
            ExecuteSQLFile(before), RunFunction(self.start), *(ExecuteSQLFile(name) for name in after)]))
