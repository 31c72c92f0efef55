"""FastAPI with server-side sessions in Redis, logged out by the ASGI LogoutMiddleware.

The sessions are the example's own, a few lines on the layout of
:class:`~logout_middleware.backends.AsyncRedisBackend`:

* the record of a session is one Redis string, JSON, at ``"session:" + session_id``
  (starsessions' and Flask-Session's layout), with a time to live of
  :data:`SESSION_AGE`; the login writes it (``AsyncRedisBackend.create``, a random
  43-character id) and every request reads it (``AsyncRedisBackend.get``);
* the ``session_id`` cookie holds the id (``HttpOnly; SameSite=Lax; Path=/``, the
  same lifetime);
* a :class:`~logout_middleware.backends.RedisSessionIndex` on the same Redis links
  each session to its user (``user=NAME``), for "sign out of other devices" and "sign
  out everywhere".

The middleware answers the logout path (one ``DEL`` of the record, awaited on the
event loop, and the session forgotten in the index) and ``/logout/everywhere`` (every
session of the current user; ``?keep_current=1``: every other one). The page's
buttons are plain forms; ``redirect_to="/"`` brings the browser back to the page.

``FASTAPI_EXAMPLE_REDIS`` is the Redis URL (default ``redis://127.0.0.1:6379/0``); its
query string may bound the waits (``?socket_timeout=1&socket_connect_timeout=1``;
2 s each by default, and one retry). Run it::

    cd examples && ../.venv/bin/uvicorn --workers 2 fastapi_app:app
"""

from __future__ import annotations

import html
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from logout_middleware import DEFAULT_LOGOUT_PATH
from logout_middleware.asgi import LogoutMiddleware
from logout_middleware.backends import AsyncRedisBackend, RedisSessionIndex

REDIS_URL = os.environ.get("FASTAPI_EXAMPLE_REDIS", "redis://127.0.0.1:6379/0")
COOKIE = "session_id"
#: How long a session lives, in Redis and in the browser: two weeks.
SESSION_AGE = 14 * 24 * 3600
# Where the middleware logs the current user out of every session.
EVERYWHERE_PATH = "/logout/everywhere"

# Built in the process that serves (uvicorn imports this module in each worker): an
# asyncio client belongs to the event loop that made its connections.
sessions = AsyncRedisBackend(REDIS_URL, key_prefix="session:", ttl=SESSION_AGE)
index = RedisSessionIndex(REDIS_URL)

PAGE = """<!doctype html>
<title>FastAPI example</title>
<p>Logged in as <strong id="user">{name}</strong></p>
{body}"""
LOGIN = """<form method="post" action="/login">
  <input id="username" name="username" required> <button id="login">Log in</button>
</form>"""
BUTTONS = f"""<form id="logout" method="post" action="{DEFAULT_LOGOUT_PATH}">
  <button>Log out</button>
</form>
<form id="sign-out-others" method="post" action="{EVERYWHERE_PATH}?keep_current=1">
  <button>Sign out of other devices</button>
</form>
<form id="sign-out-everywhere" method="post" action="{EVERYWHERE_PATH}">
  <button>Sign out everywhere</button>
</form>"""


async def current_user(request: Request) -> str | None:
    """The user of the request's session, or ``None``: no cookie, or no record."""
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        return None
    record = await sessions.get(session_id)
    return None if record is None else str(record["user"])


User = Annotated[str | None, Depends(current_user)]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await sessions.close()
    index.close()


api = FastAPI(lifespan=lifespan)


@api.get("/", response_class=HTMLResponse)
async def page(user: User) -> str:
    body = LOGIN if user is None else BUTTONS
    return PAGE.format(name=html.escape(user or "anonymous"), body=body)


@api.get("/me")
async def me(user: User) -> dict[str, str | None]:
    return {"user": user}


@api.post("/login")
async def login(request: Request) -> Response:
    # A demo: anyone may log in under any name (no password). The form is parsed here:
    # FastAPI's Form() needs python-multipart, which this example does without.
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    username = form.get("username", [""])[0].strip()[:64]
    if not username:
        return PlainTextResponse("a username, please", status_code=400)
    session_id = await sessions.create({"user": username})
    try:  # link the session to its user (a blocking client: in a worker thread)
        await run_in_threadpool(index.add, session_id, ttl=SESSION_AGE, user=username)
    except Exception:
        await sessions.delete(session_id)  # no login without its link
        raise
    answer = RedirectResponse("/", status_code=303)
    answer.set_cookie(COOKIE, session_id, max_age=SESSION_AGE, httponly=True, samesite="lax")
    return answer


# --- what a user adds: the same store, the cookie as the login sets it ------------
# (and the session index, for log out everywhere)
api.add_middleware(
    LogoutMiddleware,
    backend=sessions,
    cookie_name=COOKIE,
    cookie_path="/",
    cookie_httponly=True,
    cookie_samesite="Lax",
    index=index,
    everywhere_path=EVERYWHERE_PATH,
    redirect_to="/",  # the page's forms post here: back to the page after them
)
# ----------------------------------------------------------------------------------
app = api
