"""Property-based fuzzing: whatever a client sends, the middleware answers correctly.

Hypothesis generates whole requests -- methods, raw and percent-encoded paths, latin-1
strings, huge, malformed and duplicated cookies, odd ``Origin``/``Sec-Fetch-Site``/
``Content-Type``/``Content-Length`` values, bodies that are short, long or broken --
and sends them to the middleware in each of its modes. For every one:

* no exception escapes;
* the answer passes ``wsgiref.validate.validator`` and werkzeug's ``LintMiddleware``
  with no warning at all (a lint warning is a failure, reported by name);
* on the logout path the answer is one of the documented statuses (200, 303 in
  redirect mode, 403, 405, 500) with Studio's JSON body (or, for 303, an absolute
  ``Location``), ``Cache-Control: no-store``, the session cookie expired whenever the
  session was ended or the store failed, the app never called, and the store agrees
  with the answer: 200/303 means every session in the cookie is gone, anything else
  means nothing was deleted;
* anywhere else the answer is the app's own.

Every header the middleware reads draws from all of latin-1 (U+0000..U+00FF, which
is what a WSGI header string can hold), and not only as random text: well-formed
values are built part by part (scheme, host, port of an ``Origin`` or ``Host``;
``SERVER_NAME``/``SERVER_PORT``; ``Sec-Fetch-Site``; ``Referer``; cookie names and
values; the CSRF header) with latin-1 characters put into each part, so that e.g.
``Origin: http://localhost:\xb2`` (a superscript two: ``str.isdigit()`` but not
``int()``) comes up in every run.

Cookie headers are UTF-8 as a WSGI server hands it over (bytes decoded as latin-1),
or raw latin-1 bytes that are not UTF-8 at all. In redirect mode a request that names
no usable host gets the JSON answer instead of a 303 (there is no URL to build).

The normal run tries 9 modes x 1 200 requests (10 800); ``make soak``
(``LOGOUT_MIDDLEWARE_SOAK=1 pytest -m soak``) runs each mode 25 times longer.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from reliability_util import (
    LOGOUT,
    LOGOUT_STATUSES,
    BrokenInput,
    RaisingBackend,
    SeededBackend,
    checked_call,
)
from werkzeug.datastructures import MultiDict
from werkzeug.sansio.http import parse_cookie as parse_cookie_text

from logout_middleware import LogoutMiddleware
from logout_middleware.redirects import is_valid_host
from logout_middleware.revocation import MemoryRevocationStore

SOAK = os.environ.get("LOGOUT_MIDDLEWARE_SOAK") == "1"
#: Examples per mode in the normal run, and in ``make soak``.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1200"))
SOAK_EXAMPLES = 30_000

APP_BODY = b"from the app"


class App:
    """The wrapped application: counts its calls and answers a recognisable body."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.calls += 1
        start_response(
            "299 From App",
            [("Content-Type", "text/plain"), ("Content-Length", str(len(APP_BODY)))],
        )
        return [APP_BODY]


@dataclass
class Mode:
    name: str
    middleware: LogoutMiddleware
    app: App
    backend: Any
    cookie_name: str
    redirect: bool = False
    csrf: bool = False
    #: The form field that may carry the double-submit token (``csrf_field_name``).
    csrf_field: str | None = None
    failing: bool = False
    #: Turns a cookie value into the session id (``None``: no session).
    extract: Callable[[str], str | None] | None = None


def _signed(value: str) -> str | None:
    # "id.sig" with sig == "ok" is a valid signed cookie; "boom" makes the
    # extractor itself raise (a bug in the app's signer must not escape either).
    sid, dot, sig = value.rpartition(".")
    if sig == "boom":
        raise ValueError("bad signature encoding")
    return sid if dot and sig == "ok" and sid else None


def _raising_callback(event: Any) -> None:
    raise RuntimeError("on_logout callback failed")


