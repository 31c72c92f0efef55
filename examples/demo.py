"""The demo: a bare WSGI app (no framework) behind LogoutMiddleware.

* ``GET /``: who is logged in (or "anonymous"), and which worker process answered;
  a login form when anonymous; when logged in, three buttons: "Log out", "Sign out
  of other devices" and "Sign out everywhere".
* ``POST /login``: creates a session in SQLite with ``SQLiteBackend.create``, links it
  to its user in the session index (``index.add(session_id, user=username)``) and sets
  the ``session`` cookie (HttpOnly, SameSite=Lax) and Studio's ``XSRF-TOKEN`` cookie
  (readable by the page's script), then redirects to ``/``.
* Each button calls the middleware the way CrafterCMS Studio's UI calls its logout:
  ``fetch`` POST, ``Content-Type: application/json``, body ``{}``, and an
  ``X-XSRF-TOKEN`` header that repeats the ``XSRF-TOKEN`` cookie; then it reloads.
  "Log out" calls the logout path, "Sign out everywhere" the log out everywhere path
  (every session of the user), "Sign out of other devices" the same with
  ``?keep_current=1``. Those paths are answered by the middleware, never by this app.

Run it with ``make demo`` (gunicorn, 2 workers, http://127.0.0.1:8000). The SQLite
file is shared by the workers, so a logout answered by one worker ends a session
created by the other: the page shows the pid of the worker that served it.

Settings come from the environment:

``LOGOUT_DEMO_DB``
    the SQLite file of the sessions and of the session index (its own table,
    ``session_index``; default: ``demo.sqlite3`` next to this file).
``LOGOUT_DEMO_STORE``
    another session store, named by a URL as in the PasteDeploy filter, e.g.
    ``redis://127.0.0.1:6379/0`` (records at ``session:<id>``); the index is then
    built from the same URL (keys ``session-index:...``). Default: the SQLite file
    above.
``LOGOUT_DEMO_COOKIE_PATH``, ``LOGOUT_DEMO_COOKIE_DOMAIN``
    the Path and Domain the cookies are set with (default ``/`` and host-only). The
    middleware is given the same values, so its deletion headers match.

Mounted under a prefix (``SCRIPT_NAME``, e.g. gunicorn's ``SCRIPT_NAME`` variable),
every link, the form and the buttons follow the prefix.
"""

from __future__ import annotations

import html
import logging
import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from werkzeug.http import dump_cookie, parse_cookie

from logout_middleware import (
    DEFAULT_LOGOUT_PATH,
    LogoutMiddleware,
    SessionIndex,
    SessionStore,
    SQLiteBackend,
    SQLiteSessionIndex,
    fingerprint,
)

StartResponse = Callable[..., Any]
logger = logging.getLogger("demo")

