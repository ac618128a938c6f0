"""All settings of the project, as small functions.

Every setting can be overridden by an environment variable of the same name in upper case
(see `.env.example`). A `.env` file in the project root is read at start-up (`env.load_file`), and the
git-ignored `app/local_setup.py` can set machine-specific defaults.
"""

import datetime
import multiprocessing
import pathlib

import packaging.utils

from app import env

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- data files

def data_dir() -> pathlib.Path:
    """Where the per-day CSV files live (DATA_DIR, default ./data)."""
    path = pathlib.Path(env.string('DATA_DIR', str(PROJECT_ROOT / 'data')))
    return path if path.is_absolute() else (PROJECT_ROOT / path)


def first_date() -> datetime.date:
    """The first day to download and process (FIRST_DATE, YYYY-MM-DD)."""
    return datetime.date.fromisoformat(env.string('FIRST_DATE', '2018-04-01'))


def last_date() -> datetime.date:
    """The last day to download and process: yesterday, or LAST_DATE (YYYY-MM-DD) when set."""
    value = env.string('LAST_DATE', '')
    return datetime.date.fromisoformat(value) if value else datetime.date.today() - datetime.timedelta(days=1)


# ---------------------------------------------------------------- database

def postgres_host() -> str:
    """Host of an existing PostgreSQL server (POSTGRES_HOST); empty means the project-local cluster."""
    return env.string('POSTGRES_HOST', '')


def postgres_port() -> int:
    """Port of the PostgreSQL server (POSTGRES_PORT, default 5432)."""
    return int(env.string('POSTGRES_PORT', '5432'))


def postgres_user() -> str:
    """Database role used by the app and the ETL (POSTGRES_USER, default postgres)."""
    return env.string('POSTGRES_USER', 'postgres')


def postgres_password() -> str:
    """Password of that role (POSTGRES_PASSWORD); empty for the local cluster, which trusts local connections."""
    return env.string('POSTGRES_PASSWORD', '')


def dwh_db() -> str:
    """Name of the data warehouse database (DWH_DB)."""
    return env.string('DWH_DB', 'example_project_dwh')


def mara_db() -> str:
    """Name of the database with mara's own tables: run logs, users, incremental state (MARA_DB)."""
    return env.string('MARA_DB', 'example_project_mara')


def citus_workers() -> int:
    """How many Citus worker clusters `make citus` creates beside the project-local coordinator, on the ports after
    POSTGRES_PORT (CITUS_WORKERS, default 0: Citus on one node, columnar storage without workers). Read when the
    clusters are created; afterwards they are started and registered wherever they exist."""
    return int(env.string('CITUS_WORKERS', '0'))


def local_cluster_dir() -> pathlib.Path:
    """Where the project-local PostgreSQL cluster keeps its data (POSTGRES_LOCAL_DIR, git-ignored)."""
    return pathlib.Path(env.string('POSTGRES_LOCAL_DIR', str(PROJECT_ROOT / '.postgres')))


# ---------------------------------------------------------------- ETL

def max_parallel_tasks() -> int:
    """How many ETL tasks run at once (MAX_PARALLEL_TASKS, default: number of cores)."""
    return int(env.string('MAX_PARALLEL_TASKS', str(multiprocessing.cpu_count())))


def full_rebuild() -> bool:
    """Whether the next runs build every day anew instead of only the changed ones (FULL_REBUILD, default
    false; `make rebuild` sets it for one run). The result is the same warehouse."""
    return env.boolean('FULL_REBUILD', False)


def allow_run_from_web_ui() -> bool:
    """Whether the web UI may start ETL runs (ALLOW_RUN_FROM_WEB_UI, default false: off in production)."""
    return env.boolean('ALLOW_RUN_FROM_WEB_UI', False)


def web_ui_url() -> str:
    """The address of the web UI as its users open it, for the addresses of run pages that runs print (WEB_UI_URL;
    default http://localhost:FLASK_RUN_PORT, the development server's port, 5000 unless set)."""
    return env.string('WEB_UI_URL', f"http://localhost:{env.string('FLASK_RUN_PORT', '5000')}").rstrip('/')


def run_log_dir() -> pathlib.Path:
    """Where each run writes its live log, which the web UI follows (RUN_LOG_DIR, default ./logs/runs)."""
    path = pathlib.Path(env.string('RUN_LOG_DIR', str(PROJECT_ROOT / 'logs' / 'runs')))
    return path if path.is_absolute() else (PROJECT_ROOT / path)


def system_statistics_seconds() -> float:
    """How often a run samples CPU, memory, disc and network use (SYSTEM_STATISTICS_SECONDS, default 0.25; the
    first ten measurements of a run come every 0.1 s, and one is taken when the run starts and when it ends, so
    that short runs have some too)."""
    return float(env.string('SYSTEM_STATISTICS_SECONDS', '0.25'))


