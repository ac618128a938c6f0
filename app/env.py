"""Reading settings from environment variables (kept out of app/config.py, whose functions are all settings)."""

import os


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
