"""The BigQuery downloader, run with the real google-cloud-bigquery client against a local fake API."""

import datetime
import gzip
import json
import pathlib
import time

import pytest
from click.testing import CliRunner

from app import config
from app.bigquery_downloader import downloader
from app.bigquery_downloader.cli import CLICK_COMMANDS
from app.bigquery_downloader.client import DownloaderError
from app.bigquery_downloader.data_sets import GITHUB, PYPI
from tests.fake_bigquery import FakeBigQuery

DAY_1, DAY_2, DAY_3 = datetime.date(2024, 1, 1), datetime.date(2024, 1, 2), datetime.date(2024, 1, 3)
PYPI_HEADER = 'day_id\tproject\tproject_version\tpython_version\tinstaller\tnumber_of_downloads\n'
GITHUB_HEADER = ('day_id\tuser\trepository\tnumber_of_forks\tnumber_of_commits\t'
                 'number_of_closed_pull_requests\n')


@pytest.fixture
def fake(monkeypatch, tmp_path):
    """A running fake BigQuery that the downloader talks to, and an empty DATA_DIR."""
    with FakeBigQuery() as server:
        monkeypatch.setenv('BIGQUERY_API_ENDPOINT', server.url)
        monkeypatch.setenv('DATA_DIR', str(tmp_path / 'data'))
        monkeypatch.setenv('FIRST_DATE', str(DAY_1))
        monkeypatch.setenv('LAST_DATE', str(DAY_2))
        monkeypatch.setenv('BIGQUERY_TIMEOUT_SECONDS', '5')
        monkeypatch.setenv('BIGQUERY_MAXIMUM_BYTES_BILLED', str(10 ** 9))
        # never a developer's real key: anonymous credentials for the local endpoint
        monkeypatch.setenv('GOOGLE_APPLICATION_CREDENTIALS', str(tmp_path / 'no-such-key.json'))
        monkeypatch.delenv('BIGQUERY_PROJECT', raising=False)
        yield server


def pypi_rows(day: datetime.date, count: int) -> list[tuple]:
    day_id = int(f'{day:%Y%m%d}')
    return [(day_id, f'project-{i}', f'1.{i}', None if i % 3 == 0 else '3.11', 'pip' if i % 2 else None, i + 1)
            for i in range(count)]


def pypi_csv(rows: list[tuple]) -> str:
    return PYPI_HEADER + ''.join('\t'.join('' if v is None else str(v) for v in row) + '\n' for row in rows)


def path_of(data_set, day: datetime.date) -> pathlib.Path:
    return config.data_dir() / f'{day:%Y/%m/%d}' / data_set.file_name


def read(data_set, day: datetime.date) -> str:
    with gzip.open(path_of(data_set, day), 'rt', encoding='utf-8', newline='') as file:
        return file.read()


def files_under(directory: pathlib.Path) -> list[str]:
    """All files, including hidden temporary ones."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob('*') if p.is_file())


def download(**kwargs) -> downloader.Summary:
    return downloader.download_data(**{'page_size': 10} | kwargs)


# ---------------------------------------------------------------- contents

def test_pages_and_nulls_are_written_exactly(fake):
    fake.results = {
        ('pypi', DAY_1): pypi_rows(DAY_1, 25),
        ('github', DAY_1): [(20240101, 'pallets', 'flask', 10, 6, 3), (20240101, 'liks79', 'flask', 1, None, None),
                            (20240101, 'davidism', 'flask', None, 49, None)],
    }
    summary = download(first_date=DAY_1, last_date=DAY_1)

    assert read(PYPI, DAY_1) == pypi_csv(pypi_rows(DAY_1, 25))
    assert read(PYPI, DAY_1).splitlines()[1] == '20240101\tproject-0\t1.0\t\t\t1'  # NULL → empty field
    assert read(GITHUB, DAY_1) == GITHUB_HEADER + ('20240101\tpallets\tflask\t10\t6\t3\n'
                                                   '20240101\tliks79\tflask\t1\t\t\n'
                                                   '20240101\tdavidism\tflask\t\t49\t\n')
    pages = [r.params.get('pageToken') for r in fake.calls('jobs.getQueryResults')]
    assert pages == [None, 'offset-10', 'offset-20', None]  # pypi: 3 pages of 10, github: 1
    assert {r.params['maxResults'] for r in fake.calls('jobs.getQueryResults')} == {'10'}
    assert (summary.downloaded, summary.rows, summary.already_there) == (2, 28, 0)
    assert files_under(config.data_dir()) == ['2024/01/01/github/repo-activity-v1.csv.gz',
                                                        '2024/01/01/pypi/downloads-v1.csv.gz']


def test_a_day_without_rows_gives_a_file_with_only_the_header(fake):
    download(data_sets=['pypi'], first_date=DAY_3, last_date=DAY_3)
    assert read(PYPI, DAY_3) == PYPI_HEADER


def test_values_with_tabs_quotes_and_unicode_survive(fake):
    row = (20240101, 'tab\tproject', 'say "hi"', '3.12', 'pip ✓', 7)
    fake.results = {('pypi', DAY_1): [row]}
    download(data_sets=['pypi'], first_date=DAY_1, last_date=DAY_1)
    assert read(PYPI, DAY_1) == PYPI_HEADER + '20240101\t"tab\tproject"\t"say ""hi"""\t3.12\tpip ✓\t7\n'


