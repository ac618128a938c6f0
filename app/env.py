"""Reading settings from environment variables (kept out of app/config.py, whose functions are all settings)."""

import os
import pathlib

import dotenv


def string(name: str, default: str) -> str:
    """The variable's value, or `default` when it is unset or blank."""
    value = os.environ.get(name, '')
    return value if value.strip() else default


def boolean(name: str, default: bool) -> bool:
    """true/yes/on/1 or false/no/off/0; anything else is an error that names the variable."""
    value = string(name, 'true' if default else 'false').strip().lower()
    if value not in ('1', 'true', 'yes', 'on', '0', 'false', 'no', 'off'):
        raise ValueError(f'{name}={value!r} is not a boolean; use true or false')
    return value in ('1', 'true', 'yes', 'on')


def load_file(path: pathlib.Path) -> None:
    """Puts the settings of a `.env` file into the environment, below the variables set there already.

    An empty value means the default, so it sets nothing, and the defaults of `app/local_setup.py` (which fills
    only what is unset) still apply: an empty value that the `flask` command loaded from the file before the app
    started is taken out again. Precedence: the environment, then .env, then local_setup.py, then app/config.py.
    """
    for name, value in dotenv.dotenv_values(path).items():
        if value is None or not value.strip():
            if name in os.environ and not os.environ[name].strip():
                del os.environ[name]
        elif not os.environ.get(name, '').strip():
            os.environ[name] = value
