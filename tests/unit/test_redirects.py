"""Redirect mode and the open-redirect checker for ``next``."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from wsgi_util import LOGOUT, RecordingBackend, client, set_cookies

HOST = "app.example"

# Every one of these must fall back to redirect_to.
OPEN_REDIRECT_PAYLOADS = [
    "//evil.example",
    "///evil.example",
    "////evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%5cevil.example",
    "https:evil.example",
    "https:/evil.example",
    "http:\\\\evil.example",
    "https://evil.example",
    "http://evil.example/path",
    "HTTPS://EVIL.EXAMPLE",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "jAvAsCrIpT%3Aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "http://app.example@evil.example",
    "https://app.example:443@evil.example/",
    "http://evil.example\\@app.example",
    "http://evil.example#@app.example",
    "http://evil.example?@app.example",
    "http://app.example.evil.example/",
    "http://evil.example%00.app.example",
    "/\tevil.example",
    "/%09/evil.example",
    " //evil.example",
    "/ /evil.example",
    "\x00//evil.example",
    "/\r\nSet-Cookie: x=1",
    "/%0d%0aSet-Cookie:x=1",
    "/caf\u00e9",
    "http://app.example:8443/",  # same host, another port
    "ftp://app.example/",
    "//app.example/",  # scheme-relative, even to the own host
    "",
    "evil.example",
    "http:///evil.example",
    "http://[::1/",
    "http://app.example:99999/",
]


def location(next_value: str | None = None, *, form: bool = False,
             https: bool = False, **options: object) -> str:
    app, _ = client(redirect_to="/login?logout", **options)  # type: ignore[arg-type]
    extra = {"wsgi.url_scheme": "https" if https else "http"}
    headers = {"Host": HOST}
    if next_value is None:
        response = app.post(LOGOUT, headers=headers, extra_environ=extra, status=303)
    elif form:
        response = app.post(LOGOUT, params={"next": next_value}, headers=headers,
                            extra_environ=extra, status=303)
    else:
        response = app.post(LOGOUT + "?next=" + quote(next_value, safe=""), headers=headers,
                            extra_environ=extra, status=303)
    return str(response.headers["Location"])


def test_payload_corpus_is_big_enough() -> None:
    assert len(OPEN_REDIRECT_PAYLOADS) >= 30


@pytest.mark.parametrize("payload", OPEN_REDIRECT_PAYLOADS)
def test_open_redirect_payload_falls_back_to_redirect_to(payload: str) -> None:
    assert location(payload) == f"http://{HOST}/login?logout"


@pytest.mark.parametrize("payload", OPEN_REDIRECT_PAYLOADS[:12])
def test_open_redirect_payload_in_a_form_body_falls_back(payload: str) -> None:
    assert location(payload, form=True) == f"http://{HOST}/login?logout"


def test_redirect_mode_answers_303_with_absolute_location_and_expires_cookie() -> None:
    backend = RecordingBackend()
    app, _ = client(backend, redirect_to="/login?logout")
    response = app.post(LOGOUT, headers={"Host": HOST, "Cookie": "session=abc"}, status=303)
    assert response.headers["Location"] == f"http://{HOST}/login?logout"
    assert backend.deleted == ["abc"]
    assert set_cookies(response)


@pytest.mark.parametrize(
    "next_value,expected",
    [
        ("/dashboard", f"http://{HOST}/dashboard"),
        ("/a/b?c=d&e=f#g", f"http://{HOST}/a/b?c=d&e=f#g"),
        ("/%7Euser", f"http://{HOST}/%7Euser"),
        (f"http://{HOST}/x", f"http://{HOST}/x"),
        (f"http://{HOST}:80/x", f"http://{HOST}:80/x"),
        ("https://accounts.example/bye", "https://accounts.example/bye"),
    ],
)
def test_safe_next_is_followed(next_value: str, expected: str) -> None:
    assert location(next_value, allowed_redirect_hosts=["accounts.example"]) == expected


def test_safe_next_in_form_body_is_followed() -> None:
    assert location("/home", form=True) == f"http://{HOST}/home"


def test_https_request_is_never_sent_to_plain_http() -> None:
    assert location(f"http://{HOST}/x", https=True) == f"https://{HOST}/login?logout"
    assert location(f"https://{HOST}/x", https=True) == f"https://{HOST}/x"


def test_oversized_form_body_is_not_read_and_falls_back() -> None:
    big = "/home?" + "a" * 10000
    assert location(big, form=True, max_form_size=1024) == f"http://{HOST}/login?logout"


def test_absolute_redirect_to_is_used_as_is() -> None:
    app, _ = client(redirect_to="https://sso.example/logged-out")
    response = app.post(LOGOUT, headers={"Host": HOST}, status=303)
    assert response.headers["Location"] == "https://sso.example/logged-out"


def test_json_mode_ignores_next() -> None:
    app, _ = client()
    response = app.post(LOGOUT + "?next=/x")
    assert response.json == {"message": "OK"}
