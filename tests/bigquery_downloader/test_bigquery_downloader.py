"""The BigQuery downloader, run with the real google-cloud-bigquery client against a local fake API
that answers with canned rows (the queries' logic: tests/bigquery_downloader/test_bigquery_queries.py)."""

import datetime
import json
import os
import time

import pytest
from click.testing import CliRunner

from app import config, data_quality
from app import data_sets as contract
from app.bigquery_downloader import downloader
from app.bigquery_downloader.cli import CLICK_COMMANDS
from app.bigquery_downloader.client import DownloaderError
from app.bigquery_downloader.data_sets import GITHUB, PYPI
from tests.support.downloader import file_text, files_under, path_of, read, running_fake

DAY_1, DAY_2, DAY_3 = datetime.date(2024, 1, 1), datetime.date(2024, 1, 2), datetime.date(2024, 1, 3)
PYPI_V1, GITHUB_V1, GITHUB_V2 = contract.PYPI.latest, contract.GITHUB.versions[0], contract.GITHUB.latest
GIB = 2 ** 30


@pytest.fixture
def fake(monkeypatch, tmp_path):
    with running_fake(monkeypatch, tmp_path, DAY_1, DAY_2) as server:
        yield server


def pypi_rows(day: datetime.date, count: int) -> list[tuple]:
    day_id = int(f'{day:%Y%m%d}')
    return [(day_id, f'project-{i}', f'1.{i}', None if i % 3 == 0 else '3.11', 'pip' if i % 2 else None, i + 1)
            for i in range(count)]


def github_rows(day: datetime.date, count: int, commits: int | None = 2) -> list[tuple]:
    day_id = int(f'{day:%Y%m%d}')
    return [(day_id, f'user-{i}', 'repo', 1, commits, None, 3) for i in range(count)]


def download(**kwargs) -> downloader.Summary:
    return downloader.download_data(**{'page_size': 10} | kwargs)


def write_final_file(data_set: contract.DataSet, day: datetime.date, rows: list[tuple],
                     version: contract.FileVersion | None = None):
    """A file as an earlier run left it, written long after its day (so it is final)."""
    path = path_of(data_set, day, version)
    contract.write_file(path, version or data_set.latest, rows)
    os.utime(path, (time.time(), time.time()))


def set_written(path, day: datetime.date):
    """Pretends the file was written at noon (UTC) of `day`."""
    moment = datetime.datetime.combine(day, datetime.time(12), datetime.UTC).timestamp()
    os.utime(path, (moment, moment))


# ---------------------------------------------------------------- contents

def test_pages_and_nulls_are_written_exactly(fake):
    github = [(20240101, 'pallets', 'flask', 10, 6, 3, 2), (20240101, 'liks79', 'flask', 1, None, None, None),
              (20240101, 'davidism', 'flask', None, 49, None, 4)]
    fake.results = {('pypi', DAY_1): pypi_rows(DAY_1, 25), ('github', DAY_1): github}
    summary = download(first_date=DAY_1, last_date=DAY_1)

    assert read(contract.PYPI, DAY_1) == file_text(PYPI_V1, pypi_rows(DAY_1, 25))
    assert read(contract.PYPI, DAY_1).splitlines()[1] == '20240101\tproject-0\t1.0\t\t\t1'  # NULL → empty field
    assert read(contract.GITHUB, DAY_1) == file_text(GITHUB_V2, github)
    pages = [r.params.get('pageToken') for r in fake.calls('jobs.getQueryResults')]
    assert pages == [None, 'offset-10', 'offset-20', None]  # pypi: 3 pages of 10, github: 1
    assert {r.params['maxResults'] for r in fake.calls('jobs.getQueryResults')} == {'10'}
    assert (summary.downloaded, summary.rows, summary.already_there) == (2, 28, 0)
    assert files_under(config.data_dir()) == ['2024/01/01/github/repo-activity-v2.csv.gz',
                                              '2024/01/01/pypi/downloads-v1.csv.gz']


def test_a_day_without_rows_gives_a_file_with_only_the_header(fake):
    download(data_sets=['pypi'], first_date=DAY_3, last_date=DAY_3)
    assert read(contract.PYPI, DAY_3) == file_text(PYPI_V1, [])


