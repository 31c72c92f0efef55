"""Real framework apps with a cookie session, and generated variants of a session cookie.

Used by ``integration/test_revocation_variants.py`` (issue 10, items 1 and 2).

Three real apps, each with ``/login?user=NAME`` (stores ``user`` and a nonce in the
framework's own cookie session) and ``/whoami`` (answers the session's user, or
``anonymous``):

* Flask's default session (itsdangerous ``URLSafeTimedSerializer``, cookie ``session``);
* Django with ``SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"``
  (cookie ``sessionid``). Django's settings are process-wide and other test modules
  configure them differently, so Django runs in a child process (this file run as a
  script) behind :class:`DjangoProxy`, a WSGI app that forwards every request's string
  environ (``HTTP_COOKIE`` byte for byte) to it;
* Pyramid's ``SignedCookieSessionFactory`` (cookie ``session``).

:func:`variants` generates ``Cookie`` headers that carry one session value ``V`` in
many spellings and encodings. Headers are WSGI strings: each character is one byte of
the header as sent (latin-1), so ``"\\xc2\\xa0"`` is the UTF-8 encoding of U+00A0 and
``"\\xa0"`` is the raw latin-1 byte 0xA0.
"""

from __future__ import annotations

import base64
import binascii
import io
import itertools
import json
import random
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]

ANONYMOUS = "anonymous"


# -- raw WSGI calls ---------------------------------------------------------------------


@dataclass
class Answer:
    status: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def set_cookie_value(self, name: str) -> str | None:
        """The value of the first ``Set-Cookie: name=...`` of the answer."""
        for key, value in self.headers:
            if key.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                cname, _, cvalue = pair.partition("=")
                if cname.strip() == name:
                    return cvalue.strip()
        return None


def wsgi_call(
    app: WSGIApp,
    path: str,
    *,
    method: str = "GET",
    cookie: str | None = None,
    query: str = "",
    body: bytes = b"",
    content_type: str = "",
) -> Answer:
    """Call ``app`` with a hand-made environ; ``cookie`` becomes ``HTTP_COOKIE`` as is."""
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    environ.update(
        REQUEST_METHOD=method,
        PATH_INFO=path,
        QUERY_STRING=query,
        CONTENT_LENGTH=str(len(body)),
        CONTENT_TYPE=content_type,
        HTTP_HOST="127.0.0.1",
    )
    environ["wsgi.input"] = io.BytesIO(body)
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, list(headers)]
        return lambda data: None

    result = app(environ, start_response)
    try:
        data = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return Answer(started[0], started[1], data)


# -- the three apps ---------------------------------------------------------------------

SECRET = "variants-test-secret-not-for-production"


def flask_app() -> WSGIApp:
    from flask import Flask, request, session

    app = Flask("variants_flask")
    app.secret_key = SECRET

    @app.get("/login")
    def login() -> str:
        session["user"] = request.args["user"]
        session["nonce"] = secrets.token_hex(4)
        return "ok"

    @app.get("/whoami")
    def whoami() -> str:
        return str(session.get("user", ANONYMOUS))

    return app.wsgi_app


def pyramid_app() -> WSGIApp:
    from pyramid.config import Configurator
    from pyramid.response import Response
    from pyramid.session import SignedCookieSessionFactory

    def login(request: Any) -> Response:
        request.session["user"] = request.GET["user"]
        request.session["nonce"] = secrets.token_hex(4)
        return Response("ok")

    def whoami(request: Any) -> Response:
        return Response(str(request.session.get("user", ANONYMOUS)))

    with Configurator(session_factory=SignedCookieSessionFactory(SECRET)) as config:
        config.add_route("login", "/login")
        config.add_route("whoami", "/whoami")
        config.add_view(login, route_name="login")
        config.add_view(whoami, route_name="whoami")
        return config.make_wsgi_app()  # type: ignore[no-any-return]


