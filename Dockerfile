# The app image: the mara web UI and the ETL (flask CLI) on Python 3.11.
#
# Default command: PRODUCTION (gunicorn, ETL runs from the web UI switched off).
# docker-compose.yml overrides the command for development (flask dev server,
# runs from the web UI allowed, the codebase bind-mounted over /mara).
#
#   docker build -t mara-app .
#   docker run -p 5000:5000 -e POSTGRES_HOST=... -e POSTGRES_PASSWORD=... mara-app
FROM python:3.11-slim-bookworm

# graphviz: `dot` renders the pipeline dependency graphs in the web UI
# dialog: the interactive pipeline runner (flask mara-pipelines run-interactively)
# postgresql-client: psql/pg_dump, used by mara-db and the ETL to load and query data
# make, gzip: the project's Makefile targets and the gzipped per-day CSV files
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       graphviz \
       dialog \
       postgresql-client \
       make \
       gzip \
    && rm -rf /var/lib/apt/lists/*

# Unprivileged user that runs the app. In development the codebase is bind-mounted,
# so build with MARA_UID = your host uid (docker-compose.yml passes it) to keep
# files written to ./data owned by you.
ARG MARA_UID=1000
RUN groupadd --gid "${MARA_UID}" mara \
    && useradd --uid "${MARA_UID}" --gid mara --create-home --shell /bin/bash mara

WORKDIR /mara

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# Dependencies first: this layer is rebuilt only when the pinned requirements change.
COPY requirements.txt.freeze ./
RUN pip install --no-cache-dir -r requirements.txt.freeze

# The application code stays owned by root (read-only for the app user);
# only the data directory and the runs' live logs (RUN_LOG_DIR) are writable. See .dockerignore for what is left out.
COPY . .
RUN mkdir -p /mara/data /mara/logs/runs && chown mara:mara /mara/data /mara/logs/runs

# Defaults for the settings in app/config.py (all overridable with -e / environment:).
# POSTGRES_HOST must point to a server: the image contains no PostgreSQL server,
# so the project-local cluster (empty POSTGRES_HOST) is not available here.
# Passwords and SECRET_KEY are deliberately NOT set here: pass them at run time.
ENV FLASK_APP=app.app \
    DATA_DIR=/mara/data \
    POSTGRES_HOST=postgres \
    POSTGRES_PORT=5432 \
    ALLOW_RUN_FROM_WEB_UI=false

USER mara

EXPOSE 5000

# Liveness: the HTTP server answers (mara has no `/` route, so any HTTP status counts).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/mara/.scripts/docker/app/healthcheck.py"]

# Production: gunicorn serving the WSGI app. ALLOW_RUN_FROM_WEB_UI=false above keeps
# ETL runs out of the web server processes; run them with `flask mara-pipelines run`.
CMD ["gunicorn", "--bind", "0.0.0.0:5000", "--workers", "3", "--timeout", "120", \
     "--access-logfile", "-", "app.app:wsgi_app"]
