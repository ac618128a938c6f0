"""Points the settings of every mara package at the project's configuration in `app/config.py`.

mara's `patch` copies the docstring of the replaced function onto the new one, so settings are
passed through lambdas: the functions in app/config.py keep their own documentation.
"""

import copy
import functools
import sys

import flask
import mara_acl.config
import mara_app.app
import mara_app.config
import mara_app.layout
import mara_db.config
import mara_db.dbs
import mara_pipelines.config
from mara_app.monkey_patch import patch, wrap
from mara_page import acl, navigation

from app import access, config, mara_fixes, masking


@patch(mara_db.config.databases)
def databases() -> dict:
    """The data warehouse (`dwh`) and mara's own database (`mara`)."""
    def postgres(database: str) -> mara_db.dbs.PostgreSQLDB:
        return mara_db.dbs.PostgreSQLDB(host=config.postgres_host() or '127.0.0.1', port=config.postgres_port(),
                                        user=config.postgres_user(), password=config.postgres_password() or None,
                                        database=database)
    return {'dwh': postgres(config.dwh_db()), 'mara': postgres(config.mara_db())}


patch(mara_db.config.default_timezone)(lambda: 'UTC')

patch(mara_pipelines.config.default_db_alias)(lambda: 'dwh')
patch(mara_pipelines.config.data_dir)(lambda: str(config.data_dir()))
patch(mara_pipelines.config.first_date)(lambda: config.first_date())
patch(mara_pipelines.config.last_date)(lambda: config.last_date())
patch(mara_pipelines.config.max_number_of_parallel_tasks)(lambda: config.max_parallel_tasks())
# The Run buttons show only where runs are allowed and the user may start them (the endpoints check it too).
patch(mara_pipelines.config.allow_run_from_web_ui)(
    lambda: config.allow_run_from_web_ui() and access.current_user_may(access.RUN))
# mara's links to node pages (Slack, Teams) lead to the web UI where its users open it.
patch(mara_pipelines.config.base_url)(lambda: config.web_ui_url() + '/pipelines')
patch(mara_pipelines.config.password_masks)(lambda: masking.secret_values())
# Run control samples system statistics itself, more often and without a process of its own (app/runs/supervisor.py).
patch(mara_pipelines.config.system_statistics_collection_period)(lambda: 0)


@patch(mara_pipelines.config.root_pipeline)
def root_pipeline():
    """The project's root pipeline, built once per process."""
    from app.pipelines import root_pipeline
    return root_pipeline()


patch(mara_app.config.flask_config)(lambda: {'SECRET_KEY': config.secret_key()})
patch(mara_app.config.logo_url)(lambda: flask.url_for('app_ui.static', filename='logo.svg'))
patch(mara_app.config.favicon_url)(lambda: flask.url_for('app_ui.static', filename='favicon.png'))


# No 'Home' entry: '/' redirects to the pipelines page.
patch(mara_app.config.navigation_root)(lambda: navigation.NavigationEntry(label='Root'))

_NAVIGATION = {'Pipelines': ('Pipelines', 1), 'Runs': ('Runs', 2), 'Data quality': ('Data quality', 3),
               'DB Schema': ('DB Schema', 4),
               'Package Configs': ('Configuration', 5), 'Users & Permissions': ('ACL', 6)}


@wrap(mara_app.app.combine_navigation_entries)
def combine_navigation_entries(original) -> navigation.NavigationEntry:
    """The entries that the packages declare, named and ordered as Pipelines, Data quality, DB Schema,
    Configuration, ACL."""
    root = original()
    for entry in root.children:
        entry.label, entry.rank = _NAVIGATION.get(entry.label, (entry.label, entry.rank))
    return root


@patch(mara_acl.config.resources)
def acl_resources() -> list:
    """Every ACL resource that the loaded packages declare, under one 'All' node."""
    resources = []
    for module in copy.copy(sys.modules).values():
        declared = getattr(module, 'MARA_ACL_RESOURCES', None)
        if declared is None or not getattr(module, '__name__', '').startswith(('mara_', 'app')):
            continue
        declared = declared() if callable(declared) else declared
        resources.extend(declared.values() if isinstance(declared, dict) else declared)
    return [acl.AclResource(name='All', children=resources)]


# ---------------------------------------------------------------- the scripts and styles of every page
# Composed here only: mara's files and the page's own, with some of mara's swapped for the files that replace them.

GOOGLE_CHARTS_LOADER = 'https://www.gstatic.com/charts/loader.js'
# Chart.js, its time axis and what the project's charts share (app/ui/static/charts/README.md)
CHART_LIBRARY = ['charts/chart.umd.min.js', 'charts/chartjs-adapter-date-fns.bundle.min.js', 'charts/common.js']


def _own(filename: str) -> str:
    return flask.url_for('app_ui.static', filename=filename)


def _swaps() -> dict[str, list[str]]:
    """mara's files that pages do not load as they are: each with the files that take its place."""
    mara_pipelines_file = functools.partial(flask.url_for, 'mara_pipelines.static')
    bootstrap = flask.url_for('mara_app.static', filename='bootstrap/bootstrap.min.js')
    charts = [_own(filename) for filename in CHART_LIBRARY]
    return {
        GOOGLE_CHARTS_LOADER: [],  # needs internet (and Google's terms forbid serving a copy)
        bootstrap: [_own(mara_fixes.POPPER), bootstrap],  # Bug 3 in app/mara_fixes.py
        mara_pipelines_file(filename='run-time-chart.js'): charts + [_own('charts/run-time-chart.js')],
        mara_pipelines_file(filename='system-stats-chart.js'): charts + [_own('charts/system-stats-chart.js')],
    }


def _composed(files: list[str]) -> list[str]:
    """`files` with mara's swapped ones replaced, each file once, in the order of first use."""
    swaps = _swaps()
    return list(dict.fromkeys(file for url in files for file in swaps.get(url, [url])))


@wrap(mara_app.layout.js_files)
def js_files(original, response) -> list:
    """mara's scripts and the page's, Popper before Bootstrap, the project's charts instead of Google's."""
    return _composed(original(response))


@wrap(mara_app.layout.css_files)
def css_files(original, response) -> list:
    """mara's styles and the page's, then the project's own."""
    return _composed(original(response) + [_own('app.css')])
