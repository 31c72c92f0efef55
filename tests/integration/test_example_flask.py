"""examples/flask_app.py: Flask-Login over Flask-Session, logged out by the middleware.

The login goes through Flask-Login and Flask-Session's own machinery; the logout goes
through the middleware; Flask-Session's own record must be gone afterwards and the
next request anonymous, even with a copy of the old cookie.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import webtest
from example_apps import import_example

from logout_middleware import DEFAULT_LOGOUT_PATH

flask_app = import_example("flask_app")


def log_in(app: webtest.TestApp, username: str) -> str:
    assert "anonymous" in app.get("/").text
    app.post("/login", {"username": username}, status=302)
    assert f">{username}<" in app.get("/").text
    return str(app.cookies["session"])


def log_out_and_check(app: webtest.TestApp, sid: str, exists: Callable[[str], bool]) -> None:
    assert exists(sid), "Flask-Session did not store the session"
    response = app.post(DEFAULT_LOGOUT_PATH, "{}", content_type="application/json")
    assert response.json == {"message": "OK"}
    assert not exists(sid), "Flask-Session's record survived the logout"
    assert "session" not in app.cookies
    assert "anonymous" in app.get("/").text
    app.get("/private", status=401)
    # A copy of the old cookie names a session that no longer exists.
    app.set_cookie("session", sid)
    assert "anonymous" in app.get("/").text
    app.get("/private", status=401)


def test_flask_session_sqlalchemy_record_is_deleted_on_logout(tmp_path: Path) -> None:
    db = tmp_path / "flask.sqlite3"
    app = webtest.TestApp(flask_app.create_app("sqlalchemy", db))
    sid = log_in(app, "ada")
    assert app.get("/private").text == "secret of ada"

    def exists(session_id: str) -> bool:
        with sqlite3.connect(db) as conn:
            row = conn.execute(
                "SELECT 1 FROM sessions WHERE session_id = ?", ("session:" + session_id,)
            ).fetchone()
        conn.close()
        return row is not None

    log_out_and_check(app, sid, exists)


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
