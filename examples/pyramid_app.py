"""Pyramid + Beaker server-side sessions (SQL store), behind LogoutMiddleware.

Beaker's ``SessionMiddleware`` keeps each session as a row of its ``beaker_cache``
table (``ext:database`` store, any SQLAlchemy URL) whose ``namespace`` column is the
session id, the value of the ``session`` cookie. The Pyramid views read and write the
session through ``request.environ["beaker.session"]`` (``pyramid_beaker`` would give
``request.session``; the storage is the same). The lines a user adds are marked below.

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

from logout_middleware import LogoutMiddleware
from logout_middleware.backends import SQLAlchemyBackend

DEFAULT_DB = Path(__file__).with_name("pyramid_example.sqlite3")


def index(request: Request) -> Response:
    user = request.environ["beaker.session"].get("user")
    form = (
        ""
        if user
        else '<form method="post" action="/login"><input name="username" required> '
        "<button>Log in</button></form>"
    )
    return Response(
        "<!doctype html><title>Pyramid example</title>"
        f'<p>Logged in as <strong id="user">{escape(user or "anonymous")}</strong></p>{form}'
    )


def login(request: Request) -> Response:
    username = str(request.POST.get("username", "")).strip()[:64]
    if not username:
        raise HTTPBadRequest("a username, please")
    session = request.environ["beaker.session"]
    session["user"] = username
    session.save()
    return HTTPSeeOther("/")


def create_app(db_path: str | os.PathLike[str] = DEFAULT_DB) -> Any:
    with Configurator() as config:
        config.add_route("index", "/")
        config.add_view(index, route_name="index", request_method="GET")
        config.add_route("login", "/login")
        config.add_view(login, route_name="login", request_method="POST")
        pyramid_app = config.make_wsgi_app()
    url = f"sqlite:///{os.fspath(db_path)}"
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
        SQLAlchemyBackend(create_engine(url), table="beaker_cache", id_column="namespace"),
        cookie_name="session",
        cookie_samesite="Lax",
    )
    # ---------------------------------------------------------------------------


def __getattr__(name: str) -> Any:
    # ``pyramid_app:app`` (gunicorn) builds the app on first use.
    if name == "app":
        globals()["app"] = built = create_app(os.environ.get("PYRAMID_EXAMPLE_DB") or DEFAULT_DB)
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