def columnar_storage() -> str:
    """Columnar storage for the flat data sets and the checked raw days (COLUMNAR_STORAGE): auto (use it when the
    server has it), on or off."""
    value = env.string('COLUMNAR_STORAGE', 'auto').lower()
    if value not in ('auto', 'on', 'off'):
        raise ValueError(f'COLUMNAR_STORAGE={value!r}; use auto, on or off')
    return value


# ---------------------------------------------------------------- BigQuery downloader

def bigquery_credentials_file() -> pathlib.Path:
    """Google Cloud service account key (GOOGLE_APPLICATION_CREDENTIALS); git-ignored default location."""
    return pathlib.Path(env.string('GOOGLE_APPLICATION_CREDENTIALS',
                             str(PROJECT_ROOT / 'app' / 'bigquery_downloader' / 'bigquery-credentials.json')))


def bigquery_project() -> str:
    """Google Cloud project that is billed for queries (BIGQUERY_PROJECT); empty: the one of the credentials."""
    return env.string('BIGQUERY_PROJECT', '')


def bigquery_api_endpoint() -> str:
    """BigQuery REST endpoint (BIGQUERY_API_ENDPOINT); empty: Google's. Set for emulators and tests."""
    return env.string('BIGQUERY_API_ENDPOINT', '')


def bigquery_maximum_bytes_billed() -> int:
    """Refuse queries that would scan more bytes than this (BIGQUERY_MAXIMUM_BYTES_BILLED, default 1 TB)."""
    return int(env.string('BIGQUERY_MAXIMUM_BYTES_BILLED', str(10 ** 12)))


def bigquery_timeout_seconds() -> float:
    """Timeout of each BigQuery API call, and bound of its retries (BIGQUERY_TIMEOUT_SECONDS)."""
    return float(env.string('BIGQUERY_TIMEOUT_SECONDS', '120'))


def bigquery_budget_tib() -> float:
    """Refuse a download whose dry runs add up to more TiB than this (BIGQUERY_BUDGET_TIB, default 1: the
    monthly free tier of on-demand queries). Checked before anything is billed."""
    return float(env.string('BIGQUERY_BUDGET_TIB', '1'))


def bigquery_price_per_tib() -> float:
    """On-demand price in USD per TiB scanned, for the cost estimate (BIGQUERY_PRICE_PER_TIB, default 6.25)."""
    return float(env.string('BIGQUERY_PRICE_PER_TIB', '6.25'))


def bigquery_pypi_projects() -> tuple[str, ...]:
    """Download only these PyPI projects (BIGQUERY_PYPI_PROJECTS, comma-separated; empty: all), normalized and
    without duplicates, in the order given. The table stores PEP 503-normalized names (`Flask` is `flask`,
    `zope.interface` is `zope-interface`), so a name as written on PyPI would match nothing. The table is
    clustered by project: BigQuery bills far less for a short list, but its dry run cannot tell how much less."""
    given = env.string('BIGQUERY_PYPI_PROJECTS', '').split(',')
    names = (packaging.utils.canonicalize_name(name.strip()) for name in given)
    return tuple(dict.fromkeys(name for name in names if name))


def bigquery_refresh_days() -> int:
    """A day's file is downloaded again until it was written at least this many days after the day
    (BIGQUERY_REFRESH_DAYS, default 3; 0: never), because the source may still change."""
    return int(env.string('BIGQUERY_REFRESH_DAYS', '3'))


# ---------------------------------------------------------------- web UI

DEFAULT_SECRET_KEY = 'change-me-in-production'  # production refuses to start with it (app/access.py)


def secret_key() -> str:
    """Flask secret key, signs the session cookie (SECRET_KEY); production needs a random one of 32+ characters."""
    return env.string('SECRET_KEY', DEFAULT_SECRET_KEY)


def require_email_http_header() -> bool:
    """Whether the development server also requires the login proxy's email header (REQUIRE_EMAIL_HTTP_HEADER);
    production (gunicorn, `app.app:wsgi_app`) always requires it."""
    return env.boolean('REQUIRE_EMAIL_HTTP_HEADER', False)


def email_http_header() -> str:
    """HTTP header in which the login proxy passes the user's email (EMAIL_HTTP_HEADER, oauth2-proxy's default)."""
    return env.string('EMAIL_HTTP_HEADER', 'X-Forwarded-Email')


def new_user_role() -> str:
    """ACL role of an email that the ACL does not know yet (NEW_USER_ROLE); by default it may only view pipelines."""
    return env.string('NEW_USER_ROLE', 'Guest')
