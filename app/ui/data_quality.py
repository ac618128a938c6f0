"""The "Data quality" page: what the quality gates and the completeness check found in the files of each day
(data_quality.day_check, written by the pipelines' check nodes)."""

from html import escape

import flask
import mara_db.dbs
import psycopg2
from mara_page import _, bootstrap, navigation, response

from app import data_quality as checks

blueprint = flask.Blueprint('data_quality', __name__, url_prefix='/data-quality')

# Rows of failed and flagged checks shown, newest days first.
SHOWN_PROBLEMS = 200


def MARA_NAVIGATION_ENTRIES():
    return {'Data quality': navigation.NavigationEntry(
        label='Data quality', icon='check-square',
        description='What the quality gates and the completeness check found in the files of each day',
        uri_fn=lambda: flask.url_for('data_quality.index_page'))}


def _query(sql: str, params=None) -> list[tuple]:
    with mara_db.dbs.cursor_context('dwh') as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@blueprint.route('')
def index_page():
    """Needs the permission to view pipelines (app/access.py)."""
    try:
        summary = _query("""
SELECT data_set, count(DISTINCT day_id), to_date(min(day_id)::TEXT, 'YYYYMMDD'), to_date(max(day_id)::TEXT, 'YYYYMMDD'),
       count(DISTINCT day_id) FILTER (WHERE NOT passed AND severity = 'error'),
       count(DISTINCT day_id) FILTER (WHERE NOT passed AND severity = 'warning'), max(checked_at)
FROM data_quality.day_check GROUP BY data_set ORDER BY data_set""")
        problems = _query("""
SELECT to_date(day_id::TEXT, 'YYYYMMDD'), data_set, file_name, check_name, severity, details, checked_at
FROM data_quality.day_check WHERE NOT passed ORDER BY day_id DESC, data_set, check_name LIMIT %s""",
                          (SHOWN_PROBLEMS,))
    except psycopg2.errors.UndefinedTable:
        summary, problems = [], []

    overview = bootstrap.table(
        ['Data set', 'Days checked', 'From', 'To', 'Days failed', 'Days flagged', 'Last checked'],
        [_.tr[_.td[data_set], _.td[str(days)], _.td[str(first)], _.td[str(last)],
              _.td(class_='text-danger' if failed else '')[str(failed)],
              _.td(class_='text-warning' if flagged else '')[str(flagged)], _.td[f'{checked:%Y-%m-%d %H:%M}']]
         for data_set, days, first, last, failed, flagged, checked in summary]) if summary \
        else _.p[_.i['No checks yet: run the pipelines.']]
    found = bootstrap.table(
        ['Day', 'Data set', 'File', 'Check', 'Severity', 'What was found', 'Checked'],
        [_.tr[_.td(style='white-space:nowrap')[str(day)], _.td[data_set], _.td[_.tt[escape(file_name)]],
              _.td[escape(check_name)],
              _.td(class_='text-danger' if severity == 'error' else 'text-warning')[severity],
              _.td[escape(details or '')], _.td(style='white-space:nowrap')[f'{checked:%Y-%m-%d %H:%M}']]
         for day, data_set, file_name, check_name, severity, details, checked in problems]) if problems \
        else _.p[_.i['Every checked file passed every check.']]
    pypi = next((row for row in summary if row[0] == 'pypi'), None)
    caveat = checks.pypi_undercount_note(pypi[2], pypi[3]) if pypi else None
    return response.Response(
        title='Data quality',
        html=[bootstrap.card(header_left='Checked days', body=overview),
              bootstrap.card(header_left='A known gap of the source', body=_.p(id='caveat')[escape(caveat)])
              if caveat else '',
              bootstrap.card(header_left='Failed checks (errors: the day was not published) and flags (warnings: '
                                         'the day was published)', body=found)])