def test_values_with_tabs_quotes_and_unicode_survive_in_the_files_encoding(fake):
    row = (20240101, 'tab\tproject', 'say "hi"', '3.12', 'pip ✓ back\\slash', 7)
    fake.results = {('pypi', DAY_1): [row]}
    download(data_sets=['pypi'], first_date=DAY_1, last_date=DAY_1)
    line = read(contract.PYPI, DAY_1).splitlines()[1]
    assert line == '20240101\ttab\\tproject\tsay "hi"\t3.12\tpip ✓ back\\\\slash\t7'
    assert contract.read_rows(path_of(contract.PYPI, DAY_1))[0]['project'] == 'tab\tproject'


def test_progress_is_the_estimate_one_line_per_day_and_a_summary(fake, capsys, monkeypatch):
    monkeypatch.setenv('BIGQUERY_MAXIMUM_BYTES_BILLED', str(4 * GIB))
    fake.results = {('pypi', DAY_1): pypi_rows(DAY_1, 3)}
    fake.bytes_processed = {('pypi', DAY_1): 3 * GIB, ('pypi', DAY_2): GIB}
    download(data_sets=['pypi'])
    lines = capsys.readouterr().out.splitlines()
    assert lines[:4] == [
        '2 files to download (2024-01-01 to 2024-01-02, pypi)',
        'Cost estimate from dry runs (free), at least 10 MiB billed per query:',
        '  pypi    2 days                          4.0 GiB       $0.02',
        '  total   2 days                          4.0 GiB       $0.02 at $6.25 per TiB on demand',
    ]
    assert lines[4] == 'Within the budget of 1.0 TiB: downloading.'
    assert lines[5].startswith('pypi 2024-01-01: 3.0 GiB to scan, 3 rows, ') and lines[5].endswith(' s')
    assert lines[6].startswith('pypi 2024-01-02: 1.0 GiB to scan, 0 rows, ')
    assert lines[7].startswith('2 files downloaded (3 rows, 4.0 GiB billed, $0.02), 0 already there, ')
    assert lines[8].startswith('Completeness (rows and totals against the median of the 28 days before, ')
    assert lines[8].endswith(': 0 downloaded days checked, none flagged; 2 with fewer than 7 days of files before '
                             'them not checked')
    assert len(lines) == 9


# ---------------------------------------------------------------- queries

def test_every_day_is_dry_run_before_the_first_billed_query(fake):
    download()

    calls = fake.query_calls()
    expected = {(query.sql(day), str(day)) for day in (DAY_1, DAY_2) for query in (PYPI, GITHUB)}
    assert [c.dry_run for c in calls] == [True] * 4 + [False] * 4
    assert {(c.sql, c.day) for c in calls[:4]} == expected  # sent at once, in any order
    assert [(c.sql, c.day) for c in calls[4:]] == [(PYPI.sql(DAY_1), '2024-01-01'), (GITHUB.sql(DAY_1), '2024-01-01'),
                                                  (PYPI.sql(DAY_2), '2024-01-02'), (GITHUB.sql(DAY_2), '2024-01-02')]
    for call in calls:
        assert call.api == 'jobs.insert'
        assert call.parameters[0] == {'name': 'day', 'parameterType': {'type': 'DATE'},
                                      'parameterValue': {'value': call.day}}
    assert {c.use_query_cache for c in calls if c.dry_run} == {False}
    assert {c.maximum_bytes_billed for c in calls if not c.dry_run} == {str(10 ** 9)}


@pytest.mark.parametrize('day', ['20240102', '2024-01-02`; DROP TABLE x; --', datetime.datetime(2024, 1, 2)])
def test_the_github_table_name_is_built_only_from_a_date(day):
    with pytest.raises(TypeError):
        GITHUB.sql(day)


# ---------------------------------------------------------------- which days

def test_final_files_are_skipped_without_a_request(fake):
    write_final_file(contract.PYPI, DAY_1, [])
    write_final_file(contract.GITHUB, DAY_2, [])
    before = {p: p.read_bytes() for p in (path_of(contract.PYPI, DAY_1), path_of(contract.GITHUB, DAY_2))}

    summary = download()

    assert {(c.sql.count('githubarchive') > 0, c.day) for c in fake.query_calls()} == {
        (True, str(DAY_1)), (False, str(DAY_2))}
    assert {p: p.read_bytes() for p in before} == before
    assert (summary.downloaded, summary.already_there) == (2, 2)


