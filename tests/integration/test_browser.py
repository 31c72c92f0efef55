"""A real browser: headless Debian Chromium, driven by Playwright, against the demo
served by gunicorn.

Only a browser proves that a deletion header really removes the cookie: a wrong Path
or Domain leaves it alive (RFC 6265bis storage model). Each scenario logs in through
the form, checks the browser's cookie store, logs out the way Studio's UI does
(``fetch`` POST, JSON ``{}``, ``X-XSRF-TOKEN``), and checks that the cookie is gone
from the store and the page says anonymous. A page on another origin that
auto-submits a form to the logout path must be refused, and the session must survive.

A logout form on a page served with ``Referrer-Policy: no-referrer`` (issue 10, item
3): Chromium sends ``Origin: null`` with ``Sec-Fetch-Site: same-origin`` from the
app's own page, which must log out, and ``Origin: null`` with ``Sec-Fetch-Site:
cross-site`` from another site's, which must be refused. The test app records the
headers Chromium really sent and the tests assert them, so they document the browser.

Host names that resolve to 127.0.0.1 come from Chromium's ``--host-resolver-rules``:
``app.demo.test``, ``www.demo.test`` (a sibling, for the parent-domain cookie) and
``evil.test`` (the attacker's site). Screenshots of every step are saved under
``test-artifacts/browser/``. Never downloads a browser: without ``/usr/bin/chromium``
the tests skip locally and fail under ``CI=true``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from chromium_util import launched
from example_apps import ARTIFACTS, EXAMPLES
from gunicorn_util import GunicornServer, start
from servers import free_port

from logout_middleware import DEFAULT_LOGOUT_PATH, SQLiteBackend

pytestmark = pytest.mark.browser

RESOLVER_RULES = "MAP *.demo.test 127.0.0.1, MAP evil.test 127.0.0.1"
SCREENSHOTS = ARTIFACTS / "browser"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with launched(RESOLVER_RULES) as chromium:
        yield chromium


@dataclass
class Demo:
    server: GunicornServer
    db: Path
    #: Where the browser opens the demo, e.g. ``http://app.demo.test:PORT/studio``.
    base: str

    def record(self, session_id: str) -> dict[str, Any] | None:
        backend = SQLiteBackend(self.db)
        try:
            return backend.get(session_id)
        finally:
            backend.close()


@pytest.fixture
def serve_demo(tmp_path: Path) -> Iterator[Any]:
    servers: list[GunicornServer] = []

    def serve(host: str, cookie_path: str = "/", cookie_domain: str = "") -> Demo:
        db = tmp_path / "demo.sqlite3"
        env = {
            "LOGOUT_DEMO_DB": str(db),
            "LOGOUT_DEMO_COOKIE_PATH": cookie_path,
            "LOGOUT_DEMO_COOKIE_DOMAIN": cookie_domain,
        }
        mount = "" if cookie_path == "/" else cookie_path
        if mount:
            env["SCRIPT_NAME"] = mount  # gunicorn mounts the app under this prefix
        server = start(
            "demo:app",
            workers=2,
            env=env,
            chdir=EXAMPLES,
            config=EXAMPLES / "gunicorn.conf.py",
            ready_path=mount + "/",
        )
        servers.append(server)
        return Demo(server, db, f"http://{host}:{server.port}{mount}")

    yield serve
    for server in servers:
        assert server.stop() == 0


class Shots:
    """Numbered screenshots of one scenario."""

    def __init__(self, page: Any, scenario: str) -> None:
        self.page, self.scenario, self.n = page, scenario, 0

    def __call__(self, step: str) -> None:
        """Take one; the screenshot is evidence for a reader, not a check: when Chromium
        cannot capture the page mid-navigation ("Unable to capture screenshot"), it
        retries once after the page settles, then notes the gap instead of failing."""
        from playwright.sync_api import Error

        self.n += 1
        path = SCREENSHOTS / f"{self.scenario}-{self.n:02d}-{step}.png"
        for attempt in range(2):
            try:
                self.page.screenshot(path=str(path))
                return
            except Error:
                if attempt == 0:
                    self.page.wait_for_load_state()
        path.with_suffix(".txt").write_text("Chromium could not capture this step\n")


def new_page(browser: Any) -> tuple[Any, Any]:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


def log_in(page: Any, base: str, username: str, shot: Shots) -> None:
    from playwright.sync_api import expect

    page.goto(base + "/")
    expect(page.locator("#user")).to_have_text("anonymous")
    shot("anonymous")
    page.fill("#username", username)
    with page.expect_navigation():
        page.click("#login")
    expect(page.locator("#user")).to_have_text(username)
    shot("logged-in")


def cookies(context: Any, name: str) -> list[dict[str, Any]]:
    return [c for c in context.cookies() if c["name"] == name]


@pytest.mark.parametrize(
    ("scenario", "host", "cookie_path", "cookie_domain"),
    [
        ("root-path", "127.0.0.1", "/", ""),
        ("non-root-path", "app.demo.test", "/studio", ""),
        ("parent-domain", "app.demo.test", "/", "demo.test"),
    ],
)
def test_browser_drops_the_cookie_after_studio_style_logout(
    browser: Any,
    serve_demo: Any,
    scenario: str,
    host: str,
    cookie_path: str,
    cookie_domain: str,
) -> None:
    from playwright.sync_api import expect

    demo: Demo = serve_demo(host, cookie_path, cookie_domain)
    context, page = new_page(browser)
    shot = Shots(page, scenario)
    try:
        log_in(page, demo.base, "alice", shot)

        (session,) = cookies(context, "session")
        assert session["path"] == cookie_path
        assert session["domain"] == ("." + cookie_domain if cookie_domain else host)
        assert session["httpOnly"] is True and session["sameSite"] == "Lax"
        (xsrf,) = cookies(context, "XSRF-TOKEN")
        assert xsrf["httpOnly"] is False and xsrf["path"] == cookie_path
        assert demo.record(session["value"]) == {"username": "alice"}

        if cookie_domain:  # a sibling host shares the parent-domain cookie
            sibling = demo.base.replace(host, "www." + cookie_domain)
            page.goto(sibling + "/")
            expect(page.locator("#user")).to_have_text("alice")
            shot("sibling-logged-in")
            page.goto(demo.base + "/")

        with page.expect_response(lambda r: r.url.endswith(DEFAULT_LOGOUT_PATH)) as info:
            page.click("#logout")
        response = info.value
        request = response.request
        assert response.status == 200
        assert request.method == "POST" and request.post_data == "{}"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["x-xsrf-token"] == xsrf["value"]
        expect(page.locator("#user")).to_have_text("anonymous")
        expect(page.locator("#last-logout")).to_have_text('200 {"message": "OK"}')
        shot("logged-out")

        assert cookies(context, "session") == [], "the browser kept the session cookie"
        assert cookies(context, "XSRF-TOKEN") == [], "the browser kept the XSRF-TOKEN"
        assert demo.record(session["value"]) is None

        if cookie_domain:
            page.goto(sibling + "/")
            expect(page.locator("#user")).to_have_text("anonymous")
            shot("sibling-logged-out")
    finally:
        context.close()


ATTACK_PAGE = """<!doctype html>
<html><head><title>You won a prize</title></head>
<body>
<h1>Claim your prize</h1>
<form id="attack" method="post" action="{target}">
  <input type="hidden" name="next" value="/">
