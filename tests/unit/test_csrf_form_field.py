"""The double-submit token in a form field (``csrf_field_name``): what a plain HTML
``<form>`` can send, since it cannot set a header.

Each variant runs through the WSGI middleware and its ASGI twin, which must answer it
the same, byte for byte; a logout that gets through ends its session and expires both
cookies, one that does not deletes nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import pytest
from asgi_util import AsgiApp, Receive, scope_from_environ
from asgi_util import call as asgi_call
from reliability_util import checked_call
from wsgi_util import hello_app

from logout_middleware import (
    DEFAULT_LOGOUT_PATH,
    LogoutMiddleware,
    MemoryBackend,
    MemorySessionIndex,
)
from logout_middleware.asgi import LogoutMiddleware as AsgiLogoutMiddleware

FORM = "application/x-www-form-urlencoded"
TOKEN = "Zm9v-YmFy_OTk"
CSRF = {"csrf_cookie_name": "XSRF-TOKEN", "csrf_header_name": "X-XSRF-TOKEN"}
EVERYWHERE = "/logout/everywhere"


def environ(
    body: bytes,
    *,
    cookie: str = f"session=s1; XSRF-TOKEN={TOKEN}",
    header: str | None = None,
    content_type: str | None = FORM,
    length: str | None = "auto",
    path: str = DEFAULT_LOGOUT_PATH,
    query: str = "",
) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "HTTP_HOST": "app.example",
        "HTTP_COOKIE": cookie,
    }
    if header is not None:
        env["HTTP_X_XSRF_TOKEN"] = header
    if content_type is not None:
        env["CONTENT_TYPE"] = content_type
    if length is not None:
        env["CONTENT_LENGTH"] = str(len(body)) if length == "auto" else length
    return env


def both(env: dict[str, Any], body: bytes, **options: Any) -> tuple[int, list[str], bool]:
    """The answer of both adapters, checked equal: status, Set-Cookie names, and
    whether the session's record was deleted."""
    options = {**CSRF, "csrf_field_name": "_csrf", **options}
    answers = []
    for adapter in ("wsgi", "asgi"):
        backend = MemoryBackend({"s1": {"user": "alice"}})
        index = MemorySessionIndex()
        index.add("s1", 60, user="alice")
        everywhere = env["PATH_INFO"] == EVERYWHERE
        extra = {"index": index, "everywhere_path": EVERYWHERE} if everywhere else {}
        if adapter == "wsgi":
            middleware = LogoutMiddleware(hello_app, backend, **options, **extra)
            answer = checked_call(middleware, env, body)
            status, headers, text = answer.status, answer.headers, answer.body
        else:
            twin = AsgiLogoutMiddleware(AsgiApp(), backend, **options, **extra)
            got = asyncio.run(asgi_call(twin, scope_from_environ(env), Receive.body(body)))
            status, headers, text = got.status, got.headers, got.body
        cookies = sorted(v.split("=", 1)[0] for k, v in headers if k.lower() == "set-cookie")
        answers.append(((status, cookies, backend.get("s1") is None), text))
    (wsgi, wsgi_body), (asgi, asgi_body) = answers
    assert wsgi == asgi and wsgi_body == asgi_body, (answers, env, body)
    return wsgi


ENDED = (200, ["XSRF-TOKEN", "session"], True)
REFUSED = (403, [], False)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f"_csrf={TOKEN}", ENDED),
        (f"a=1&_csrf={TOKEN}&b=2", ENDED),
        (f"_csrf={TOKEN}&_csrf={TOKEN}", ENDED),  # twice, alike
        (f"_csrf={TOKEN}&_csrf=other", REFUSED),  # twice, differently
        ("_csrf=", REFUSED),
        ("_csrf", REFUSED),
        ("_csrf=wrong", REFUSED),
        (f"_csrf={TOKEN}x", REFUSED),
        (f"_csrf={TOKEN[:-1]}", REFUSED),
        (f"_CSRF={TOKEN}", REFUSED),  # names match exactly
        (f"csrf={TOKEN}", REFUSED),
        (f"x_csrf={TOKEN}", REFUSED),
        ("", REFUSED),
        ("a=1", REFUSED),
        ("&".join(f"f{i}=1" for i in range(150)) + f"&_csrf={TOKEN}", REFUSED),  # > 100 fields
        (f"_csrf={quote(TOKEN, safe='')}", ENDED),
        ("_csrf=" + "".join(f"%{b:02X}" for b in TOKEN.encode()), ENDED),  # all escaped
    ],
)
def test_the_field_alone_carries_the_token(body: str, expected: tuple[Any, ...]) -> None:
    assert both(environ(body.encode()), body.encode()) == expected


@pytest.mark.parametrize(
    "token", ["a+b", "a/b=", "a b", "t%41", "\xe9t\xe9", "a&b", "a=b", "=", "+"]
)
def test_every_token_a_browser_sends_escaped_is_read_back_byte_for_byte(token: str) -> None:
    # The cookie holds the token's bytes (a browser sends UTF-8); the form escapes
    # them as a browser does. A literal "+" in a form means a space.
    raw = token.encode("utf-8")
    cookie = f"session=s1; XSRF-TOKEN={raw.decode('latin-1')}"
    escaped = quote(raw, safe="").encode()
    assert both(environ(b"_csrf=" + escaped, cookie=cookie), b"_csrf=" + escaped) == ENDED
    if "+" in token:
        plus = quote(raw, safe="+").encode()  # the "+" left as it is
        assert both(environ(b"_csrf=" + plus, cookie=cookie), b"_csrf=" + plus) == REFUSED


