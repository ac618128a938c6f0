"""Bad input files make the run fail with an error that names the file (and the line, where the database
reports one), leave the published *_dim schemas as they were, and need no cleanup: once the file is
fixed or removed, the next run succeeds."""

import dataclasses
import datetime
import gzip

import pytest
from test_warehouse_support import (
    GITHUB,
    HEADERS,
    PYPI,
    README_QUERY,
    assert_succeeded,
    bump_mtime,
    file_path,
    fingerprint,
    output,
    query,
    relative_name,
    reset_databases,
    run_etl,
    tsv,
    write_file,
)

BASELINE_DAY = datetime.date(2018, 4, 1)
GOOD_ROWS = {PYPI: [('flask', '0.12.2', '3.6', 'pip', 45), ('flask', '0.12.1', None, 'Browser', 3),
                    ('requests', '2.18.4', '2.7', 'pip', 20)],
             GITHUB: [('pallets', 'flask', 10, 6, 3), ('davidism', 'flask', None, 49, None),
                      ('psf', 'requests', None, 2, None)]}


def day_id(day: datetime.date) -> int:
    return int(f'{day:%Y%m%d}')


def lines(kind: str, day: datetime.date, *extra_rows) -> list[tuple]:
    """The good rows of a day with `extra_rows` (complete rows, day_id included) after them."""
    return [(day_id(day), *row) for row in GOOD_ROWS[kind]] + list(extra_rows)


@dataclasses.dataclass
class Case:
    id: str
    kind: str
    content: object  # day -> the bytes of the (uncompressed) file, or None for the special cases below
    line: int | None  # the line of the file that the error names
    message: str  # a part of the error message
    remedy: str  # 'fix' or 'remove'


def wrong_columns(kind):
    return lambda day: tsv(lines(kind, day, (day_id(day), 'flask', '1.0', 'pip', 5)), HEADERS[kind])


def non_numeric(kind):
    row = (day_id(BASELINE_DAY), 'flask', '1.0', '3.6', 'pip', 'many') if kind == PYPI \
        else (day_id(BASELINE_DAY), 'someone', 'flask', 'many', None, None)
    return lambda day: tsv(lines(kind, day, (day_id(day), *row[1:])), HEADERS[kind])


def foreign_day(kind):
    row = GOOD_ROWS[kind][0]
    return lambda day: tsv(lines(kind, day, (day_id(day) - 1, *row)), HEADERS[kind])


def header_only(kind):
    return lambda day: tsv([], HEADERS[kind])


def non_utf8(kind):
    return lambda day: tsv(lines(kind, day), HEADERS[kind]) + f'{day_id(day)}\tfl\xe4sk\t1.0\t\t\t1\n'.encode('latin-1')


CASES = [
    Case('pypi-wrong-number-of-columns', PYPI, wrong_columns(PYPI), 5, 'missing data for column', 'fix'),
    Case('pypi-non-numeric-count', PYPI, non_numeric(PYPI), 5, 'invalid input syntax for type integer: "many"',
         'remove'),
    Case('pypi-day-of-another-folder', PYPI, foreign_day(PYPI), 5, 'violates partition constraint', 'fix'),
    Case('pypi-header-only', PYPI, header_only(PYPI), None, 'has no data rows', 'remove'),
    Case('pypi-zero-bytes', PYPI, None, None, 'has no data rows', 'fix'),
    Case('pypi-truncated-gzip', PYPI, None, None, 'unexpected end of file', 'remove'),
    Case('pypi-non-utf8', PYPI, non_utf8(PYPI), 5, 'invalid byte sequence for encoding "UTF8"', 'fix'),
    Case('github-day-of-another-folder', GITHUB, foreign_day(GITHUB), 5, 'violates partition constraint', 'remove'),
    Case('github-non-numeric-count', GITHUB, non_numeric(GITHUB), 5,
         'invalid input syntax for type integer: "many"', 'fix'),
    Case('github-truncated-gzip', GITHUB, None, None, 'unexpected end of file', 'fix'),
    Case('github-header-only', GITHUB, header_only(GITHUB), None, 'has no data rows', 'remove'),
]


