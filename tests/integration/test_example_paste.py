"""examples/paste.ini, the demo as a PasteDeploy pipeline: its ``index`` and
``everywhere_path`` keys give the filter the index that the app's login writes, so the
demo's "sign out of other devices" buttons work the same through the ini file."""

from __future__ import annotations

import shutil
from pathlib import Path

import webtest
from example_apps import (
    EXAMPLES,
    Devices,
    check_sign_out_of_other_devices,
    click_with_token,
    import_example,
    stored,
)
from paste.deploy import loadapp

from logout_middleware import (
    DEFAULT_LOGOUT_PATH,
    LogoutMiddleware,
    SQLiteBackend,
    SQLiteSessionIndex,
)
from logout_middleware.testing import assert_cookie_deleted, cookie_problems, set_cookie_header


def test_paste_ini_pipeline_signs_out_of_other_devices(tmp_path: Path) -> None:
    import_example("demo")  # puts examples/ on sys.path for `demo:paste_app_factory`
    shutil.copy(EXAMPLES / "paste.ini", tmp_path / "paste.ini")  # %(here)s: tmp_path
    wsgi = loadapp("config:paste.ini", relative_to=str(tmp_path))
    assert isinstance(wsgi, LogoutMiddleware)
    assert wsgi.everywhere_path == "/logout/everywhere"
    db = tmp_path / "demo.sqlite3"
    click = click_with_token("XSRF-TOKEN", "X-XSRF-TOKEN")
    site = Devices(wsgi, SQLiteSessionIndex(db), stored(SQLiteBackend(db)), click)
    check_sign_out_of_other_devices(site)


def test_paste_ini_settings_drop_the_demos_cookies_by_the_browsers_rules(tmp_path: Path) -> None:
    """The testing kit on a PasteDeploy pipeline: the cookie settings written in the
    ini file match the cookies the app sets, by the browser's rules."""
    import_example("demo")
    shutil.copy(EXAMPLES / "paste.ini", tmp_path / "paste.ini")
    wsgi = loadapp("config:paste.ini", relative_to=str(tmp_path))
    app = webtest.TestApp(wsgi)
    login = app.post("/login", {"username": "ada"}, status=303)
    cookies = [set_cookie_header(login, name) for name in ("session", "XSRF-TOKEN")]
    headers = {"X-XSRF-TOKEN": app.cookies["XSRF-TOKEN"]}
    logout = app.post(DEFAULT_LOGOUT_PATH, "{}", content_type="application/json", headers=headers)
    for set_cookie in cookies:
        assert_cookie_deleted(set_cookie, logout)
        assert cookie_problems(wsgi, set_cookie) == []
