"""Points the settings of every mara package at the project's configuration in `app/config.py`.

mara's `patch` copies the docstring of the replaced function onto the new one, so settings are
passed through lambdas: the functions in app/config.py keep their own documentation.
"""

import copy
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

from app import access, config, masking


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


@wrap(mara_app.layout.css_files)
def css_files(original, response) -> list:
    """mara's styles, then the project's own."""
    return original(response) + [flask.url_for('app_ui.static', filename='app.css')]


# Wrapped by hand rather than with @wrap: mara_fixes already replaced js_files by a function of its own module,
# and @wrap patches the module that the function to wrap names as its own (here app.mara_fixes).
_original_js_files = mara_app.layout.js_files


def js_files(response) -> list:
    """Google's chart loader (needs internet) replaced by Chart.js and a shim of the Google Charts API it serves."""
    charts = [flask.url_for('app_ui.static', filename='charts/chart.umd.min.js'),
              flask.url_for('app_ui.static', filename='charts/google-charts-shim.js')]
    return [file for url in _original_js_files(response)
            for file in (charts if url == 'https://www.gstatic.com/charts/loader.js' else [url])]


mara_app.layout.js_files = js_files
