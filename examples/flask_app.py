"""Flask + Flask-Session (server-side sessions) + Flask-Login, behind LogoutMiddleware.

Flask-Session keeps each session server-side and puts only its id in the ``session``
cookie. The middleware answers the logout path, deletes that record from the same
store, and expires the cookie with the attributes Flask set it with. The lines a user
adds are marked below; the rest is an ordinary Flask-Login app.

Log out everywhere: Flask-Login's ``user_logged_in`` signal links Flask-Session's
``session.sid`` to the user in a session index on the same store; the page's "Sign
out of other devices" and "Sign out everywhere" buttons are plain forms that post to
the middleware's ``/logout/everywhere`` (the first with ``?keep_current=1``), and
``redirect_to="/"`` brings the browser back to the page after them and after "Log
out".

Two stores, chosen by ``FLASK_EXAMPLE_STORE``:

* ``sqlalchemy`` (default): Flask-Session's SQLAlchemy store, table ``sessions``,
  column ``session_id`` = ``"session:" + sid``, on SQLite (``FLASK_EXAMPLE_DB``,
  default ``flask_example.sqlite3`` next to this file);
* a ``redis://`` URL: Flask-Session's Redis store, key ``session:<sid>``.

Run it::

    cd examples && ../.venv/bin/gunicorn --workers 2 flask_app:app
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Flask, redirect, render_template_string, request, session
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
    user_logged_in,
)
from flask_session import Session
from flask_sqlalchemy import SQLAlchemy

from logout_middleware import DEFAULT_LOGOUT_PATH, LogoutMiddleware

DEFAULT_DB = Path(__file__).with_name("flask_example.sqlite3")
# Where the middleware logs the current user out of every session.
EVERYWHERE_PATH = "/logout/everywhere"
# The session key that holds when the login happened (Unix time).
LOGIN_AT = "login_at"

PAGE = """<!doctype html>
<title>Flask example</title>
<p>Logged in as <strong id="user">{{ name }}</strong></p>
{% if name == "anonymous" %}
<form method="post" action="{{ url_for('login') }}">
  <input name="username" required> <button>Log in</button>
</form>
{% else %}
<form id="logout" method="post" action="{{ logout }}"><button>Log out</button></form>
<form id="sign-out-others" method="post" action="{{ everywhere }}?keep_current=1">
  <button>Sign out of other devices</button>
</form>
<form id="sign-out-everywhere" method="post" action="{{ everywhere }}">
  <button>Sign out everywhere</button>
</form>
{% endif %}
"""


class User(UserMixin):
    def __init__(self, user_id: str) -> None:
        self.id = user_id


def create_app(store: str = "sqlalchemy", db_path: str | os.PathLike[str] = DEFAULT_DB) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ.get("FLASK_SECRET_KEY") or secrets.token_hex(32),
        SESSION_COOKIE_NAME="session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_KEY_PREFIX="session:",
    )
    if store.startswith(("redis://", "rediss://")):
        import redis

        app.config.update(SESSION_TYPE="redis", SESSION_REDIS=redis.Redis.from_url(store))
    else:
        db = SQLAlchemy()
        app.config.update(
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{os.fspath(db_path)}",
            SESSION_TYPE="sqlalchemy",
            SESSION_SQLALCHEMY=db,
        )
        db.init_app(app)
    Session(app)  # creates Flask-Session's table if it is missing

    login_manager = LoginManager(app)

    @login_manager.user_loader
    def load_user(user_id: str) -> User:
        return User(user_id)

    @app.get("/")
    def index() -> str:
        name = current_user.id if current_user.is_authenticated else "anonymous"
        return render_template_string(
            PAGE, name=name, logout=DEFAULT_LOGOUT_PATH, everywhere=EVERYWHERE_PATH
        )

    @app.post("/login")
    def login() -> Any:
        username = request.form.get("username", "").strip()[:64]
        if not username:
            return "a username, please", 400
        login_user(User(username))
        return redirect("/")

    @app.get("/private")
    @login_required
    def private() -> str:
        return f"secret of {current_user.id}"

    # --- what a user adds: the same store, the cookie as Flask sets it ---------
    # (and a session index on that store: which sessions are whose)
    if store.startswith(("redis://", "rediss://")):
        from logout_middleware.backends import RedisBackend, RedisSessionIndex

        backend: Any = RedisBackend(app.config["SESSION_REDIS"], key_prefix="session:")
        index: Any = RedisSessionIndex(app.config["SESSION_REDIS"])
    else:
        from logout_middleware.backends import SQLAlchemyBackend, SQLAlchemySessionIndex

        with app.app_context():
            engine = app.config["SESSION_SQLALCHEMY"].engine
        backend = SQLAlchemyBackend(
            engine, table="sessions", id_column="session_id", key_prefix="session:"
        )
        index = SQLAlchemySessionIndex(engine)  # its own table, session_index
    app.wsgi_app = LogoutMiddleware(  # type: ignore[method-assign]
        app.wsgi_app,
        backend,
        cookie_name=app.config["SESSION_COOKIE_NAME"],
        cookie_httponly=app.config["SESSION_COOKIE_HTTPONLY"],
        cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
        # Flask-Login's "remember me" cookie dies too (its own, Flask-Login defaults).
        also_expire=[{"name": "remember_token", "samesite": None}],
        index=index,
        everywhere_path=EVERYWHERE_PATH,
        redirect_to="/",  # the page's forms post here: back to the page after them
    )
    # ---------------------------------------------------------------------------

    # --- what a user adds for log out everywhere: link each login's session -----
    lifetime = app.permanent_session_lifetime.total_seconds()

    @user_logged_in.connect_via(app)
    def link_session(sender: Flask, user: User, **extra: Any) -> None:
        session[LOGIN_AT] = time.time()
        try:
            index.add(session.sid, ttl=lifetime, user=user.get_id())
        except Exception:
            session.clear()  # no login without its link (Flask saves the session on a 500)
            raise

    @app.before_request
    def end_logins_older_than_their_link() -> None:
        # Flask-Session moves the record's expiry on at every request, but the link
        # expires `lifetime` after the login: the login must end then too, or log out
        # everywhere could no longer find a session in daily use.
        login_at = session.get(LOGIN_AT)
        if login_at is not None and time.time() - login_at > lifetime:
            logout_user()
            session.pop(LOGIN_AT)
    # ---------------------------------------------------------------------------
    return app


def __getattr__(name: str) -> Any:
    # ``flask_app:app`` (gunicorn) builds the app on first use.
    if name == "app":
        built = create_app(
            os.environ.get("FLASK_EXAMPLE_STORE", "sqlalchemy"),
            os.environ.get("FLASK_EXAMPLE_DB") or DEFAULT_DB,
        )
        globals()["app"] = built
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