def test_nothing_to_do_needs_neither_requests_nor_credentials(fake, monkeypatch):
    write_final_file(contract.PYPI, DAY_1, [])
    write_final_file(contract.GITHUB, DAY_1, [])
    monkeypatch.setenv('BIGQUERY_API_ENDPOINT', '')  # and no credentials file
    summary = download(first_date=DAY_1, last_date=DAY_1)
    assert fake.calls() == []
    assert (summary.downloaded, summary.already_there) == (0, 2)


def test_a_file_written_within_the_refresh_days_is_downloaded_again(fake, monkeypatch):
    monkeypatch.setenv('BIGQUERY_REFRESH_DAYS', '3')
    for day, written in ((DAY_1, DAY_1 + datetime.timedelta(days=2)), (DAY_2, DAY_2 + datetime.timedelta(days=3))):
        write_final_file(contract.PYPI, day, pypi_rows(day, 1))
        set_written(path_of(contract.PYPI, day), written)
    fake.results = {('pypi', DAY_1): pypi_rows(DAY_1, 4)}  # the partition had still been filling

    summary = download(data_sets=['pypi'])

    assert [(c.day, c.dry_run) for c in fake.query_calls()] == [('2024-01-01', True), ('2024-01-01', False)]
    assert read(contract.PYPI, DAY_1) == file_text(PYPI_V1, pypi_rows(DAY_1, 4))  # written 2 days after: again
    assert read(contract.PYPI, DAY_2) == file_text(PYPI_V1, pypi_rows(DAY_2, 1))  # 3 days after: final
    assert (summary.downloaded, summary.downloaded_again, summary.already_there) == (1, 1, 1)

    monkeypatch.setenv('BIGQUERY_REFRESH_DAYS', '0')
    set_written(path_of(contract.PYPI, DAY_1), DAY_1 + datetime.timedelta(days=1))
    assert download(data_sets=['pypi']).downloaded == 0


def test_yesterday_is_downloaded_on_each_of_the_next_runs_until_it_is_final(fake, monkeypatch, capsys):
    yesterday = datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=1)
    runs = []
    for _ in range(2):
        runs.append(download(data_sets=['github'], first_date=yesterday, last_date=yesterday))
    assert [(s.downloaded, s.downloaded_again) for s in runs] == [(1, 0), (1, 1)]
    assert f'github {yesterday}: 12.1 KiB to scan (again), 0 rows, ' in capsys.readouterr().out
    set_written(path_of(contract.GITHUB, yesterday), yesterday + datetime.timedelta(days=3))
    assert download(data_sets=['github'], first_date=yesterday, last_date=yesterday).downloaded == 0


def test_a_day_downloaded_again_replaces_an_older_file_version(fake, monkeypatch):
    write_final_file(contract.GITHUB, DAY_1, [(20240101, 'a', 'b', 1, 2, 3)], GITHUB_V1)
    write_final_file(contract.GITHUB, DAY_2, [(20240102, 'a', 'b', 1, 2, 3)], GITHUB_V1)
    set_written(path_of(contract.GITHUB, DAY_1, GITHUB_V1), DAY_1 + datetime.timedelta(days=1))
    fake.results = {('github', DAY_1): github_rows(DAY_1, 2)}

    summary = download(data_sets=['github'])

    assert files_under(config.data_dir()) == ['2024/01/01/github/repo-activity-v2.csv.gz',  # v1 replaced
                                              '2024/01/02/github/repo-activity-v1.csv.gz']  # final: stays
    assert read(contract.GITHUB, DAY_1) == file_text(GITHUB_V2, github_rows(DAY_1, 2))
    assert (summary.downloaded, summary.already_there) == (1, 1)


def test_a_single_data_set_and_a_date_range(fake):
    download(data_sets=['github'], first_date=DAY_2, last_date=DAY_3)
    assert files_under(config.data_dir()) == ['2024/01/02/github/repo-activity-v2.csv.gz',
                                              '2024/01/03/github/repo-activity-v2.csv.gz']


@pytest.mark.parametrize(('first', 'last', 'message'), [
    (DAY_2, DAY_1, 'First date 2024-01-02 is after last date 2024-01-01'),
    (DAY_1, datetime.datetime.now(datetime.UTC).date(), 'is not over yet'),
])
def test_bad_date_ranges_are_refused(fake, first, last, message):
    with pytest.raises(DownloaderError, match=message):
        download(first_date=first, last_date=last)
    assert fake.calls() == []


