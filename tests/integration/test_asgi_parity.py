"""For the same request, the WSGI middleware and its ASGI twin answer the same.

The fuzzer's request strategies (``reliability/test_fuzz.py``: every mode, every odd
method, path, header, cookie and body it generates) drive both adapters, built with
the same options around the same stores. For each request the test compares, after
reseeding the store:

* the answer: status, headers in order (names compared case-insensitively: ASGI
  sends them in lower case), body byte for byte -- an error reference aside, which is
  random per answer;
* what the store holds afterwards, and whether the application was called (and with
  which ``Cookie`` header, after the revocation filter);
* the log lines (level and text; a traceback's frames aside, which name each
  adapter's own functions) and the events handed to ``on_logout`` (their time aside).

The body goes to the ASGI twin as ``http.request`` messages; a body whose client went
away after ``n`` bytes (``BrokenInput``) as those ``n`` bytes and ``http.disconnect``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import reliability.test_fuzz as fuzz
from asgi_util import AsgiApp, Receive, Sent, scope_from_environ
from hypothesis import HealthCheck, assume, given, settings
from reliability.test_fuzz import APP_BODY, MODES, SESSION_IDS, Mode, requests
from reliability_util import Answer, BrokenInput, checked_call

from logout_middleware import (
    DEFAULT_LOGOUT_PATH,
    LogoutEvent,
    MemoryBackend,
    MemoryRevocationStore,
    MemorySessionIndex,
)
from logout_middleware import LogoutMiddleware as WSGILogoutMiddleware
from logout_middleware.asgi import LogoutMiddleware

LOGOUT = DEFAULT_LOGOUT_PATH

EXAMPLES = int(os.environ.get("ASGI_PARITY_EXAMPLES", "250"))


@dataclasses.dataclass
class Twins:
    mode: Mode
    asgi: LogoutMiddleware
    app: AsgiApp
    events: list[LogoutEvent]
    loop: asyncio.AbstractEventLoop


def twins(name: str) -> Twins:
    """The fuzzer's mode ``name`` (its WSGI middleware) and an ASGI twin built with
    the very same arguments, both with an ``on_logout`` recorder added."""
    built: list[tuple[Any, dict[str, Any]]] = []
    wsgi_class = fuzz.LogoutMiddleware
    events: list[LogoutEvent] = []

    def record(app: Any, backend: Any, **options: Any) -> Any:
        options["on_logout"] = [*options.get("on_logout", ()), events.append]
        built.append((backend, options))
        return wsgi_class(app, backend, **options)

    fuzz.LogoutMiddleware = record  # type: ignore[misc]
    try:
        mode = MODES[name]()
    finally:
        fuzz.LogoutMiddleware = wsgi_class  # type: ignore[misc]
    [(backend, options)] = built
    app = AsgiApp(status=299, body=APP_BODY)
    return Twins(mode, LogoutMiddleware(app, backend, **options), app, events,
                 asyncio.new_event_loop())


@contextmanager
def log_lines() -> Iterator[list[tuple[str, int, str]]]:
    """The records of the package's loggers, as (logger, level, text): a traceback's
    frames left out (its first and last lines kept)."""
    lines: list[tuple[str, int, str]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            text = record.getMessage().splitlines()
            lines.append((record.name, record.levelno, f"{text[0]} ... {text[-1]}"))

    logger = logging.getLogger("logout_middleware")
    handler, level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


_REFERENCE = re.compile(r"(reference:? )[0-9a-f]{12}")


def same_text(text: str) -> str:
    return _REFERENCE.sub(r"\1<ref>", text)


def asgi_receive(body: Any) -> Receive:
    if not isinstance(body, BrokenInput):
        return Receive.body(body)
    data, good = body._data, body._good
    if not good:
        return Receive()  # gone before the first byte
    return Receive([{"type": "http.request", "body": data[:good], "more_body": True}])


def outcome(twin: Twins, run: Any) -> tuple[Any, ...]:
    """What one adapter did with a request: its answer, the store, the app, the log
    and the events."""
    mode = twin.mode
    mode.backend.seed(SESSION_IDS)
    twin.events.clear()
    with log_lines() as lines:
        answer, app_calls, app_cookie = run()
    store = dict(getattr(mode.backend, "records", {})), list(getattr(mode.backend, "calls", []))
    events = [dataclasses.replace(e, time=0.0) for e in twin.events]
    headers = [(k.lower(), same_text(v)) for k, v in answer.headers]
    return (
        (answer.status, headers, same_text(answer.body.decode("latin-1"))),
        store,
        (app_calls, app_cookie),
        [(n, lvl, same_text(t)) for n, lvl, t in lines],
        [dataclasses.replace(e, error_reference=e.error_reference and "<ref>") for e in events],
    )


def check_same(twin: Twins, environ: dict[str, Any], body: Any) -> None:
    def wsgi_run() -> tuple[Answer, int, Any]:
        # The fuzzer's app is called through its class: spy there for the Cookie it saw.
        app, seen = twin.mode.app, []
        calls, original = app.calls, type(app).__call__

        def spy(self: Any, env: dict[str, Any], start_response: Any) -> Any:
            seen.append(env.get("HTTP_COOKIE"))
            return original(self, env, start_response)

        type(app).__call__ = spy  # type: ignore[method-assign]
        try:
            answer = checked_call(twin.mode.middleware, environ, body)
        finally:
            type(app).__call__ = original  # type: ignore[method-assign]
        return answer, app.calls - calls, seen[0] if seen else None

    def asgi_run() -> tuple[Answer, int, Any]:
        calls, sent = twin.app.calls, Sent()
        coro = twin.asgi(scope_from_environ(environ), asgi_receive(body), sent)
        twin.loop.run_until_complete(coro)
        called = twin.app.calls - calls
        return sent.answer(), called, twin.app.cookie() if called else None

    wsgi = outcome(twin, wsgi_run)
    asgi = outcome(twin, asgi_run)
    assert asgi == wsgi, f"{twin.mode.name}: the adapters differ for {environ!r}"


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


@pytest.mark.parametrize("mode_name", sorted(MODES))
def test_both_adapters_answer_every_fuzzed_request_alike(mode_name: str) -> None:
    twin = twins(mode_name)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(requests(twin.mode))
    def compare(request: tuple[dict[str, Any], Any]) -> None:
        # A header holds bytes: a character past U+00FF (the fuzzer's Arabic digit in
        # CONTENT_LENGTH) is no request an ASGI server can describe.
        assume(all(_latin1(v) for v in request[0].values() if isinstance(v, str)))
        check_same(twin, *request)

    try:
        compare()
    finally:
        twin.loop.close()


# -- the contract, case by case ---------------------------------------------------------------

EVERYWHERE = "/logout/everywhere"
FORM = "application/x-www-form-urlencoded"


def world(**options: Any) -> tuple[dict[str, Any], MemoryBackend, MemorySessionIndex]:
    """Options with fresh stores: sessions s1..s3 of alice and b1 of bob, indexed."""
    backend, index = MemoryBackend(), MemorySessionIndex()
    for sid, user in (("s1", "alice"), ("s2", "alice"), ("s3", "alice"), ("b1", "bob")):
        backend._sessions[sid] = {"user": user}
        index.add(sid, 3600, user=user)
    return {"index": index, "everywhere_path": EVERYWHERE, **options}, backend, index


def env(
    path: str = LOGOUT,
    method: str = "POST",
    body: bytes = b"",
    scheme: str = "http",
    **headers: str,
) -> Any:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path}
    environ.update({"HTTP_HOST": "localhost", "wsgi.url_scheme": scheme})
    for name, value in headers.items():
        key = name.upper() if name in ("content_type", "content_length") else "HTTP_" + name.upper()
        environ[key] = value
    if body and "CONTENT_LENGTH" not in environ:
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ, body


CASES: dict[str, tuple[dict[str, Any], Any]] = {
    "logout": ({}, env(cookie="session=s1")),
    "no session": ({}, env()),
    "two sessions and a companion": ({"also_expire": ["remember"]},
                                     env(cookie="session=s1; session=s2; remember=x")),
    "GET": ({}, env(method="GET", cookie="session=s1")),
    "HEAD": ({}, env(method="HEAD", cookie="session=s1")),
    "cross-site": ({}, env(cookie="session=s1", sec_fetch_site="cross-site")),
    "foreign origin": ({}, env(cookie="session=s1", origin="http://evil.example")),
    "own origin": ({}, env(cookie="session=s1", origin="http://localhost")),
    "csrf ok": ({"csrf_cookie_name": "XSRF-TOKEN", "csrf_header_name": "X-XSRF-TOKEN"},
                env(cookie="session=s1; XSRF-TOKEN=t", x_xsrf_token="t")),
    "csrf wrong": ({"csrf_cookie_name": "XSRF-TOKEN", "csrf_header_name": "X-XSRF-TOKEN"},
                   env(cookie="session=s1; XSRF-TOKEN=t", x_xsrf_token="u")),
    "redirect, form next": ({"redirect_to": "/bye"},
                            env(cookie="session=s1", body=b"next=%2Fhome", content_type=FORM)),
    "redirect, evil next": ({"redirect_to": "/bye"},
                            env(cookie="session=s1", body=b"next=//evil.example",
                                content_type=FORM)),
    "redirect, form too long": ({"redirect_to": "/bye", "max_form_size": 5},
                                env(body=b"next=%2Fhome", content_type=FORM)),
    "redirect, short body": ({"redirect_to": "/bye"},
                             env(body=b"next=%2Fh", content_type=FORM, content_length="30")),
    "everywhere": ({}, env(EVERYWHERE, cookie="session=s2")),
    "everywhere, keep_current form": ({}, env(EVERYWHERE, cookie="session=s2",
                                              body=b"keep_current=1", content_type=FORM)),
    "everywhere, keep_current twice": ({}, env(EVERYWHERE + "", cookie="session=s2",
                                               body=b"keep_current=1&keep_current=0",
                                               content_type=FORM)),
    "everywhere, revocation": ({"revocation": "memory"}, env(EVERYWHERE, cookie="session=s3")),
    "https, clear-site-data": ({"clear_site_data": ["cache", "cookies"], "cookie_secure": True},
                               env(cookie="session=s1", scheme="https")),
    "failing store, exposed": ({"backend": "down", "expose_errors": True},
                               env(cookie="session=s1")),
}


class Down(MemoryBackend):
    def delete(self, session_id: str) -> None:
        raise ConnectionError(f"store down while deleting {session_id}")


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("chunk", [0, 3])
def test_both_adapters_answer_the_contract_cases_alike(case: str, chunk: int) -> None:
    settings_, (environ, body) = CASES[case]
    results = []
    for adapter in ("wsgi", "asgi"):
        options, backend, index = world(**settings_)
        if options.get("revocation") == "memory":
            options["revocation"] = MemoryRevocationStore()
        if options.pop("backend", None) == "down":
            backend = Down()
        events: list[LogoutEvent] = []
        options["on_logout"] = [events.append]
        with log_lines() as lines:
            if adapter == "wsgi":
                answer = checked_call(WSGILogoutMiddleware(fuzz.App(), backend, **options),
                                      environ, body)
            else:
                sent = Sent()
                middleware = LogoutMiddleware(AsgiApp(), backend, **options)
                receive = Receive.body(body, chunk=chunk)
                asyncio.run(middleware(scope_from_environ(environ), receive, sent))
                answer = sent.answer()
        results.append(
            (
                answer.status,
                [(k.lower(), same_text(v)) for k, v in answer.headers],
                same_text(answer.body.decode("latin-1")),
                sorted(backend._sessions),
                index.find("user", "alice"),
                [(n, lvl, same_text(t)) for n, lvl, t in lines],
                [dataclasses.replace(e, time=0.0, error_reference=e.error_reference and "<ref>")
                 for e in events],
            )
        )
    wsgi, asgi = results
    assert asgi == wsgi
    assert wsgi[0] in (200, 303, 400, 403, 405, 500)
