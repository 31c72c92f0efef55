"""Defects the reliability fuzzing found, one test each, now fixed: each test guards
its fix (a non-UTF-8 Cookie header, a Host that is not a host name in redirect mode,
an unreadable form body in redirect mode)."""

from __future__ import annotations

import json

import pytest
from reliability_util import LOGOUT, BrokenInput, SeededBackend, checked_call

from logout_middleware import LogoutMiddleware


def _app(environ, start_response):  # type: ignore[no-untyped-def]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
    return [b"app"]


@pytest.mark.parametrize("csrf", [False, True], ids=["defaults", "csrf"])
def test_logout_with_a_non_utf8_cookie_header_gets_a_documented_answer(csrf: bool) -> None:
    backend = SeededBackend()
    backend.seed(["s1"])
    options = {"csrf_cookie_name": "XSRF-TOKEN", "csrf_header_name": "X-XSRF-TOKEN"} if csrf else {}
    middleware = LogoutMiddleware(_app, backend, **options)
    # A browser that sends a latin-1 "é" (byte 0xE9) in another cookie's value.
    answer = checked_call(
        middleware,
        {"REQUEST_METHOD": "POST", "PATH_INFO": LOGOUT,
         "HTTP_COOKIE": "lang=caf\xe9; session=s1; XSRF-TOKEN=t", "HTTP_X_XSRF_TOKEN": "t"},
    )
    assert answer.status == 200 and json.loads(answer.body) == {"message": "OK"}
    assert "s1" not in backend.records


@pytest.mark.parametrize("host", ["a\r\nSet-Cookie: x=1", "app\x1f.example"])
def test_redirect_location_never_carries_control_characters_from_the_host(host: str) -> None:
    middleware = LogoutMiddleware(_app, SeededBackend(), redirect_to="/login?logout")
    answer = checked_call(
        middleware, {"REQUEST_METHOD": "POST", "PATH_INFO": LOGOUT, "HTTP_HOST": host}
    )
    assert answer.status == 303
    location = answer.header("Location") or ""
    assert not any(ord(c) < 0x20 for c in location)


def test_unreadable_form_body_in_redirect_mode_still_answers_and_expires_the_cookie() -> None:
    backend = SeededBackend()
    backend.seed(["s1"])
    middleware = LogoutMiddleware(_app, backend, redirect_to="/login?logout")
    answer = checked_call(
        middleware,
        {"REQUEST_METHOD": "POST", "PATH_INFO": LOGOUT, "HTTP_COOKIE": "session=s1",
         "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": "10"},
        BrokenInput(b"next=/home", 0),
    )
    assert answer.status == 303
    assert any(v.startswith("session=;") for v in answer.all("Set-Cookie"))