def _modes() -> dict[str, Callable[[], Mode]]:
    def make(name: str, cookie_name: str = "session", backend: Any = None, **kw: Any) -> Mode:
        app = App()
        backend = backend if backend is not None else SeededBackend()
        middleware = LogoutMiddleware(app, backend, cookie_name=cookie_name, **kw)
        return Mode(name, middleware, app, backend, cookie_name)

    def csrf() -> Mode:
        mode = make(
            "csrf",
            csrf_cookie_name="XSRF-TOKEN",
            csrf_header_name="X-XSRF-TOKEN",
            trusted_origins=["https://trusted.example"],
        )
        mode.csrf = True
        return mode

    def csrf_form() -> Mode:
        mode = make(
            "csrf_form",
            csrf_cookie_name="XSRF-TOKEN",
            csrf_header_name="X-XSRF-TOKEN",
            csrf_field_name="_csrf",
            redirect_to="/login?logout",
            max_form_size=1024,
        )
        mode.csrf, mode.csrf_field, mode.redirect = True, "_csrf", True
        return mode

    def redirect() -> Mode:
        mode = make(
            "redirect",
            redirect_to="/login?logout",
            allowed_redirect_hosts=["accounts.example.com"],
            max_form_size=1024,
        )
        mode.redirect = True
        return mode

    def failing() -> Mode:
        mode = make(
            "failing", backend=RaisingBackend(), on_logout=[_raising_callback], expose_errors=True
        )
        mode.failing = True
        return mode

    def signed() -> Mode:
        mode = make("signed", session_id_from_cookie=_signed, path=[LOGOUT, "/logout"],
                    methods=("POST", "DELETE"))
        mode.extract = _signed
        return mode

    return {
        "defaults": lambda: make("defaults"),
        "csrf": csrf,
        "csrf_form": csrf_form,
        "redirect": redirect,
        "companions": lambda: make(
            "companions",
            cookie_domain="app.example.com",
            also_expire=["remember", {"name": "preview", "path": "/preview", "httponly": False}],
            sweep_domains=["example.com"],
        ),
        "clear_site_data": lambda: make(
            "clear_site_data",
            cookie_name="__Host-session",
            cookie_samesite="None",
            cookie_partitioned=True,
            clear_site_data=("cache", "cookies", "storage"),
        ),
        "revocation": lambda: make("revocation", revocation=MemoryRevocationStore(),
                                   revocation_max_age=60),
        "failing": failing,
        "signed": signed,
        "no_cross_site_check": lambda: make(
            "no_cross_site_check", cross_site_protection=False, cookie_samesite=None,
            cookie_secure=True, cookie_path="/api",
        ),
    }


MODES = _modes()

# -- strategies -------------------------------------------------------------------------

#: Characters parsers trip on, put into values more often than chance would: the
#: latin-1 digits, which pass ``str.isdigit()`` and fail ``int()`` (the superscripts
#: \xb9 \xb2 \xb3) or pass ``str.isnumeric()`` (the fractions), the no-break
#: space and NEL (Unicode whitespace), the soft hyphen, controls, and every
#: separator of a URL or a cookie header.
EDGE_CHARS = (
    "\xb9\xb2\xb3\xbc\xbd\xbe\xa0\x85\x00\t\n\r\x0b\x0c\x1c\x1f\x7f\xad\xb5\xdf\xff"
    ' "#%+,-./:;=?@[\\]_'
)


def latin1_text(min_size: int = 0, max_size: int = 40) -> st.SearchStrategy[str]:
    """Text of any latin-1 characters, U+0000..U+00FF: a WSGI header string is latin-1
    (PEP 3333), so any of these can reach the middleware in any header. (Drawn as
    bytes: one choice per string instead of one per character, which keeps the
    wider alphabet as fast as the old one.)"""
    return st.binary(min_size=min_size, max_size=max_size).map(lambda b: b.decode("latin-1"))


latin1 = latin1_text()
#: Up to 3 edits of 3 bytes each: (what to do, and whether an edge character; where,
#: as a share of the length; which character).
_EDITS = st.binary(min_size=3, max_size=9)


