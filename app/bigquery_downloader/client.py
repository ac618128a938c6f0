"""Creation of the BigQuery client, and the bounds on every call it makes (the one seam to BigQuery)."""

import pathlib

import google.auth
import google.auth.exceptions
import google.auth.transport.requests
from google.api_core.client_options import ClientOptions
from google.api_core.retry import Retry
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from google.cloud.bigquery import retry as bigquery_retry

from app import config

SCOPES = ['https://www.googleapis.com/auth/bigquery']


class DownloaderError(Exception):
    """An error with a message meant for the person running the downloader."""


def missing_credentials_message() -> str:
    default = pathlib.Path(__file__).resolve().parent / 'bigquery-credentials.json'
    return f'''No Google Cloud credentials file at {config.bigquery_credentials_file()}.
To download from BigQuery you need a service account key:
  1. In the Google Cloud console (https://console.cloud.google.com), pick or create a project
     with billing enabled and the BigQuery API turned on.
  2. IAM & Admin > Service Accounts > Create service account; grant it the role
     "BigQuery Job User" (roles/bigquery.jobUser).
  3. On that account: Keys > Add key > Create new key > JSON.
  4. Save the downloaded file as {default} (git-ignored),
     or set GOOGLE_APPLICATION_CREDENTIALS to its path.
Queries are billed to that project (or to BIGQUERY_PROJECT when set).'''


class _BoundedSession(google.auth.transport.requests.AuthorizedSession):
    """An HTTP session whose requests never wait longer than the configured timeout.

    The client raises the socket timeout of jobs.getQueryResults to at least 120 s and
    uses none for some calls; capping it here bounds every call by BIGQUERY_TIMEOUT_SECONDS.
    """

    def __init__(self, credentials, timeout: float):
        super().__init__(credentials, refresh_timeout=timeout)
        self._max_timeout = timeout

    def request(self, method, url, data=None, headers=None, max_allowed_time=None, timeout=None, **kwargs):
        if not isinstance(timeout, (int, float)) or timeout > self._max_timeout:
            timeout = self._max_timeout
        return super().request(method, url, data=data, headers=headers,
                               max_allowed_time=max_allowed_time, timeout=timeout, **kwargs)


def _credentials_and_project():
    """Credentials from the key file; anonymous ones for a local endpoint (emulators, tests)."""
    path = config.bigquery_credentials_file()
    if path.is_file():
        try:
            credentials, project = google.auth.load_credentials_from_file(str(path), scopes=SCOPES)
        except (google.auth.exceptions.GoogleAuthError, ValueError) as e:
            # The messages name missing fields, never the (secret) contents.
            raise DownloaderError(f'Could not use the credentials file {path}: {e}') from None
        return credentials, config.bigquery_project() or project
    if config.bigquery_api_endpoint():
        return AnonymousCredentials(), config.bigquery_project() or 'local-test'
    raise DownloaderError(missing_credentials_message())


def create_client() -> bigquery.Client:
    credentials, project = _credentials_and_project()
    if not project:
        raise DownloaderError('No Google Cloud project to bill the queries to: set BIGQUERY_PROJECT.')
    endpoint = config.bigquery_api_endpoint()
    return bigquery.Client(
        project=project,
        credentials=credentials,
        client_options=ClientOptions(api_endpoint=endpoint) if endpoint else None,
        _http=_BoundedSession(credentials, config.bigquery_timeout_seconds()),
    )


def call_retry() -> Retry:
    """Retries of single API calls (429, 5xx, dropped connections), for at most the timeout."""
    return bigquery_retry.DEFAULT_RETRY.with_timeout(config.bigquery_timeout_seconds()).with_delay(
        initial=0.5, maximum=10.0, multiplier=2.0)


def job_retry() -> Retry:
    """Restarts of query jobs that failed for a transient reason, for at most the timeout."""
    return bigquery_retry.DEFAULT_JOB_RETRY.with_timeout(config.bigquery_timeout_seconds()).with_delay(
        initial=0.5, maximum=10.0, multiplier=2.0)


def submit_bounds() -> dict:
    """Keyword arguments of client.query(): bounded time and retries for submitting a job."""
    # job_retry=None here: when set, the client wraps job submission in its own fixed 10-minute
    # retry, ignoring our bound. Failed jobs are restarted by the bounded job_retry of result().
    return {'timeout': config.bigquery_timeout_seconds(), 'retry': call_retry(), 'job_retry': None}
