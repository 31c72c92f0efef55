"""examples/django_project/asgi.py under a real uvicorn with 2 workers: Django's ASGI
handler behind the ASGI middleware, database sessions on SQLite.

The login goes through ``django.contrib.auth.login`` (a ``django_session`` row, the
``sessionid`` cookie, the session linked in the index by the ``user_logged_in``
receiver); the logout through the middleware with Django's CSRF convention. The row
must be gone (read from the database file itself), both cookies expired, a copy of
the old cookie anonymous; without the CSRF header the logout is refused; "sign out
of other devices" ends the user's other session only.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from example_apps import EXAMPLES
from uvicorn_util import UvicornServer, new_client, problems, start

from logout_middleware import DEFAULT_LOGOUT_PATH

WORKERS = 2
EVERYWHERE = "/logout/everywhere"  # settings.LOGOUT_EVERYWHERE_PATH


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("django-asgi") / "django.sqlite3"
    env = {
        **os.environ,
        "DJANGO_EXAMPLE_DB": str(path),
        "DJANGO_SETTINGS_MODULE": "django_project.settings",
    }
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--verbosity", "0"],
        cwd=EXAMPLES, env=env, check=True, timeout=120,
    )
    return path


@pytest.fixture(scope="module")
def server(db: Path) -> Iterator[UvicornServer]:
    with start(
        "django_project.asgi:application",
        workers=WORKERS,
        app_dir=EXAMPLES,
        env={"DJANGO_EXAMPLE_DB": str(db), "DJANGO_SETTINGS_MODULE": "django_project.settings"},
        args=["--lifespan", "off"],  # Django's handler serves http only
    ) as running:
        yield running
    assert running.returncode == 0, running.log()[-3000:]
    assert problems(running, WORKERS) == []


def session_exists(db: Path, key: str) -> bool:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT 1 FROM django_session WHERE session_key = ?", (key,)).fetchone()
    conn.close()
    return row is not None


def shown_user(client: httpx.Client) -> str:
    page = client.get("/").text
    return page.split('<strong id="user">', 1)[1].split("<", 1)[0]


def log_in(server: UvicornServer, username: str) -> httpx.Client:
    """A browser logged in through the example's form (with Django's CSRF token)."""
    client = new_client(server)
    page = client.get("/").text
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    answer = client.post("/login", data={"csrfmiddlewaretoken": token, "username": username})
    assert answer.status_code == 302, answer.text[:500]
    assert shown_user(client) == username
    return client


def post_with_token(client: httpx.Client, path: str) -> httpx.Response:
    """What the page's buttons do: POST with ``X-CSRFToken`` repeating ``csrftoken``."""
    return client.post(path, headers={"X-CSRFToken": client.cookies["csrftoken"]})


def test_django_asgi_logout_deletes_the_session_row(server: UvicornServer, db: Path) -> None:
    ada = log_in(server, "ada")
    key = ada.cookies["sessionid"]
    assert session_exists(db, key)

    answer = post_with_token(ada, DEFAULT_LOGOUT_PATH)
    assert answer.status_code == 200 and answer.json() == {"message": "OK"}
    expired = {h.split("=", 1)[0] for h in answer.headers.get_list("set-cookie")}
    assert expired == {"sessionid", "csrftoken"}
    assert not session_exists(db, key), "the django_session row survived the logout"
    assert "sessionid" not in ada.cookies and "csrftoken" not in ada.cookies
    assert shown_user(ada) == "anonymous"
    with new_client(server, cookies={"sessionid": key}) as thief:  # a copy of the cookie
        assert shown_user(thief) == "anonymous"


def test_django_asgi_logout_without_the_csrf_header_is_refused(
    server: UvicornServer, db: Path
) -> None:
    grace = log_in(server, "grace")
    assert grace.post(DEFAULT_LOGOUT_PATH).status_code == 403
    assert session_exists(db, grace.cookies["sessionid"])
    assert shown_user(grace) == "grace"


def test_django_asgi_signs_out_of_other_devices(server: UvicornServer, db: Path) -> None:
    phone, laptop = log_in(server, "carol"), log_in(server, "carol")
    answer = post_with_token(phone, EVERYWHERE + "?keep_current=1")
    assert answer.status_code == 200 and answer.json() == {"message": "OK", "ended": 1}
    assert (shown_user(phone), shown_user(laptop)) == ("carol", "anonymous")
    assert session_exists(db, phone.cookies["sessionid"])