def damage(base: str, edits: bytes) -> str:
    """``base`` with latin-1 characters inserted, replaced or removed at the positions
    ``edits`` say (so that every position of a well-formed value gets every
    character), half of them from :data:`EDGE_CHARS`."""
    chars = list(base)
    for i in range(0, len(edits) - 2, 3):
        op, where, code = edits[i : i + 3]
        char = EDGE_CHARS[code % len(EDGE_CHARS)] if op & 0x80 else chr(code)
        pos = where * (len(chars) + 1) // 256
        if op % 3 == 0 or pos == len(chars):
            chars.insert(pos, char)
        elif op % 3 == 1:
            chars[pos] = char
        else:
            del chars[pos]
    return "".join(chars)


def noisy(*bases: str) -> st.SearchStrategy[str]:
    """One of ``bases``, damaged by :func:`damage`."""
    return st.tuples(st.sampled_from(bases), _EDITS).map(lambda pair: damage(*pair))


#: Ports as a Host, an Origin or SERVER_PORT may carry them: valid, out of range,
#: latin-1 digits (``"\xb2"``), latin-1 noise in a valid port, any latin-1 text, and
#: digit runs past ``int()``'s 4300-digit limit.
ports = st.one_of(
    st.sampled_from(["80", "443", "8080", "", "0", "65535", "65536", "0080", "99999", "-1"]),
    st.text(st.sampled_from("0123456789\xb9\xb2\xb3\xbc\xbd\xbe"), min_size=1, max_size=6),
    noisy("80", "443", "8080"),
    latin1_text(max_size=6),
    st.integers(4290, 4400).map(lambda n: "8" * n),
)
host_names = st.one_of(
    st.sampled_from(["localhost", "LOCALHOST", "example.com", "accounts.example.com",
                     "trusted.example", "evil.example", "127.0.0.1", "[::1]", ""]),
    noisy("localhost", "example.com", "trusted.example", "[::1]"),
    latin1_text(max_size=20),
)
schemes = st.one_of(
    st.sampled_from(["http", "https", "http", "https", "HTTP", "file", ""]),
    noisy("http", "https"),
    latin1_text(max_size=6),
)


@st.composite
def host_and_port(draw: st.DrawFn) -> str:
    """``name`` or ``name:port``, each part from its latin-1 strategy."""
    name = draw(host_names)
    return name if draw(st.booleans()) else f"{name}:{draw(ports)}"


_SCHEME_SEPARATORS = st.sampled_from(["://"] * 8 + [":/", ":", "//", ""]) | noisy("://")
_ORIGIN_TAILS = st.sampled_from(["", "", "", "", "/", "/path", "?q", "#f"]) | latin1


@st.composite
def structured_origins(draw: st.DrawFn) -> str:
    """``scheme://host[:port]``, latin-1 in each position (``http://localhost:\xb2``)."""
    scheme = draw(schemes)
    sep = draw(_SCHEME_SEPARATORS)
    tail = draw(_ORIGIN_TAILS)
    return f"{scheme}{sep}{draw(host_and_port())}{tail}"


#: UTF-8 text as a WSGI server hands it over: its bytes decoded as latin-1.
wsgi_utf8 = st.text(st.characters(exclude_categories=("Cs",)), max_size=40).map(
    lambda s: s.encode("utf-8").decode("latin-1")
)
printable = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30)
#: Session ids the store is seeded with: plain, and with characters that need care.
SESSION_IDS = ["s1", "s2", "abc-DEF_123", "s p a c e", "é\xff", "quote\"d", "a,b", "x=y", "*"]

methods = st.one_of(
    st.sampled_from(["POST", "GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH", "TRACE",
                     "post", "PROPFIND", "", "P\xd6ST"]),
    latin1_text(max_size=8),
)


def _path_variants(path: str) -> list[str]:
    return [
        path,
        path,
        path,
        path + "/",
        path.upper(),
        path.replace("/", "//", 1),
        path + ";jsessionid=x",
        quote(path, safe=""),
        path.replace("logout", "logou%74"),
        path + "\x00",
        path[1:],
        path + "?x",
    ]


