"""examples/flask_app.py: Flask-Login over Flask-Session, logged out by the middleware.

The login goes through Flask-Login and Flask-Session's own machinery; the logout goes
through the middleware; Flask-Session's own record must be gone afterwards and the
next request anonymous, even with a copy of the old cookie. Log out everywhere: the
login links the session through Flask-Login's ``user_logged_in`` signal, and the
page's forms end the user's other sessions, then all of them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
import webtest
from example_apps import (
    Devices,
    check_sign_out_of_other_devices,
    click_form,
    import_example,
    log_in_with_form,
    shown_user,
)

from logout_middleware import DEFAULT_LOGOUT_PATH, RedisSessionIndex, SQLAlchemySessionIndex
from logout_middleware.testing import assert_cookie_deleted, cookie_problems, set_cookie_header

flask_app = import_example("flask_app")


def log_in(app: webtest.TestApp, username: str) -> str:
    assert "anonymous" in app.get("/").text
    app.post("/login", {"username": username}, status=302)
    assert f">{username}<" in app.get("/").text
    return str(app.cookies["session"])


def log_out_and_check(app: webtest.TestApp, sid: str, exists: Callable[[str], bool]) -> None:
    assert exists(sid), "Flask-Session did not store the session"
    response = app.post(DEFAULT_LOGOUT_PATH, "{}", content_type="application/json", status=303)
    assert urlsplit(response.headers["Location"]).path == "/"  # redirect_to="/"
    assert not exists(sid), "Flask-Session's record survived the logout"
    assert "session" not in app.cookies
    assert "anonymous" in app.get("/").text
    app.get("/private", status=401)
    # A copy of the old cookie names a session that no longer exists.
    app.set_cookie("session", sid)
    assert "anonymous" in app.get("/").text
    app.get("/private", status=401)


def sqlite_record(db: Path) -> Callable[[str], bool]:
    """Whether Flask-Session's SQLAlchemy store (on SQLite) holds a session."""

    def exists(session_id: str) -> bool:
        with sqlite3.connect(db) as conn:
            row = conn.execute(
                "SELECT 1 FROM sessions WHERE session_id = ?", ("session:" + session_id,)
            ).fetchone()
        conn.close()
        return row is not None

    return exists


def test_flask_session_sqlalchemy_record_is_deleted_on_logout(tmp_path: Path) -> None:
    db = tmp_path / "flask.sqlite3"
    app = webtest.TestApp(flask_app.create_app("sqlalchemy", db))
    sid = log_in(app, "ada")
    assert app.get("/private").text == "secret of ada"
    log_out_and_check(app, sid, sqlite_record(db))


@pytest.mark.redis
def test_flask_session_redis_record_is_deleted_on_logout(redis_server: Any) -> None:
    import redis

    app = webtest.TestApp(flask_app.create_app(redis_server.url))
    client = redis.Redis.from_url(redis_server.url)
    sid = log_in(app, "grace")
    log_out_and_check(app, sid, lambda s: bool(client.exists("session:" + s)))
    client.close()


def test_flask_logout_expires_the_cookie_with_flasks_attributes(tmp_path: Path) -> None:
    app = webtest.TestApp(flask_app.create_app("sqlalchemy", tmp_path / "f.sqlite3"))
    login = app.post("/login", {"username": "ada"})
    (set_cookie,) = [h for h in login.headers.getall("Set-Cookie") if h.startswith("session=")]
    for attribute in ("HttpOnly", "Path=/", "SameSite=Lax"):
        assert attribute in set_cookie
    response = app.post(DEFAULT_LOGOUT_PATH)
    expired = response.headers.getall("Set-Cookie")
    assert (
        "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/; "
        "SameSite=Lax" in expired
    )
    assert any(h.startswith("remember_token=;") for h in expired)


