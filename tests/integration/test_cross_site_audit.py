"""Audit of the cross-site defence (``logout_middleware.guards.OriginGuard``) by
generated requests through both adapters, and by real Chromium.

Every generated request goes, byte for byte the same, through the WSGI
``LogoutMiddleware`` (a hand-made PEP 3333 environ, no test client in between) and the
ASGI twin (a hand-made ``http`` scope); each answer is the status and whether the
session record was deleted. The two must agree, and:

* a request a browser sends from another site's page (its ``Origin`` serialised as
  browsers do, or ``null``; ``Sec-Fetch-Site`` ``cross-site``/``same-site`` or absent,
  as from old browsers and from insecure contexts) never ends a session, whatever
  ``Referer`` or ``X-Forwarded-Host`` say, mounted under a prefix or not;
* ``Origin`` values only a non-browser could send that spell a foreign origin (case,
  explicit default ports, userinfo, paths, several headers, long or latin-1 values)
  are refused without Fetch Metadata;
* a same-origin browser logout passes: each spelling of the request's own origin
  (case, explicit or omitted default port), ``Sec-Fetch-Site: same-origin``/``none``
  with ``Origin: null``;
* ``https://*.example.com`` trusts subdomains only (docs/security.rst, step 1).

The Chromium checks (``browser`` marker; skipped without ``/usr/bin/chromium``, failed
under ``CI=true``) serve both adapters on loopback (werkzeug for WSGI, uvicorn in a
thread for ASGI) and post a form and two ``fetch`` modes from ``http://localhost``
(another site than ``http://127.0.0.1``), with a ``SameSite=None; Secure`` session
cookie so that the browser does send it: the guard alone must refuse.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from chromium_util import launched
from conftest import unavailable
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logout_middleware import DEFAULT_LOGOUT_PATH, MemoryBackend, MemorySessionIndex
from logout_middleware import LogoutMiddleware as WSGILogoutMiddleware
from logout_middleware.asgi import LogoutMiddleware as ASGILogoutMiddleware

LOGOUT = DEFAULT_LOGOUT_PATH
EVERYWHERE = "/logout-everywhere"
SETTINGS = settings(
    max_examples=int(os.environ.get("CROSS_SITE_AUDIT_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

Headers = list[tuple[str, str]]


# -- the two adapters, driven by hand ---------------------------------------------------


def _wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


async def _asgi_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"app"})


class Twins:
    """The WSGI middleware and its ASGI twin, built with the same options around one
    memory store (and an index, for the log-out-everywhere path)."""

    def __init__(self, **options: Any) -> None:
        self.store = MemoryBackend()
        self.index = MemorySessionIndex()
        options = {"index": self.index, "everywhere_path": EVERYWHERE, **options}
        self.wsgi = WSGILogoutMiddleware(_wsgi_app, self.store, **options)
        self.asgi = ASGILogoutMiddleware(_asgi_app, self.store, **options)

    def _session(self) -> str:
        sid = self.store.create({"user": "ada"})
        self.index.add(sid, 3600, user="ada")
        return sid

    def via_wsgi(self, headers: Headers, scheme: str, mount: str, path: str) -> tuple[int, bool]:
        sid = self._session()
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "POST",
            "SCRIPT_NAME": mount,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "internal",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": scheme,
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": io.StringIO(),
            "CONTENT_LENGTH": "0",
            "HTTP_COOKIE": f"session={sid}",
        }
        for name, value in headers:  # a header sent twice: joined, as servers do
            key = "HTTP_" + name.upper().replace("-", "_")
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        statuses: list[str] = []
        b"".join(self.wsgi(environ, lambda status, h, e=None: statuses.append(status)))
        return int(statuses[0][:3]), self.store.get(sid) is None

    def via_asgi(self, headers: Headers, scheme: str, mount: str, path: str) -> tuple[int, bool]:
        sid = self._session()
        raw = [(b"cookie", f"session={sid}".encode())]
        raw += [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": scheme,
            "path": mount + path,
            "raw_path": (mount + path).encode(),
            "root_path": mount,
            "query_string": b"",
            "headers": raw,
            "server": ("internal", 8000),
            "client": ("127.0.0.1", 50000),
        }
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        asyncio.run(self.asgi(scope, receive, send))
        return sent[0]["status"], self.store.get(sid) is None

    def answer(
        self, headers: Headers, scheme: str = "http", mount: str = "", path: str = LOGOUT
    ) -> tuple[int, bool]:
        """``(status, session ended)``, the same through both adapters (asserted)."""
        wsgi = self.via_wsgi(headers, scheme, mount, path)
        asgi = self.via_asgi(headers, scheme, mount, path)
        assert wsgi == asgi, f"WSGI answered {wsgi}, ASGI {asgi}, for {headers!r}"
        return wsgi


@pytest.fixture(autouse=True)
def _quiet_refusals() -> Iterator[None]:
    """Thousands of refusals are logged as WARNING; keep the run's output readable."""
    logger = logging.getLogger("logout_middleware")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