</form>
<script>document.getElementById("attack").submit();</script>
</body></html>
"""


@pytest.fixture
def attacker() -> Iterator[Any]:
    """A second origin that serves one page: an auto-submitting logout form."""
    from werkzeug.serving import make_server

    holder: dict[str, str] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = ATTACK_PAGE.format(target=holder["target"]).encode()
        headers = [("Content-Type", "text/html"), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers)
        return [body]

    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(target: str) -> int:
        holder["target"] = target
        return server.port

    try:
        yield serve
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.mark.parametrize(
    ("scenario", "app_host", "attacker_host"),
    [
        ("attack-cross-site", "app.demo.test", "evil.test"),
        ("attack-same-site-other-port", "127.0.0.1", "127.0.0.1"),
    ],
)
def test_cross_origin_form_post_to_logout_is_refused_and_session_survives(
    browser: Any,
    serve_demo: Any,
    attacker: Any,
    scenario: str,
    app_host: str,
    attacker_host: str,
) -> None:
    from playwright.sync_api import expect

    demo: Demo = serve_demo(app_host)
    attacker_port = attacker(demo.base + DEFAULT_LOGOUT_PATH)
    context, page = new_page(browser)
    shot = Shots(page, scenario)
    try:
        log_in(page, demo.base, "victim", shot)
        (session,) = cookies(context, "session")

        with page.expect_response(lambda r: r.url.endswith(DEFAULT_LOGOUT_PATH)) as info:
            page.goto(f"http://{attacker_host}:{attacker_port}/")
        response = info.value
        assert response.request.method == "POST"
        assert response.status == 403
        # Playwright's .headers never lists Set-Cookie; header_value reads it.
        assert response.header_value("set-cookie") is None, "a refused logout expired a cookie"
        expect(page.locator("body")).to_contain_text("Cross-site logout request refused")
        shot("refused")

        assert [c["value"] for c in cookies(context, "session")] == [session["value"]]
        assert demo.record(session["value"]) == {"username": "victim"}
        page.goto(demo.base + "/")
        expect(page.locator("#user")).to_have_text("victim")
        shot("still-logged-in")
    finally:
        context.close()


# -- a logout form on a page sent with Referrer-Policy: no-referrer ---------------------
#
# Issue 10, item 3. A page served with ``Referrer-Policy: no-referrer`` makes Chromium
# send ``Origin: null`` with its form POSTs (Fetch: "serializing a request origin"),
# even to its own origin; ``Sec-Fetch-Site`` still says where the request came from.
# The site below records what Chromium really sent to the logout path, so the tests
# document the browser's behaviour besides the middleware's answer. The app is on
# http://127.0.0.1:PORT (a potentially trustworthy origin, so Chromium sends the
# Sec-Fetch-* headers to it); the other site's page is on http://localhost:PORT2 or
# http://evil.test:PORT2 (another site: another host, not only another port).

NO_REFERRER_FORM = """<!doctype html>
<html><head><title>Sign out</title></head>
<body>
<h1>Sign out</h1>
<form id="logout-form" method="post" action="{target}">
  <input type="hidden" name="next" value="/">
  <button id="sign-out" type="submit">Sign out</button>
