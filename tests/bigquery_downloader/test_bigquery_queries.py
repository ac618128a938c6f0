"""The logic of the downloader's queries, proven by running them.

The downloader sends its queries through the real client to the fake BigQuery, which runs the exact
SQL text and parameters it received in an embedded engine (tests/support/bigquery_engine.py: sqlglot to
DuckDB) over small raw tables of both payload generations. The files it writes are compared with
results computed by hand.
"""

import datetime

import pytest
import sqlglot
from sqlglot import expressions as exp

from app import data_sets as contract
from app.bigquery_downloader import downloader
from app.bigquery_downloader.data_sets import MIRROR_INSTALLERS, PYPI
from tests.support.bigquery_engine import BigQueryEngine, github_event, pypi_download
from tests.support.downloader import file_text, path_of, read, running_fake

OLD_DAY = datetime.date(2024, 1, 1)  # payloads before GitHub's change of 2025-10-07
NEW_DAY = datetime.date(2025, 11, 3)  # payloads after it
PYPI_DAY = datetime.date(2024, 3, 10)


@pytest.fixture
def engine():
    engine = BigQueryEngine()
    yield engine
    engine.close()


@pytest.fixture
def fake(monkeypatch, tmp_path, engine):
    with running_fake(monkeypatch, tmp_path, OLD_DAY, OLD_DAY, engine=engine) as server:
        yield server


def download(data_set: str, day: datetime.date) -> downloader.Summary:
    return downloader.download_data([data_set], day, day, echo=lambda *args, **kwargs: None)


def push(repository: str, **payload) -> dict:
    return github_event('PushEvent', repository, {'repository_id': 1, 'push_id': 2, 'ref': 'refs/heads/main',
                                                  'head': 'abc', 'before': 'def'} | payload)


def pull_request(repository: str, action: str, number: int, *, top_level_number: bool = True,
                 **pull_request_fields) -> dict:
    pull = {'url': f'https://api.github.com/repos/{repository}/pulls/{number}', 'id': 7, 'number': number}
    payload = {'action': action, 'pull_request': pull | pull_request_fields}
    return github_event('PullRequestEvent', repository, payload | ({'number': number} if top_level_number else {}))


def commits(count: int) -> list[dict]:
    return [{'sha': f'{i:040x}', 'message': 'm', 'distinct': True} for i in range(count)]


# ---------------------------------------------------------------- GitHub

def test_payloads_before_the_change_count_forks_commits_and_closed_pull_requests(fake, engine):
    engine.add_github_events(OLD_DAY, [
        github_event('ForkEvent', 'pallets/flask', {'forkee': {'id': 1}}),
        github_event('ForkEvent', 'pallets/flask', {'forkee': {'id': 2}}),
        push('pallets/flask', size=4, distinct_size=3, commits=commits(4)),  # 3 of the 4 are new
        push('pallets/flask', size=2, distinct_size=2, commits=commits(2)),
        pull_request('pallets/flask', 'closed', 10, merged=True),  # a merge
        pull_request('pallets/flask', 'closed', 11, merged=False),  # closed without merging ...
        pull_request('pallets/flask', 'reopened', 11),
        pull_request('pallets/flask', 'closed', 11, merged=False),  # ... and again: one pull request
        pull_request('pallets/flask', 'opened', 12),
        github_event('WatchEvent', 'pallets/flask', {'action': 'started'}),
        push('davidism/flask', size=49),  # no distinct_size: size it is
        github_event('ForkEvent', 'liks79/flask', {'forkee': {'id': 3}}),
        push('someone/commits-only', commits=commits(3)),  # neither size field: the commits array
        push('mirror/no-new-commits', size=1, distinct_size=0),  # pushed commits that were there already
        pull_request('x/only-opened', 'opened', 1),  # nothing to report
    ])
    summary = download('github', OLD_DAY)

    day_id = 20240101
    assert read(contract.GITHUB, OLD_DAY) == file_text(contract.GITHUB.latest, [
        # day_id, user, repository, forks, commits, closed pull requests, pushes
        (day_id, 'davidism', 'flask', None, 49, None, 1),
        (day_id, 'liks79', 'flask', 1, None, None, None),
        (day_id, 'mirror', 'no-new-commits', None, 0, None, 1),
        (day_id, 'pallets', 'flask', 2, 5, 2, 2),
        (day_id, 'someone', 'commits-only', None, 3, None, 1),
    ])
    assert summary.rows == 5


