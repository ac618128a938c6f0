"""Prints the database settings of app/config.py as shell exports, so that scripts and the app agree."""

import shlex

from app import config

settings = {
    'POSTGRES_HOST': config.postgres_host(),
    'POSTGRES_PORT': config.postgres_port(),
    'POSTGRES_USER': config.postgres_user(),
    'POSTGRES_PASSWORD': config.postgres_password(),
    'DWH_DB': config.dwh_db(),
    'MARA_DB': config.mara_db(),
    'POSTGRES_LOCAL_DIR': config.local_cluster_dir(),
    'CITUS_WORKERS': config.citus_workers(),
}
for name, value in settings.items():
    print(f'export {name}={shlex.quote(str(value))}')