def test_progress_is_one_line_per_day_and_a_summary(fake, capsys):
    fake.results = {('pypi', DAY_1): pypi_rows(DAY_1, 3)}
    download(data_sets=['pypi'])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == '2 files to download (2024-01-01 to 2024-01-02, pypi)'
    assert lines[1].startswith('pypi 2024-01-01: 12.3 kB to scan, 3 rows, ')
    assert lines[1].endswith(' s') and ' B written, ' in lines[1]
    assert lines[2].startswith('pypi 2024-01-02: 12.3 kB to scan, 0 rows, ')
    assert lines[3].startswith('2 files downloaded (3 rows, 24.7 kB scanned), 0 already there, ')
    assert len(lines) == 4


# ---------------------------------------------------------------- queries

def test_exact_sql_and_parameters_for_each_day(fake):
    download()

    pypi_sql = (pathlib.Path(downloader.__file__).parent / 'pypi_downloads.sql').read_text()
    github_sql = (pathlib.Path(downloader.__file__).parent / 'github_repo_activity.sql').read_text()
    calls = fake.query_calls()
    expected = []
    for day in (DAY_1, DAY_2):
        for sql in (pypi_sql, github_sql.replace('{yyyymmdd}', f'{day:%Y%m%d}')):
            expected += [(sql, str(day), True), (sql, str(day), False)]  # a dry run, then the query
    assert [(c.sql, c.day, c.dry_run) for c in calls] == expected
    for call in calls:
        assert call.parameters == [{'name': 'day', 'parameterType': {'type': 'DATE'},
                                    'parameterValue': {'value': call.day}}]
        assert call.api == 'jobs.insert'
    assert {c.use_query_cache for c in calls if c.dry_run} == {False}
    assert {c.maximum_bytes_billed for c in calls if not c.dry_run} == {str(10 ** 9)}


def test_the_queries_scan_one_day_and_produce_the_file_columns():
    pypi_sql, github_sql = PYPI.sql(DAY_2), GITHUB.sql(DAY_2)
    day_id = "  CAST(FORMAT_DATE('%Y%m%d', @day) AS INT64) AS day_id,\n"
    assert (day_id + "  file.project AS project,\n  file.version AS project_version,\n"
            "  REGEXP_EXTRACT(details.python, r'^\\d+\\.\\d+') AS python_version,\n"
            "  details.installer.name AS installer,\n  COUNT(*) AS number_of_downloads\n"
            "FROM `bigquery-public-data.pypi.file_downloads`\n"
            "WHERE timestamp >= TIMESTAMP(@day)\n"
            "  AND timestamp < TIMESTAMP(DATE_ADD(@day, INTERVAL 1 DAY))\n") in pypi_sql
    assert "AND (details.installer.name IS NULL OR details.installer.name != 'bandersnatch')" in pypi_sql
    assert (day_id + "  user_name AS `user`,\n  repository_name AS repository,\n  number_of_forks,\n"
            "  number_of_commits,\n  number_of_closed_pull_requests\nFROM activity\n") in github_sql
    assert 'FROM `githubarchive.day.20240102`' in github_sql
    assert '{yyyymmdd}' not in github_sql


