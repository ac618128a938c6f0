"""Fixtures of the web UI's tests."""

import pytest

from tests.browser import chromium


@pytest.fixture(scope='module')
def browser():
    """Headless Chromium, one per test module."""
    with chromium() as browser:
        yield browser