PLAIN = Twins()
TRUSTING = Twins(trusted_origins=["https://*.example.com", "http://admin.other.test:8080"])

REFUSED = (403, False)
ENDED = (200, True)


# -- what a browser sends ---------------------------------------------------------------

DEFAULT_PORT = {"http": 80, "https": 443}


def origin_of(scheme: str, host: str, port: int | None) -> str:
    """An origin as browsers serialise it: default port omitted."""
    if port is None or port == DEFAULT_PORT[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def host_header(scheme: str, host: str, port: int | None) -> str:
    """``Host`` as browsers send it: the port only when it is not the default."""
    return origin_of(scheme, host, port).split("://", 1)[1]


#: The app's own host, in the forms a browser puts in a URL (lower case, IDN as
#: punycode, IPv6 bracketed and compressed).
APP_HOSTS = ["app.example", "127.0.0.1", "[::1]", "xn--bcher-kva.example", "localhost",
             "studio.internal"]


@st.composite
def targets(draw: Any) -> tuple[str, str, int | None]:
    scheme = draw(st.sampled_from(["http", "https"]))
    host = draw(st.sampled_from(APP_HOSTS))
    port = draw(st.sampled_from([None, DEFAULT_PORT[scheme], 8080, 8443]))
    return scheme, host, port


def foreign_origins(scheme: str, host: str, port: int | None) -> list[str]:
    """Origins of other pages than the app's: other sites, sibling subdomains, the same
    host on another scheme or port, look-alike hosts, as a browser serialises each."""
    other_scheme = "https" if scheme == "http" else "http"
    other_port = 9090 if port != 9090 else 9091
    bare = host.strip("[]")
    return [
        origin_of(scheme, "evil.test", port),
        origin_of(scheme, "evil." + host if not host.startswith("[") else "evil.test", port),
        origin_of(scheme, host + ".evil.test" if not host.startswith("[") else "[::2]", port),
        origin_of(scheme, "x" + bare if not host.startswith("[") else "[::ffff:7f00:1]", port),
        origin_of(scheme, host + "." if not host.startswith("[") else "[::1:0]", port),
        origin_of(other_scheme, host, port if port not in (80, 443) else None),
        origin_of(scheme, host, other_port),
        origin_of(scheme, "xn--pple-43d.example", port),
        origin_of(scheme, "127.0.0.2", port),
        "null",
    ]


FOREIGN_FETCH_SITE = ["cross-site", "same-site", "CROSS-SITE", " same-site\t", "Cross-Site",
                      "cross-site, cross-site", "same-origin, cross-site", "unknown", "navigate"]


@SETTINGS
@given(
    target=targets(),
    pick=st.integers(0, 9),
    fetch_site=st.none() | st.sampled_from(FOREIGN_FETCH_SITE),
    referer=st.sampled_from(["none", "attacker", "target"]),
    forwarded=st.booleans(),
    mount=st.sampled_from(["", "/studio"]),
    path=st.sampled_from([LOGOUT, EVERYWHERE]),
)
def test_a_cross_site_browser_request_never_ends_a_session(
    target: tuple[str, str, int | None],
    pick: int,
    fetch_site: str | None,
    referer: str,
    forwarded: bool,
    mount: str,
    path: str,
) -> None:
    scheme = target[0]
    origin = foreign_origins(*target)[pick]
    headers: Headers = [("Host", host_header(*target)), ("Origin", origin)]
    if fetch_site is not None:
        headers.append(("Sec-Fetch-Site", fetch_site))
    if referer == "attacker" and origin != "null":
        headers.append(("Referer", origin + "/prize"))
    elif referer == "target":  # only a non-browser lies so; Referer is not evidence
        headers.append(("Referer", origin_of(*target) + mount + "/"))
    if forwarded and origin != "null":  # not trusted: the docs say to use ProxyFix
        headers.append(("X-Forwarded-Host", origin.split("://", 1)[1]))
    assert PLAIN.answer(headers, scheme, mount, path) == REFUSED


def spellings_of_foreign(origin: str, own: str) -> list[str]:
    """What only a non-browser sends: the foreign ``origin`` respelled, or the app's
    ``own`` origin dressed so that it is no longer an origin."""
    scheme, rest = origin.split("://", 1)
    return [
        origin.upper(),
        scheme.upper() + "://" + rest,
        origin + (":443" if scheme == "https" else ":80") if rest.count(":") == 0 else origin,
        f" {origin}\t",
        own + "@" + rest,  # userinfo: the host is the part after '@'
        f"{scheme}://{own.split('://', 1)[1]}@{rest}",
        origin + "/" + own.split("://", 1)[1],
        origin + "?" + own,
        origin + "#" + own,
        own + "/",
        own + "/path",
        own + ".",
        own + "\x00",
        own + "\xe9",
        "\xe9" + own,
        own + ", " + origin,
        origin + ", " + own,
        own + " " + origin,
        own * 500,
        "x" * 20_000,
        "",
        "null",
        "NULL",
        "file://",
        "chrome-extension://abcdefghijklmnop",
        own.replace("://", ":/"),
        own.replace("://", ":///"),
    ]


@SETTINGS
@given(
    target=targets(),
    pick=st.integers(0, 9),
    respell=st.integers(0, 26),
    mount=st.sampled_from(["", "/studio"]),
    twice=st.booleans(),
)
def test_foreign_or_malformed_origin_spellings_are_refused_without_fetch_metadata(
    target: tuple[str, str, int | None], pick: int, respell: int, mount: str, twice: bool
) -> None:
    scheme = target[0]
    foreign = foreign_origins(*target)[pick]
    if foreign == "null":
        foreign = "http://evil.test"
    origin = spellings_of_foreign(foreign, origin_of(*target))[respell]
    headers: Headers = [("Host", host_header(*target)), ("Origin", origin)]
    if twice:  # a second Origin header with the app's own origin
        headers.append(("Origin", origin_of(*target)))
    assert PLAIN.answer(headers, scheme, mount) == REFUSED


# -- a same-origin browser logout passes -----------------------------------------------


def spellings_of_own(scheme: str, host: str, port: int | None) -> list[str]:
    """The app's own origin, as browsers serialise it and as a client may spell it:
    case, default port explicit or omitted, spaces and tabs around."""
    effective = port or DEFAULT_PORT[scheme]
    canonical = origin_of(scheme, host, port)
    return [
        canonical,
        canonical.upper(),
        scheme.upper() + canonical[len(scheme):],
        f"{scheme}://{host}:{effective}",
        f"{scheme}://{host.upper()}:{effective}",
        f" {canonical}",
        f"{canonical}\t",
    ]


def host_spellings(scheme: str, host: str, port: int | None) -> list[str]:
    effective = port or DEFAULT_PORT[scheme]
    return [host_header(scheme, host, port), host_header(scheme, host, port).upper(),
            f"{host}:{effective}"]


@SETTINGS
@given(
    target=targets(),
    spelling=st.integers(0, 6),
    host_spelling=st.integers(0, 2),
    mount=st.sampled_from(["", "/studio"]),
    path=st.sampled_from([LOGOUT, EVERYWHERE]),
)
def test_the_apps_own_origin_in_any_spelling_logs_out_without_fetch_metadata(
    target: tuple[str, str, int | None], spelling: int, host_spelling: int, mount: str,
    path: str,
) -> None:
    """Old browsers and insecure contexts (plain http to a name that is not loopback)
    send no ``Sec-Fetch-Site``: the ``Origin`` check alone must let the app's own
    page log out."""
    scheme = target[0]
    headers: Headers = [
        ("Host", host_spellings(*target)[host_spelling]),
        ("Origin", spellings_of_own(*target)[spelling]),
    ]
    assert PLAIN.answer(headers, scheme, mount, path) == ENDED


@SETTINGS
@given(
    target=targets(),
    fetch_site=st.sampled_from(["same-origin", "none", "Same-Origin", " NONE\t"]),
    origin=st.sampled_from(["own", "null", "absent", "foreign"]),
    mount=st.sampled_from(["", "/studio"]),
)
def test_fetch_metadata_same_origin_or_none_logs_out_whatever_the_origin(
    target: tuple[str, str, int | None], fetch_site: str, origin: str, mount: str
) -> None:
    """``Origin: null`` with ``Sec-Fetch-Site: same-origin`` is what Chromium sends
    from a ``Referrer-Policy: no-referrer`` page; ``Sec-Fetch-Site`` decides."""
    scheme = target[0]
    headers: Headers = [("Host", host_header(*target)), ("Sec-Fetch-Site", fetch_site)]
    if origin == "own":
        headers.append(("Origin", origin_of(*target)))
    elif origin == "null":
        headers.append(("Origin", "null"))
    elif origin == "foreign":
        headers.append(("Origin", "http://evil.test"))
    assert PLAIN.answer(headers, scheme, mount) == ENDED


@pytest.mark.parametrize(
    ("host", "origin", "scheme", "expected"),
    [
        # A trailing dot is another origin for a browser: never equal to the dotless one.
        ("app.example.", "http://app.example", "http", REFUSED),
        ("app.example", "http://app.example.", "http", REFUSED),
        ("app.example.", "http://app.example.", "http", ENDED),
        # IPv6: browsers compress and lower-case; the Host header is written alike.
        ("[::1]:8000", "http://[::1]:8000", "http", ENDED),
        ("[::FFFF:7F00:1]", "http://[::ffff:7f00:1]", "http", ENDED),
        ("[::1]", "http://[0:0:0:0:0:0:0:1]", "http", REFUSED),  # no browser spells it so
        ("[::1]", "http://[::2]", "http", REFUSED),
        # Default ports both ways, on both schemes.
        ("app.example:443", "https://app.example", "https", ENDED),
        ("app.example", "https://app.example:443", "https", ENDED),
        ("app.example:80", "https://app.example", "https", REFUSED),  # 443 is another port
        ("app.example:443", "http://app.example:443", "http", ENDED),
        ("app.example:443", "http://app.example", "http", REFUSED),
        # A malformed Host makes every Origin foreign (never an exception).
        ("app.example:99999", "http://app.example:99999", "http", REFUSED),
        ("user@app.example", "http://app.example", "http", REFUSED),
        ("app.example, evil.test", "http://evil.test", "http", REFUSED),
        ("", "http://internal:8000", "http", ENDED),  # no Host: the server's name and port
        ("", "http://evil.test", "http", REFUSED),
    ],
)
def test_host_header_edges(host: str, origin: str, scheme: str, expected: tuple[int, bool]) -> None:
    headers: Headers = [("Origin", origin)]
    if host:
        headers.insert(0, ("Host", host))
    assert PLAIN.answer(headers, scheme) == expected


def test_x_forwarded_host_is_not_trusted_by_the_middleware_itself() -> None:
    """docs/security.rst, "Behind a proxy": the middleware reads ``Host`` only; a
    proxy's public host counts through ProxyFix (outside) or ``trusted_origins``."""
    public = [("Host", "10.0.0.5:8000"), ("X-Forwarded-Host", "www.example.com"),
              ("X-Forwarded-Proto", "https"), ("Origin", "https://www.example.com")]
    assert PLAIN.answer(public, "http") == REFUSED
    evil = [("Host", "www.example.com"), ("X-Forwarded-Host", "evil.test"),
            ("Origin", "http://evil.test")]
    assert PLAIN.answer(evil, "http") == REFUSED
    listed = Twins(trusted_origins=["https://www.example.com"])
    assert listed.answer(public, "http") == ENDED


def test_proxyfix_outside_gives_the_public_origin() -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix
    from werkzeug.test import Client

    store = MemoryBackend()
    app = ProxyFix(WSGILogoutMiddleware(_wsgi_app, store), x_proto=1, x_host=1)
    client = Client(app)
    for origin, status, kept in [("https://www.example.com", 200, False),
                                 ("http://10.0.0.5:8000", 403, True),
                                 ("https://evil.test", 403, True)]:
        sid = store.create({"user": "ada"})
        client.set_cookie("session", sid, domain="10.0.0.5")
        response = client.post(
            LOGOUT, base_url="http://10.0.0.5:8000",
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "www.example.com",
                     "Origin": origin, "Cookie": f"session={sid}"},
        )
        assert response.status_code == status, origin
        assert (store.get(sid) is not None) is kept, origin


