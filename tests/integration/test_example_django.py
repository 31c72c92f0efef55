"""examples/django_project: Django database sessions, logged out by the middleware.

The login goes through ``django.contrib.auth.login`` (a ``django_session`` row and the
``sessionid`` cookie); the logout goes through the middleware with Django's own CSRF
convention; the row must be gone and the next request anonymous. Log out everywhere:
Django's ``user_logged_in`` signal links each session key to the user's id, and the
page's buttons end the user's other sessions, then all of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import webtest
from example_apps import (
    Devices,
    button_url,
    check_sign_out_of_other_devices,
    click_with_token,
    import_example,
    log_in_with_form,
    shown_user,
)

from logout_middleware import DEFAULT_LOGOUT_PATH, LogoutMiddleware
from logout_middleware.testing import assert_cookie_deleted, cookie_problems, set_cookie_header


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
    assert shown_user(app) == "anonymous"
    return log_in_with_form(app, username, cookie="sessionid")


def user_id(username: str) -> str:
    """The index label of a user: its primary key, as the example links."""
    from django.contrib.auth import get_user_model

    return str(get_user_model().objects.get(username=username).pk)


# What the page's script does for a button: POST with Django's AJAX CSRF header.
click = click_with_token("csrftoken", "X-CSRFToken")


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


def test_django_signs_out_of_other_devices(django_app: Any) -> None:
    site = Devices(django_app, django_app.index, session_exists, click, log_in, user_id)
    check_sign_out_of_other_devices(site)


def test_django_everywhere_buttons_need_the_csrf_header(django_app: Any) -> None:
    phone, laptop = webtest.TestApp(django_app), webtest.TestApp(django_app)
    log_in(phone, "carol")
    laptop_key = log_in(laptop, "carol")
    for button in ("sign-out-others", "sign-out-everywhere"):
        phone.post(button_url(phone, button), status=403)
    assert session_exists(laptop_key)
    assert shown_user(laptop) == "carol"


def test_django_login_over_another_users_session_links_the_new_key(django_app: Any) -> None:
    # login() flushes the session of the user logged in before: the signal runs while
    # the session has no key yet, and must link the key the browser then gets.
    app = webtest.TestApp(django_app)
    log_in(app, "dave")
    app.post(
        "/login", {"username": "erin"}, headers={"X-CSRFToken": app.cookies["csrftoken"]},
        status=302,
    )
    assert shown_user(app) == "erin"
    index = django_app.index
    assert index.find("user", user_id("erin")) == {app.cookies["sessionid"]}
    click(app, "sign-out-everywhere")
    assert shown_user(app) == "anonymous"
    assert index.find("user", user_id("erin")) == set()


def test_django_login_whose_link_fails_logs_no_one_in(
    django_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def index_down(*args: Any, **labels: Any) -> None:
        raise ConnectionError("index unreachable")

    monkeypatch.setattr(django_app.index, "add", index_down)
    app = webtest.TestApp(django_app)
    form = app.get("/").forms[0]
    form["username"] = "frank"
    form.submit(status=500)  # Django does not save the session of a 500
    assert shown_user(app) == "anonymous"


def test_django_logout_drops_both_cookies_by_the_browsers_rules(django_app: Any) -> None:
    """The testing kit in a Django suite: sessionid and csrftoken, as Django sets them at
    login, are gone by the browser's rules after the logout, and the middleware's
    settings (taken from Django's) match both."""
    app = webtest.TestApp(django_app)
    form = app.get("/").forms[0]
    form["username"] = "ada"
    login = form.submit(status="3*")
    cookies = [set_cookie_header(login, name) for name in ("sessionid", "csrftoken")]
    logout = app.post(DEFAULT_LOGOUT_PATH, headers={"X-CSRFToken": app.cookies["csrftoken"]})
    for set_cookie in cookies:
        assert_cookie_deleted(set_cookie, logout)
        assert cookie_problems(django_app, set_cookie) == []
