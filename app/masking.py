"""Secrets never show: passwords, SECRET_KEY and the secret parts of the credentials file are replaced by ***.

Three places see everything that leaves the app:
- mara's `password_masks` (wired in app/wiring.py): mara masks them in run output, before it reaches the browser,
  the terminal or the run log in the mara database, and in the commands on task pages;
- every response of the web UI (`init_app`), which also covers the Configuration page, the error pages and the
  pages that print psql command lines or connection URLs; values of settings named *password* or *secret* are not
  shown at all;
- every log record, including the tracebacks of errors (in every process that imports the app).
"""

import functools
import html
import json
import logging
import pathlib
import pprint
import re
import urllib.parse

import flask
import mara_app.views

from app import config

MASK = '***'
# In whole pages only secrets of this length are replaced: a short one ('mara') also occurs in the pages' own
# URLs, which masking would break. The settings, commands and run output mask secrets of any length.
MIN_LENGTH_IN_PAGES = 8
SECRET_SETTING_NAMES = re.compile(r'password|secret', re.IGNORECASE)
# Fields of Google credentials files (service account keys, user credentials) that are secrets.
CREDENTIALS_SECRET_FIELDS = ('private_key', 'private_key_id', 'client_secret', 'refresh_token')
PEM_LINE_MIN_LENGTH = 16  # lines of a PEM key are masked one by one (output arrives line by line)


@functools.lru_cache(maxsize=8)
def _credentials_secrets(path: pathlib.Path, modified_ns: int) -> tuple:
    """The secret values in a credentials file, read again when the file changes."""
    try:
        fields = json.loads(path.read_text())
    except (OSError, ValueError):
        return ()
    values = [fields[name] for name in CREDENTIALS_SECRET_FIELDS
              if isinstance(fields, dict) and isinstance(fields.get(name), str)]
    lines = [line.strip() for value in values for line in value.splitlines()
             if len(line.strip()) >= PEM_LINE_MIN_LENGTH]
    return tuple(values + lines)


def _credentials_file_secrets() -> tuple:
    path = config.bigquery_credentials_file()
    try:
        return _credentials_secrets(path, path.stat().st_mtime_ns)
    except OSError:  # no credentials file
        return ()


def _spellings(value: str) -> set:
    """How a value appears in text, HTML (also pygments' quotes), JSON and URLs."""
    return {value, html.escape(value, quote=False), html.escape(value), html.escape(value).replace('&#x27;', '&#39;'),
            json.dumps(value)[1:-1], urllib.parse.quote(value, safe=''), urllib.parse.quote_plus(value)}


def secret_values() -> list:
    """Every spelling of every secret in effect now, longest first (so that no part of a longer one is left)."""
    secrets = [config.postgres_password(), config.secret_key(), *_credentials_file_secrets()]
    return sorted({spelling for secret in secrets if secret for spelling in _spellings(secret)}, key=len, reverse=True)


def mask(text: str, min_length: int = 1) -> str:
    for secret in secret_values():
        if len(secret) >= min_length:
            text = text.replace(secret, MASK)
    return text


def _mask_bytes(data: bytes, min_length: int) -> bytes:
    for secret in secret_values():
        if len(secret) >= min_length:
            data = data.replace(secret.encode(), MASK.encode())
    return data


# ---------------------------------------------------------------- the Configuration page

class _Shown:
    """A setting's value as the Configuration page prints it (with pprint, which uses repr)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


_original_config_modules = mara_app.views._config_modules


def _config_modules_masked(with_functions: bool = True) -> dict:
    """mara's settings for the Configuration page, with secret settings hidden and secrets masked in the others."""
    modules = _original_config_modules(with_functions)
    for module in modules.values():
        for name, function in module['functions'].items():
            shown = MASK if SECRET_SETTING_NAMES.search(name) else mask(pprint.pformat(function['value']))
            function['value'] = _Shown(shown)
    return modules


mara_app.views._config_modules = _config_modules_masked


# ---------------------------------------------------------------- responses and logs

def _masked_chunks(chunks):
    try:
        for chunk in chunks:
            yield _mask_bytes(chunk.encode() if isinstance(chunk, str) else chunk, MIN_LENGTH_IN_PAGES)
    finally:  # closing the response (the browser left) must reach the run, see app/mara_fixes.py
        close = getattr(chunks, 'close', None)
        if close:
            close()


def mask_response(response: flask.Response) -> flask.Response:
    """after_request, run after mara's page layout: masks secrets in every text response, also in streams."""
    if response.direct_passthrough or not (response.mimetype.startswith('text/') or 'json' in response.mimetype):
        return response  # files (static assets)
    if response.is_streamed:
        response.response = _masked_chunks(response.response)
    else:
        response.set_data(mask(response.get_data(as_text=True), MIN_LENGTH_IN_PAGES))
    return response


_original_record_factory = logging.getLogRecordFactory()


def _masked_record(*args, **kwargs) -> logging.LogRecord:
    """Log records with their message and traceback already masked (before any handler formats them)."""
    record = _original_record_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # arguments that do not fit the message: logging reports that itself
        return record
    record.msg, record.args = mask(message), ()
    if record.exc_info:
        record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
    return record


logging.setLogRecordFactory(_masked_record)  # in every process that imports the app: web, CLI, runs


def init_app(flask_app: flask.Flask) -> None:
    # after_request functions run in reverse order of registration: first in the list is last, after mara's layout
    flask_app.after_request_funcs.setdefault(None, []).insert(0, mask_response)