# -- trusted origins and subdomain wildcards --------------------------------------------

LABEL = st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?\Z")


@SETTINGS
@given(
    labels=st.lists(LABEL, min_size=1, max_size=3),
    upper=st.booleans(),
    explicit_port=st.booleans(),
    fetch_site=st.none() | st.sampled_from(["cross-site", "same-site"]),
)
def test_a_wildcard_trusts_every_subdomain_at_any_depth(
    labels: list[str], upper: bool, explicit_port: bool, fetch_site: str | None
) -> None:
    origin = "https://" + ".".join([*labels, "example", "com"]) + (":443" if explicit_port else "")
    if upper:
        origin = origin.upper()
    headers: Headers = [("Host", "app.site.test"), ("Origin", origin)]
    if fetch_site is not None:
        headers.append(("Sec-Fetch-Site", fetch_site))
    assert TRUSTING.answer(headers, "https") == ENDED


@SETTINGS
@given(
    label=LABEL,
    shape=st.sampled_from([
        "https://example.com",
        "https://{l}example.com",
        "https://{l}.example.com.evil.test",
        "https://{l}.example.com:8443",
        "http://{l}.example.com",
        "https://{l}.example.com.",
        "https://{l}.example.co",
        "https://example.com.{l}",
        "https://{l}-example.com",
        "https://{l}.example.com/",
        "https://{l}.example.com@evil.test",
        "https://evil.test#.example.com",
        "https://*.example.com",
        "https://.example.com",
        "http://admin.other.test",
        "https://admin.other.test:8080",
        "http://x.admin.other.test:8080",
    ]),
    fetch_site=st.none() | st.sampled_from(["cross-site", "same-site"]),
)
def test_a_wildcard_trusts_nothing_but_subdomains(
    label: str, shape: str, fetch_site: str | None
) -> None:
    headers: Headers = [("Host", "app.site.test"), ("Origin", shape.format(l=label))]
    if fetch_site is not None:
        headers.append(("Sec-Fetch-Site", fetch_site))
    assert TRUSTING.answer(headers, "https") == REFUSED


