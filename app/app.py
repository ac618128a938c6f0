"""The Flask app: `flask --app app.app ...` for the CLI, `app.app:wsgi_app` for gunicorn."""

import mara_app.app

from app import cli, ui  # importing the package `app` wires the mara packages first

app = mara_app.app.MaraApp()
app.add_url_rule('/', 'start_page', ui.start_page)
cli.register_commands(app)

wsgi_app = app.wsgi_app