paths = st.one_of(
    st.sampled_from(_path_variants(LOGOUT) + _path_variants("/logout")),
    st.sampled_from(["/", "", "/login", "/me", "/preview/x", "/api/1/services"]),
    latin1.map(lambda s: "/" + s),
    st.binary(max_size=30).map(lambda b: "/" + b.decode("latin-1")),
    latin1.map(lambda s: "/" + quote(s, safe="/", encoding="latin-1")),
)

cookie_names = st.one_of(
    st.sampled_from(
        ["session", "__Host-session", "XSRF-TOKEN", "remember", "Session", "session ",
         " session", "sess", "$session"]
    ),
    noisy("session", "__Host-session", "XSRF-TOKEN"),
    latin1_text(min_size=1, max_size=12),
)
cookie_values = st.one_of(
    st.sampled_from(SESSION_IDS).map(lambda s: s.encode("utf-8").decode("latin-1")),
    noisy(*(s.encode("utf-8").decode("latin-1") for s in SESSION_IDS)),
    st.sampled_from([f"{i}.ok" for i in SESSION_IDS[:3]] + ["s1.bad", "x.boom", ".ok"]),
    st.sampled_from(['"s1"', '"s\\"1"', '"', "", "s1;", "s1,s2", "=s1", "s1\\"]),
    wsgi_utf8,
    latin1,
    st.integers(1000, 20_000).map(lambda n: "A" * n),
)


_COOKIE_PAIRS = st.lists(st.tuples(cookie_names, cookie_values), max_size=10)
_COOKIE_SEPARATORS = st.sampled_from(["; ", ";", " ; ", ",", ";;"])


@st.composite
def cookie_headers(draw: st.DrawFn) -> str | None:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return None
    if kind == 1:
        return draw(wsgi_utf8 | latin1)  # garbage
    if kind == 2:  # huge: many cookies
        n = draw(st.integers(50, 400))
        return "; ".join(f"c{i}=v{i}" for i in range(n)) + "; session=s1"
    pairs = draw(_COOKIE_PAIRS)
    sep = draw(_COOKIE_SEPARATORS)
    return sep.join(f"{k}={v}" for k, v in pairs)


origins = st.one_of(
    st.none(),
    st.sampled_from(["null", "http://localhost", "http://localhost:80", "https://localhost",
                     "http://evil.example", "https://trusted.example", "http://LOCALHOST:80",
                     "http://localhost:8080", "http://[::1]", "", " ", "http://", "http://a b",
                     "http://localhost:99999", "http://localhost:-1", "file://x",
                     "http://example.com:8080", "http://localhost:\xb2", "https://trusted.example:\xb9"]),
    structured_origins(),
    structured_origins(),
    noisy("http://localhost", "http://localhost:80", "https://trusted.example", "null"),
    latin1,
)
fetch_sites = st.one_of(
    st.none(),
    st.sampled_from(["same-origin", "same-site", "cross-site", "none", "CROSS-SITE", " same-site",
                     ""]),
    noisy("same-origin", "same-site", "cross-site", "none"),
    latin1,
)
referers = st.one_of(
    st.none(),
    st.sampled_from(["http://localhost/", "http://evil.example/page", "about:blank", ""]),
    structured_origins().map(lambda origin: origin + "/page"),
    latin1,
)
content_types = st.one_of(
    st.none(),
    st.sampled_from(["application/json", "application/x-www-form-urlencoded",
                     "Application/X-WWW-Form-URLEncoded; charset=latin-1",
                     "application/x-www-form-urlencoded;", "multipart/form-data; boundary=x",
                     "text/plain", "", ";"]),
    latin1,
)
hosts = st.one_of(
    st.none(),
    st.sampled_from(["localhost", "localhost:80", "example.com:8080", "[::1]:80", "",
                     "accounts.example.com", "evil.example@localhost", "a b", "localhost:\xb2"]),
    host_and_port(),
    host_and_port(),
    latin1,
)
next_values = st.one_of(
    st.sampled_from(["/home", "//evil.example", "/\\evil.example", "https:evil.example",
                     "javascript:alert(1)", "http://localhost@evil.example", "%2F%2Fevil.example",
                     "http://localhost/ok", "https://accounts.example.com/x", "/%0d%0aSet-Cookie:x",
                     "/\x00", "http://localhost:99999/", "http://[::1/", "\x85/x"]),
    latin1,
    printable,
)