@pytest.mark.parametrize("host", ["..example.com", "a..example.com", "...example.com"])
def test_a_wildcard_does_not_trust_hosts_with_empty_labels(host: str) -> None:
    headers: Headers = [("Host", "app.site.test"), ("Origin", f"https://{host}"),
                        ("Sec-Fetch-Site", "cross-site")]
    assert TRUSTING.answer(headers, "https") == REFUSED


# -- real Chromium -----------------------------------------------------------------------

# Not loopback by name: Chromium treats http://app.demo.test as an insecure context.
RESOLVER_RULES = "MAP *.demo.test 127.0.0.1, MAP evil.test 127.0.0.1"
TIMEOUT_MS = 10_000

PAGE = """<!doctype html>
<html><head><title>page</title></head><body>
<p id="user">{user}</p>
<form id="logout-form" method="post" action="{target}">
  <button id="submit" type="submit">Sign out</button>
</form>
<script>
async function post(target, mode) {{
  try {{
    const r = await fetch(target, {{method: "POST", mode: mode, credentials: "include",
                                   headers: {{"Content-Type": "text/plain"}}, body: "{{}}"}});
    return r.type + " " + r.status;
  }} catch (e) {{ return "failed"; }}
}}
</script>
</body></html>
"""


class Site:
    """The pages of the test app: ``/login?samesite=None`` sets the session cookie
    (``SameSite=None; Secure`` is accepted on loopback http), ``/page?target=URL`` is
    a page with a logout form and a ``post()`` script (``&noref=1``: served with
    ``Referrer-Policy: no-referrer``), anything else names the user."""

    def __init__(self) -> None:
        self.store = MemoryBackend()
        #: (request headers, answered status) of each request to the logout path.
        self.seen: list[tuple[dict[str, str | None], int]] = []

    def page(
        self, path: str, query: str, cookie: str | None
    ) -> tuple[list[tuple[str, str]], bytes]:
        from werkzeug.http import dump_cookie, parse_cookie

        args = {k: v[0] for k, v in parse_qs(query).items()}
        headers = [("Content-Type", "text/html; charset=utf-8")]
        sid = None
        if path == "/login":
            sid = self.store.create({"user": "ada"})
            samesite = args.get("samesite", "Lax")
            headers.append(("Set-Cookie", dump_cookie(
                "session", sid, httponly=True, samesite=samesite, secure=samesite == "None")))
        if args.get("noref"):
            headers.append(("Referrer-Policy", "no-referrer"))
        if path != "/login":
            sid = parse_cookie(cookie or "").get("session")
        data = self.store.get(sid) if sid else None
        body = PAGE.format(user=data["user"] if data else "anonymous",
                           target=args.get("target", LOGOUT))
        return headers, body.encode()

    def record(self, get: Any, status: int) -> None:
        names = ("origin", "sec-fetch-site", "sec-fetch-mode", "referer", "cookie")
        self.seen.append(({n: get(n) for n in names}, status))


