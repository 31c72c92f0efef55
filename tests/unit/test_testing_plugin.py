"""The pytest plugin: registered through the ``pytest11`` entry point, off until a
project switches it on (ini option, ``-p``, or ``pytest_plugins``), and off in this
repository's own run.

Each way of switching it on runs a small WebTest suite in a pytest of its own (a
subprocess in a temporary directory, all started at once): a right configuration
passes, a wrong ``cookie_path`` fails with the message that names it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from logout_middleware.testing.plugin import FIXTURES, INI_OPTION

SUITE = """
import webtest
from werkzeug.http import dump_cookie

from logout_middleware import DEFAULT_LOGOUT_PATH, LogoutMiddleware, MemoryBackend


def app(environ, start_response):
    cookie = dump_cookie("session", "abc", path="/studio", httponly=True, samesite="Lax")
    start_response("200 OK", [("Set-Cookie", cookie)])
    return [b"logged in"]


RIGHT = LogoutMiddleware(app, MemoryBackend(), cookie_path="/studio")
WRONG = LogoutMiddleware(app, MemoryBackend())


def test_right(assert_logout_deletes_cookie, assert_no_cookie_problems):
    client = webtest.TestApp(RIGHT, extra_environ={"SCRIPT_NAME": "/studio"})
    login = client.get("/login")
    assert_logout_deletes_cookie(login, client.post(DEFAULT_LOGOUT_PATH))
    assert_no_cookie_problems(RIGHT, login, script_name="/studio")


def test_wrong(assert_logout_deletes_cookie):
    client = webtest.TestApp(WRONG, extra_environ={"SCRIPT_NAME": "/studio"})
    login = client.get("/login")
    assert_logout_deletes_cookie(login, client.post(DEFAULT_LOGOUT_PATH), "session")


def test_wrong_at_start_up(assert_no_cookie_problems):
    client = webtest.TestApp(WRONG, extra_environ={"SCRIPT_NAME": "/studio"})
    assert_no_cookie_problems(WRONG, client.get("/login"), script_name="/studio")
"""

INI = f"[pytest]\n{INI_OPTION} = true\n"
#: name: (pytest.ini, conftest.py, extra arguments, extra environment)
WAYS: dict[str, tuple[str, str, list[str], dict[str, str]]] = {
    "not-switched-on": ("[pytest]\n", "", [], {}),
    "ini-option": (INI, "", [], {}),
    "command-line": ("[pytest]\n", "", ["-p", FIXTURES], {}),
    "conftest": ("[pytest]\n", f"pytest_plugins = [{FIXTURES!r}]\n", [], {}),
    "ini-option-and-command-line": (INI, "", ["-p", FIXTURES], {}),
    "ini-option-but-entry-point-blocked": (INI, "", ["-p", "no:logout_middleware"], {}),
    "command-line-without-autoload": (
        "[pytest]\n",
        "",
        ["-p", FIXTURES],
        {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    ),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Every way at once, each in its own directory; name -> pytest's output."""
    started = {}
    for name, (ini, conftest, args, env) in WAYS.items():
        where = tmp_path_factory.mktemp(name)
        (where / "pytest.ini").write_text(ini)
        (where / "test_logout.py").write_text(SUITE)
        if conftest:
            (where / "conftest.py").write_text(conftest)
        environment = {**os.environ, **env}
        environment.pop("PYTHONDEVMODE", None)
        started[name] = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
            cwd=where,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    outputs = {name: process.communicate(timeout=120)[0] for name, process in started.items()}
    yield outputs


@pytest.mark.parametrize(
    "way",
    [
        "ini-option",
        "command-line",
        "conftest",
        "ini-option-and-command-line",
        "command-line-without-autoload",
    ],
)
def test_each_way_of_switching_on_gives_the_fixtures(runs: dict[str, str], way: str) -> None:
    output = runs[way]
    assert "1 passed" in output and "2 failed" in output, output
    assert (
        "AssertionError: the browser keeps the cookie session (Path=/studio, host-only on "
        "www.example.com) after the logout: the cookie was set with Path=/studio; the "
        "deletion has Path=/: set cookie_path='/studio'"
    ) in output
    assert (
        "the middleware would not delete 'session=abc; HttpOnly; Path=/studio; SameSite=Lax'"
        in output
    )


@pytest.mark.parametrize("way", ["not-switched-on", "ini-option-but-entry-point-blocked"])
def test_without_switching_on_there_are_no_fixtures(runs: dict[str, str], way: str) -> None:
    output = runs[way]
    assert "fixture 'assert_logout_deletes_cookie' not found" in output, output
    assert "3 errors" in output, output


def test_the_entry_point_is_registered() -> None:
    (entry,) = [e for e in entry_points(group="pytest11") if e.name == "logout_middleware"]
    assert entry.value == "logout_middleware.testing.plugin", (
        "the installed metadata is stale: reinstall the project (pip install -e .)"
    )


def test_the_fixtures_are_off_in_this_repositorys_own_run(request: pytest.FixtureRequest) -> None:
    assert not request.config.pluginmanager.has_plugin(FIXTURES)
    assert request.config.getini(INI_OPTION) is False
    with pytest.raises(pytest.FixtureLookupError):
        request.getfixturevalue("assert_logout_deletes_cookie")


def test_the_suite_is_what_the_docs_describe() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "testing.rst"
    text = docs.read_text()
    for way in (
        INI_OPTION,
        f"-p {FIXTURES}",
        f'pytest_plugins = ["{FIXTURES}"]',
        "-p no:logout_middleware",
    ):
        assert way in text, way