# ---------------------------------------------------------------- missing tables

def test_a_missing_github_day_is_skipped_with_a_note(fake, capsys):
    fake.missing = {('github', DAY_1)}
    fake.results = {('github', DAY_2): github_rows(DAY_2, 2)}
    summary = download(data_sets=['github'])

    assert summary.missing_days == [('github', DAY_1, 'Not found: Table githubarchive:day.20240101 was not found '
                                     'in location US')]
    assert files_under(config.data_dir()) == ['2024/01/02/github/repo-activity-v2.csv.gz']
    out = capsys.readouterr().out
    assert ('1 days without a BigQuery table skipped (the archive has no data for them; they are tried again next '
            'time):\n  github 2024-01-01: Not found: Table githubarchive:day.20240101 was not found in location US\n'
            ) in out
    assert sorted((c.day, c.dry_run) for c in fake.query_calls()) == [
        (str(DAY_1), True), (str(DAY_2), False), (str(DAY_2), True)]


def test_a_missing_pypi_table_is_an_error_before_anything_is_billed(fake):
    fake.missing = {('pypi', DAY_2)}
    with pytest.raises(DownloaderError) as error:
        download(data_sets=['pypi'])
    assert str(error.value) == (
        'pypi 2024-01-02: the BigQuery table is missing (Not found: Table bigquery-public-data:pypi.file_downloads '
        'was not found in location US). This data set has one table for all days, so it is not a missing day: '
        'check the table name and that BIGQUERY_PROJECT may read it.')
    assert {c.dry_run for c in fake.query_calls()} == {True}
    assert files_under(config.data_dir()) == []


# ---------------------------------------------------------------- cost

def test_the_budget_refuses_before_anything_is_billed(fake):
    fake.bytes_processed = 100 * GIB  # what each dry run says: 60 days, 6,000 GiB
    result = CliRunner().invoke(CLICK_COMMANDS['bigquery-downloader'],
                                ['download', '--first-date', '2024-01-01', '--last-date', '2024-01-30'])

    assert result.exit_code == 1
    assert result.output.endswith(
        'Error: the download would scan 5.9 TiB (6,442,450,944,000 bytes, $36.62 on demand), more than the budget '
        'BIGQUERY_BUDGET_TIB=1 (1.0 TiB). Nothing was billed and no file was written. To go ahead, raise the budget: '
        'BIGQUERY_BUDGET_TIB=5.86 (in .env or the environment) or --budget-tib 5.86; or download fewer days '
        '(--first-date, --data-set). A PyPI allow-list (BIGQUERY_PYPI_PROJECTS) lowers what is billed, but not '
        'this estimate (docs/data-sources.md).\n')
    assert '  pypi    30 days                         2.9 TiB      $18.31\n' in result.output
    assert '  github  30 days                         2.9 TiB      $18.31\n' in result.output
    assert len(fake.query_calls(dry_run=True)) == 60
    assert fake.query_calls(dry_run=False) == []  # not one billed query
    assert files_under(config.data_dir()) == []


def test_within_a_raised_budget_the_download_goes_ahead(fake, monkeypatch):
    fake.bytes_processed = 300 * GIB  # 10 days, 3,000 GiB
    monkeypatch.setenv('BIGQUERY_MAXIMUM_BYTES_BILLED', str(400 * GIB))
    result = CliRunner().invoke(CLICK_COMMANDS['bigquery-downloader'],
                                ['download', '--first-date', '2024-01-01', '--last-date', '2024-01-05',
                                 '--budget-tib', '2.93'])
    assert result.exit_code == 0, result.output
    assert 'Within the budget of 2.9 TiB: downloading.' in result.output
    assert '10 files downloaded (0 rows, 2.9 TiB billed, $18.31), 0 already there' in result.output
    assert len(fake.query_calls(dry_run=False)) == 10
    assert len(files_under(config.data_dir())) == 10

    monkeypatch.setenv('BIGQUERY_BUDGET_TIB', '0.3')
    path_of(contract.PYPI, DAY_1).unlink()
    assert download(data_sets=['pypi']).downloaded == 1


