"""examples/django_project: Django database sessions, logged out by the middleware.

The login goes through ``django.contrib.auth.login`` (a ``django_session`` row and the
``sessionid`` cookie); the logout goes through the middleware with Django's own CSRF
convention; the row must be gone and the next request anonymous.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import webtest
from example_apps import import_example

from logout_middleware import DEFAULT_LOGOUT_PATH, LogoutMiddleware


@pytest.fixture(scope="module")
def django_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    db = tmp_path_factory.mktemp("django") / "django.sqlite3"
    saved = {k: os.environ.get(k) for k in ("DJANGO_EXAMPLE_DB", "DJANGO_SETTINGS_MODULE")}
    os.environ["DJANGO_EXAMPLE_DB"] = str(db)
    os.environ["DJANGO_SETTINGS_MODULE"] = "django_project.settings"
    try:
        import django
        from django.core.management import call_command

        import_example("django_project")
        django.setup()
        call_command("migrate", verbosity=0, interactive=False)
        wsgi = import_example("django_project.wsgi")
        yield wsgi.application
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def session_exists(session_key: str) -> bool:
    from django.contrib.sessions.models import Session

    return Session.objects.filter(session_key=session_key).exists()


def log_in(app: webtest.TestApp, username: str) -> str:
    page = app.get("/")
    assert '<strong id="user">anonymous</strong>' in page.text
    form = page.forms[0]
    form["username"] = username
    form.submit(status=302)
    assert f'<strong id="user">{username}</strong>' in app.get("/").text
    return str(app.cookies["sessionid"])


def test_django_session_row_is_deleted_on_logout(django_app: Any) -> None:
    assert isinstance(django_app, LogoutMiddleware)
    app = webtest.TestApp(django_app)
    key = log_in(app, "ada")
    assert session_exists(key)

    response = app.post(
        DEFAULT_LOGOUT_PATH,
        "{}",
        content_type="application/json",
        headers={"X-CSRFToken": app.cookies["csrftoken"]},
    )
    assert response.json == {"message": "OK"}
    assert not session_exists(key), "the django_session row survived the logout"
    assert "sessionid" not in app.cookies and "csrftoken" not in app.cookies
    assert '<strong id="user">anonymous</strong>' in app.get("/").text
    # A copy of the old cookie names a session that no longer exists.
    app.set_cookie("sessionid", key)
    assert '<strong id="user">anonymous</strong>' in app.get("/").text


def test_django_logout_without_the_csrf_header_is_refused(django_app: Any) -> None:
    app = webtest.TestApp(django_app)
    key = log_in(app, "grace")
    app.post(DEFAULT_LOGOUT_PATH, "{}", content_type="application/json", status=403)
    assert session_exists(key)
    assert '<strong id="user">grace</strong>' in app.get("/").text


def test_django_logout_expires_the_cookie_with_djangos_attributes(django_app: Any) -> None:
    from django.conf import settings

    app = webtest.TestApp(django_app)
    log_in(app, "ada")
    response = app.post(DEFAULT_LOGOUT_PATH, headers={"X-CSRFToken": app.cookies["csrftoken"]})
    (expired,) = [h for h in response.headers.getall("Set-Cookie") if h.startswith("sessionid=")]
    assert "Max-Age=0" in expired and "HttpOnly" in expired
    assert f"Path={settings.SESSION_COOKIE_PATH}" in expired
    assert f"SameSite={settings.SESSION_COOKIE_SAMESITE}" in expired