def serve_wsgi(site: Site) -> tuple[Any, int]:
    from werkzeug.serving import make_server

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        headers, body = site.page(environ["PATH_INFO"], environ.get("QUERY_STRING", ""),
                                  environ.get("HTTP_COOKIE"))
        start_response("200 OK", headers)
        return [body]

    middleware = WSGILogoutMiddleware(app, site.store, cookie_samesite=None)

    def recording(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") != LOGOUT:
            return middleware(environ, start_response)
        statuses: list[str] = []

        def keep(status: str, headers: Any, exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info)

        body = list(middleware(environ, keep))
        site.record(lambda n: environ.get("HTTP_" + n.upper().replace("-", "_")),
                    int(statuses[0][:3]))
        return body

    server = make_server("127.0.0.1", 0, recording, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(10)

    return stop, server.port


def serve_asgi(site: Site) -> tuple[Any, int]:
    try:
        import uvicorn
    except ImportError:  # pragma: no cover - a dev dependency
        unavailable("uvicorn is not installed")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        raw = dict(scope["headers"])
        cookie = raw.get(b"cookie")
        headers, body = site.page(scope["path"], scope["query_string"].decode(),
                                  cookie.decode("latin-1") if cookie else None)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(k.lower().encode(), v.encode()) for k, v in headers]})
        await send({"type": "http.response.body", "body": body})

    middleware = ASGILogoutMiddleware(app, site.store, cookie_samesite=None)

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != LOGOUT:
            await middleware(scope, receive, send)
            return
        statuses: list[int] = []

        async def keep(message: Any) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
            await send(message)

        await middleware(scope, receive, keep)
        raw = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        site.record(raw.get, statuses[0])

    config = uvicorn.Config(recording, host="127.0.0.1", port=0, log_level="error",
                            lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]

    def stop() -> None:
        server.should_exit = True
        thread.join(10)

    return stop, port


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched(RESOLVER_RULES) as chromium:
        yield chromium