def test_the_estimate_counts_the_minimum_billed_per_query(fake, monkeypatch):
    monkeypatch.setenv('BIGQUERY_BUDGET_TIB', str(15 * 2 ** 20 / 2 ** 40))  # 15 MiB
    fake.bytes_processed = 1000  # two queries of 1,000 bytes are billed 2 × 10 MiB
    with pytest.raises(downloader.BudgetError, match=r'^the download would scan 20\.0 MiB \(20,971,520 bytes'):
        download(data_sets=['pypi'])
    assert fake.query_calls(dry_run=False) == []


def test_dry_run_only_estimates(fake, capsys):
    fake.bytes_processed = 100 * GIB
    result = CliRunner().invoke(CLICK_COMMANDS['bigquery_downloader.download_data'], ['--dry-run'])
    assert result.exit_code == 0, result.output
    assert '  total   4 days                        400.0 GiB       $2.44 at $6.25 per TiB' in result.output
    assert 'Dry run: nothing downloaded; 0 files already there' in result.output
    assert fake.query_calls(dry_run=False) == []
    assert files_under(config.data_dir()) == []


UPPER_BOUND = ('an upper bound: BIGQUERY_PYPI_PROJECTS filters on the column the table is clustered by, and a dry '
               'run cannot see which blocks that filter skips, so it estimates about the whole day however short the '
               'list')


def test_an_allow_listed_download_is_budgeted_at_its_upper_bound(fake, monkeypatch):
    """A dry run estimates an allow-listed day at about the whole day; the job bills only the projects' blocks."""
    monkeypatch.setenv('BIGQUERY_PYPI_PROJECTS', 'flask')
    monkeypatch.setenv('BIGQUERY_MAXIMUM_BYTES_BILLED', str(200 * GIB))
    fake.dry_run_bytes_processed = 100 * GIB  # the whole day, whatever the allow-list
    fake.bytes_processed = 3 * 2 ** 20 + 1  # what the job processes: billed as 10 MiB, the minimum
    arguments = ['download', '--data-set', 'pypi', '--first-date', '2024-01-01', '--last-date', '2024-01-30']

    refused = CliRunner().invoke(CLICK_COMMANDS['bigquery-downloader'], arguments)

    assert refused.exit_code == 1
    assert refused.output.endswith(
        'Error: the download would scan at most 2.9 TiB (3,221,225,472,000 bytes, $18.31 on demand), more than the '
        'budget BIGQUERY_BUDGET_TIB=1 (1.0 TiB). Nothing was billed and no file was written. The estimate of pypi '
        f'(2.9 TiB) is {UPPER_BOUND}; what the download bills is known only afterwards, and the summary reports it. '
        'To go ahead, raise the budget to accept the upper bound: BIGQUERY_BUDGET_TIB=2.93 (in .env or the '
        'environment) or --budget-tib 2.93; or download fewer days (--first-date, --data-set).\n')
    assert f'  pypi: {UPPER_BOUND}; the bytes billed are reported after the download.\n' in refused.output
    assert len(fake.query_calls(dry_run=True)) == 30
    assert fake.query_calls(dry_run=False) == []

    accepted = CliRunner().invoke(CLICK_COMMANDS['bigquery-downloader'], [*arguments, '--budget-tib', '2.93'])

    assert accepted.exit_code == 0, accepted.output
    lines = accepted.output.splitlines()
    assert lines[4:6] == [f'  pypi: {UPPER_BOUND}; the bytes billed are reported after the download.',
                          'Within the budget of 2.9 TiB: downloading.']
    assert lines[6].startswith('pypi 2024-01-01: at most 100.0 GiB to scan, 0 rows, 10.0 MiB billed, ')
    assert '30 files downloaded (0 rows, 300.0 MiB billed, $0.00), 0 already there, ' in accepted.output
    assert ("  pypi: 300.0 MiB billed (314,572,800 bytes, $0.00), against the dry runs' upper bound of 2.9 TiB (the "
            'allow-list BIGQUERY_PYPI_PROJECTS)\n') in accepted.output
    assert ('  pypi: no downloads of flask on the days downloaded (BIGQUERY_PYPI_PROJECTS, compared as PEP 503 '
            'normalizes names: check the spelling on pypi.org)\n') in accepted.output