@pytest.mark.parametrize('day', ['20240102', '2024-01-02`; DROP TABLE x; --', datetime.datetime(2024, 1, 2)])
def test_the_github_table_name_is_built_only_from_a_date(day):
    with pytest.raises(TypeError):
        GITHUB.sql(day)


# ---------------------------------------------------------------- incremental

def test_days_that_are_there_are_skipped_without_a_request(fake):
    for data_set, day in ((PYPI, DAY_1), (GITHUB, DAY_2)):
        path_of(data_set, day).parent.mkdir(parents=True)
        path_of(data_set, day).write_bytes(b'already there')

    summary = download()

    assert {(c.sql.count('githubarchive') > 0, c.day) for c in fake.query_calls()} == {
        (True, str(DAY_1)), (False, str(DAY_2))}
    assert path_of(PYPI, DAY_1).read_bytes() == b'already there'
    assert path_of(GITHUB, DAY_2).read_bytes() == b'already there'
    assert (summary.downloaded, summary.already_there) == (2, 2)


def test_nothing_to_do_needs_neither_requests_nor_credentials(fake, monkeypatch):
    download(first_date=DAY_1, last_date=DAY_1)
    requests_before = len(fake.calls())
    monkeypatch.setenv('BIGQUERY_API_ENDPOINT', '')  # and no credentials file
    summary = download(first_date=DAY_1, last_date=DAY_1)
    assert len(fake.calls()) == requests_before
    assert (summary.downloaded, summary.already_there) == (0, 2)


def test_a_single_data_set_and_a_date_range(fake):
    download(data_sets=['github'], first_date=DAY_2, last_date=DAY_3)
    assert files_under(config.data_dir()) == ['2024/01/02/github/repo-activity-v1.csv.gz',
                                                        '2024/01/03/github/repo-activity-v1.csv.gz']


@pytest.mark.parametrize(('first', 'last', 'message'), [
    (DAY_2, DAY_1, 'First date 2024-01-02 is after last date 2024-01-01'),
    (DAY_1, datetime.datetime.now(datetime.UTC).date(), 'is not over yet'),
])
def test_bad_date_ranges_are_refused(fake, first, last, message):
    with pytest.raises(DownloaderError, match=message):
        download(first_date=first, last_date=last)
    assert fake.calls() == []


# ---------------------------------------------------------------- missing days

def test_a_missing_pypi_day_is_skipped_and_logged(fake, capsys):
    fake.missing = {('pypi', DAY_1)}
    fake.results = {('pypi', DAY_2): pypi_rows(DAY_2, 2)}
    summary = download(data_sets=['pypi'])

    assert summary.missing_days == [('pypi', DAY_1)]
    assert not path_of(PYPI, DAY_1).exists()
    assert read(PYPI, DAY_2) == pypi_csv(pypi_rows(DAY_2, 2))
    assert ('pypi 2024-01-01: no BigQuery table for this day, skipped (Not found: Table '
            'bigquery-public-data:pypi.file_downloads was not found in location US)') in capsys.readouterr().out
    assert [(c.day, c.dry_run) for c in fake.query_calls()] == [
        (str(DAY_1), True), (str(DAY_2), True), (str(DAY_2), False)]


def test_a_missing_github_day_is_an_error(fake):
    fake.missing = {('github', DAY_2)}
    with pytest.raises(DownloaderError) as error:
        download(data_sets=['github'])
    assert str(error.value) == ('github 2024-01-02: no BigQuery table for this day: '
                                'Not found: Table githubarchive:day.20240102 was not found in location US')
    assert files_under(config.data_dir()) == ['2024/01/01/github/repo-activity-v1.csv.gz']


# ---------------------------------------------------------------- failures