DEFAULT_DB = Path(__file__).with_name("demo.sqlite3")
SESSION_COOKIE = "session"
XSRF_COOKIE = "XSRF-TOKEN"
XSRF_HEADER = "X-XSRF-TOKEN"
# Where the middleware logs the current user out of every session (not a Studio path).
EVERYWHERE_PATH = "/logout/everywhere"
MAX_USERNAME = 64

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>logout-middleware demo</title>
<style>
  body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; }}
  .who {{ font-size: 1.4rem; }}
  .pid {{ color: #666; }}
</style>
</head>
<body>
<h1>logout-middleware demo</h1>
<p class="who">Logged in as <strong id="user">{user}</strong></p>
{body}
<p class="pid">Served by worker pid <span id="pid">{pid}</span>.</p>
<p class="pid">Last logout answer: <code id="last-logout">none</code></p>
<script>
const last = sessionStorage.getItem("lastLogout");
if (last !== null) {{
  document.getElementById("last-logout").textContent = last;
  sessionStorage.removeItem("lastLogout");
}}
</script>
</body>
</html>
"""

LOGIN_FORM = """<form method="post" action="{action}">
  <label>Username <input name="username" id="username" required maxlength="{max}"></label>
  <button type="submit" id="login">Log in</button>
</form>"""

# Studio's UI: POST JSON {} with the double-submit token, then reload whatever the
# answer was (Studio ignores the body and redirects after success and failure alike).
# The three buttons differ only in the path they call (data-url).
BUTTONS = """<button type="button" id="logout" data-url="{logout}">Log out</button>
<button type="button" id="sign-out-others" data-url="{others}">Sign out of other devices</button>
<button type="button" id="sign-out-everywhere" data-url="{everywhere}">Sign out everywhere</button>
<script>
function readCookie(name) {{
  for (const part of document.cookie.split("; ")) {{
    const eq = part.indexOf("=");
    if (part.slice(0, eq) === name) return decodeURIComponent(part.slice(eq + 1));
  }}
  return "";
}}
async function post(url) {{
  let answer = "no answer";
  try {{
    const response = await fetch(url, {{
      method: "POST",
      credentials: "same-origin",
      headers: {{
        "Content-Type": "application/json",
        "X-XSRF-TOKEN": readCookie("XSRF-TOKEN"),
      }},
      body: "{{}}",
    }});
    answer = response.status + " " + (await response.text());
  }} finally {{
    // Not Studio: the demo shows the answer on the reloaded page.
    sessionStorage.setItem("lastLogout", answer);
    location.reload();
  }}
}}
for (const button of document.querySelectorAll("button[data-url]")) {{
  button.addEventListener("click", () => post(button.dataset.url));
}}
</script>"""


class DemoApp:
    """The application itself: it knows nothing about logout."""

    def __init__(
        self,
        sessions: SessionStore,
        index: SessionIndex,
        *,
        everywhere_path: str = EVERYWHERE_PATH,
        cookie_path: str = "/",
        cookie_domain: str | None = None,
    ) -> None:
        self.sessions = sessions
        self.index = index
        self.everywhere_path = everywhere_path
        self.cookie_path = cookie_path
        self.cookie_domain = cookie_domain

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/" and method in ("GET", "HEAD"):
            return self.page(environ, start_response)
        if path == "/login" and method == "POST":
            return self.login(environ, start_response)
        if path in ("/", "/login"):
            return self.respond(start_response, "405 Method Not Allowed", b"method not allowed\n")
        return self.respond(start_response, "404 Not Found", b"not found\n")

    def current_user(self, environ: dict[str, Any]) -> str | None:
        session_id = parse_cookie(environ).get(SESSION_COOKIE)
        if not session_id:
            return None
        data = self.sessions.get(session_id)
        return None if data is None else str(data.get("username"))

    def page(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        root = environ.get("SCRIPT_NAME", "")
        user = self.current_user(environ)
        if user is None:
            body = LOGIN_FORM.format(action=html.escape(root + "/login"), max=MAX_USERNAME)
        else:
            everywhere = root + self.everywhere_path
            body = BUTTONS.format(
                logout=html.escape(root + DEFAULT_LOGOUT_PATH),
                others=html.escape(everywhere + "?keep_current=1"),
                everywhere=html.escape(everywhere),
            )
        text = PAGE.format(
            user=html.escape(user) if user is not None else "anonymous",
            body=body,
            pid=os.getpid(),
        )
        return self.respond(
            start_response,
            "200 OK",
            text.encode("utf-8"),
            "text/html; charset=utf-8",
        )

    def login(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        form = parse_qs(environ["wsgi.input"].read(min(length, 4096)).decode("utf-8", "replace"))
        username = (form.get("username") or [""])[0].strip()
        if not username or len(username) > MAX_USERNAME:
            return self.respond(
                start_response, "400 Bad Request", b"a username of 1 to 64 characters\n"
            )
        session_id = self.sessions.create({"username": username})
        # Log out everywhere finds the session by this link. The demo's sessions never
        # expire (each lives until a logout ends it), so neither does the link: ttl=None.
        # Linked before the cookie is sent: if this raises, no browser holds the session.
        self.index.add(session_id, ttl=None, user=username)
        # A fingerprint, never the id itself: a session id in a log is a stolen session.
        logger.info("login: session=%s", fingerprint(session_id))
        cookie = {"path": self.cookie_path, "domain": self.cookie_domain, "samesite": "Lax"}
        headers = [
            ("Location", environ.get("SCRIPT_NAME", "") + "/"),
            ("Set-Cookie", dump_cookie(SESSION_COOKIE, session_id, httponly=True, **cookie)),
            # Not HttpOnly: the page's script repeats it in the X-XSRF-TOKEN header.
            (
                "Set-Cookie",
                dump_cookie(XSRF_COOKIE, secrets.token_urlsafe(24), httponly=False, **cookie),
            ),
        ]
        return self.respond(start_response, "303 See Other", b"", extra=headers)

    @staticmethod
    def respond(
        start_response: StartResponse,
        status: str,
        body: bytes,
        content_type: str = "text/plain; charset=utf-8",
        extra: list[tuple[str, str]] | None = None,
    ) -> Iterable[bytes]:
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            *(extra or []),
        ]
        start_response(status, headers)
        return [body]


def make_app(
    db_path: str | os.PathLike[str] = DEFAULT_DB,
    *,
    store: SessionStore | None = None,
    index: SessionIndex | None = None,
    cookie_path: str = "/",
    cookie_domain: str | None = None,
) -> LogoutMiddleware:
    """Build the demo: the app, wrapped by the middleware (the lines a user adds).

    ``store`` replaces the SQLite file at ``db_path`` (any store with ``create``,
    ``get`` and ``delete``), and ``index`` the session index in the same file.
    """
    sessions = store if store is not None else SQLiteBackend(db_path)
    index = index if index is not None else SQLiteSessionIndex(db_path)
    app = DemoApp(sessions, index, cookie_path=cookie_path, cookie_domain=cookie_domain)
    # --- what a user adds: wrap the app, with the cookie exactly as it was set ---
    return LogoutMiddleware(
        app,
        sessions,
        cookie_name=SESSION_COOKIE,
        cookie_path=cookie_path,
        cookie_domain=cookie_domain,
        csrf_cookie_name=XSRF_COOKIE,
        csrf_header_name=XSRF_HEADER,
        csrf_cookie_path=cookie_path,
        csrf_cookie_domain=cookie_domain,  # the page sets both cookies alike
        # Log out everywhere: the index the login links each session in, and the path.
        index=index,
        everywhere_path=EVERYWHERE_PATH,
    )


def app_from_environment() -> LogoutMiddleware:
    """Build the demo from the ``LOGOUT_DEMO_*`` environment variables."""
    store = index = None
    if os.environ.get("LOGOUT_DEMO_STORE"):
        from logout_middleware.backends import backend_from_url, index_from_url

        store = backend_from_url(os.environ["LOGOUT_DEMO_STORE"])
        index = index_from_url(os.environ["LOGOUT_DEMO_STORE"])
    return make_app(
        os.environ.get("LOGOUT_DEMO_DB") or DEFAULT_DB,
        store=store,
        index=index,
        cookie_path=os.environ.get("LOGOUT_DEMO_COOKIE_PATH") or "/",
        cookie_domain=os.environ.get("LOGOUT_DEMO_COOKIE_DOMAIN") or None,
    )


def paste_app_factory(
    global_conf: dict[str, str],
    *,
    database: str,
    everywhere_path: str = EVERYWHERE_PATH,
    cookie_path: str = "/",
    cookie_domain: str = "",
) -> DemoApp:
    """PasteDeploy ``paste.app_factory``: the bare app, for ``examples/paste.ini``.

    The sessions and their index live in ``database``. The ini file wraps the app
    with ``[filter:logout] use = egg:logout-middleware``, given the same file as its
    ``backend`` and ``index`` and the same ``everywhere_path``.
    """
    return DemoApp(
        SQLiteBackend(database),
        SQLiteSessionIndex(database),
        everywhere_path=everywhere_path,
        cookie_path=cookie_path,
        cookie_domain=cookie_domain or None,
    )


def __getattr__(name: str) -> Any:
    # ``demo:app`` (gunicorn) builds the app on first use, so importing this module
    # for make_app() creates no database file.
    if name == "app":
        globals()["app"] = built = app_from_environment()
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    from wsgiref.simple_server import make_server

    with make_server("127.0.0.1", 8000, app_from_environment()) as server:
        print("Serving the demo on http://127.0.0.1:8000 (Ctrl-C to stop)")
        server.serve_forever()
