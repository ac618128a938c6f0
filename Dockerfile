# The app image: the mara web UI and the ETL (flask CLI) on Python 3.11.
#
# Default command: PRODUCTION (gunicorn behind a login proxy, ETL runs from the web UI switched off);
# it refuses to start without a SECRET_KEY of its own (see the README's "Security" section).
# docker-compose.yml builds the development variant (INSTALL_DEV_REQUIREMENTS=true) and overrides
# the command (flask dev server, runs from the web UI allowed, the codebase bind-mounted over /mara).
#
#   docker build -t mara-app .
#   docker run -p 127.0.0.1:5000:5000 -e POSTGRES_HOST=... -e POSTGRES_PASSWORD=... -e SECRET_KEY=... mara-app
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

# The user that runs the app has the uid MARA_UID. With the codebase bind-mounted (docker-compose.yml),
# build with your host uid (`id -u`, in .env), so that ./data is writable in the container and the files
# written there are yours. Any uid works, root (0) included: a user or group that has the id already
# (root, or a user of the base image) is used as it is, otherwise `mara` is created.
ARG MARA_UID=1000
RUN if ! getent group "${MARA_UID}" >/dev/null; then groupadd --gid "${MARA_UID}" mara; fi \
    && if ! getent passwd "${MARA_UID}" >/dev/null; then \
         useradd --uid "${MARA_UID}" --gid "${MARA_UID}" --create-home --shell /bin/bash mara; \
       fi

WORKDIR /mara

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# Dependencies first: these layers are rebuilt only when the pinned requirements change.
# The development and test tools (pytest, playwright, ruff, ...) only go into the development image.
COPY requirements.txt.freeze requirements-dev.txt ./
RUN pip install --no-cache-dir -r requirements.txt.freeze
ARG INSTALL_DEV_REQUIREMENTS=false
RUN if [ "${INSTALL_DEV_REQUIREMENTS}" = true ]; then pip install --no-cache-dir -r requirements-dev.txt; fi

# The application code stays owned by root (read-only for the app user);
# only the data directory and the runs' live logs (RUN_LOG_DIR) are writable. See .dockerignore for what is left out.
COPY . .
RUN mkdir -p /mara/data /mara/logs/runs && chown "${MARA_UID}:$(id -g "${MARA_UID}")" /mara/data /mara/logs/runs

# Defaults for the settings in app/config.py (all overridable with -e / environment:).
# POSTGRES_HOST must point to a server: the image contains no PostgreSQL server,
# so the project-local cluster (empty POSTGRES_HOST) is not available here.
# Passwords and SECRET_KEY are deliberately NOT set here: pass them at run time.
ENV FLASK_APP=app.app \
    DATA_DIR=/mara/data \
    POSTGRES_HOST=postgres \
    POSTGRES_PORT=5432 \
    ALLOW_RUN_FROM_WEB_UI=false

USER ${MARA_UID}

EXPOSE 5000

# Liveness: the HTTP server answers; any HTTP status counts (without the login header, 403).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/mara/.scripts/docker/app/healthcheck.py"]

# Production: gunicorn serving the production entry point app.app:wsgi_app, which requires the login
# proxy's email header and a SECRET_KEY. ALLOW_RUN_FROM_WEB_UI=false above keeps ETL runs out of
# the web server processes; run them with `flask mara-pipelines run`.
CMD ["gunicorn", "--bind", "0.0.0.0:5000", "--workers", "3", "--timeout", "120", \
     "--access-logfile", "-", "app.app:wsgi_app"]