class DjangoProxy:
    """A WSGI app that runs each request in a Django child process (signed_cookies).

    Every string of the environ is sent as is (JSON keeps the latin-1 characters of
    ``HTTP_COOKIE`` exactly), with the request body; the child builds the environ,
    calls Django's ``WSGIHandler`` and sends back status, headers and body.
    """

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "django-child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self._lock = threading.Lock()
        hello = self._proc.stdout.readline() if self._proc.stdout else ""
        if hello.strip() != "ready":
            self.close()
            raise RuntimeError(f"the Django child did not start: {hello!r}")

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        strings = {k: v for k, v in environ.items() if isinstance(v, str)}
        message = json.dumps({"environ": strings, "body": body.decode("latin-1")})
        assert self._proc.stdin is not None and self._proc.stdout is not None
        with self._lock:
            self._proc.stdin.write(message + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the Django child exited")
        answer = json.loads(line)
        start_response(answer["status"], [tuple(h) for h in answer["headers"]])
        return [answer["body"].encode("latin-1")]

    def close(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()


class _DjangoUrls:
    """ROOT_URLCONF of the Django child (a class: Django accepts any object here)."""

    urlpatterns: list[Any] = []


def _django_child() -> None:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=[],
        MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"],
        ROOT_URLCONF=_DjangoUrls,
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        SESSION_COOKIE_NAME="sessionid",
        USE_TZ=True,
    )
    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.http import HttpResponse
    from django.urls import path

    def login(request: Any) -> HttpResponse:
        request.session["user"] = request.GET["user"]
        request.session["nonce"] = secrets.token_hex(4)
        return HttpResponse("ok")

    def whoami(request: Any) -> HttpResponse:
        return HttpResponse(str(request.session.get("user", ANONYMOUS)))

    _DjangoUrls.urlpatterns = [path("login", login), path("whoami", whoami)]
    handler = WSGIHandler()
    print("ready", flush=True)
    started: list[Any] = []

    def start_response(status: str, headers: list[Any], exc_info: Any = None) -> Any:
        started[:] = [status, [list(h) for h in headers]]
        return lambda data: None

    for line in sys.stdin:
        request = json.loads(line)
        environ: dict[str, Any] = dict(request["environ"])
        setup_testing_defaults(environ)
        environ["wsgi.input"] = io.BytesIO(request["body"].encode("latin-1"))
        environ["wsgi.errors"] = sys.stderr
        started.clear()
        try:
            result = handler(environ, start_response)
            data = b"".join(result)
            result.close()
        except Exception as exc:  # reported to the parent as a 500
            started[:] = ["500 Child Error", [["Content-Type", "text/plain"]]]
            data = repr(exc).encode("utf-8", "replace")
        answer = {"status": started[0], "headers": started[1], "body": data.decode("latin-1")}
        print(json.dumps(answer), flush=True)


# -- variants -----------------------------------------------------------------------------

URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

#: ASCII whitespace (space, tab, and what Python's str.strip also strips) and the
#: UTF-8 bytes of Unicode whitespace, as latin-1 WSGI characters; plus the raw
#: latin-1 bytes 0xA0 and 0x85.
ASCII_SPACES = [" ", "\t", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f"]
UNICODE_SPACES = [
    chr(c).encode("utf-8").decode("latin-1")
    for c in [
        0x85,
        0xA0,
        0x1680,
        *range(0x2000, 0x200B),
        0x2028,
        0x2029,
        0x202F,
        0x205F,
        0x3000,
        0x200B,
        0xFEFF,
    ]
]
RAW_LATIN1_SPACES = ["\xa0", "\x85"]
ALL_SPACES = ASCII_SPACES + UNICODE_SPACES + RAW_LATIN1_SPACES

#: Characters outside the base64 alphabet that a cookie value may carry unquoted.
NOISE = [*"!*.~@#$%^&()`?|:{}<>',[]\\", "\xc3\xa9", "\xe9", "\xff", "\xa0", "\xc2\xa0"]
#: Non-ASCII bytes: UTF-8 of e-acute, euro, an emoji, U+FFFD; raw latin-1 bytes.
NON_ASCII = [
    *(s.encode("utf-8").decode("latin-1") for s in ["é", "€", "😀", "\ufffd", "ÿ", "\u00ad"]),
    "\xe9",
    "\xff",
    "\x80",
    "\xad",
    "\xc0",
]
OTHER_COOKIES = ["theme=dark", 'prefs="a;b"', "lang=en-GB", 'q="x y"', "empty="]


@dataclass(frozen=True)
class Shape:
    """Where a session value admits encoding variants: ``value[region_start:]``."""

    name: str  # the cookie name
    split: Callable[[str], int]  # value -> index where the base64 region starts

    def region(self, value: str) -> tuple[str, str]:
        i = self.split(value)
        return value[:i], value[i:]


#: Flask (itsdangerous): the signature after the last '.'; Django: after the last ':';
#: Pyramid (webob SignedSerializer): the whole value is one base64 blob.
FLASK = Shape("session", lambda v: v.rfind(".") + 1)
DJANGO = Shape("sessionid", lambda v: v.rfind(":") + 1)
PYRAMID = Shape("session", lambda v: 0)
#: Starlette's SessionMiddleware (itsdangerous TimestampSigner over base64 JSON):
#: ``payload.timestamp.signature``, the signature after the last '.'.
STARLETTE = Shape("session", lambda v: v.rfind(".") + 1)


@dataclass(frozen=True)
class Variant:
    kind: str
    how: str  # a short description
    header: str  # the whole Cookie header (a WSGI string)


def _quote_escaped(value: str, rng: random.Random) -> str:
    out = []
    for ch in value:
        r = rng.random()
        if r < 0.25:
            out.append("\\" + ch)
        elif r < 0.35 and ord(ch) < 256:
            out.append(f"\\{ord(ch):03o}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _b64_same(region: str) -> list[str]:
    """Other last characters of ``region`` that decode to the same bytes."""
    pad = "=" * (-len(region) % 4)
    try:
        want = base64.urlsafe_b64decode(region + pad)
    except (binascii.Error, ValueError):
        return []
    out = []
    for c in URLSAFE:
        if c == region[-1]:
            continue
        try:
            if base64.urlsafe_b64decode(region[:-1] + c + pad) == want:
                out.append(region[:-1] + c)
        except (binascii.Error, ValueError):
            pass
    return out


def _spelling(name: str, value: str, rng: random.Random) -> Iterator[tuple[str, str]]:
    ws = ["", " ", "\t", "  ", " \t", "\t "]
    combos = list(itertools.product(ws, ws, ws, ws))
    rng.shuffle(combos)
    for a, b, c, d in combos[:40]:
        yield f"ws {a!r}{b!r}{c!r}{d!r}", f"{a}{name}{b}={c}{value}{d}"
    for lead, trail in itertools.product(["", ";", "; ", ";;", " ; "], ["", ";", " ;", ";;"]):
        yield f"separators {lead!r} {trail!r}", f"{lead}{name}={value}{trail}"
    for k in range(1, 4):
        for where in ("before", "after", "around"):
            others = rng.sample(OTHER_COOKIES, k)
            sep = rng.choice(["; ", ";", " ; ", ";\t"])
            pair = f"{name}={value}"
            if where == "before":
                parts = [*others, pair]
            elif where == "after":
                parts = [pair, *others]
            else:
                parts = [others[0], pair, *others[1:]]
            yield f"other cookies {where} {k}", sep.join(parts)
    for junk in ["x", "junk", value[:-1], value + "x", "", '"' + value[:5] + '"']:
        yield f"duplicate, junk first {junk!r}", f"{name}={junk}; {name}={value}"
        yield f"duplicate, junk last {junk!r}", f"{name}={value}; {name}={junk}"
    yield "quoted", f'{name}="{value}"'
    yield "quoted, spaced", f'{name} = "{value}" '
    for i in range(12):
        yield f"quoted, backslash escapes {i}", f"{name}={_quote_escaped(value, rng)}"
    for i in range(6):
        escaped = "".join(("\\" + ch) if rng.random() < 0.2 else ch for ch in value)
        yield f"unquoted, backslash escapes {i}", f"{name}={escaped}"
    for _ in range(6):
        pos = rng.randrange(1, 6)
        others = [f"c{j}=v{j}" for j in range(pos)]
        yield f"name at position {pos}", "; ".join([*others, f"{name}={value}", "z=1"])
    # webob finds name=value anywhere: a separator character glued before the name.
    for glue in [",", "[", "]", "\\", '"', "\xe9", "\xc3\xa9", "{", "("]:
        yield f"glued before the name {glue!r}", f"{glue}{name}={value}"
        yield f"glued after other cookie {glue!r}", f"a=1{glue}{name}={value}"


def _whitespace(shape: Shape, value: str, rng: random.Random) -> Iterator[tuple[str, str]]:
    name = shape.name
    prefix, region = shape.region(value)
    for s in ALL_SPACES:
        yield f"after value {s!r}", f"{name}={value}{s}"
        yield f"before value {s!r}", f"{name}={s}{value}"
        yield f"before name {s!r}", f"{s}{name}={value}"
        yield f"after name {s!r}", f"{name}{s}={value}"
        yield f"around value {s!r}", f"{name}={s}{value}{s}"
        yield f"after value, other cookie after {s!r}", f"{name}={value}{s}; theme=dark"
        yield f"twice after value {s!r}", f"{name}={value}{s}{s}"
        if len(region) > 2:
            i = rng.randrange(1, len(region) - 1)
            inside = prefix + region[:i] + s + region[i:]
            if s in (" ", "\t"):
                yield f"inside the signature, quoted {s!r}", f'{name}="{inside}"'
            else:
                yield f"inside the signature {s!r}", f"{name}={inside}"


def _padding(shape: Shape, value: str, rng: random.Random) -> Iterator[tuple[str, str]]:
    name = shape.name
    prefix, region = shape.region(value)
    for k in range(1, 6):
        yield f"{k} '=' appended", f"{name}={value}{'=' * k}"
    for junk in ["A", "AAAA", "x", "=x", "-_", "QUJD", "!", "==", "a.b"]:
        yield f"'=' then {junk!r}", f"{name}={value}={junk}"
    for _ in range(12):
        i = rng.randrange(1, len(region))
        k = rng.randrange(1, 3)
        yield f"'=' x{k} inserted at {i}", f"{name}={prefix}{region[:i]}{'=' * k}{region[i:]}"
    yield "quoted, '=' appended", f'{name}="{value}="'


def _alphabet(shape: Shape, value: str, rng: random.Random) -> Iterator[tuple[str, str]]:
    name = shape.name
    prefix, region = shape.region(value)
    for ch in NOISE:
        for _ in range(2):
            i = rng.randrange(1, len(region))
            yield f"noise {ch!r} at {i}", f"{name}={prefix}{region[:i]}{ch}{region[i:]}"
        yield f"noise {ch!r} appended", f"{name}={value}{ch}"
    for _ in range(6):
        k = rng.randrange(2, 5)
        noisy = list(region)
        for _ in range(k):
            noisy.insert(rng.randrange(1, len(noisy)), rng.choice(NOISE[:20]))
        yield f"noise x{k}", f"{name}={prefix}{''.join(noisy)}"
    std = region.replace("-", "+").replace("_", "/")
    if std != region:
        yield "'-_' swapped for '+/'", f"{name}={prefix}{std}"
        for old, new in (("-", "+"), ("_", "/")):
            if old in region:
                yield f"{old!r} swapped for {new!r}", f"{name}={prefix}{region.replace(old, new)}"
    for alt in _b64_same(region):
        yield f"unused low bits {region[-1]!r}->{alt[-1]!r}", f"{name}={prefix}{alt}"
    # Pyramid (whole blob) and Flask (signature): the last character's unused bits.
    if len(region) > 4:
        for alt in _b64_same(region[:-1]):
            yield f"unused bits before the last char {alt[-1]!r}", f"{name}={prefix}{alt}"


def _non_ascii(shape: Shape, value: str, rng: random.Random) -> Iterator[tuple[str, str]]:
    name = shape.name
    prefix, region = shape.region(value)
    for s in NON_ASCII:
        yield f"appended {s!r}", f"{name}={value}{s}"
        i = rng.randrange(1, len(region))
        yield f"inserted {s!r} at {i}", f"{name}={prefix}{region[:i]}{s}{region[i:]}"
        yield f"appended quoted {s!r}", f'{name}="{value}{s}"'
        yield f"after value, other cookie after {s!r}", f"{name}={value}{s}; a=1"


KINDS = ("spelling", "whitespace", "padding", "alphabet", "non-ascii")


def variants(shape: Shape, value: str, *, seed: int = 10) -> list[Variant]:
    """Cookie headers carrying ``value`` as cookie ``shape.name``, many per kind.

    The first one is the plain header ``name=value``. Deterministic for a seed.
    """
    rng = random.Random(f"{seed}:{shape.name}")
    out = [Variant("spelling", "as set", f"{shape.name}={value}")]
    generators: dict[str, Iterator[tuple[str, str]]] = {
        "spelling": _spelling(shape.name, value, rng),
        "whitespace": _whitespace(shape, value, rng),
        "padding": _padding(shape, value, rng),
        "alphabet": _alphabet(shape, value, rng),
        "non-ascii": _non_ascii(shape, value, rng),
    }
    seen = {out[0].header}
    for kind, gen in generators.items():
        for how, header in gen:
            if header not in seen:
                seen.add(header)
                out.append(Variant(kind, how, header))
    return out


# -- the parsers a framework would use ------------------------------------------------------


def werkzeug_values(header: str, name: str) -> list[str]:
    """Flask's reading (``Request.cookies``: werkzeug's sans-IO parser on the latin-1
    text), then ``werkzeug.http.parse_cookie``'s (which first decodes it as UTF-8 and
    raises when it is not)."""
    from werkzeug.http import parse_cookie
    from werkzeug.sansio.http import parse_cookie as parse_text

    out = parse_text(header).getlist(name)
    try:
        out += [v for v in parse_cookie(header).getlist(name) if v not in out]
    except UnicodeDecodeError:
        pass
    return out


def django_values(header: str, name: str) -> list[str]:
    """Every value Django's parse_cookie could read for ``name`` (not only the last)."""
    from http import cookies

    from django.http.cookie import parse_cookie

    text = header.encode("latin-1").decode("utf-8", "replace")  # get_str_from_wsgi
    out = []
    for chunk in text.split(";"):  # django.http.cookie.parse_cookie, every pair
        key, _, val = chunk.partition("=") if "=" in chunk else ("", "", chunk)
        if key.strip() == name:
            out.append(cookies._unquote(val.strip()))  # type: ignore[attr-defined]
    last = parse_cookie(text).get(name)
    if last is not None and last not in out:
        out.append(last)
    return out


def webob_values(header: str, name: str) -> list[str]:
    from webob.cookies import parse_cookie
    from webob.request import BaseRequest

    out = []
    for key, val in parse_cookie(header):
        if key == name.encode("ascii"):
            out.append(val.decode("utf-8", "replace"))
    try:
        last = BaseRequest({"HTTP_COOKIE": header}).cookies.get(name)
    except UnicodeDecodeError:
        last = None
    if last is not None and last not in out:
        out.append(last)
    return out


def simplecookie_values(header: str, name: str) -> list[str]:
    from http.cookies import CookieError, SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return []
    morsel = jar.get(name)
    return [] if morsel is None else [morsel.value]


PARSERS: dict[str, Callable[[str, str], list[str]]] = {
    "werkzeug": werkzeug_values,
    "django": django_values,
    "webob": webob_values,
    "SimpleCookie": simplecookie_values,
}


def login_cookie(app: WSGIApp, shape: Shape, user: str) -> str:
    """Log ``user`` in on ``app`` (no middleware needed) and return the cookie value."""
    answer = wsgi_call(app, "/login", query=f"user={user}")
    assert answer.status.startswith("200"), answer
    value = answer.set_cookie_value(shape.name)
    assert value, f"no {shape.name} cookie in {answer.headers!r}"
    return value


def whoami(app: WSGIApp, header: str | None) -> str:
    """The user ``app`` sees with this Cookie header; ``error <status>`` if it failed."""
    try:
        answer = wsgi_call(app, "/whoami", cookie=header)
    except Exception as exc:
        return f"error {exc!r}"
    if not answer.status.startswith("200"):
        return f"error {answer.status}"
    return answer.text


if __name__ == "__main__" and sys.argv[1:] == ["django-child"]:
    _django_child()
