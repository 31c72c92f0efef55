"""The plain request the core reads (logout_middleware.request): what it takes from a
WSGI environ, and the environ's headers as a mapping by lower-case name."""

from __future__ import annotations

from typing import Any

from logout_middleware.request import EnvironHeaders, Request

ENVIRON: dict[str, Any] = {
    "REQUEST_METHOD": "POST",
    "PATH_INFO": "/logout",
    "wsgi.url_scheme": "https",
    "QUERY_STRING": "next=/x",
    "SERVER_NAME": "srv.example",
    "SERVER_PORT": "8443",
    "REMOTE_ADDR": "203.0.113.7",
    "HTTP_HOST": "app.example",
    "HTTP_COOKIE": "session=a",
    "HTTP_X_XSRF_TOKEN": "tok",
    "CONTENT_TYPE": "application/x-www-form-urlencoded",
    "CONTENT_LENGTH": "12",
    "SCRIPT_NAME": "/mount",
}


def test_from_environ_takes_every_field() -> None:
    r = Request.from_environ(ENVIRON)
    assert (r.method, r.path, r.scheme, r.query, r.server_name, r.server_port,
            r.remote_addr, r.body) == (
        "POST", "/logout", "https", "next=/x", "srv.example", "8443", "203.0.113.7", None)
    assert r.https


def test_from_environ_of_an_empty_environ_gives_empty_strings() -> None:
    r = Request.from_environ({})
    assert (r.method, r.path, r.scheme, r.query, r.server_name, r.server_port,
            r.remote_addr) == ("", "", "http", "", "", "", None)
    assert not r.https
    assert r.header("host") == "" and r.header("cookie") == ""


def test_any_scheme_but_https_is_http() -> None:
    assert Request.from_environ({"wsgi.url_scheme": "HTTPS"}).scheme == "http"
    assert Request.from_environ({"wsgi.url_scheme": "ftp"}).scheme == "http"


def test_header_gives_the_value_or_an_empty_string() -> None:
    r = Request.from_environ(ENVIRON)
    assert r.header("host") == "app.example"
    assert r.header("x-xsrf-token") == "tok"
    assert r.header("content-type") == "application/x-www-form-urlencoded"
    assert r.header("content-length") == "12"
    assert r.header("origin") == ""
    assert Request("GET", "/", headers={"origin": ""}).header("origin") == ""


def test_with_body_returns_a_copy_with_the_body() -> None:
    r = Request("POST", "/", headers={"host": "h"})
    s = r.with_body(b"next=/x")
    assert s.body == b"next=/x" and r.body is None
    assert (s.method, s.path, s.headers) == (r.method, r.path, r.headers)


def test_environ_headers_as_a_mapping() -> None:
    headers = EnvironHeaders(ENVIRON)
    assert headers["cookie"] == "session=a"
    assert headers["content-length"] == "12"
    assert headers["x-xsrf-token"] == "tok"
    assert sorted(headers) == ["content-length", "content-type", "cookie", "host",
                               "x-xsrf-token"]
    assert len(headers) == 5
    assert dict(headers.items())["host"] == "app.example"


def test_environ_headers_get_with_a_default() -> None:
    headers = EnvironHeaders(ENVIRON)
    assert headers.get("origin") is None
    assert headers.get("origin", "-") == "-"
    assert headers.get("host", "-") == "app.example"
    assert headers.get("content-type") == "application/x-www-form-urlencoded"
    assert headers.get("x-xsrf-token") == "tok"
    assert "host" in headers and "origin" not in headers


def test_environ_headers_turn_odd_values_into_strings() -> None:
    headers = EnvironHeaders({"HTTP_X_N": 5, "CONTENT_LENGTH": 3})
    assert headers["x-n"] == "5"
    assert headers["content-length"] == "3"


def test_a_missing_header_raises_key_error_by_item() -> None:
    headers = EnvironHeaders({})
    try:
        headers["host"]
    except KeyError:
        pass
    else:  # pragma: no cover
        raise AssertionError("expected KeyError")


def test_with_body_keeps_every_other_field() -> None:
    import dataclasses

    values = {f.name: f"v-{f.name}" for f in dataclasses.fields(Request)}
    values["headers"] = {"cookie": "a=1"}
    request = Request(**values)  # type: ignore[arg-type]
    assert request.with_body(b"x") == dataclasses.replace(request, body=b"x")
