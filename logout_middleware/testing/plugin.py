"""The ``pytest11`` entry point of logout-middleware: off until a project switches it on.

pytest loads this module in every project that has logout-middleware installed; it
only registers the ini option below and does nothing else. A project switches the
kit's fixtures (:mod:`logout_middleware.testing.fixtures`) on in any one of three ways:

* in its pytest configuration (``pyproject.toml``, ``pytest.ini``, ``setup.cfg``)::

      [tool.pytest.ini_options]
      logout_middleware_fixtures = true

* on the command line: ``pytest -p logout_middleware.testing.fixtures``;
* in its root ``conftest.py``: ``pytest_plugins = ["logout_middleware.testing.fixtures"]``.

``-p no:logout_middleware`` keeps even this module out.
"""

from __future__ import annotations

import pytest

__all__ = ["FIXTURES", "INI_OPTION"]

#: The ini option that switches the fixtures on.
INI_OPTION = "logout_middleware_fixtures"
#: The plugin module with the fixtures.
FIXTURES = "logout_middleware.testing.fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        INI_OPTION,
        type="bool",
        default=False,
        help="switch on logout-middleware's fixtures (assert_logout_deletes_cookie, "
        "assert_no_cookie_problems)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getini(INI_OPTION) and not config.pluginmanager.has_plugin(FIXTURES):
        config.pluginmanager.import_plugin(FIXTURES)