_QUERY_TAILS = st.sampled_from(["", "&next=/other", "&a=1&b"])


@st.composite
def queries(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return ""
    if kind == 1:
        return draw(latin1)
    value = draw(next_values)
    encoded = quote(value, safe="", encoding="latin-1") if kind == 2 else value
    return f"next={encoded}" + draw(_QUERY_TAILS)


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes, str | None, bool]:
    """(body bytes, CONTENT_LENGTH as the server says it, whether reading breaks)."""
    kind = draw(st.integers(0, 5))
    if kind == 0:
        data = b""
    elif kind == 1:
        data = b"{}"
    elif kind == 2:
        value = draw(next_values)
        data = ("next=" + quote(value, safe="", encoding="latin-1")).encode()
    elif kind == 3:
        data = draw(st.binary(max_size=200))
    elif kind == 4:
        data = b"next=/x&" + b"a" * draw(st.integers(900, 70_000))
    else:
        data = draw(latin1).encode("latin-1")
    length = draw(
        st.one_of(
            st.just(str(len(data))),
            st.just(str(len(data))),
            st.none(),
            st.sampled_from(["", "-1", "abc", " 12", "99999999999999999999", "1e3", "0x10", "+5",
                             "0", "5 ", "\u0661", "1_0", "\xb2", "1\xb3"]),
            st.integers(0, 100_000).map(str),
            ports,
        )
    )
    broken = draw(st.integers(0, 7)) == 0
    return data, length, broken


_SCRIPT_NAMES = st.sampled_from(["", "", "/app", "/app/x"])
_URL_SCHEMES = st.sampled_from(["http", "https"])
_SERVER_NAMES = st.sampled_from(["localhost"] * 3) | host_names
_SERVER_PORTS = st.sampled_from(["80", "443", "8080", ""]) | ports
_USER_AGENTS = st.none() | latin1
_REMOTE_ADDRS = st.none() | st.sampled_from(["127.0.0.1", "::1", "x"])
_FORM = "application/x-www-form-urlencoded"
_CSRF_TOKENS = st.just("t0k") | latin1_text(min_size=1, max_size=8)


