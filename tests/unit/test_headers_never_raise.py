"""No header byte makes an exception escape (issue 10, item 4).

A WSGI header string is latin-1 (PEP 3333): a client can put any of the 256
characters U+0000..U+00FF anywhere in any header. This test is the deterministic
counterpart of the fuzzer: for every header the middleware reads, it puts *each*
latin-1 character into *each* kind of position of a well-formed value (a port digit,
the host, the scheme, a separator, a cookie name, a cookie value, a token...) and
sends the request through ``wsgiref.validate.validator`` and werkzeug's
``LintMiddleware`` (:func:`reliability_util.checked_call`). Every answer must be:

* an answer, not an exception;
* a documented status: on the logout path ``200``, ``303`` (redirect mode), ``403``
  or ``405`` (the store never fails here, so ``500`` is not one); elsewhere the
  application's own;
* on the logout path, with ``Cache-Control: no-store`` and a JSON body (or a
  ``Location`` for a ``303``), and without the application being called;
* free of any WSGI or HTTP lint warning (werkzeug's lint parses a ``Location``:
  one built on ``Host: [1]``, a bracketed host that is no IPv6 address, is not a
  URL and raises there).

Each case collects every character that broke it before failing, so a failure lists
them all (e.g. ``'http://localhost:\\xb2'``: ``\\xb2`` passes ``str.isdigit()``
and fails ``int()``).
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from reliability_util import LOGOUT, SeededBackend, checked_call

from logout_middleware import LogoutMiddleware
from logout_middleware.revocation import MemoryRevocationStore

#: Every latin-1 character.
LATIN1 = [chr(i) for i in range(256)]
#: The statuses the logout path may answer here (middleware.py's table; no 500: the
#: store never fails in this test).
DOCUMENTED = frozenset({200, 303, 403, 405})
APP_STATUS = 299
#: The request's own origin in every case (Host: localhost on plain http).
OWN = "http://localhost"
SESSION = "s1"


def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("299 From App", [("Content-Type", "text/plain"), ("Content-Length", "3")])
    return [b"app"]


class CountingApp:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.calls += 1
        return app(environ, start_response)


def _middleware(mode: str, wrapped: CountingApp, backend: SeededBackend) -> LogoutMiddleware:
    options: dict[str, Any] = {
        "default": {},
        "trusted": {"trusted_origins": ["https://trusted.example"]},
        "csrf": {"csrf_cookie_name": "XSRF-TOKEN", "csrf_header_name": "X-XSRF-TOKEN"},
        "redirect": {"redirect_to": "/login?logout", "allowed_redirect_hosts": ["example.com"]},
        "revocation": {"revocation": MemoryRevocationStore(), "revocation_max_age": 60},
    }[mode]
    return LogoutMiddleware(wrapped, backend, **options)


@dataclass(frozen=True)
class Case:
    """One header, one kind of position: ``build(c)`` is the request with the latin-1
    character ``c`` in that position."""

    name: str
    mode: str
    build: Callable[[str], dict[str, str]]
    path: str = LOGOUT


def _post(**headers: str) -> dict[str, str]:
    return {"REQUEST_METHOD": "POST", "PATH_INFO": LOGOUT, "HTTP_HOST": "localhost", **headers}


def _without_host(**headers: str) -> dict[str, str]:
    request = _post(**headers)
    del request["HTTP_HOST"]
    return request


def _redirect_form(**headers: str) -> dict[str, str]:
    return _post(CONTENT_TYPE="application/x-www-form-urlencoded", CONTENT_LENGTH="7", **headers)


CASES = [
    # -- Origin (the request's own origin is http://localhost) -------------------------
    Case("origin port digit", "default", lambda c: _post(HTTP_ORIGIN=f"{OWN}:{c}")),
    Case("origin port digit after 8", "default", lambda c: _post(HTTP_ORIGIN=f"{OWN}:8{c}")),
    Case("origin port digit before 0", "default", lambda c: _post(HTTP_ORIGIN=f"{OWN}:{c}0")),
    Case("origin port after 80", "default", lambda c: _post(HTTP_ORIGIN=f"{OWN}:80{c}")),
    Case("origin IPv6 port", "default", lambda c: _post(HTTP_ORIGIN=f"http://[::1]:{c}")),
    Case("origin in host", "default", lambda c: _post(HTTP_ORIGIN=f"http://local{c}host")),
    Case("origin host alone", "default", lambda c: _post(HTTP_ORIGIN=f"http://{c}")),
    Case("origin end of host", "default", lambda c: _post(HTTP_ORIGIN=f"{OWN}{c}")),
    Case("origin in IPv6 host", "default", lambda c: _post(HTTP_ORIGIN=f"http://[{c}]")),
    Case("origin in scheme", "default", lambda c: _post(HTTP_ORIGIN=f"htt{c}://localhost")),
    Case("origin before scheme", "default", lambda c: _post(HTTP_ORIGIN=f"{c}http://localhost")),
    Case("origin in separator", "default", lambda c: _post(HTTP_ORIGIN=f"http:/{c}/localhost")),
    Case("origin alone", "default", lambda c: _post(HTTP_ORIGIN=c)),
    Case("origin null", "default", lambda c: _post(HTTP_ORIGIN=f"null{c}")),
    Case(
        "trusted origin port digit",
        "trusted",
        lambda c: _post(HTTP_ORIGIN=f"https://trusted.example:{c}"),
    ),
    Case(
        "trusted origin cross-site",
        "trusted",
        lambda c: _post(HTTP_ORIGIN=f"https://trusted.exampl{c}", HTTP_SEC_FETCH_SITE="cross-site"),
    ),
    # -- Host (with an Origin that parses, so the request's own origin is built) -----
    Case(
        "host port digit", "default", lambda c: _post(HTTP_HOST=f"localhost:{c}", HTTP_ORIGIN=OWN)
    ),
    Case(
        "host port after 8",
        "default",
        lambda c: _post(HTTP_HOST=f"localhost:8{c}", HTTP_ORIGIN=OWN),
    ),
    Case("host in name", "default", lambda c: _post(HTTP_HOST=f"local{c}host", HTTP_ORIGIN=OWN)),
    Case("host alone", "default", lambda c: _post(HTTP_HOST=c, HTTP_ORIGIN=OWN)),
    Case("host IPv6 port", "default", lambda c: _post(HTTP_HOST=f"[::1]:{c}", HTTP_ORIGIN=OWN)),
    # -- SERVER_NAME / SERVER_PORT without a Host ------------------------------------
    Case(
        "server port without host",
        "default",
        lambda c: _without_host(SERVER_PORT=c, HTTP_ORIGIN=OWN),
    ),
    Case(
        "server port digit after 8",
        "default",
        lambda c: _without_host(SERVER_PORT=f"8{c}", HTTP_ORIGIN=OWN),
    ),
    Case(
        "server name without host",
        "default",
        lambda c: _without_host(SERVER_NAME=f"local{c}host", HTTP_ORIGIN=OWN),
    ),
    Case(
        "redirect server port without host",
        "redirect",
        lambda c: _without_host(SERVER_PORT=f"8{c}"),
    ),
    # -- Sec-Fetch-Site, alone and with an Origin -------------------------------------
    Case("fetch site alone", "default", lambda c: _post(HTTP_SEC_FETCH_SITE=c)),
    Case(
        "fetch site in same-origin",
        "default",
        lambda c: _post(HTTP_SEC_FETCH_SITE=f"same{c}origin"),
    ),
    Case(
        "fetch site after same-origin",
        "default",
        lambda c: _post(HTTP_SEC_FETCH_SITE=f"same-origin{c}"),
    ),
    Case("fetch site before none", "default", lambda c: _post(HTTP_SEC_FETCH_SITE=f"{c}none")),
    Case(
        "fetch site with null origin",
        "default",
        lambda c: _post(HTTP_SEC_FETCH_SITE=f"same-origin{c}", HTTP_ORIGIN="null"),
    ),
    Case(
        "fetch site with origin port",
        "default",
        lambda c: _post(HTTP_SEC_FETCH_SITE="same-origin", HTTP_ORIGIN=f"{OWN}:{c}"),
    ),
    Case(
        "fetch site same-site origin port",
        "trusted",
        lambda c: _post(
            HTTP_SEC_FETCH_SITE="same-site", HTTP_ORIGIN=f"https://trusted.example:{c}"
        ),
    ),
    # -- Referer (not read today; a guard may read it) --------------------------------
    Case("referer path", "default", lambda c: _post(HTTP_REFERER=f"{OWN}/{c}", HTTP_ORIGIN="null")),
    Case(
        "referer port", "default", lambda c: _post(HTTP_REFERER=f"{OWN}:{c}/", HTTP_ORIGIN="null")
    ),
    # -- Cookie: names and values -----------------------------------------------------
    Case("cookie value", "default", lambda c: _post(HTTP_COOKIE=f"session={c}")),
    Case("cookie value after id", "default", lambda c: _post(HTTP_COOKIE=f"session={SESSION}{c}")),
    Case("cookie quoted value", "default", lambda c: _post(HTTP_COOKIE=f'session="{c}"')),
    Case("cookie name", "default", lambda c: _post(HTTP_COOKIE=f"{c}={SESSION}")),
    Case(
        "cookie name after session", "default", lambda c: _post(HTTP_COOKIE=f"session{c}={SESSION}")
    ),
    Case(
        "cookie name before session",
        "default",
        lambda c: _post(HTTP_COOKIE=f"{c}session={SESSION}"),
    ),
    Case("cookie separator", "default", lambda c: _post(HTTP_COOKIE=f"a=b{c}session={SESSION}")),
    Case("cookie pair alone", "default", lambda c: _post(HTTP_COOKIE=f"session={SESSION}; {c}")),
    Case(
        "cookie with origin",
        "default",
        lambda c: _post(HTTP_COOKIE=f"session={c}", HTTP_ORIGIN=OWN),
    ),
    Case(
        "revocation cookie value",
        "revocation",
        lambda c: {"REQUEST_METHOD": "GET", "PATH_INFO": "/page", "HTTP_COOKIE": f"session=R{c}"},
        path="/page",
    ),
    Case(
        "revocation cookie name",
        "revocation",
        lambda c: {"REQUEST_METHOD": "GET", "PATH_INFO": "/page", "HTTP_COOKIE": f"session{c}=R"},
        path="/page",
    ),
    Case(
        "revocation logout cookie value", "revocation", lambda c: _post(HTTP_COOKIE=f"session=R{c}")
    ),
    # -- the double-submit token (csrf configured) ------------------------------------
    Case(
        "csrf header",
        "csrf",
        lambda c: _post(HTTP_COOKIE="XSRF-TOKEN=t0k", HTTP_X_XSRF_TOKEN=c),
    ),
    Case(
        "csrf header after token",
        "csrf",
        lambda c: _post(HTTP_COOKIE="XSRF-TOKEN=t0k", HTTP_X_XSRF_TOKEN=f"t0k{c}"),
    ),
    Case(
        "csrf token in both",
        "csrf",
        lambda c: _post(HTTP_COOKIE=f"XSRF-TOKEN=t{c}k", HTTP_X_XSRF_TOKEN=f"t{c}k"),
    ),
    Case(
        "csrf cookie name",
        "csrf",
        lambda c: _post(HTTP_COOKIE=f"XSRF-TOKEN{c}=t0k", HTTP_X_XSRF_TOKEN="t0k"),
    ),
    # -- Content-Length / Content-Type / next in redirect mode ------------------------
    Case(
        "redirect content length",
        "redirect",
        lambda c: {**_redirect_form(), "CONTENT_LENGTH": c},
    ),
    Case(
        "redirect content length after 7",
        "redirect",
        lambda c: {**_redirect_form(), "CONTENT_LENGTH": f"7{c}"},
    ),
    Case(
        "redirect content type",
        "redirect",
        lambda c: {**_redirect_form(), "CONTENT_TYPE": f"application/x-www-form-urlencoded{c}"},
    ),
    Case(
        "redirect content type parameter",
        "redirect",
        lambda c: {**_redirect_form(), "CONTENT_TYPE": f"application/x-www-form-urlencoded;{c}"},
    ),
    Case("redirect host port", "redirect", lambda c: _redirect_form(HTTP_HOST=f"localhost:{c}")),
    # A bracketed host must be an IPv6 address before it goes into a Location.
    Case("redirect IPv6 host alone", "redirect", lambda c: _redirect_form(HTTP_HOST=f"[{c}]")),
    Case("redirect IPv6 host end", "redirect", lambda c: _redirect_form(HTTP_HOST=f"[::1{c}]:80")),
    Case("redirect next raw", "redirect", lambda c: _post(QUERY_STRING=f"next=/{c}")),
    Case(
        "redirect next encoded",
        "redirect",
        lambda c: _post(
            QUERY_STRING="next=" + quote(f"http://example.com:{c}/", encoding="latin-1")
        ),
    ),
]


def _problem(
    case: Case,
    middleware: LogoutMiddleware,
    wrapped: CountingApp,
    request: dict[str, str],
    body: bytes,
) -> str | None:
    """What is wrong with the answer to ``request``, or ``None``."""
    calls = wrapped.calls
    try:
        answer = checked_call(middleware, request, body)
    except Exception as exc:  # the defect this test is about
        # Where: the last frame in the package, or werkzeug's lint rejecting the answer.
        frames = [
            f"{'/'.join(f.filename.rsplit('/', 2)[-2:])}:{f.lineno}"
            for f in traceback.extract_tb(exc.__traceback__)
            if "logout_middleware" in f.filename or f.filename.endswith("middleware/lint.py")
        ]
        return f"{type(exc).__name__} escaped: {exc} (at {frames[-1] if frames else '?'})"
    if answer.lint:
        return f"lint: {answer.lint}"
    if case.path != LOGOUT:
        if answer.status != APP_STATUS:
            return f"status {answer.status} instead of the app's"
        return None
    if wrapped.calls != calls:
        return "the app answered the logout path"
    if answer.status not in DOCUMENTED:
        return f"undocumented status {answer.status}"
    if answer.header("Cache-Control") != "no-store":
        return f"Cache-Control {answer.header('Cache-Control')!r}"
    if answer.status == 303:
        if not (answer.header("Location") or "").startswith(("http://", "https://")):
            return f"303 to {answer.header('Location')!r}"
        return None
    if answer.header("Content-Type") != "application/json":
        return f"Content-Type {answer.header('Content-Type')!r}"
    try:
        message = json.loads(answer.body)["message"]
    except (ValueError, KeyError, TypeError):
        return f"body {answer.body[:80]!r}"
    if (answer.status == 200) != (message == "OK"):
        return f"{answer.status} with message {message!r}"
    return None


@pytest.mark.parametrize("case", CASES, ids=[c.name.replace(" ", "-") for c in CASES])
def test_every_latin1_character_in_every_position_gets_a_documented_answer(case: Case) -> None:
    wrapped, backend = CountingApp(), SeededBackend()
    middleware = _middleware(case.mode, wrapped, backend)
    if case.mode == "revocation":  # revoke "R" first, so the filter has work to do
        first = checked_call(middleware, _post(HTTP_COOKIE="session=R"))
        assert first.status == 200, first
    failures = []
    for c in LATIN1:
        backend.seed([SESSION, "R", c, f"{SESSION}{c}"])
        request = case.build(c)
        body = b"next=/x" if case.mode == "redirect" else b""
        problem = _problem(case, middleware, wrapped, request, body)
        if problem is not None:
            shown = {k: v for k, v in request.items() if k not in ("REQUEST_METHOD", "PATH_INFO")}
            failures.append(f"{c!r} (U+{ord(c):04X}): {problem}; request {shown!r}")
    assert not failures, f"{len(failures)} of 256 characters broke {case.name!r}:\n" + "\n".join(
        failures
    )


#: Past ``int()``'s 4300-digit limit for a str (Python 3.11+), ``int()`` raises
#: ValueError even on ASCII digits that ``str.isdigit()`` accepts.
_LONG = "8" * 4301


@pytest.mark.parametrize(
    ("mode", "request_"),
    [
        ("default", _post(HTTP_ORIGIN=f"{OWN}:{_LONG}")),
        ("default", _post(HTTP_HOST=f"localhost:{_LONG}", HTTP_ORIGIN=OWN)),
        ("default", _without_host(SERVER_PORT=_LONG, HTTP_ORIGIN=OWN)),
        ("redirect", _without_host(SERVER_PORT=_LONG)),
        ("redirect", {**_redirect_form(), "CONTENT_LENGTH": _LONG}),
        ("redirect", _post(QUERY_STRING=f"next=http://example.com:{_LONG}/")),
    ],
    ids=[
        "origin-port",
        "host-port",
        "server-port",
        "redirect-server-port",
        "content-length",
        "next-port",
    ],
)
def test_digit_runs_past_the_int_limit_get_a_documented_answer(
    mode: str, request_: dict[str, str]
) -> None:
    wrapped, backend = CountingApp(), SeededBackend()
    backend.seed([SESSION])
    case = Case(mode, mode, lambda c: request_)
    body = b"next=/x" if mode == "redirect" else b""
    problem = _problem(case, _middleware(mode, wrapped, backend), wrapped, request_, body)
    assert problem is None, problem
