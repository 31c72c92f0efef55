"""Shared fixtures. Server fixtures (Redis, PostgreSQL, gunicorn, Chromium) live in
``servers.py`` and are re-exported here so every test module can use them."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

#: Under CI a test that cannot find its server or browser fails instead of skipping.
STRICT = (
    os.environ.get("CI", "").lower() == "true"
    or os.environ.get("LOGOUT_MIDDLEWARE_STRICT", "") == "1"
)


def unavailable(reason: str) -> NoReturn:
    """Skip the current test for lack of ``reason``, or fail under CI."""
    if STRICT:
        pytest.fail(f"{reason} (CI=true: a missing server or browser is a failure)")
    pytest.skip(reason)


try:  # the server fixtures, once servers.py exists
    from servers import *  # noqa: F403
except ImportError as exc:  # pragma: no cover
    if exc.name != "servers":
        raise