@pytest.fixture(params=["wsgi", "asgi"])
def site(request: Any) -> Iterator[tuple[Site, int]]:
    served = Site()
    stop, port = (serve_wsgi if request.param == "wsgi" else serve_asgi)(served)
    try:
        yield served, port
    finally:
        stop()


def _user(page: Any, url: str) -> str:
    page.goto(url)
    return str(page.inner_text("#user"))


def _seen(site: Site) -> tuple[dict[str, str | None], int]:
    """The one request the logout path saw (its record may trail the answer a little)."""
    deadline = time.monotonic() + 5
    while not site.seen and time.monotonic() < deadline:
        time.sleep(0.02)
    [seen] = site.seen
    site.seen.clear()
    return seen


def _send(page: Any, how: str, target: str) -> str:
    """Post to ``target`` from the page: the form (a navigation) or ``fetch``."""
    if how == "form":
        with page.expect_response(lambda r: r.url == target):
            page.click("#submit")
        return "form"
    return str(page.evaluate("([t, m]) => post(t, m)", [target, how]))


@pytest.mark.browser
@pytest.mark.parametrize("how", ["form", "no-cors", "cors"])
def test_chromium_cross_site_post_is_refused_and_same_origin_post_logs_out(
    browser: Any, site: tuple[Site, int], how: str
) -> None:
    """From ``http://localhost:P`` (another site than ``http://127.0.0.1:P``: hosts
    differ) a form, a ``no-cors`` and a ``cors`` fetch, each carrying the session
    cookie (``SameSite=None``) to the logout path: refused, the session lives; then
    the same from the app's own page: logged out."""
    served, port = site
    app = f"http://127.0.0.1:{port}"
    target = app + LOGOUT
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        assert _user(page, app + "/login?samesite=None") == "ada"
        page.goto(f"http://localhost:{port}/page?target={target}")
        _send(page, how, target)
        headers, status = _seen(served)
        assert headers["sec-fetch-site"] == "cross-site", headers
        assert headers["origin"] == f"http://localhost:{port}", headers
        assert status == 403, headers
        if how == "form":  # the guard alone refused: the cookie was sent
            assert headers["cookie"], headers
        assert _user(page, app + "/me") == "ada"

        page.goto(f"{app}/page?target={target}")
        sent = _send(page, how, target)
        headers, status = _seen(served)
        assert headers["sec-fetch-site"] == "same-origin", headers
        assert status == 200, (headers, sent)
        assert _user(page, app + "/me") == "anonymous"
    finally:
        context.close()