</form>
</body></html>
"""

#: The request headers recorded for each request to the logout path.
SENT_HEADERS = ("Origin", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest", "Referer")


@dataclass
class Site:
    """One in-process HTTP server (werkzeug) running ``LogoutMiddleware`` with its
    defaults, in front of a tiny app: ``/login`` sets a session cookie, ``/form``
    is the no-referrer logout page (``?target=URL`` to post elsewhere), ``/me``
    names the user. What reached the logout path is kept in :attr:`sent`."""

    port: int
    store: Any
    sent: list[dict[str, str | None]]

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"


#: A plain HTML logout form that carries the double-submit token in a hidden field.
CSRF_FORM = """<!doctype html>
<html><head><title>Sign out</title></head>
<body>
<form id="logout-form" method="post" action="{target}">
  <input type="hidden" name="_csrf" value="{token}">
  <button id="sign-out" type="submit">Sign out</button>
</form>
</body></html>
"""
TOKEN = "tok-3f9a1c"


def _site_app(store: Any, sent: list[dict[str, str | None]], **options: Any) -> Any:
    from urllib.parse import parse_qs

    from werkzeug.http import dump_cookie, parse_cookie

    from logout_middleware import LogoutMiddleware

    def page(start_response: Any, body: str, extra: list[tuple[str, str]]) -> list[bytes]:
        data = body.encode()
        headers = [("Content-Type", "text/html; charset=utf-8"),
                   ("Content-Length", str(len(data))), *extra]
        start_response("200 OK", headers)
        return [data]

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/login":
            sid = store.create({"user": "ada"})
            cookie = dump_cookie("session", sid, httponly=True, samesite="Lax", path="/")
            token = dump_cookie("XSRF-TOKEN", TOKEN, samesite="Lax", path="/")
            headers = [("Set-Cookie", cookie), ("Set-Cookie", token)]
            return page(start_response, "<p id=user>ada</p>", headers)
        if path == "/csrf-form":  # with ?field=0: the same form without the token
            with_field = parse_qs(environ.get("QUERY_STRING", "")).get("field") != ["0"]
            body = CSRF_FORM.format(target=DEFAULT_LOGOUT_PATH, token=TOKEN)
            if not with_field:
                body = body.replace('name="_csrf"', 'name="other"')
            return page(start_response, body, [])
        if path == "/form":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            target = query.get("target", [DEFAULT_LOGOUT_PATH])[0]
            return page(
                start_response,
                NO_REFERRER_FORM.format(target=target),
                [("Referrer-Policy", "no-referrer")],
            )
        sid = parse_cookie(environ).get("session")
        data = store.get(sid) if sid else None
        return page(start_response, f"<p id=user>{data['user'] if data else 'anonymous'}</p>", [])

    middleware = LogoutMiddleware(app, store, **options)

    def recording(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == DEFAULT_LOGOUT_PATH:
            seen = {
                name: environ.get("HTTP_" + name.upper().replace("-", "_"))
                for name in SENT_HEADERS
            }
            seen["Cookie"] = "present" if environ.get("HTTP_COOKIE") else None
            sent.append(seen)
        return middleware(environ, start_response)

    return recording


@pytest.fixture
def sites() -> Iterator[Any]:
    """Start :class:`Site` servers on 127.0.0.1 (stopped at the end)."""
    from werkzeug.serving import make_server

    from logout_middleware import MemoryBackend

    running: list[tuple[Any, threading.Thread]] = []

    def serve(**options: Any) -> Site:
        store = MemoryBackend()
        sent: list[dict[str, str | None]] = []
        app = _site_app(store, sent, **options)
        server = make_server("127.0.0.1", free_port(), app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        running.append((server, thread))
        return Site(server.port, store, sent)

    try:
        yield serve
    finally:
        for server, thread in running:
            server.shutdown()
            server.server_close()
            thread.join(10)


def _log_in(page: Any, site: Site, shot: Shots) -> dict[str, Any]:
    from playwright.sync_api import expect

    page.goto(site.url("127.0.0.1", "/login"))
    expect(page.locator("#user")).to_have_text("ada")
    shot("logged-in")
    (session,) = cookies(page.context, "session")
    assert site.store.get(session["value"]) == {"user": "ada"}
    return session


def test_same_origin_logout_form_on_a_no_referrer_page_logs_out(
    browser: Any, sites: Any
) -> None:
    """Chromium sends ``Origin: null`` with ``Sec-Fetch-Site: same-origin``; Fetch
    Metadata decides first, so the logout goes through (issue 10, item 3)."""
    from playwright.sync_api import expect

    site: Site = sites()
    context, page = new_page(browser)
    shot = Shots(page, "no-referrer-same-origin")
    try:
        session = _log_in(page, site, shot)
        page.goto(site.url("127.0.0.1", "/form"))
        shot("form")
        with page.expect_response(lambda r: r.url.endswith(DEFAULT_LOGOUT_PATH)) as info:
            page.click("#sign-out")
        response = info.value
        shot("answered")

        # What Chromium really sent: the browser's behaviour, recorded.
        (sent,) = site.sent
        assert response.request.method == "POST"
        assert sent["Origin"] == "null", sent
        assert sent["Sec-Fetch-Site"] == "same-origin", sent
        assert sent["Sec-Fetch-Mode"] == "navigate", sent
        assert sent["Referer"] is None, sent
        assert sent["Cookie"] == "present", sent

        assert response.status in (200, 303), (
            f"a same-origin logout form on a no-referrer page was answered "
            f"{response.status}; Chromium sent {sent}"
        )
        assert "session=;" in (response.header_value("set-cookie") or "")
        assert cookies(context, "session") == [], "the browser kept the session cookie"
        assert site.store.get(session["value"]) is None, "the session record remains"
        page.goto(site.url("127.0.0.1", "/me"))
        expect(page.locator("#user")).to_have_text("anonymous")
        shot("logged-out")
    finally:
        context.close()


@pytest.mark.parametrize("other_host", ["localhost", "evil.test"])
def test_cross_site_logout_form_on_a_no_referrer_page_is_refused(
    browser: Any, sites: Any, other_host: str
) -> None:
    """The same form on another site, also with no-referrer: ``Origin: null`` and
    ``Sec-Fetch-Site: cross-site``; refused, and the session survives."""
    from playwright.sync_api import expect

    site: Site = sites()
    other: Site = sites()
    context, page = new_page(browser)
    shot = Shots(page, f"no-referrer-cross-site-{other_host}")
    try:
        session = _log_in(page, site, shot)
        target = site.url("127.0.0.1", DEFAULT_LOGOUT_PATH)
        page.goto(other.url(other_host, "/form?target=" + target))
        shot("form")
        with page.expect_response(lambda r: r.url.endswith(DEFAULT_LOGOUT_PATH)) as info:
            page.click("#sign-out")
        response = info.value
        shot("refused")

        (sent,) = site.sent
        assert other.sent == []
        assert response.request.method == "POST"
        assert sent["Origin"] == "null", sent
        assert sent["Sec-Fetch-Site"] == "cross-site", sent
        assert sent["Referer"] is None, sent
        # SameSite=Lax: a cross-site POST does not carry the session cookie at all.
        assert sent["Cookie"] is None, sent

        assert response.status == 403, f"answered {response.status}; Chromium sent {sent}"
        assert response.header_value("set-cookie") is None
        assert [c["value"] for c in cookies(context, "session")] == [session["value"]]
        assert site.store.get(session["value"]) == {"user": "ada"}
        page.goto(site.url("127.0.0.1", "/me"))
        expect(page.locator("#user")).to_have_text("ada")
        shot("still-logged-in")
    finally:
        context.close()


CSRF_FIELD = {
    "csrf_cookie_name": "XSRF-TOKEN",
    "csrf_header_name": "X-XSRF-TOKEN",
    "csrf_field_name": "_csrf",
}


@pytest.mark.parametrize("with_field", [True, False])
def test_a_plain_form_logs_out_with_the_token_in_a_hidden_field(
    browser: Any, sites: Any, with_field: bool
) -> None:
    """With the double-submit check on, a plain HTML form (which cannot send the
    header) logs out when it carries the token in ``csrf_field_name``; the same form
    without it is refused and the session lives on."""
    from playwright.sync_api import expect

    site: Site = sites(**CSRF_FIELD)
    context, page = new_page(browser)
    shot = Shots(page, f"csrf-field-{'with' if with_field else 'without'}")
    try:
        session = _log_in(page, site, shot)
        page.goto(site.url("127.0.0.1", "/csrf-form" + ("" if with_field else "?field=0")))
        with page.expect_response(lambda r: r.url.endswith(DEFAULT_LOGOUT_PATH)) as info:
            page.click("#sign-out")
        response = info.value
        shot("answered")
        (sent,) = site.sent
        assert sent["Sec-Fetch-Site"] == "same-origin" and sent["Cookie"] == "present", sent
        assert response.request.header_value("x-xsrf-token") is None  # a form: no header
        if with_field:
            assert response.status == 200, response.status
            assert cookies(context, "session") == [] and cookies(context, "XSRF-TOKEN") == []
            assert site.store.get(session["value"]) is None
        else:
            assert response.status == 403, response.status
            assert [c["value"] for c in cookies(context, "session")] == [session["value"]]
            assert site.store.get(session["value"]) == {"user": "ada"}
            page.goto(site.url("127.0.0.1", "/me"))
            expect(page.locator("#user")).to_have_text("ada")
    finally:
        context.close()
