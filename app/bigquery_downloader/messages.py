"""Messages for the person running the downloader: sizes, prices and errors in a few words."""

import concurrent.futures
import contextlib
import re

import google.auth.exceptions
import requests
from google.api_core import exceptions as api_exceptions

from app import config
from app.bigquery_downloader.client import DownloaderError

TIB = 2 ** 40
_UNITS = ('B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB')


def human_bytes(number: float) -> str:
    """1023 B, 1.5 KiB, 2.0 TiB: binary units, as BigQuery bills (per TiB)."""
    for unit in _UNITS[:-1]:
        if abs(number) < 1024:
            return f'{number:.0f} {unit}' if unit == 'B' else f'{number:.1f} {unit}'
        number /= 1024
    return f'{number:.1f} {_UNITS[-1]}'


def price(number_of_bytes: float) -> str:
    """The on-demand price of scanning that many bytes, in USD."""
    return f'${number_of_bytes / TIB * config.bigquery_price_per_tib():,.2f}'


def gist(message: str | None) -> str:
    """The client prefixes the URL and appends location, job id and SQL: keep the message."""
    lines = (message or '').strip().splitlines()
    return re.sub(r'^[A-Z]+ https?://\S+: ', '', lines[0]) if lines else ''


def describe_error(e: Exception) -> str:
    timeout = config.bigquery_timeout_seconds()
    endpoint = config.bigquery_api_endpoint() or 'https://bigquery.googleapis.com'
    if isinstance(e, api_exceptions.RetryError):
        return (f'no successful answer from BigQuery at {endpoint} within the retry bound of {timeout:g} s '
                f'(BIGQUERY_TIMEOUT_SECONDS); last error: {_describe_cause(e.cause)}')
    if isinstance(e, concurrent.futures.TimeoutError):
        return f'the query did not finish within {timeout:g} s (BIGQUERY_TIMEOUT_SECONDS)'
    if isinstance(e, api_exceptions.GoogleAPICallError):
        return f'BigQuery error {e.code}: {gist(e.message)}'
    if isinstance(e, (requests.RequestException, google.auth.exceptions.GoogleAuthError)):
        return f'could not talk to BigQuery at {endpoint}: {type(e).__name__}: {e}'
    return f'{type(e).__name__}: {e}'


def _describe_cause(cause: BaseException | None) -> str:
    while isinstance(cause, api_exceptions.RetryError):  # job retries wrap call retries
        cause = cause.cause
    if isinstance(cause, api_exceptions.GoogleAPICallError):
        return f'{cause.code} {gist(cause.message)}'
    return f'{type(cause).__name__}: {cause}'


@contextlib.contextmanager
def labelled_errors(label: str):
    """Turns every error into a DownloaderError that names the data set and day."""
    try:
        yield
    except DownloaderError as e:
        raise type(e)(f'{label}: {e}') from e.__cause__
    except Exception as e:
        raise DownloaderError(f'{label}: {describe_error(e)}') from e