def test_transient_errors_are_retried(fake):
    fake.results = {('pypi', DAY_1): pypi_rows(DAY_1, 25)}
    fake.add_fault(503, api='jobs.insert', times=2)  # the dry run fails twice
    fake.add_fault(503, api='jobs.getQueryResults', when=lambda r: 'pageToken' in r.params, times=1)
    fake.add_fault('close', api='jobs.getQueryResults', when=lambda r: 'pageToken' in r.params, times=1)
    fake.add_fault('truncate', api='jobs.getQueryResults', when=lambda r: 'pageToken' in r.params, times=1)

    download(data_sets=['pypi'], first_date=DAY_1, last_date=DAY_1)

    assert read(PYPI, DAY_1) == pypi_csv(pypi_rows(DAY_1, 25))
    assert [f.fired for f in fake.faults] == [2, 1, 1, 1]


@pytest.mark.parametrize('failure', [500, 503, 'hang', 'close', 'refused'])
def test_a_dead_endpoint_fails_clearly_within_bounded_time(fake, monkeypatch, failure):
    monkeypatch.setenv('BIGQUERY_TIMEOUT_SECONDS', '2')
    if failure == 'refused':
        monkeypatch.setenv('BIGQUERY_API_ENDPOINT', 'http://127.0.0.1:9')  # discard port: nothing listens
    else:
        fake.add_fault(failure)

    start = time.monotonic()
    with pytest.raises(DownloaderError) as error:
        download(data_sets=['pypi'], first_date=DAY_1, last_date=DAY_1)

    assert time.monotonic() - start < 15
    assert str(error.value).startswith('pypi 2024-01-01: no successful answer from BigQuery at http://127.0.0.1:')
    assert 'within the retry bound of 2 s (BIGQUERY_TIMEOUT_SECONDS); last error: ' in str(error.value)
    assert files_under(config.data_dir()) == []


def test_a_query_that_never_finishes_fails_within_bounded_time(fake, monkeypatch):
    monkeypatch.setenv('BIGQUERY_TIMEOUT_SECONDS', '2')
    fake.polls_until_done = 10 ** 9

    start = time.monotonic()
    with pytest.raises(DownloaderError, match='^pypi 2024-01-01: the query did not finish within 2 s '):
        download(data_sets=['pypi'], first_date=DAY_1, last_date=DAY_1)
    assert time.monotonic() - start < 15
    assert files_under(config.data_dir()) == []


@pytest.mark.parametrize('failure', ['dropped connection', 'hang', 'fewer rows', 'no totalRows', 'job failed'])
def test_an_interrupted_download_leaves_no_file(fake, monkeypatch, capsys, failure):
    monkeypatch.setenv('BIGQUERY_TIMEOUT_SECONDS', '2')
    fake.results = {('pypi', DAY_1): pypi_rows(DAY_1, 25)}
    on_later_pages = {'api': 'jobs.getQueryResults', 'when': lambda r: 'pageToken' in r.params}
    if failure == 'dropped connection':
        fake.add_fault('close', **on_later_pages)
    elif failure == 'hang':
        fake.add_fault('hang', **on_later_pages)
    elif failure == 'fewer rows':
        fake.announced_total_rows = {('pypi', DAY_1): 30}
    elif failure == 'no totalRows':
        fake.announced_total_rows = {('pypi', DAY_1): None}
    else:  # following the job gives an error that is not retried
        fake.add_fault(400, api='jobs.get')

    with pytest.raises(DownloaderError) as error:
        download(data_sets=['pypi'], first_date=DAY_1, last_date=DAY_1)

    assert files_under(config.data_dir()) == []  # neither the file nor a temporary one
    assert capsys.readouterr().out.splitlines()[-1].endswith(' to scan ... failed')
    if failure == 'fewer rows':
        assert str(error.value) == ('pypi 2024-01-01: got 25 rows but BigQuery announced 30; nothing written')
    if failure == 'no totalRows':
        assert str(error.value) == ('pypi 2024-01-01: BigQuery returned no result set (totalRows missing); '
                                    'nothing written')


def test_a_job_over_the_byte_limit_fails(fake):
    # the dry run estimate passes, but BigQuery's own limit (maximumBytesBilled) stops the job
    fake.dry_run_bytes_processed, fake.bytes_processed = 1000, 2 * 10 ** 9

    with pytest.raises(DownloaderError, match=r'BigQuery error \d+: Query exceeded limit for bytes billed: 1000000000'):
        download(data_sets=['pypi'], first_date=DAY_1, last_date=DAY_1)
    assert files_under(config.data_dir()) == []