@st.composite
def requests(draw: st.DrawFn, mode: Mode) -> tuple[dict[str, Any], Any]:
    # Most requests aim at the logout path with POST, where the work is; the rest
    # explore every other method and path.
    logout_paths = sorted(mode.middleware.paths)
    on_path = draw(st.integers(0, 9)) < 6
    env: dict[str, Any] = {
        "REQUEST_METHOD": "POST" if draw(st.integers(0, 9)) < 6 else draw(methods),
        "PATH_INFO": draw(st.sampled_from(logout_paths)) if on_path else draw(paths),
        "SCRIPT_NAME": draw(_SCRIPT_NAMES),
        "QUERY_STRING": draw(queries()),
        "wsgi.url_scheme": draw(_URL_SCHEMES),
        "SERVER_NAME": draw(_SERVER_NAMES),
        "SERVER_PORT": draw(_SERVER_PORTS),
    }
    optional = {
        "HTTP_COOKIE": draw(cookie_headers()),
        "HTTP_ORIGIN": draw(origins),
        "HTTP_SEC_FETCH_SITE": draw(fetch_sites),
        "HTTP_REFERER": draw(referers),
        "CONTENT_TYPE": draw(content_types),
        "HTTP_HOST": draw(hosts),
        "HTTP_USER_AGENT": draw(_USER_AGENTS),
        "REMOTE_ADDR": draw(_REMOTE_ADDRS),
    }
    if mode.csrf:
        cookie = optional["HTTP_COOKIE"] or ""
        token = _parse(cookie).get("XSRF-TOKEN")
        pick = draw(st.integers(0, 4))
        optional["HTTP_X_XSRF_TOKEN"] = (
            draw(latin1) if pick == 4 else (token, None, "", "wrong")[pick]
        )
        if draw(st.integers(0, 3)) == 0:  # the right token, damaged
            optional["HTTP_X_XSRF_TOKEN"] = damage(token or "t0k", draw(_EDITS))
        if draw(st.booleans()):  # often carry a matching token, so logouts get through
            # A plain token, or one with latin-1 characters in it (the same text in
            # the cookie and the header).
            pair = draw(_CSRF_TOKENS)
            optional["HTTP_COOKIE"] = f"{cookie}; XSRF-TOKEN={pair}"
            optional["HTTP_X_XSRF_TOKEN"] = pair
    data, length, broken = draw(bodies())
    if mode.csrf_field is not None and draw(st.booleans()):
        # A plain HTML form: the token (right, damaged, or another) in the field,
        # often without the header, among other fields.
        # The cookie's text is its bytes as latin-1, and so is the form's encoding.
        token = draw(_CSRF_TOKENS)
        optional["HTTP_COOKIE"] = f"{optional['HTTP_COOKIE'] or 'session=s1'}; XSRF-TOKEN={token}"
        field = draw(st.sampled_from([token, damage(token, draw(_EDITS)), ""]))
        others = [("next", "/x"), ("a", "1"), (mode.csrf_field, "t0k")]
        pairs = [(mode.csrf_field, field), *draw(st.lists(st.sampled_from(others), max_size=2))]
        data = urlencode(draw(st.permutations(pairs)), encoding="latin-1").encode("ascii")
        length = str(len(data))
        optional["CONTENT_TYPE"] = draw(st.sampled_from([_FORM, _FORM + "; charset=UTF-8"]))
        if draw(st.booleans()):
            optional["HTTP_X_XSRF_TOKEN"] = None
    env.update({k: v for k, v in optional.items() if v is not None})
    if length is not None:
        env["CONTENT_LENGTH"] = length
    body: Any = BrokenInput(data, draw(st.integers(0, len(data)))) if broken else data
    return env, body


# -- the property -------------------------------------------------------------------------


def _parse(header: str) -> MultiDict[str, str]:
    """The cookies a browser meant: the header's bytes as UTF-8, undecodable bytes as
    U+FFFD (as a browser that sent latin-1 would have them shown)."""
    return parse_cookie_text(header.encode("latin-1").decode("utf-8", "replace"))


def _framework_values(header: str, name: str) -> list[str]:
    """The values of cookie ``name`` as any framework reads the header: werkzeug
    (Flask), Django (UTF-8, split at every ';', Unicode strip), Starlette (latin-1,
    the same split) and WebOb (pairs anywhere). A logout may end any of them."""
    import http.cookies

    from django.http.cookie import parse_cookie as django_parse
    from webob.cookies import parse_cookie as webob_parse

    values = list(_parse(header).getlist(name))
    text = header.encode("latin-1").decode("utf-8", "replace")
    values += [v for k, v in django_parse(text).items() if k == name]
    for chunk in header.split(";"):  # Starlette's cookie_parser, on latin-1 text
        key, sep, value = chunk.partition("=")
        if sep and key.strip() == name:
            values.append(http.cookies._unquote(value.strip()))  # type: ignore[attr-defined]
    try:  # WebOb's parse_cookie takes the latin-1 text and yields bytes
        values += [v.decode("latin-1") for k, v in webob_parse(header) if k == name.encode()]
    except UnicodeError:
        pass
    return values


def _ids(mode: Mode, values: list[str]) -> list[str]:
    ids = []
    for value in dict.fromkeys(v for v in values if v):
        sid: str | None = value
        if mode.extract is not None:
            try:
                sid = mode.extract(value)
            except ValueError:
                return ["<extractor raised>"]
        if sid:
            ids.append(sid)
    return ids


def _session_ids(mode: Mode, environ: dict[str, Any]) -> list[str]:
    """The session ids a correct logout must delete: what the browser would send."""
    if not environ.get("HTTP_COOKIE"):
        return []
    return _ids(mode, list(_parse(environ["HTTP_COOKIE"]).getlist(mode.cookie_name)))


