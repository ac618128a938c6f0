"""The project's own pages and assets: start page, Runs and Data quality pages, logo, favicon, css, config module."""

import flask

from app.ui import data_quality, reuse, runs  # noqa: F401  (reuse: what requests keep for the next ones)

blueprint = flask.Blueprint('app_ui', __name__, static_folder='static', url_prefix='/app-ui')


def start_page():
    """There is no dashboard yet: the pipelines are the first thing to look at."""
    return flask.redirect(flask.url_for('mara_pipelines.node_page'))


def MARA_FLASK_BLUEPRINTS():
    return [blueprint, data_quality.blueprint, runs.blueprint]


def MARA_CONFIG_MODULES():
    from app import config
    return [config]
