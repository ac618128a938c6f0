"""The Flask app: `flask --app app.app ...` for the CLI and the development server; `app.app:wsgi_app` in production."""

import mara_app.app

from app import access, cli, masking, ui  # importing the package `app` wires the mara packages first

app = mara_app.app.MaraApp()
app.add_url_rule('/', 'start_page', ui.start_page)
access.init_app(app)
masking.init_app(app)
cli.register_commands(app)


def __getattr__(name: str):
    """`wsgi_app`, the production entry point that gunicorn serves, is built when it is asked for: then the
    production settings are checked and the login header is required (see app/access.py)."""
    if name == 'wsgi_app':
        return access.production_wsgi_app(app)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