def test_the_atomic_file_vanishes_on_any_exception(tmp_path):
    target = tmp_path / 'day' / 'file.csv.gz'
    with pytest.raises(KeyboardInterrupt), downloader.atomic_file(target) as file:
        file.write(b'half a file')
        raise KeyboardInterrupt
    assert files_under(tmp_path) == []

    with downloader.atomic_file(target) as file:
        file.write(b'complete')
    assert files_under(tmp_path) == ['day/file.csv.gz']
    assert target.read_bytes() == b'complete'


# ---------------------------------------------------------------- cost guard

def test_the_cost_guard_refuses_before_running_the_query(fake, monkeypatch):
    monkeypatch.setenv('BIGQUERY_MAXIMUM_BYTES_BILLED', '1000')
    fake.bytes_processed = 5000

    with pytest.raises(downloader.CostLimitError) as error:
        download(data_sets=['pypi'], first_date=DAY_1, last_date=DAY_1)

    assert str(error.value) == ('pypi 2024-01-01: the query would scan 5.0 kB (5,000 bytes), more than '
                                'BIGQUERY_MAXIMUM_BYTES_BILLED=1,000; not run. Raise the limit if that is intended.')
    assert [c.dry_run for c in fake.query_calls()] == [True]  # only the dry run was sent
    assert files_under(config.data_dir()) == []


# ---------------------------------------------------------------- credentials

def test_missing_credentials_without_endpoint_explain_how_to_get_them(fake, monkeypatch, tmp_path):
    monkeypatch.setenv('BIGQUERY_API_ENDPOINT', '')
    result = CliRunner().invoke(CLICK_COMMANDS['bigquery_downloader.download_data'], [])

    assert result.exit_code == 1
    assert f'Error: No Google Cloud credentials file at {tmp_path / "no-such-key.json"}.' in result.output
    assert '"BigQuery Job User" (roles/bigquery.jobUser)' in result.output
    assert 'app/bigquery_downloader/bigquery-credentials.json (git-ignored)' in result.output
    assert 'GOOGLE_APPLICATION_CREDENTIALS' in result.output
    assert fake.calls() == []


def test_a_broken_credentials_file_is_reported_without_its_contents(fake, monkeypatch, tmp_path):
    key = tmp_path / 'key.json'
    key.write_text(json.dumps({'type': 'service_account', 'private_key': 'SECRET-KEY-MATERIAL'}))
    monkeypatch.setenv('GOOGLE_APPLICATION_CREDENTIALS', str(key))

    with pytest.raises(DownloaderError) as error:
        download(first_date=DAY_1, last_date=DAY_1)
    assert str(error.value).startswith(f'Could not use the credentials file {key}: ')
    assert 'SECRET' not in str(error.value)
    assert fake.calls() == []


# ---------------------------------------------------------------- command line

def test_the_commands_download_and_report(fake):
    fake.results = {('github', DAY_1): [(20240101, 'pallets', 'flask', 10, 6, 3)]}
    group = CLICK_COMMANDS['bigquery-downloader']
    result = CliRunner().invoke(group, ['download', '--data-set', 'github', '--first-date', '2024-01-01',
                                        '--last-date', '2024-01-01'])

    assert result.exit_code == 0, result.output
    assert read(GITHUB, DAY_1) == GITHUB_HEADER + '20240101\tpallets\tflask\t10\t6\t3\n'
    assert '1 files downloaded (1 rows' in result.output
    assert set(CLICK_COMMANDS) == {'bigquery_downloader.download_data', 'bigquery-downloader'}


def test_the_command_exits_non_zero_with_a_clear_message(fake):
    fake.missing = {('github', DAY_1)}
    result = CliRunner().invoke(CLICK_COMMANDS['bigquery_downloader.download_data'],
                                ['--data-set', 'github', '--first-date', '2024-01-01', '--last-date', '2024-01-01'])
    assert result.exit_code == 1
    assert result.output.endswith('Error: github 2024-01-01: no BigQuery table for this day: '
                                  'Not found: Table githubarchive:day.20240101 was not found in location US\n')

