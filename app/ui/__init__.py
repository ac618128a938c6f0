"""The project's own pages and assets: start page, data quality page, logo, favicon, css, its config module."""

import flask

blueprint = flask.Blueprint('app_ui', __name__, static_folder='static', url_prefix='/app-ui')


def start_page():
    """There is no dashboard yet: the pipelines are the first thing to look at."""
    return flask.redirect(flask.url_for('mara_pipelines.node_page'))


def MARA_FLASK_BLUEPRINTS():
    from app.ui import data_quality
    return [blueprint, data_quality.blueprint]


def MARA_NAVIGATION_ENTRIES():
    from app.ui import data_quality
    return {'Data quality': data_quality.navigation_entry()}


def MARA_CONFIG_MODULES():
    from app import config
    return [config]
