"""examples/demo.py, the bare WSGI demo, driven through WebTest (lint on)."""

from __future__ import annotations

import os
from pathlib import Path
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
    stored,
)

from logout_middleware import DEFAULT_LOGOUT_PATH, SQLiteBackend, SQLiteSessionIndex
from logout_middleware.testing import assert_cookie_deleted, cookie_problems, set_cookie_header

demo = import_example("demo")
# What the page's script does for a button: POST {} with the token header.
click = click_with_token("XSRF-TOKEN", "X-XSRF-TOKEN")


def test_demo_logs_in_shows_the_user_and_logs_out_studio_style(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite3"
    app = webtest.TestApp(demo.make_app(db))
    page = app.get("/")
    assert '<strong id="user">anonymous</strong>' in page.text
    assert f'<span id="pid">{os.getpid()}</span>' in page.text
    form = page.forms[0]
    form["username"] = "ada"
    form.submit(status=303)
    session_id = app.cookies["session"]
    assert SQLiteBackend(db).get(session_id) == {"username": "ada"}
    page = app.get("/")
    assert '<strong id="user">ada</strong>' in page.text
    assert button_url(app, "logout") == DEFAULT_LOGOUT_PATH
    assert '"X-XSRF-TOKEN": readCookie("XSRF-TOKEN")' in page.text

    app.post(DEFAULT_LOGOUT_PATH, "{}", content_type="application/json", status=403)
    assert SQLiteBackend(db).get(session_id) is not None
    response = app.post(
        DEFAULT_LOGOUT_PATH,
        "{}",
        content_type="application/json",
        headers={"X-XSRF-TOKEN": app.cookies["XSRF-TOKEN"]},
    )
    assert response.json == {"message": "OK"}
    assert SQLiteBackend(db).get(session_id) is None
    assert '<strong id="user">anonymous</strong>' in app.get("/").text


def test_demo_sets_the_cookies_with_the_attributes_the_middleware_repeats(
    tmp_path: Path,
) -> None:
    app = webtest.TestApp(
        demo.make_app(tmp_path / "d.sqlite3", cookie_path="/studio", cookie_domain="demo.test")
    )
    login = app.post("/login", {"username": "ada"}, extra_environ={"SCRIPT_NAME": "/studio"})
    assert login.headers["Location"].endswith("/studio/")
    cookies = {h.split("=", 1)[0]: h for h in login.headers.getall("Set-Cookie")}
    for attribute in ("Domain=demo.test", "Path=/studio", "SameSite=Lax"):
        assert attribute in cookies["session"] and attribute in cookies["XSRF-TOKEN"]
    assert "HttpOnly" in cookies["session"] and "HttpOnly" not in cookies["XSRF-TOKEN"]
    xsrf = cookies["XSRF-TOKEN"].split(";")[0].split("=", 1)[1]
    response = app.post(
        DEFAULT_LOGOUT_PATH,
        headers={"X-XSRF-TOKEN": xsrf, "Cookie": f"XSRF-TOKEN={xsrf}"},
        extra_environ={"SCRIPT_NAME": "/studio"},
    )
    for header in response.headers.getall("Set-Cookie"):
        assert "Domain=demo.test" in header and "Path=/studio" in header


def test_demo_page_escapes_the_username(tmp_path: Path) -> None:
    app = webtest.TestApp(demo.make_app(tmp_path / "d.sqlite3"))
    app.post("/login", {"username": "<script>alert(1)</script>"}, status=303)
    text = app.get("/").text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_demo_mounted_under_a_prefix_links_and_logs_out_under_it(tmp_path: Path) -> None:
    app = webtest.TestApp(demo.make_app(tmp_path / "d.sqlite3"))
    page = app.get("/", extra_environ={"SCRIPT_NAME": "/studio"})
    assert 'action="/studio/login"' in page.text
    app.post("/login", {"username": "ada"}, extra_environ={"SCRIPT_NAME": "/studio"})
    page = app.get("/", extra_environ={"SCRIPT_NAME": "/studio"})
    urls = [page.html.find(id=b)["data-url"] for b in ("logout", "sign-out-others")]
    assert urls == [
        f"/studio{DEFAULT_LOGOUT_PATH}",
        f"/studio{demo.EVERYWHERE_PATH}?keep_current=1",
    ]


def test_demo_refuses_an_empty_or_long_username(tmp_path: Path) -> None:
    app = webtest.TestApp(demo.make_app(tmp_path / "d.sqlite3"))
    app.post("/login", {"username": " "}, status=400)
    app.post("/login", {"username": "x" * 65}, status=400)
    app.get("/login", status=405)
    app.get("/elsewhere", status=404)


def test_demo_signs_out_of_other_devices_and_everywhere(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite3"
    wsgi = demo.make_app(db)
    site = Devices(wsgi, SQLiteSessionIndex(db), stored(SQLiteBackend(db)), click)
    check_sign_out_of_other_devices(site)


def test_demo_everywhere_buttons_need_the_token_like_the_logout(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite3"
    wsgi = demo.make_app(db)
    phone, laptop = webtest.TestApp(wsgi), webtest.TestApp(wsgi)
    sessions = [log_in_with_form(phone, "alice"), log_in_with_form(laptop, "alice")]
    for button in ("sign-out-others", "sign-out-everywhere"):
        phone.post(button_url(phone, button), "{}", content_type="application/json", status=403)
    assert SQLiteSessionIndex(db).find("user", "alice") == set(sessions)
    assert all(SQLiteBackend(db).get(sid) is not None for sid in sessions)
    # The answer the page shows after "sign out everywhere": the count, cookies expired.
    answer: Any = click(phone, "sign-out-everywhere")
    assert answer.json == {"message": "OK", "ended": 2}
    assert "session" not in phone.cookies and "XSRF-TOKEN" not in phone.cookies


@pytest.mark.parametrize(
    ("cookie_path", "cookie_domain", "script_name"),
    [("/", None, ""), ("/studio", "demo.test", "/studio")],
)
def test_demo_logout_drops_both_cookies_by_the_browsers_rules(
    tmp_path: Path, cookie_path: str, cookie_domain: str | None, script_name: str
) -> None:
    """The testing kit, as a user's suite would use it: the browser's own rules decide
    whether the logout's headers remove the session and XSRF-TOKEN cookies."""
    wsgi = demo.make_app(
        tmp_path / "d.sqlite3", cookie_path=cookie_path, cookie_domain=cookie_domain
    )
    app = webtest.TestApp(wsgi, extra_environ={"SCRIPT_NAME": script_name})
    login = app.post("/login", {"username": "ada"}, status=303)
    cookies = [set_cookie_header(login, name) for name in ("session", "XSRF-TOKEN")]
    xsrf = cookies[1].split(";")[0].split("=", 1)[1]
    logout = app.post(
        DEFAULT_LOGOUT_PATH,
        "{}",
        content_type="application/json",
        headers={"X-XSRF-TOKEN": xsrf, "Cookie": f"XSRF-TOKEN={xsrf}"},
    )
    for set_cookie in cookies:
        assert_cookie_deleted(set_cookie, logout)
        assert cookie_problems(wsgi, set_cookie, script_name=script_name) == []
    if script_name:  # the same cookies, were the app not mounted under their Path
        problems = cookie_problems(wsgi, cookies[0])  # the logout and the everywhere path
        assert len(problems) == 2
        assert all("does not cover the logout URL path" in p for p in problems), problems
