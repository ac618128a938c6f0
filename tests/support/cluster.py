"""The PostgreSQL server of a test session (TEST_CLUSTER):

- `local` (the default): the server that `make start-db` started (the project-local cluster) or POSTGRES_HOST;
  the session works in databases of its own on it;
- `citus`: a single Citus node of the session's own (columnar storage);
- `citus-workers`: a Citus coordinator with two worker clusters of the session's own.

The session's own clusters are made by the project's scripts (.scripts/postgres.sh citus, as `make citus` does),
on free ports and in a folder of their own, and stopped and removed when the session ends: a test never touches
the development warehouse's cluster, nor its worker nodes.
"""

import atexit
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile

from tests.support import PROJECT_ROOT

WORKERS = {'local': None, 'citus': 0, 'citus-workers': 2}


def mode() -> str:
    value = os.environ.get('TEST_CLUSTER', '') or 'local'
    if value not in WORKERS:
        raise ValueError(f'TEST_CLUSTER={value!r}; use one of {", ".join(WORKERS)}')
    return value


def is_citus() -> bool:
    """Whether the session's server is one of its own Citus clusters."""
    return WORKERS[mode()] is not None


def _script(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(['bash', str(PROJECT_ROOT / '.scripts' / name), *args], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=600)


def _free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(('127.0.0.1', port)) != 0


def free_ports(count: int) -> int:
    """The first of `count` consecutive free ports (the workers listen on the ports after the coordinator's)."""
    for _attempt in range(50):
        with socket.socket() as probe:
            probe.bind(('127.0.0.1', 0))
            first = probe.getsockname()[1]
        if first + count < 65536 and all(_free(port) for port in range(first, first + count)):
            return first
    raise RuntimeError(f'no {count} consecutive free ports on 127.0.0.1')


def start() -> dict[str, str]:
    """Starts the session's own clusters, if its mode asks for them; returns the settings that point the session
    (and every program it starts) at them."""
    workers = WORKERS[mode()]
    if workers is None:
        return {}
    directory = pathlib.Path(tempfile.mkdtemp(prefix='mara-test-citus-', dir='/tmp'))
    os.chmod(directory, 0o755)  # the postgres OS user must reach it
    settings = {'POSTGRES_HOST': '', 'POSTGRES_PASSWORD': '', 'POSTGRES_LOCAL_DIR': str(directory / 'pg'),
                'POSTGRES_PORT': str(free_ports(workers + 1)), 'CITUS_WORKERS': str(workers)}
    os.environ.update(settings)
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    atexit.register(_script, 'postgres.sh', 'stop')  # runs before the removal (last registered, first run)
    result = _script('postgres.sh', 'citus')
    if result.returncode:
        raise RuntimeError(f'could not start the Citus clusters of TEST_CLUSTER={mode()}:\n'
                           f'{result.stdout}{result.stderr}')
    return settings


def worker_nodes() -> list[tuple[str, int]]:
    """The Citus worker nodes of the session's server (also those of a local cluster made by `make citus`)."""
    result = _script('postgres.sh', 'workers')
    assert result.returncode == 0, result.stderr
    return [(line.rsplit(':', 1)[0], int(line.rsplit(':', 1)[1])) for line in result.stdout.split()]