@pytest.mark.parametrize(
    ("header", "body", "expected"),
    [
        (TOKEN, "_csrf=wrong", ENDED),  # the header, when sent, is the one compared
        ("wrong", f"_csrf={TOKEN}", REFUSED),
        (" \t", f"_csrf={TOKEN}", ENDED),  # a blank header is no header
        ("", f"_csrf={TOKEN}", ENDED),
    ],
)
def test_the_header_when_sent_decides(header: str, body: str, expected: tuple[Any, ...]) -> None:
    assert both(environ(body.encode(), header=header), body.encode()) == expected


@pytest.mark.parametrize(
    ("content_type", "length", "expected"),
    [
        (FORM, "auto", ENDED),
        (FORM + "; charset=UTF-8", "auto", ENDED),
        ("Application/X-WWW-Form-Urlencoded", "auto", ENDED),
        ("multipart/form-data; boundary=x", "auto", REFUSED),  # not read: urlencoded only
        ("application/json", "auto", REFUSED),
        ("text/plain", "auto", REFUSED),
        (None, "auto", REFUSED),
        (FORM, None, ENDED),  # no length, the end marked (chunked, HTTP/2): read
        (FORM, "", ENDED),
        (FORM, "abc", REFUSED),
        (FORM, "0", REFUSED),
        (FORM, "99999", REFUSED),  # over max_form_size
    ],
)
def test_only_a_small_urlencoded_form_is_read(
    content_type: str | None, length: str | None, expected: tuple[Any, ...]
) -> None:
    body = f"_csrf={TOKEN}".encode()
    env = environ(body, content_type=content_type, length=length)
    env["wsgi.input_terminated"] = True  # as gunicorn marks it; ASGI always does
    assert both(env, body) == expected


@pytest.mark.parametrize("size", [1, 100, 8192, 8193, 20000])
def test_a_form_of_no_stated_length_is_read_up_to_max_form_size(size: int) -> None:
    # Read to its end when the server marks it; past max_form_size it is no form.
    body = f"_csrf={TOKEN}&pad=".encode()
    body += b"x" * max(size - len(body), 0)
    env = environ(body, length=None)
    env["wsgi.input_terminated"] = True
    assert both(env, body) == (ENDED if len(body) <= 8192 else REFUSED)


def test_a_wsgi_form_of_no_stated_length_is_not_read_unless_the_server_marks_its_end() -> None:
    # PEP 3333: reading past an unstated length may block; only the server knows.
    body = f"_csrf={TOKEN}".encode()
    middleware = LogoutMiddleware(hello_app, MemoryBackend({"s1": {}}), **CSRF,
                                  csrf_field_name="_csrf")
    assert checked_call(middleware, environ(body, length=None), body).status == 403


def test_the_cookie_is_still_required() -> None:
    body = f"_csrf={TOKEN}".encode()
    assert both(environ(body, cookie="session=s1"), body) == REFUSED
    assert both(environ(body, cookie=f"session=s1; XSRF-TOKEN={TOKEN}x"), body) == REFUSED


def test_another_field_name_and_the_form_shared_with_next_and_keep_current() -> None:
    body = f"csrfmiddlewaretoken={TOKEN}".encode()
    assert both(environ(body), body, csrf_field_name="csrfmiddlewaretoken") == ENDED
    assert both(environ(body), body) == REFUSED  # "_csrf" is not "csrfmiddlewaretoken"
    # Redirect mode reads the same form for next.
    body = f"next=%2Fbye&_csrf={TOKEN}".encode()
    status, cookies, ended = both(environ(body), body, redirect_to="/")
    assert (status, cookies, ended) == (303, ["XSRF-TOKEN", "session"], True)
    # Log out everywhere reads it for keep_current: other devices only.
    body = f"keep_current=1&_csrf={TOKEN}".encode()
    assert both(environ(body, path=EVERYWHERE), body) == (200, [], False)
    body = f"_csrf={TOKEN}".encode()
    assert both(environ(body, path=EVERYWHERE), body) == ENDED


def test_the_form_is_not_read_when_the_cross_site_guard_refuses() -> None:
    body = f"_csrf={TOKEN}".encode()
    env = environ(body)
    env["HTTP_SEC_FETCH_SITE"] = "cross-site"
    assert both(env, body) == REFUSED


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"csrf_field_name": "_csrf"}, "needs csrf_cookie_name and csrf_header_name"),
        ({**CSRF, "csrf_field_name": ""}, "csrf_field_name must be a form field name"),
        ({**CSRF, "csrf_field_name": "a&b"}, "csrf_field_name must be a form field name"),
        ({**CSRF, "csrf_field_name": "a=b"}, "csrf_field_name must be a form field name"),
        ({**CSRF, "csrf_field_name": "a b"}, "csrf_field_name must be a form field name"),
        ({**CSRF, "csrf_field_name": "t\xe9"}, "csrf_field_name must be a form field name"),
        ({**CSRF, "csrf_field_name": "a%20"}, "csrf_field_name must be a form field name"),
        ({**CSRF, "csrf_field_name": 5}, "csrf_field_name must be a form field name"),
    ],
)
@pytest.mark.parametrize("cls", [LogoutMiddleware, AsgiLogoutMiddleware])
def test_bad_field_settings_fail_at_construction(
    cls: Any, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        cls(hello_app, MemoryBackend(), **options)