def test_without_an_allow_list_the_estimate_is_not_called_an_upper_bound(fake, capsys):
    fake.results = {('pypi', DAY_1): pypi_rows(DAY_1, 2)}
    summary = download(data_sets=['pypi'], first_date=DAY_1, last_date=DAY_1)
    out = capsys.readouterr().out
    assert 'upper bound' not in out and 'at most' not in out
    assert (summary.upper_bounds, summary.unmatched, summary.bytes_billed) == ({}, {}, 10 * 2 ** 20)


def test_a_query_over_the_per_query_limit_is_refused_before_anything_is_billed(fake, monkeypatch):
    monkeypatch.setenv('BIGQUERY_MAXIMUM_BYTES_BILLED', '1000')
    fake.bytes_processed = {('pypi', DAY_1): 500, ('pypi', DAY_2): 5000}

    with pytest.raises(downloader.CostLimitError) as error:
        download(data_sets=['pypi'])

    assert str(error.value) == ('pypi 2024-01-02: the query would scan 4.9 KiB (5,000 bytes), more than '
                                'BIGQUERY_MAXIMUM_BYTES_BILLED=1,000; nothing was billed. Raise the limit if that is '
                                'intended.')
    assert {c.dry_run for c in fake.query_calls()} == {True}
    assert files_under(config.data_dir()) == []


def test_a_job_over_the_byte_limit_fails(fake):
    # the dry run estimate passes, but BigQuery's own limit (maximumBytesBilled) stops the job
    fake.dry_run_bytes_processed, fake.bytes_processed = 1000, 2 * 10 ** 9

    with pytest.raises(DownloaderError, match=r'BigQuery error \d+: Query exceeded limit for bytes billed: 1000000000'):
        download(data_sets=['pypi'], first_date=DAY_1, last_date=DAY_1)
    assert files_under(config.data_dir()) == []


# ---------------------------------------------------------------- completeness

def write_baseline(data_set: contract.DataSet, last_day: datetime.date, rows: list[tuple]):
    for offset in range(1, 29):
        day = last_day - datetime.timedelta(days=offset)
        day_id = int(f'{day:%Y%m%d}')
        write_final_file(data_set, day, [(day_id, *row[1:]) for row in rows])


def test_a_sudden_drop_is_flagged_and_a_normal_day_is_not(fake, monkeypatch, capsys):
    day, normal = datetime.date(2025, 10, 9), datetime.date(2025, 10, 10)
    write_baseline(contract.GITHUB, day, github_rows(day, 50))
    fake.results = {('github', day): github_rows(day, 9),  # 18 % of the rows of the days before
                    ('github', normal): github_rows(normal, 45)}

    summary = download(data_sets=['github'], first_date=day, last_date=normal)

    assert [(f.day, f.metric, f.kind, f.value) for f in summary.flags] == [
        (day, 'rows', 'drop', 9), (day, 'number_of_commits', 'drop', 18), (day, 'number_of_forks', 'drop', 9),
        (day, 'number_of_pushes', 'drop', 27)]
    out = capsys.readouterr().out
    assert 'Completeness (rows and totals against the median of the 28 days before, below 20 % or suddenly all ' \
           'NULL is flagged): 2 downloaded days checked, 4 flags, see docs/data-sources.md\n' in out
    assert '  github 2025-10-09: rows 9 is 18.0 % of the median 50 of the 28 days before (below 20 %)\n' in out


def test_a_metric_suddenly_all_null_is_flagged(fake, capsys):
    day = datetime.date(2025, 10, 7)
    write_baseline(contract.GITHUB, day, github_rows(day, 50))
    fake.results = {('github', day): github_rows(day, 50, commits=None)}  # pushes without commit counts

    summary = download(data_sets=['github'], first_date=day, last_date=day)

    assert [(f.metric, f.kind) for f in summary.flags] == [('number_of_commits', 'all_null')]
    assert ('  github 2025-10-07: number_of_commits is NULL on all 50 rows, but had values on 28 of the 28 days '
            'before\n') in capsys.readouterr().out


def test_pypi_days_before_the_undercount_ends_are_named_in_the_summary(fake, capsys):
    summary = download(data_sets=['pypi'], first_date=datetime.date(2018, 7, 24), last_date=datetime.date(2018, 7, 26))
    assert summary.downloaded == 3
    assert ('  PyPI downloads of 2018-07-24 to 2018-07-25 are undercounted: PyPA\'s guide "Analyzing PyPI package '
            'downloads" says that counts before 2018-07-26 are low by about an order of magnitude '
            '(docs/data-sources.md)\n') in capsys.readouterr().out

    assert download(data_sets=['github'], first_date=datetime.date(2018, 7, 24),
                    last_date=datetime.date(2018, 7, 24)).undercount_note is None  # GH Archive: not known