def test_payloads_after_the_change_count_pushes_merges_and_leave_commits_unknown(fake, engine):
    engine.add_github_events(NEW_DAY, [
        push('pallets/flask'), push('pallets/flask'), push('pallets/flask'),  # no size, distinct_size, commits
        pull_request('pallets/flask', 'merged', 20),  # merges have their own action
        pull_request('pallets/flask', 'closed', 21),  # now: closed without merging
        pull_request('pallets/flask', 'opened', 22),
        github_event('ForkEvent', 'pallets/flask', {'forkee': {'id': 1}}),
        pull_request('pallets/click', 'merged', 5, top_level_number=False),  # only in the pull_request stub
        push('transition/mixed', size=2, distinct_size=2), push('transition/mixed'),  # one push does not say
        pull_request('x/only-opened', 'opened', 1),
    ])
    download('github', NEW_DAY)

    day_id = 20251103
    assert read(contract.GITHUB, NEW_DAY) == file_text(contract.GITHUB.latest, [
        (day_id, 'pallets', 'click', None, None, 1, None),
        (day_id, 'pallets', 'flask', 1, None, 2, 3),  # commits: not known, pushes: 3
        (day_id, 'transition', 'mixed', None, None, None, 2),  # a partial sum would be a silent undercount
    ])


def test_a_days_github_query_reads_the_table_of_that_day_only(fake, engine):
    """GH Archive has a table per day: the events of the days around it are not counted."""
    next_day = OLD_DAY + datetime.timedelta(days=1)
    engine.add_github_events(OLD_DAY - datetime.timedelta(days=1), [push('pallets/flask', size=1, distinct_size=1)])
    engine.add_github_events(OLD_DAY, [github_event('ForkEvent', 'pallets/flask', {'forkee': {'id': 1}})])
    engine.add_github_events(next_day, [push('pallets/flask', size=2, distinct_size=2)] * 3)
    download('github', OLD_DAY)
    download('github', next_day)

    assert read(contract.GITHUB, OLD_DAY) == file_text(contract.GITHUB.latest, [
        (20240101, 'pallets', 'flask', 1, None, None, None)])
    assert read(contract.GITHUB, next_day) == file_text(contract.GITHUB.latest, [
        (20240102, 'pallets', 'flask', None, 6, None, 3)])


# ---------------------------------------------------------------- PyPI

def at(day: datetime.date, hours: int, minutes: int = 0, seconds: int = 0, microseconds: int = 0):
    return datetime.datetime.combine(day, datetime.time(hours, minutes, seconds, microseconds), datetime.UTC)


def pypi_downloads() -> list[dict]:
    day, before, after = PYPI_DAY, PYPI_DAY - datetime.timedelta(days=1), PYPI_DAY + datetime.timedelta(days=1)
    return [
        pypi_download(at(day, 0), 'flask', '3.0.0', '3.11.4', 'pip'),  # the first moment of the day
        pypi_download(at(day, 23, 59, 59, 999_999), 'flask', '3.0.0', '3.11.7', 'pip'),  # the last
        pypi_download(at(before, 23, 59, 59), 'flask', '3.0.0', '3.11.1', 'pip'),  # other days
        pypi_download(at(after, 0), 'flask', '3.0.0', '3.11.1', 'pip'),
        pypi_download(at(day, 8), 'flask', '3.0.0'),  # neither Python nor installer reported: kept
        pypi_download(at(day, 9), 'flask', '2.3.3', '3.12.0', 'uv'),
        pypi_download(at(day, 9), 'flask', '2.3.3', 'PyPy', 'pip'),  # no major.minor in it
        *(pypi_download(at(day, 10), 'flask', '3.0.0', '3.11.4', mirror) for mirror in MIRROR_INSTALLERS),
        pypi_download(at(day, 11), 'django', '5.0', None, 'Browser'),
        *(pypi_download(at(day, 12), 'django', '5.0', '3.9.18', 'pip') for _ in range(3)),
    ]


def test_pypi_counts_one_day_without_mirrors_and_keeps_unknown_installers(fake, engine):
    engine.add_pypi_downloads(pypi_downloads())
    download('pypi', PYPI_DAY)

    day_id = 20240310
    assert read(contract.PYPI, PYPI_DAY) == file_text(contract.PYPI.latest, [
        # day_id, project, version, Python, installer, downloads (NULLs first, as BigQuery orders them)
        (day_id, 'django', '5.0', None, 'Browser', 1),
        (day_id, 'django', '5.0', '3.9', 'pip', 3),
        (day_id, 'flask', '2.3.3', None, 'pip', 1),
        (day_id, 'flask', '2.3.3', '3.12', 'uv', 1),
        (day_id, 'flask', '3.0.0', None, None, 1),
        (day_id, 'flask', '3.0.0', '3.11', 'pip', 2),
    ])
    assert set(MIRROR_INSTALLERS) >= {'bandersnatch', 'z3c.pypimirror', 'Artifactory', 'devpi'}


