"""Records written by the real Flask-Session and the real Django are really deleted.

Flask-Session (Redis store, SQLAlchemy store on SQLite and PostgreSQL, with and
without ``SESSION_USE_SIGNER``) runs in-process behind :class:`LogoutMiddleware`.
Django runs in a child process (its settings are process-global), creates and checks
sessions in ``django_session``; :class:`SQLAlchemyBackend` deletes them in between.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask
import pytest
import redis
import sqlalchemy as sa
from flask_session import Session
from servers import PostgresServer, RedisServer
from webtest import TestApp

from logout_middleware import DEFAULT_LOGOUT_PATH, LogoutMiddleware
from logout_middleware.backends import RedisBackend, SQLAlchemyBackend
from logout_middleware.signing import signed_session_id

SECRET = "flask-secret-key"

pytestmark = [
    pytest.mark.filterwarnings("ignore:The 'use_signer' option is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:datetime.datetime.utcnow:DeprecationWarning"),
]


def make_flask_app(config: dict[str, Any], backend: Any, *, signed: bool = False) -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = SECRET
    app.config.update(config)
    if config["SESSION_TYPE"] == "sqlalchemy":
        from flask_sqlalchemy import SQLAlchemy

        app.config["SESSION_SQLALCHEMY"] = SQLAlchemy(app)
    Session(app)

    @app.post("/login")
    def login() -> str:
        flask.session["user"] = "ada"
        return "logged in"

    @app.get("/whoami")
    def whoami() -> str:
        return str(flask.session.get("user", "anonymous"))

    app.wsgi_app = LogoutMiddleware(  # type: ignore[method-assign]
        app.wsgi_app,
        backend,
        session_id_from_cookie=signed_session_id(SECRET) if signed else None,
    )
    return app


def session_cookie(client: TestApp) -> str:
    value: str = client.cookies["session"]
    return value


@pytest.fixture
def raw_redis(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis(host="127.0.0.1", port=redis_server.port)
    client.flushdb()
    yield client
    client.close()


# --- Flask-Session, Redis store -----------------------------------------------------


@pytest.mark.redis
@pytest.mark.parametrize("signed", [False, True], ids=["plain", "signed"])
def test_flask_session_redis_record_is_deleted(
    redis_server: RedisServer, raw_redis: redis.Redis, signed: bool
) -> None:
    backend = RedisBackend(redis_server.url)  # the defaults match Flask-Session's
    config = {"SESSION_TYPE": "redis", "SESSION_REDIS": raw_redis, "SESSION_USE_SIGNER": signed}
    client = TestApp(make_flask_app(config, backend, signed=signed))
    client.post("/login")
    assert client.get("/whoami").text == "ada"
    cookie = session_cookie(client)
    sid = cookie.rsplit(".", 1)[0] if signed else cookie
    assert raw_redis.exists(f"session:{sid}")
    other = raw_redis.set("session:someone-else", b"x")
    assert other

    response = client.post(DEFAULT_LOGOUT_PATH, status=200)

    assert not raw_redis.exists(f"session:{sid}")
    assert raw_redis.exists("session:someone-else")
    assert any(v.startswith("session=;") for v in response.headers.getall("Set-Cookie"))
    client.set_cookie("session", cookie)  # a copy of the old cookie no longer works
    assert client.get("/whoami").text == "anonymous"
    backend.close()


@pytest.mark.redis
def test_forged_signed_cookie_deletes_nothing_and_is_still_expired(
    redis_server: RedisServer, raw_redis: redis.Redis
) -> None:
    backend = RedisBackend(redis_server.url)
    config = {"SESSION_TYPE": "redis", "SESSION_REDIS": raw_redis, "SESSION_USE_SIGNER": True}
    victim = TestApp(make_flask_app(config, backend, signed=True))
    victim.post("/login")
    victim_sid = session_cookie(victim).rsplit(".", 1)[0]

    attacker = TestApp(victim.app)
    attacker.set_cookie("session", f"{victim_sid}.forgedsignature")
    response = attacker.post(DEFAULT_LOGOUT_PATH, status=200)

    assert raw_redis.exists(f"session:{victim_sid}")
    assert victim.get("/whoami").text == "ada"
    assert any(v.startswith("session=;") for v in response.headers.getall("Set-Cookie"))
    backend.close()


# --- Flask-Session, SQLAlchemy store -------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'flask.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    engine = sa.create_engine(server.url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS sessions"))
    engine.dispose()
    return server.url


def test_flask_session_sqlalchemy_record_is_deleted(database_url: str) -> None:
    engine = sa.create_engine(database_url, pool_pre_ping=True)
    backend = SQLAlchemyBackend(engine, key_prefix="session:")  # Flask-Session's prefix
    config = {"SESSION_TYPE": "sqlalchemy", "SQLALCHEMY_DATABASE_URI": database_url}
    app = make_flask_app(config, backend)
    client = TestApp(app)
    client.post("/login")
    sid = session_cookie(client)

    def stored() -> list[str]:
        with engine.connect() as conn:
            return list(conn.execute(sa.text("SELECT session_id FROM sessions")).scalars())

    other = TestApp(app)
    other.post("/login")
    assert sorted(stored()) == sorted([f"session:{sid}", f"session:{session_cookie(other)}"])

    client.post(DEFAULT_LOGOUT_PATH, status=200)

    assert stored() == [f"session:{session_cookie(other)}"]
    client.set_cookie("session", sid)
    assert client.get("/whoami").text == "anonymous"
    assert other.get("/whoami").text == "ada"
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()
    engine.dispose()


# --- Django's database sessions -----------------------------------------------------

_DJANGO = textwrap.dedent(
    """
    import json, sys
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={"default": json.loads(sys.argv[1])},
        INSTALLED_APPS=["django.contrib.sessions"],
        SECRET_KEY="django-test-key",
        USE_TZ=True,
    )
    django.setup()
    from django.core.management import call_command
    from django.contrib.sessions.backends.db import SessionStore

    if sys.argv[2] == "create":
        call_command("migrate", verbosity=0)
        keys = []
        for _ in range(2):
            s = SessionStore()
            s["user"] = "ada"
            s.create()
            keys.append(s.session_key)
        print(json.dumps(keys))
    else:
        print(json.dumps([SessionStore().exists(k) for k in sys.argv[3:]]))
    """
)


def run_django(database: dict[str, Any], *args: str) -> Any:
    import json

    done = subprocess.run(
        [sys.executable, "-c", _DJANGO, json.dumps(database), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(params=["sqlite", "postgresql"])
def django_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[dict[str, Any], sa.Engine]]:
    if request.param == "sqlite":
        path = tmp_path / "django.db"
        database: dict[str, Any] = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}
        engine = sa.create_engine(f"sqlite:///{path}")
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        database = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": server.database,
            "USER": server.user,
            "HOST": "127.0.0.1",
            "PORT": str(server.port),
        }
        engine = sa.create_engine(server.url)
    yield database, engine
    engine.dispose()


def test_django_session_row_is_deleted(
    django_database: tuple[dict[str, Any], sa.Engine],
) -> None:
    database, engine = django_database
    mine, theirs = run_django(database, "create")
    backend = SQLAlchemyBackend(engine, table="django_session", id_column="session_key")

    backend.delete(mine)
    backend.delete(mine)

    assert run_django(database, "exists", mine, theirs) == [False, True]


def test_django_logout_through_the_middleware(
    django_database: tuple[dict[str, Any], sa.Engine],
) -> None:
    database, engine = django_database
    mine, theirs = run_django(database, "create")
    backend = SQLAlchemyBackend(engine, table="django_session", id_column="session_key")

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"app"]

    client = TestApp(LogoutMiddleware(app, backend, cookie_name="sessionid"))
    client.set_cookie("sessionid", mine)
    response = client.post(DEFAULT_LOGOUT_PATH, status=200)
    assert any(v.startswith("sessionid=;") for v in response.headers.getall("Set-Cookie"))
    assert run_django(database, "exists", mine, theirs) == [False, True]
