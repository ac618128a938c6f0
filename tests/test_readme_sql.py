"""Every SQL query in README.md runs as shown: through `make psql`'s script, on the warehouse of the standard sample.

Each ```sql block must be followed by the result block that the README shows (a plain ``` block). The query
must exit 0, print the same column header, and print every data row that the README shows (lines of '...'
and the '(N rows)' footer are not rows).
"""

import os
import re
import subprocess

import pytest

from tests.support import PROJECT_ROOT, commands

# Correctness of the warehouse: `make test` runs these on heap, on one Citus node and on Citus workers.
pytestmark = pytest.mark.warehouse

README = PROJECT_ROOT / 'README.md'
_SQL_AND_RESULT = re.compile(r'^```sql\n(?P<sql>.*?)^```\n(?:\s*\n)*(?:^```\n(?P<result>.*?)^```$)?',
                             re.MULTILINE | re.DOTALL)


def readme_queries() -> list:
    """(sql, shown result or None) of every ```sql block of README.md."""
    return [(match['sql'], match['result']) for match in _SQL_AND_RESULT.finditer(README.read_text())]


def _cells(line: str) -> tuple:
    return tuple(cell.strip() for cell in line.split('|'))


def _table(psql_output: str) -> tuple:
    """(header cells, set of row cells) of psql's aligned output."""
    lines = [line for line in psql_output.split('\n') if line.strip()]
    rows = [line for line in lines[2:] if not re.fullmatch(r'\s*(\.\.\.|\(\d+ rows?\))\s*', line)]
    return _cells(lines[0]), {_cells(line) for line in rows}


def _psql(sql: str, env: dict) -> str:
    """Runs SQL like a reader who pastes it into `make psql` (same script, the warehouse's database settings)."""
    result = commands.script('psql.sh', '--no-psqlrc', '-v', 'ON_ERROR_STOP=1', input=sql, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_readme_has_sql_queries_with_their_results():
    queries = readme_queries()
    assert queries, 'README.md has no ```sql block: nothing to check'
    for sql, result in queries:
        assert result, f'README.md shows no result block (a plain ``` block) right after this query:\n{sql}'


@pytest.mark.parametrize('number', range(len(readme_queries())))
def test_a_readme_query_runs_as_shown(standard_warehouse, number):
    sql, shown = readme_queries()[number]
    output = _psql(sql, standard_warehouse.env)
    header, rows = _table(output)
    shown_header, shown_rows = _table(shown)
    assert header == shown_header, output
    assert shown_rows, 'the README shows no result row to compare'
    assert shown_rows <= rows, f'rows shown in README.md but not in the result:\n{shown_rows - rows}'


def test_make_psql_opens_the_warehouse(databases):
    result = subprocess.run(['make', '--no-print-directory', '-s', 'psql'], input='SELECT current_database();\n',
                            capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr
    assert os.environ['DWH_DB'] in result.stdout