@pytest.mark.browser
def test_chromium_on_plain_http_sends_no_fetch_metadata_and_origin_decides(
    browser: Any, site: tuple[Site, int]
) -> None:
    """``http://app.demo.test`` is not a potentially trustworthy origin: Chromium sends
    no ``Sec-Fetch-*`` there (docs/security.rst says "every current browser" sends
    it). The ``Origin`` check alone then refuses ``http://evil.test``'s form and lets
    the app's own fetch log out. A same-origin form on a ``no-referrer`` page sends
    ``Origin: null`` without ``Sec-Fetch-Site`` there: refused, which is the only safe
    answer (a sandboxed frame of any site sends the same), though docs/security.rst
    (step 2) promises that such a form logs out without saying it holds only on https
    or loopback."""
    served, port = site
    app = f"http://app.demo.test:{port}"
    target = app + LOGOUT
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        assert _user(page, app + "/login") == "ada"
        page.goto(f"http://evil.test:{port}/page?target={target}")
        _send(page, "form", target)
        headers, status = _seen(served)
        assert headers["sec-fetch-site"] is None and headers["origin"] == f"http://evil.test:{port}"
        assert status == 403
        assert _user(page, app + "/me") == "ada"

        page.goto(f"{app}/page?noref=1&target={target}")
        _send(page, "form", target)
        headers, status = _seen(served)
        assert headers["sec-fetch-site"] is None and headers["origin"] == "null", headers
        assert headers["cookie"], headers
        assert status == 403
        assert _user(page, app + "/me") == "ada"

        page.goto(f"{app}/page?target={target}")
        assert _send(page, "cors", target) == "basic 200"
        headers, status = _seen(served)
        assert headers["sec-fetch-site"] is None and headers["origin"] == app, headers
        assert status == 200
        assert _user(page, app + "/me") == "anonymous"
    finally:
        context.close()
