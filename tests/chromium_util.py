"""Chromium for the browser tests: one launch, with the same flags everywhere.

As root Chromium needs ``--no-sandbox``; ``--disable-background-networking`` and
its neighbours keep it from dialling out (only loopback is reachable here). Each
test names its own host resolver rules (test hosts mapped to 127.0.0.1).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from conftest import unavailable

__all__ = ["CHROMIUM", "launched"]

CHROMIUM = "/usr/bin/chromium"
_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-proxy-server",
)


@contextmanager
def launched(resolver_rules: str, *extra_args: str) -> Iterator[Any]:
    """A headless Chromium (Playwright's ``Browser``) whose resolver maps the test
    hosts by ``resolver_rules``; missing Chromium or Playwright is
    :func:`~conftest.unavailable` (a skip, or under ``CI=true`` a failure)."""
    if not os.path.exists(CHROMIUM):
        unavailable(f"{CHROMIUM} is missing (Debian package chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        unavailable("the playwright Python package is not installed")
    args = [*_ARGS, *extra_args, f"--host-resolver-rules={resolver_rules}"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=args, headless=True, timeout=30_000
        )
        try:
            yield browser
        finally:
            browser.close()
