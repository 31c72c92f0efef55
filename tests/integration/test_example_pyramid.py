"""examples/pyramid_app.py: Pyramid with Beaker's SQL session store, logged out by the
middleware: Beaker's own ``beaker_cache`` row must be gone and the next request
anonymous. Log out everywhere: the login view links Beaker's session id, and the
page's forms end the user's other sessions, then all of them."""

from __future__ import annotations

import functools
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import webtest
from example_apps import (
    Devices,
    check_sign_out_of_other_devices,
    click_form,
    import_example,
    shown_user,
)
from sqlalchemy import create_engine

from logout_middleware import DEFAULT_LOGOUT_PATH, SQLAlchemySessionIndex
from logout_middleware.testing import assert_cookie_deleted, cookie_problems, set_cookie_header

pyramid_app = import_example("pyramid_app")


def beaker_row_exists(db: Path, session_id: str) -> bool:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(
            "SELECT 1 FROM beaker_cache WHERE namespace = ?", (session_id,)
        ).fetchone()
    finally:
        conn.close()
    return row is not None


def test_beaker_session_row_is_deleted_on_logout(tmp_path: Path) -> None:
    db = tmp_path / "pyramid.sqlite3"
    app = webtest.TestApp(pyramid_app.create_app(db))
    assert '<strong id="user">anonymous</strong>' in app.get("/").text
    form = app.get("/").forms[0]
    form["username"] = "ada"
    form.submit(status=303)
    assert '<strong id="user">ada</strong>' in app.get("/").text
    session_id = app.cookies["session"]
    assert beaker_row_exists(db, session_id)

    response = app.post(DEFAULT_LOGOUT_PATH, "{}", content_type="application/json", status=303)
    assert urlsplit(response.headers["Location"]).path == "/"  # redirect_to="/"
    assert not beaker_row_exists(db, session_id), "Beaker's row survived the logout"
    assert "session" not in app.cookies
    assert '<strong id="user">anonymous</strong>' in app.get("/").text
    # A copy of the old cookie names a session that no longer exists.
    app.set_cookie("session", session_id)
    assert '<strong id="user">anonymous</strong>' in app.get("/").text


def test_pyramid_app_passes_other_requests_through(tmp_path: Path) -> None:
    app = webtest.TestApp(pyramid_app.create_app(tmp_path / "p.sqlite3"))
    app.get("/nowhere", status=404)
    app.get(DEFAULT_LOGOUT_PATH, status=405)


def test_pyramid_signs_out_of_other_devices(tmp_path: Path) -> None:
    db = tmp_path / "pyramid.sqlite3"
    app = pyramid_app.create_app(db)
    index = SQLAlchemySessionIndex(create_engine(f"sqlite:///{db}"))
    exists = functools.partial(beaker_row_exists, db)
    check_sign_out_of_other_devices(Devices(app, index, exists, click_form))


def test_pyramid_login_whose_link_fails_logs_no_one_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "pyramid.sqlite3"
    app = pyramid_app.create_app(db)

    def index_down(*args: Any, **labels: Any) -> None:
        raise ConnectionError("index unreachable")

    monkeypatch.setattr(app.index, "add", index_down)
    client = webtest.TestApp(app)
    with pytest.raises(ConnectionError):  # no exception view: the server answers 500
        client.post("/login", {"username": "alice"})
    assert "session" not in client.cookies
    assert shown_user(client) == "anonymous"


def test_pyramid_logout_drops_beakers_cookie_by_the_browsers_rules(tmp_path: Path) -> None:
    """The testing kit in a Pyramid suite: Beaker's session cookie is gone by the
    browser's rules after the logout, over plain http and over https."""
    wsgi = pyramid_app.create_app(tmp_path / "p.sqlite3")
    for scheme in ("http", "https"):
        app = webtest.TestApp(wsgi, extra_environ={"wsgi.url_scheme": scheme})
        form = app.get("/").forms[0]
        form["username"] = "ada"
        login = form.submit(status=303)
        session = set_cookie_header(login, "session")
        logout = app.post(DEFAULT_LOGOUT_PATH, "{}", content_type="application/json", status=303)
        assert_cookie_deleted(session, logout)
    assert cookie_problems(wsgi, session) == []
