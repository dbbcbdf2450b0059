"""Shared pytest configuration.

The environment itself is prepared by `console/testing/pytest_plugin.py`.
"""

import sys

import pytest


@pytest.fixture(autouse=True)
def _language_reset():
    """Each test starts and ends in the default language. A request by a user who prefers
    Chinese activates it in this thread (the console's language middleware, like Django's
    LocaleMiddleware, does not undo that), and text built later in the thread would follow.
    Django is not imported here (tests/core run without it)."""
    translation = sys.modules.get("django.utils.translation")
    if translation is not None:
        translation.deactivate()
    yield
    translation = sys.modules.get("django.utils.translation")
    if translation is not None:
        translation.deactivate()