@pytest.fixture(scope='module')
def baseline(databases, tmp_path_factory):
    """A warehouse with one good day of each kind."""
    data_dir = tmp_path_factory.mktemp('bad-input')
    for kind in (PYPI, GITHUB):
        write_file(data_dir, BASELINE_DAY, kind, GOOD_ROWS[kind])
    reset_databases()
    assert_succeeded(run_etl(data_dir))
    return data_dir


def write_bad_file(data_dir, day, case: Case) -> None:
    if case.content is not None:
        write_file(data_dir, day, case.kind, content=case.content(day))
        return
    path = write_file(data_dir, day, case.kind, [row * 1 for row in GOOD_ROWS[case.kind] * 400])
    if case.id.endswith('zero-bytes'):
        path.write_bytes(b'')
    else:  # truncated: the first half of a valid gzip file
        data = path.read_bytes()
        path.write_bytes(data[:len(data) // 2])
    bump_mtime(path)


def processed_files() -> set[str]:
    return {row[0] for row in query('SELECT file_name FROM data_integration_processed_file', alias='mara')}


@pytest.mark.parametrize('case', CASES, ids=[case.id for case in CASES])
def test_bad_file_fails_the_run_and_leaves_the_warehouse_intact(baseline, case):
    day = BASELINE_DAY + datetime.timedelta(days=1 + CASES.index(case))
    name = relative_name(day, case.kind)
    before = fingerprint()
    write_bad_file(baseline, day, case)

    result = run_etl(baseline, '--path', case.kind)
    assert result.returncode != 0
    text = output(result)
    assert case.message in text
    assert f'ERROR: could not load {name} into ' in text
    if case.line:
        assert f'line {case.line}' in text
    assert name not in processed_files()

    # the published schemas are untouched and queryable
    assert fingerprint() == before
    assert query(README_QUERY)[0][:3] == (BASELINE_DAY, 'flask', 48)

    # no cleanup: fix or remove the file, and the next run succeeds
    if case.remedy == 'fix':
        write_file(baseline, day, case.kind, GOOD_ROWS[case.kind])
    else:
        file_path(baseline, day, case.kind).unlink()
    assert_succeeded(run_etl(baseline, '--path', case.kind))
    table = 'pypi_dim.download_counts' if case.kind == PYPI else 'gh_dim.repo_activity'
    expected_rows = len(GOOD_ROWS[case.kind]) if case.remedy == 'fix' else 0
    assert query(f'SELECT count(*) FROM {table} WHERE day_fk = %s', (day_id(day),)) == [(expected_rows,)]
    assert (name in processed_files()) == (case.remedy == 'fix')


def test_a_changed_file_replaces_its_day(baseline):
    day = BASELINE_DAY
    write_file(baseline, day, PYPI, [('flask', '0.12.2', '3.6', 'pip', 1000)])
    assert_succeeded(run_etl(baseline, '--path', PYPI))
    assert query('SELECT sum(number_of_downloads), count(*) FROM pypi_dim.download_counts WHERE day_fk = %s',
                 (day_id(day),)) == [(1000, 1)]


def test_a_bad_change_keeps_the_last_good_version_of_the_day(baseline):
    day = BASELINE_DAY
    path = file_path(baseline, day, PYPI)
    good = gzip.decompress(path.read_bytes())
    before = fingerprint()
    write_file(baseline, day, PYPI, content=good + b'20180401\tflask\tx\n')
    assert run_etl(baseline, '--path', PYPI).returncode != 0
    assert fingerprint() == before
    # the raw day partition still holds the good rows: the failed load rolled back its TRUNCATE
    assert query('SELECT count(*) FROM pypi_data.downloads_20180401') == [(good.count(b'\n') - 1,)]