def test_a_project_allow_list_narrows_pypi_to_those_projects(fake, engine, monkeypatch):
    monkeypatch.setenv('BIGQUERY_PYPI_PROJECTS', 'django, requests')
    engine.add_pypi_downloads(pypi_downloads())
    download('pypi', PYPI_DAY)

    assert read(contract.PYPI, PYPI_DAY) == file_text(contract.PYPI.latest, [
        (20240310, 'django', '5.0', None, 'Browser', 1),
        (20240310, 'django', '5.0', '3.9', 'pip', 3),
    ])
    parameters = fake.query_calls()[-1].parameters
    assert {p['name']: p['parameterValue'] for p in parameters}['projects'] == {
        'arrayValues': [{'value': 'django'}, {'value': 'requests'}]}


def test_allow_listed_names_are_normalized_and_those_without_downloads_are_named(fake, engine, monkeypatch, capsys):
    """The table stores PEP 503-normalized names: `Flask` or `typing_extensions` as written would match nothing."""
    monkeypatch.setenv('BIGQUERY_PYPI_PROJECTS', 'Flask, typing_extensions,zope.interface,FLASK')
    engine.add_pypi_downloads([*pypi_downloads(),
                               pypi_download(at(PYPI_DAY, 13), 'typing-extensions', '4.12.2', '3.12.1', 'pip')])
    summary = downloader.download_data(['pypi'], PYPI_DAY, PYPI_DAY)

    day_id = 20240310
    assert read(contract.PYPI, PYPI_DAY) == file_text(contract.PYPI.latest, [
        (day_id, 'flask', '2.3.3', None, 'pip', 1),
        (day_id, 'flask', '2.3.3', '3.12', 'uv', 1),
        (day_id, 'flask', '3.0.0', None, None, 1),
        (day_id, 'flask', '3.0.0', '3.11', 'pip', 2),
        (day_id, 'typing-extensions', '4.12.2', '3.12', 'pip', 1),
    ])
    parameters = {p['name']: p['parameterValue'] for p in fake.query_calls()[-1].parameters}
    assert parameters['projects'] == {
        'arrayValues': [{'value': 'flask'}, {'value': 'typing-extensions'}, {'value': 'zope-interface'}]}
    assert summary.unmatched == {'pypi': ('zope-interface',)}
    assert ('  pypi: no downloads of zope-interface on the days downloaded (BIGQUERY_PYPI_PROJECTS, compared as '
            'PEP 503 normalizes names: check the spelling on pypi.org)\n') in capsys.readouterr().out


def test_the_pypi_query_reads_the_project_name_once():
    """BigQuery bills each column read; `file.project` holds the same name as the clustering column `project`."""
    tree = sqlglot.parse_one(PYPI.sql(PYPI_DAY), read='bigquery')
    read_columns = {column.sql(dialect='bigquery').removeprefix('downloads.') for column in tree.find_all(exp.Column)}
    assert read_columns == {'timestamp', 'project', 'file.version', 'details.python', 'details.installer.name'}


# ---------------------------------------------------------------- deterministic files

@pytest.mark.parametrize('data_set', ['pypi', 'github'])
def test_the_same_answer_gives_the_same_bytes_whatever_order_bigquery_scans_in(fake, monkeypatch, data_set):
    events = [push(f'user-{i % 3}/repo-{i % 5}', size=i, distinct_size=i) for i in range(40)]
    downloads = pypi_downloads() * 3
    day = {'pypi': PYPI_DAY, 'github': OLD_DAY}[data_set]
    data_set_contract = contract.DATA_SETS[data_set]
    contents = []
    for order in (1, -1):  # the raw rows inserted forwards, then backwards
        fake.engine = BigQueryEngine()
        fake.engine.add_github_events(OLD_DAY, events[::order])
        fake.engine.add_pypi_downloads(downloads[::order])
        path_of(data_set_contract, day).unlink(missing_ok=True)
        download(data_set, day)
        contents.append(path_of(data_set_contract, day).read_bytes())
        fake.engine.close()
    assert contents[0] == contents[1]
    assert len(read(data_set_contract, day).splitlines()) > 5
