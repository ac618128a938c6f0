"""Wires the mara packages to the project: the one place where mara's configuration is patched.

Every mara package reads its settings from functions in its `config` module. Here each of them
is replaced by the project's own setting from `app/config.py`, so that a reader finds all wiring
in one file. Workarounds for mara bugs live separately, in `app/mara_fixes.py`.
"""

import pathlib
import shutil
import sys

from dotenv import load_dotenv

from app import config

load_dotenv(config.PROJECT_ROOT / '.env', override=False)


def _ensure_local_setup() -> None:
    """Copies `local_setup.py.example` to the git-ignored `local_setup.py` on first run."""
    here = pathlib.Path(__file__).parent
    target = here / 'local_setup.py'
    if not target.exists():
        shutil.copyfile(here / 'local_setup.py.example', target)
        print(f'Created {target} from local_setup.py.example; adapt it to your machine.', file=sys.stderr)


_ensure_local_setup()

# machine-specific defaults first, then the bug workarounds, then mara's configuration
from app import (
    local_setup,  # noqa: F401
    mara_fixes,  # noqa: F401
    wiring,  # noqa: F401
)
