# Shared by the project's shell scripts: settings from app/config.py, messages, psql connection.
set -euo pipefail

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$PROJECT_ROOT"

die() { echo "ERROR: $*" >&2; exit 1; }
info() { echo "==> $*"; }

[ -x .venv/bin/python ] || die "no virtual environment in .venv; run 'make install-packages' first"
settings="$(PYTHONPATH=. .venv/bin/python .scripts/db_env.py)" || die "could not read the settings of app/config.py (see above)"
eval "$settings"

# libpq variables for psql and pg_isready; the local cluster listens on 127.0.0.1
export PGHOST="${POSTGRES_HOST:-127.0.0.1}" PGPORT="$POSTGRES_PORT" PGUSER="$POSTGRES_USER"
[ -z "$POSTGRES_PASSWORD" ] || export PGPASSWORD="$POSTGRES_PASSWORD"
