"""Pyramid + Beaker server-side sessions (SQL store), behind LogoutMiddleware.

Beaker's ``SessionMiddleware`` keeps each session as a row of its ``beaker_cache``
table (``ext:database`` store, any SQLAlchemy URL) whose ``namespace`` column is the
session id, the value of the ``session`` cookie. The Pyramid views read and write the
session through ``request.environ["beaker.session"]`` (``pyramid_beaker`` would give
``request.session``; the storage is the same). The lines a user adds are marked below.

Log out everywhere: Pyramid has no login signal, so the login view links Beaker's
session id to the user in a session index (its own table in the same database). The
page's "Sign out of other devices" and "Sign out everywhere" buttons are plain forms
that post to the middleware's ``/logout/everywhere`` (the first with
``?keep_current=1``); ``redirect_to="/"`` brings the browser back to the page.

Run it::

    cd examples && ../.venv/bin/gunicorn --workers 2 pyramid_app:app
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from beaker.middleware import SessionMiddleware
from markupsafe import escape
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPBadRequest, HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import create_engine

from logout_middleware import DEFAULT_LOGOUT_PATH, LogoutMiddleware, SessionIndex
from logout_middleware.backends import SQLAlchemyBackend, SQLAlchemySessionIndex

DEFAULT_DB = Path(__file__).with_name("pyramid_example.sqlite3")
# Where the middleware logs the current user out of every session.
EVERYWHERE_PATH = "/logout/everywhere"

LOGIN_FORM = (
    '<form method="post" action="/login"><input name="username" required> '
    "<button>Log in</button></form>"
)
BUTTONS = (
    f'<form id="logout" method="post" action="{DEFAULT_LOGOUT_PATH}">'
    "<button>Log out</button></form>"
    f'<form id="sign-out-others" method="post" action="{EVERYWHERE_PATH}?keep_current=1">'
    "<button>Sign out of other devices</button></form>"
    f'<form id="sign-out-everywhere" method="post" action="{EVERYWHERE_PATH}">'
    "<button>Sign out everywhere</button></form>"
)


def index(request: Request) -> Response:
    user = request.environ["beaker.session"].get("user")
    return Response(
        "<!doctype html><title>Pyramid example</title>"
        f'<p>Logged in as <strong id="user">{escape(user or "anonymous")}</strong></p>'
        + (BUTTONS if user else LOGIN_FORM)
    )


def login(request: Request) -> Response:
    username = str(request.POST.get("username", "")).strip()[:64]
    if not username:
        raise HTTPBadRequest("a username, please")
    session = request.environ["beaker.session"]
    session["user"] = username
    session.save()
    # --- what a user adds for log out everywhere: link the session at login -----
    session_index: SessionIndex = request.registry.settings["session_index"]
    # Beaker keeps these sessions until a logout deletes them (no session.timeout):
    # the link never expires either. Beaker writes the session when the answer
    # starts, so if this raises no browser ever gets an unlinked session.
    session_index.add(session.id, ttl=None, user=username)
    # ---------------------------------------------------------------------------
    return HTTPSeeOther("/")


def create_app(db_path: str | os.PathLike[str] = DEFAULT_DB) -> Any:
    url = f"sqlite:///{os.fspath(db_path)}"
    engine = create_engine(url)
    session_index = SQLAlchemySessionIndex(engine)  # its own table, session_index
    with Configurator(settings={"session_index": session_index}) as config:
        config.add_route("index", "/")
        config.add_view(index, route_name="index", request_method="GET")
        config.add_route("login", "/login")
        config.add_view(login, route_name="login", request_method="POST")
        pyramid_app = config.make_wsgi_app()
    app = SessionMiddleware(
        pyramid_app,
        {
            "session.type": "ext:database",
            "session.url": url,
            "session.table_name": "beaker_cache",
            "session.key": "session",
            "session.httponly": True,
            "session.samesite": "Lax",
            "session.lock_dir": os.path.join(tempfile.gettempdir(), "pyramid-example-locks"),
        },
    )
    # --- what a user adds: outermost, on Beaker's table and cookie ---------------
    return LogoutMiddleware(
        app,
        SQLAlchemyBackend(engine, table="beaker_cache", id_column="namespace"),
        cookie_name="session",
        cookie_samesite="Lax",
        index=session_index,  # the index the login view links each session in
        everywhere_path=EVERYWHERE_PATH,
        redirect_to="/",  # the page's forms post here: back to the page after them
    )
    # ---------------------------------------------------------------------------


def __getattr__(name: str) -> Any:
    # ``pyramid_app:app`` (gunicorn) builds the app on first use.
    if name == "app":
        globals()["app"] = built = create_app(os.environ.get("PYRAMID_EXAMPLE_DB") or DEFAULT_DB)
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