def _any_session(mode: Mode, environ: dict[str, Any]) -> bool:
    """Whether any framework would find a session in the request."""
    header = environ.get("HTTP_COOKIE")
    if not header:
        return False
    return bool(_ids(mode, _framework_values(header, mode.cookie_name)))


def check_request(mode: Mode, environ: dict[str, Any], body: Any) -> None:
    mode.backend.seed(SESSION_IDS)
    if isinstance(mode.backend, SeededBackend):
        before = dict(mode.backend.records)
    calls_before = mode.app.calls
    answer = checked_call(mode.middleware, environ, body)
    assert answer.lint == [], f"{mode.name}: WSGI/HTTP lint warnings: {answer.lint}"
    on_logout_path = environ["PATH_INFO"] in mode.middleware.paths
    if not on_logout_path:
        event("passed through")
        assert answer.status == 299 and answer.body == APP_BODY, f"{mode.name}: not the app's"
        assert mode.app.calls == calls_before + 1
        return
    assert mode.app.calls == calls_before, f"{mode.name}: the app answered the logout path"
    status = answer.status
    event(f"logout path: {status}")
    assert status in LOGOUT_STATUSES, f"{mode.name}: undocumented status {status}"
    assert answer.header("Cache-Control") == "no-store"
    if status == 303:
        assert mode.redirect, f"{mode.name}: 303 outside redirect mode"
        location = answer.header("Location") or ""
        assert location.startswith(("http://", "https://")), location
    else:
        assert answer.header("Content-Type") == "application/json"
        message = json.loads(answer.body)["message"]
        assert isinstance(message, str)
        if status == 200:
            assert message == "OK"
            # Redirect mode answers JSON only when the Host names no usable host.
            assert not mode.redirect or not is_valid_host(environ.get("HTTP_HOST", "")), (
                f"{mode.name}: JSON instead of a redirect on a usable host"
            )
    expired = any(
        v.startswith(f"{mode.cookie_name}=;") and "Max-Age=0" in v
        for v in answer.all("Set-Cookie")
    )
    ids = _session_ids(mode, environ)
    if status in (200, 303):
        assert expired, f"{mode.name}: logout did not expire the session cookie"
        assert not mode.failing or not ids, f"{mode.name}: OK while the store was down"
        assert "<extractor raised>" not in ids
        if isinstance(mode.backend, SeededBackend):
            for sid in ids[:8]:
                assert sid not in mode.backend.records, f"{mode.name}: OK but {sid!r} remains"
    elif status == 500:
        assert expired, f"{mode.name}: a failed logout must still expire the cookie"
        # The middleware reads the header every way a framework may (WebOb finds
        # pairs anywhere, so ``\x00session=s1`` carries a session to it): a 500 needs
        # a session in some framework's reading, not only in werkzeug's.
        assert ids or _any_session(mode, environ), (
            f"{mode.name}: 500 without a session to delete"
        )
    else:  # 403, 405: nothing deleted
        assert not expired or status != 405
        if status == 405:
            assert answer.header("Allow") == ", ".join(mode.middleware.methods)
        if isinstance(mode.backend, SeededBackend):
            assert mode.backend.records == before, f"{mode.name}: {status} deleted a record"


def _property(mode_name: str, examples: int) -> Callable[..., None]:
    mode = MODES[mode_name]()

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(requests(mode))
    def run(request: tuple[dict[str, Any], Any]) -> None:
        check_request(mode, *request)

    return run


@pytest.mark.parametrize("mode_name", sorted(MODES))
def test_fuzzed_requests_get_documented_valid_answers(mode_name: str) -> None:
    _property(mode_name, EXAMPLES)()


@pytest.mark.soak
@pytest.mark.skipif(not SOAK, reason="long fuzzing campaign: run `make soak`")
@pytest.mark.parametrize("mode_name", sorted(MODES))
def test_soak_fuzzed_requests_get_documented_valid_answers(mode_name: str) -> None:
    _property(mode_name, SOAK_EXAMPLES)()
