"""Starlette with its cookie sessions, logged out by the ASGI LogoutMiddleware.

Starlette's ``SessionMiddleware`` keeps the whole session in a signed cookie: there is
no record to delete, and a copy of the cookie would stay valid until it expires. With
``revocation`` the middleware records a logged-out session as revoked: every later
request *and websocket handshake* that carries it reaches the app without it (the
app sees an empty session), and the answer expires the cookie. The lines a user adds
are marked below; the rest is an ordinary Starlette app: a page that shows who is
logged in, a login form, a "Log out" form, and a websocket for logged-in users only.

The revoked sessions live where every worker sees them: ``STARLETTE_EXAMPLE_REVOKED``,
a revocation store URL (``sqlite:///path``, a ``redis://`` URL, or ``memory:`` for
one process); by default ``starlette_revoked.sqlite3`` next to this file. Every
worker must sign with the same key: ``STARLETTE_SECRET_KEY``.

Run it::

    cd examples && ../.venv/bin/uvicorn --workers 2 starlette_app:app
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from logout_middleware import DEFAULT_LOGOUT_PATH
from logout_middleware.asgi import LogoutMiddleware
from logout_middleware.backends import revocation_store_from_url

DEFAULT_REVOKED = Path(__file__).with_name("starlette_revoked.sqlite3")
SECRET_KEY = os.environ.get("STARLETTE_SECRET_KEY", "example-only-not-secret-change-me")
#: How long a session lives: Starlette's default max_age, two weeks.
SESSION_AGE = 14 * 24 * 3600

PAGE = """<!doctype html>
<title>Starlette example</title>
<p>Logged in as <strong id="user">{name}</strong></p>
{body}"""
LOGIN = """<form method="post" action="/login">
  <input id="username" name="username" required> <button id="login">Log in</button>
</form>"""
LOGOUT = f"""<form method="post" action="{DEFAULT_LOGOUT_PATH}">
  <button id="logout">Log out</button>
</form>"""


async def index(request: Request) -> Response:
    user = request.session.get("user")
    body = LOGIN if user is None else LOGOUT
    return HTMLResponse(PAGE.format(name=html.escape(user or "anonymous"), body=body))


async def login(request: Request) -> Response:
    # A demo: anyone may log in under any name (no password). The form is parsed here:
    # Starlette's request.form() needs python-multipart, which this example does without.
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    username = form.get("username", [""])[0].strip()[:64]
    if not username:
        return PlainTextResponse("a username, please", status_code=400)
    request.session.clear()
    request.session["user"] = username
    return RedirectResponse("/", status_code=303)


async def greet(websocket: WebSocket) -> None:
    # A websocket for logged-in users only: a revoked session arrives without its
    # cookie, so the handshake is refused (403 to the client).
    user = websocket.session.get("user")
    if user is None:
        await websocket.close(code=1008)
        return
    await websocket.accept()
    await websocket.send_text(f"hello {user}")
    await websocket.close()


def create_app(revoked: str | None = None) -> Starlette:
    app = Starlette(
        routes=[
            Route("/", index),
            Route("/login", login, methods=["POST"]),
            WebSocketRoute("/ws", greet),
        ]
    )
    app.add_middleware(
        SessionMiddleware, secret_key=SECRET_KEY, max_age=SESSION_AGE, same_site="lax"
    )
    # --- what a user adds: after SessionMiddleware, so that it runs first ---------
    app.add_middleware(
        LogoutMiddleware,
        backend=None,  # cookie-only sessions: nothing to delete
        revocation=revocation_store_from_url(revoked or f"sqlite:///{DEFAULT_REVOKED}"),
        revocation_max_age=SESSION_AGE,  # as long as a session lives
        cookie_name="session",  # the cookie as SessionMiddleware sets it
        cookie_path="/",
        cookie_samesite="Lax",
        cookie_httponly=True,
        redirect_to="/",  # the page's form posts here: back to the page after it
    )
    # ---------------------------------------------------------------------------
    return app


app = create_app(os.environ.get("STARLETTE_EXAMPLE_REVOKED"))
