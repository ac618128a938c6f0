"""Helpers shared by the tests (no tests here)."""

import pathlib

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
