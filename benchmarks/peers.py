"""The peers a user would pick instead: Flask + Flask-Login + Flask-Session, and
Django's ``LogoutView``, each set up the way its documentation shows, in process.

* **Flask**: Flask-Session 0.8 with ``SESSION_TYPE = "cachelib"`` on a cachelib
  ``SimpleCache`` (an in-process store, like :class:`MemoryBackend`); Flask-Login's
  ``logout_user()`` then ``session.clear()``, which makes Flask-Session delete the
  record and expire the cookie; the answer is JSON.
* **Django**: ``django.contrib.auth.views.LogoutView`` behind the default session,
  CSRF and authentication middleware; **cache sessions** (``SESSION_ENGINE =
  "django.contrib.sessions.backends.cache"`` on ``LocMemCache``, the in-process
  store), users in an in-memory SQLite database; the answer is a redirect to
  ``LOGOUT_REDIRECT_URL``. The request carries the CSRF cookie and header a
  browser would send.

Each builder returns ``(wsgi_app, make_session)``: ``make_session()`` stores a
logged-in session the way the framework would and returns its cookie value.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["DJANGO_CSRF", "django_logout", "flask_logout", "urlpatterns"]

WSGIApp = Callable[..., Iterable[bytes]]

#: Django's CSRF secret for every benchmark request (a 32-character token).
DJANGO_CSRF = "A" * 16 + "b" * 16


def flask_logout(logout_path: str, redis_client: Any = None) -> tuple[WSGIApp, Callable[[], str]]:
    """Flask + Flask-Login + Flask-Session, a logout route.

    Sessions in a cachelib ``SimpleCache``, or in Redis when ``redis_client`` is given.
    """
    from cachelib import SimpleCache
    from flask import Flask, session
    from flask_login import LoginManager, UserMixin, logout_user
    from flask_session import Session

    app = Flask("bench_flask_redis" if redis_client is not None else "bench_flask")
    cache = SimpleCache(threshold=10**8, default_timeout=0)
    app.config.update(
        SECRET_KEY=secrets.token_hex(16),
        SESSION_COOKIE_NAME="session",
        SESSION_KEY_PREFIX="session:",
    )
    if redis_client is None:
        app.config.update(SESSION_TYPE="cachelib", SESSION_CACHELIB=cache)
    else:
        app.config.update(SESSION_TYPE="redis", SESSION_REDIS=redis_client)
    Session(app)
    login_manager = LoginManager(app)

    class User(UserMixin):  # type: ignore[misc]  # Flask-Login ships no types
        def __init__(self, user_id: str) -> None:
            self.id = user_id

    users = {"1": User("1")}

    def load_user(user_id: str) -> User | None:
        return users.get(user_id)

    login_manager.user_loader(load_user)

    @app.post(logout_path)
    def logout() -> dict[str, str]:
        logout_user()
        session.clear()
        return {"message": "OK"}

    prefix = app.config["SESSION_KEY_PREFIX"]
    lifetime = int(app.permanent_session_lifetime.total_seconds())

    def make_session() -> str:
        # What Flask-Login's login_user() leaves in a Flask-Session record.
        sid = secrets.token_urlsafe(32)
        data = {"_permanent": True, "_user_id": "1", "_fresh": True, "_id": "f" * 128}
        if redis_client is None:
            cache.set(prefix + sid, data, timeout=lifetime)
        else:  # the bytes Flask-Session itself writes (msgpack)
            encoded = app.session_interface.serializer.encode(data)  # type: ignore[attr-defined]
            redis_client.set(prefix + sid, encoded, ex=lifetime)
        return sid

    return app.wsgi_app, make_session


def _configure_django() -> None:
    import django
    from django.conf import settings

    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        SECRET_KEY=secrets.token_hex(32),
        ALLOWED_HOSTS=["localhost", "127.0.0.1"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sessions",
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "OPTIONS": {"MAX_ENTRIES": 10**8},
            }
        },
        SESSION_ENGINE="django.contrib.sessions.backends.cache",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        LOGOUT_REDIRECT_URL="/",
        USE_TZ=True,
        LOGGING_CONFIG=None,
    )
    django.setup()


_DJANGO_LOGOUT_PATH = "/logout/"
#: Django's URLconf (``ROOT_URLCONF`` points at this module); filled by django_logout.
urlpatterns: list[Any] = []


def django_logout() -> tuple[WSGIApp, Callable[[], str], str]:
    """Django's ``LogoutView`` with cache sessions; returns the app, a login, the path."""
    _configure_django()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.auth.views import LogoutView
    from django.contrib.sessions.backends.cache import SessionStore
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command
    from django.urls import path

    if not urlpatterns:
        urlpatterns.append(path(_DJANGO_LOGOUT_PATH.strip("/") + "/", LogoutView.as_view()))
    call_command("migrate", verbosity=0, interactive=False)
    user, _ = User.objects.get_or_create(username="bench")
    user.set_password(secrets.token_hex(8))
    user.save()
    user_hash = user.get_session_auth_hash()

    def make_session() -> str:
        # What django.contrib.auth.login() leaves in the session.
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user_hash
        store.create()
        key: str = store.session_key
        return key

    return WSGIHandler(), make_session, _DJANGO_LOGOUT_PATH