def test_the_undercount_note_names_only_the_days_before_2018_07_26():
    note = data_quality.pypi_undercount_note
    assert note(datetime.date(2018, 7, 26), datetime.date(2024, 1, 1)) is None
    assert note(datetime.date(2018, 7, 25), datetime.date(2024, 1, 1)).startswith(
        'PyPI downloads of 2018-07-25 are undercounted: ')
    assert note(datetime.date(2018, 4, 1), datetime.date(2018, 4, 10)).startswith(
        'PyPI downloads of 2018-04-01 to 2018-04-10 are undercounted: ')


# ---------------------------------------------------------------- failures

def test_transient_errors_are_retried(fake):
    fake.results = {('pypi', DAY_1): pypi_rows(DAY_1, 25)}
    fake.add_fault(503, api='jobs.insert', times=2)  # the dry run fails twice
    fake.add_fault(503, api='jobs.getQueryResults', when=lambda r: 'pageToken' in r.params, times=1)
    fake.add_fault('close', api='jobs.getQueryResults', when=lambda r: 'pageToken' in r.params, times=1)
    fake.add_fault('truncate', api='jobs.getQueryResults', when=lambda r: 'pageToken' in r.params, times=1)

    download(data_sets=['pypi'], first_date=DAY_1, last_date=DAY_1)

    assert read(contract.PYPI, DAY_1) == file_text(PYPI_V1, pypi_rows(DAY_1, 25))
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


def test_a_dead_endpoint_ends_the_estimate_of_many_days_at_the_first_error(fake, monkeypatch):
    monkeypatch.setenv('BIGQUERY_TIMEOUT_SECONDS', '1')
    fake.add_fault(503, api='jobs.insert')
    start = time.monotonic()
    with pytest.raises(DownloaderError, match='^pypi 2024-01-01: no successful answer from BigQuery'):
        download(first_date=DAY_1, last_date=datetime.date(2024, 3, 31))  # 182 dry runs to send
    assert time.monotonic() - start < 15
    assert len(fake.calls('jobs.insert')) < 100


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


def test_the_atomic_file_vanishes_on_any_exception(tmp_path):
    target = tmp_path / 'day' / 'file.csv.gz'
    with pytest.raises(KeyboardInterrupt), contract.atomic_file(target) as file:
        file.write(b'half a file')
        raise KeyboardInterrupt
    assert files_under(tmp_path) == []

    with contract.atomic_file(target) as file:
        file.write(b'complete')
    assert files_under(tmp_path) == ['day/file.csv.gz']
    assert target.read_bytes() == b'complete'


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
    fake.results = {('github', DAY_1): [(20240101, 'pallets', 'flask', 10, 6, 3, 1)]}
    group = CLICK_COMMANDS['bigquery-downloader']
    result = CliRunner().invoke(group, ['download', '--data-set', 'github', '--first-date', '2024-01-01',
                                        '--last-date', '2024-01-01'])

    assert result.exit_code == 0, result.output
    assert read(contract.GITHUB, DAY_1) == file_text(GITHUB_V2, [(20240101, 'pallets', 'flask', 10, 6, 3, 1)])
    assert '1 files downloaded (1 rows' in result.output
    assert set(CLICK_COMMANDS) == {'bigquery_downloader.download_data', 'bigquery-downloader'}


def test_the_command_exits_non_zero_with_a_clear_message(fake):
    fake.missing = {('pypi', DAY_1)}
    result = CliRunner().invoke(CLICK_COMMANDS['bigquery_downloader.download_data'],
                                ['--data-set', 'pypi', '--first-date', '2024-01-01', '--last-date', '2024-01-01'])
    assert result.exit_code == 1
    assert result.output.endswith("Error: pypi 2024-01-01: the BigQuery table is missing (Not found: Table "
                                  "bigquery-public-data:pypi.file_downloads was not found in location US). This data "
                                  "set has one table for all days, so it is not a missing day: check the table name "
                                  "and that BIGQUERY_PROJECT may read it.\n")