def test_flask_signs_out_of_other_devices_on_flask_session_sqlalchemy(tmp_path: Path) -> None:
    db = tmp_path / "flask.sqlite3"
    app = flask_app.create_app("sqlalchemy", db)
    with app.app_context():
        engine = app.config["SESSION_SQLALCHEMY"].engine
    index = SQLAlchemySessionIndex(engine)
    check_sign_out_of_other_devices(Devices(app, index, sqlite_record(db), click_form))


@pytest.mark.redis
def test_flask_signs_out_of_other_devices_on_flask_session_redis(redis_server: Any) -> None:
    import redis

    app = flask_app.create_app(redis_server.url)
    client = redis.Redis.from_url(redis_server.url)
    index = RedisSessionIndex(client)
    try:
        site = Devices(app, index, lambda s: bool(client.exists("session:" + s)), click_form)
        check_sign_out_of_other_devices(site)
    finally:
        client.close()


def test_flask_other_devices_are_anonymous_to_flask_login_too(tmp_path: Path) -> None:
    app = flask_app.create_app("sqlalchemy", tmp_path / "f.sqlite3")
    phone, laptop = webtest.TestApp(app), webtest.TestApp(app)
    log_in_with_form(phone, "alice")
    stolen = log_in_with_form(laptop, "alice")
    click_form(phone, "sign-out-others")
    assert phone.get("/private").text == "secret of alice"
    laptop.get("/private", status=401)
    laptop.set_cookie("session", stolen)  # a copy of the ended session's cookie
    laptop.get("/private", status=401)


def test_flask_login_whose_link_fails_logs_no_one_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "f.sqlite3"
    app = flask_app.create_app("sqlalchemy", db)

    def index_down(*args: Any, **labels: Any) -> None:
        raise ConnectionError("index unreachable")

    monkeypatch.setattr(app.wsgi_app.index, "add", index_down)
    client = webtest.TestApp(app)
    client.post("/login", {"username": "alice"}, status=500)
    assert shown_user(client) == "anonymous"
    client.get("/private", status=401)
    assert "session" not in client.cookies


def test_flask_login_ends_when_its_link_expires(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "f.sqlite3"
    app = flask_app.create_app("sqlalchemy", db)
    client = webtest.TestApp(app)
    sid = log_in_with_form(client, "alice")
    lifetime = app.permanent_session_lifetime.total_seconds()
    clock = flask_app.time.time
    # The app's clock, a lifetime after the login: Flask-Session keeps the record alive
    # (each request moves its expiry on) but the index entry expires; the login ends too.
    later = SimpleNamespace(time=lambda: clock() + lifetime - 60)
    monkeypatch.setattr(flask_app, "time", later)
    assert shown_user(client) == "alice"  # not yet: the link lives for `lifetime`
    monkeypatch.setattr(flask_app, "time", SimpleNamespace(time=lambda: clock() + lifetime + 1))
    assert shown_user(client) == "anonymous"
    client.get("/private", status=401)
    assert not sqlite_record(db)(sid)


def test_flask_logout_drops_the_cookies_by_the_browsers_rules(tmp_path: Path) -> None:
    """The testing kit in a Flask suite: the session cookie of the login is gone by the
    browser's rules, and the middleware matches Flask-Login's remember cookie as
    Flask-Login sets it (a cookie the test need not provoke to check)."""
    wsgi = flask_app.create_app("sqlalchemy", tmp_path / "f.sqlite3")
    app = webtest.TestApp(wsgi)
    login = app.post("/login", {"username": "ada"}, status=302)
    session = set_cookie_header(login, "session")
    logout = app.post(DEFAULT_LOGOUT_PATH, "{}", content_type="application/json", status=303)
    assert_cookie_deleted(session, logout)
    assert cookie_problems(wsgi, session) == []  # the Flask app: its wsgi_app is found
    remember = "remember_token=ada|sig; Expires=Thu, 01 Jan 2099 00:00:00 GMT; HttpOnly; Path=/"
    assert cookie_problems(wsgi, remember) == []
