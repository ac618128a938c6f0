"""Wires the mara packages to the project, in this order: settings from `.env` and `local_setup.py`,
then the workarounds for mara bugs (`mara_fixes.py`), run control (`runs/`), then mara's configuration (`wiring.py`).
"""

import importlib
import pathlib
import shutil
import sys

from app import config, env

env.load_file(config.PROJECT_ROOT / '.env')


def _load_local_setup() -> None:
    """Imports the git-ignored `local_setup.py`, created from `local_setup.py.example` on first run."""
    here = pathlib.Path(__file__).parent
    target = here / 'local_setup.py'
    if not target.exists():
        try:
            shutil.copyfile(here / 'local_setup.py.example', target)
        except OSError as error:  # e.g. a read-only code directory in a production image
            print(f'Not creating {target} ({error.strerror}): using environment settings only.', file=sys.stderr)
            return
        print(f'Created {target} from local_setup.py.example; adapt it to your machine.', file=sys.stderr)
    importlib.import_module('app.local_setup')


_load_local_setup()

from app import mara_fixes, runs, wiring  # noqa: F401  (after the settings above are in place)

runs.install()
