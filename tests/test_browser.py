"""A real browser: headless Debian Chromium, driven by Playwright, against the demo
served by gunicorn.

Only a browser proves that a deletion header really removes the cookie: a wrong Path
or Domain leaves it alive (RFC 6265bis storage model). Each scenario logs in through
the form, checks the browser's cookie store, logs out the way Studio's UI does
(``fetch`` POST, JSON ``{}``, ``X-XSRF-TOKEN``), and checks that the cookie is gone
from the store and the page says anonymous. A page on another origin that
auto-submits a form to the logout path must be refused, and the session must survive.

Host names that resolve to 127.0.0.1 come from Chromium's ``--host-resolver-rules``:
``app.demo.test``, ``www.demo.test`` (a sibling, for the parent-domain cookie) and
``evil.test`` (the attacker's site). Screenshots of every step are saved under
``test-artifacts/browser/``. Never downloads a browser: without ``/usr/bin/chromium``
the tests skip locally and fail under ``CI=true``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import unavailable
from example_apps import ARTIFACTS, EXAMPLES
from gunicorn_util import GunicornServer, start
from servers import free_port

from logout_middleware import DEFAULT_LOGOUT_PATH, SQLiteBackend

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-proxy-server",
    "--host-resolver-rules=MAP *.demo.test 127.0.0.1, MAP evil.test 127.0.0.1",
]
SCREENSHOTS = ARTIFACTS / "browser"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        unavailable(f"{CHROMIUM} is missing (Debian package chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        unavailable("the playwright Python package is not installed")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, timeout=30_000
        )
        try:
            yield chromium
        finally:
            chromium.close()


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
        self.n += 1
        self.page.screenshot(path=str(SCREENSHOTS / f"{self.scenario}-{self.n:02d}-{step}.png"))


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
        assert "set-cookie" not in response.headers
        expect(page.locator("body")).to_contain_text("Cross-site logout request refused")
        shot("refused")

        assert [c["value"] for c in cookies(context, "session")] == [session["value"]]
        assert demo.record(session["value"]) == {"username": "victim"}
        page.goto(demo.base + "/")
        expect(page.locator("#user")).to_have_text("victim")
        shot("still-logged-in")
    finally:
        context.close()
