"""examples/fastapi_app.py under a real uvicorn with 2 workers: FastAPI sessions on a
real Redis, logged out by the ASGI middleware.

The login writes the record (``session:<id>``, JSON) and links it in the session index;
the logout through the middleware must ``DEL`` the record and forget the link, so that
the next request, and a copy of the old cookie, are anonymous. "Sign out of other
devices" on one device ends the user's other sessions only; "sign out everywhere"
then ends that one too; another user's session lives on. Each check reads Redis
itself, not the app.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from example_apps import EXAMPLES
from uvicorn_util import UvicornServer, new_client, problems, start

from logout_middleware import DEFAULT_LOGOUT_PATH, RedisSessionIndex

pytestmark = pytest.mark.redis

WORKERS = 2
#: A database of the shared test Redis of its own, emptied first.
DATABASE = 7
EVERYWHERE = "/logout/everywhere"


@pytest.fixture(scope="module")
def redis_url(redis_server: Any) -> Iterator[str]:
    url = f"redis://127.0.0.1:{redis_server.port}/{DATABASE}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    yield url


@pytest.fixture(scope="module")
def server(redis_url: str) -> Iterator[UvicornServer]:
    with start(
        "fastapi_app:app",
        workers=WORKERS,
        app_dir=EXAMPLES,
        env={"FASTAPI_EXAMPLE_REDIS": redis_url},
    ) as running:
        yield running
    assert running.returncode == 0, running.log()[-3000:]
    assert problems(running, WORKERS) == []


@pytest.fixture
def store(redis_url: str) -> Iterator[tuple[redis.Redis, RedisSessionIndex]]:
    client = redis.Redis.from_url(redis_url)
    index = RedisSessionIndex(redis_url)
    yield client, index
    index.close()
    client.close()


def log_in(server: UvicornServer, username: str) -> tuple[httpx.Client, str]:
    """A browser logged in through the example's form; its session id."""
    client = new_client(server)
    answer = client.post("/login", data={"username": username})
    assert answer.status_code == 303, answer.text
    assert user_of(client) == username
    return client, client.cookies["session_id"]


def user_of(client: httpx.Client) -> str | None:
    user: str | None = client.get("/me").json()["user"]
    return user


def click(client: httpx.Client, path: str) -> None:
    """A button of the page: a plain form post, answered 303 back to the page."""
    answer = client.post(path)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].endswith("/")


def test_logout_deletes_the_redis_record_and_its_index_link(
    server: UvicornServer, store: tuple[redis.Redis, RedisSessionIndex]
) -> None:
    client, index = store
    ada, sid = log_in(server, "ada")
    assert client.get(f"session:{sid}") is not None, "the login stored no record"
    assert index.find("user", "ada") == {sid}

    answer = ada.post(DEFAULT_LOGOUT_PATH)
    assert answer.status_code == 303
    [expiry] = answer.headers.get_list("set-cookie")
    assert expiry.startswith("session_id=;") and "Max-Age=0" in expiry and "HttpOnly" in expiry
    assert not client.exists(f"session:{sid}"), "the record survived the logout"
    assert index.find("user", "ada") == set(), "the logout left its index link"
    assert "session_id" not in ada.cookies
    assert user_of(ada) is None
    with new_client(server, cookies={"session_id": sid}) as thief:  # a copy of the cookie
        assert user_of(thief) is None


def test_sign_out_of_other_devices_then_everywhere(
    server: UvicornServer, store: tuple[redis.Redis, RedisSessionIndex]
) -> None:
    client, index = store
    phone, phone_sid = log_in(server, "alice")
    laptop, laptop_sid = log_in(server, "alice")
    other, bob_sid = log_in(server, "bob")
    assert index.find("user", "alice") == {phone_sid, laptop_sid}

    def alive() -> list[bool]:
        return [bool(client.exists(f"session:{s}")) for s in (phone_sid, laptop_sid, bob_sid)]

    click(phone, EVERYWHERE + "?keep_current=1")
    assert [user_of(c) for c in (phone, laptop, other)] == ["alice", None, "bob"]
    assert alive() == [True, False, True]
    assert index.find("user", "alice") == {phone_sid}

    click(phone, EVERYWHERE)
    assert [user_of(c) for c in (phone, other)] == [None, "bob"]
    assert alive() == [False, False, True]
    assert index.find("user", "alice") == set()

    click(other, DEFAULT_LOGOUT_PATH)
    assert user_of(other) is None
    assert alive() == [False, False, False]
    assert index.find("user", "bob") == set()


def test_the_page_offers_the_buttons_the_tests_press(server: UvicornServer) -> None:
    ada, _ = log_in(server, "ada")
    page = ada.get("/").text
    for action in (DEFAULT_LOGOUT_PATH, EVERYWHERE + "?keep_current=1", EVERYWHERE):
        assert f'action="{action}"' in page
