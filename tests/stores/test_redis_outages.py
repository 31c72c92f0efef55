"""RedisBackend against a real redis-server that is stopped, frozen and restarted.

An app must start while Redis is down, a dead or frozen Redis must turn a logout into
a prompt ``500`` (never a hung worker), and logouts must work again once Redis is
back, through the same backend object.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from servers import RedisServer, free_port
from webtest import TestApp

from logout_middleware import DEFAULT_LOGOUT_PATH, LogoutMiddleware
from logout_middleware.backends import RedisBackend, SessionStore
from logout_middleware.backends.redis import redis_client

pytestmark = pytest.mark.redis


@pytest.fixture
def raw(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis(host="127.0.0.1", port=redis_server.port)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def backend(redis_server: RedisServer) -> Iterator[RedisBackend]:
    b = RedisBackend(redis_server.url)
    yield b
    b.close()


def hello(environ: dict[str, object], start_response: object) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
    return [b"hello"]


def test_construction_never_connects() -> None:
    backend = RedisBackend(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    assert isinstance(backend, SessionStore)
    backend.close()


def test_url_without_timeouts_gets_bounded_ones(redis_server: RedisServer) -> None:
    backend = RedisBackend(redis_server.url)
    kwargs = backend.client.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == 2.0
    assert kwargs["socket_connect_timeout"] == 2.0
    backend.close()


def test_timeouts_in_the_url_win(redis_server: RedisServer) -> None:
    backend = RedisBackend(redis_server.url + "?socket_timeout=5&socket_connect_timeout=3")
    kwargs = backend.client.connection_pool.connection_kwargs
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (5.0, 3.0)
    backend.close()


def test_a_ready_client_is_used_as_it_is(redis_server: RedisServer, raw: redis.Redis) -> None:
    backend = RedisBackend(raw, key_prefix="app:")
    assert backend.client is raw
    raw.set("app:abc", b"{}")
    backend.delete("abc")
    assert not raw.exists("app:abc")
    backend.close()  # not ours: stays usable
    assert raw.ping()


def test_default_prefix_is_flask_sessions(backend: RedisBackend, raw: redis.Redis) -> None:
    raw.set("session:abc", b"x")
    backend.delete("abc")
    assert not raw.exists("session:abc")


def test_records_made_with_a_ttl_expire(redis_server: RedisServer, raw: redis.Redis) -> None:
    backend = RedisBackend(redis_server.url, ttl=30)
    sid = backend.create({"user": "ada"})
    assert 29_000 < raw.pttl("session:" + sid) <= 30_000
    assert backend.get(sid) == {"user": "ada"}
    backend.close()


@pytest.mark.parametrize(
    ("arg", "kwargs", "match"),
    [
        (b"redis://127.0.0.1", {}, "Redis URL"),
        (42, {}, "Redis URL"),
        ("redis://127.0.0.1", {"socket_timeout": -1}, "socket_timeout"),
        ("redis://127.0.0.1", {"socket_connect_timeout": float("inf")}, "socket_connect"),
        ("redis://127.0.0.1", {"retries": -1}, "retries"),
        ("redis://127.0.0.1", {"ttl": 0}, "ttl"),
        ("redis://127.0.0.1", {"key_prefix": None}, "key_prefix"),
    ],
)
def test_unusable_settings_are_refused(arg: object, kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RedisBackend(arg, **kwargs)  # type: ignore[arg-type]


def test_missing_redis_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ImportError, match=r"logout-middleware\[redis\]"):
        redis_client("redis://127.0.0.1:6379/0")


def test_app_starts_while_redis_is_down_and_logouts_work_once_it_is_up(
    redis_server: RedisServer, raw: redis.Redis
) -> None:
    with redis_server.stopped():
        backend = RedisBackend(redis_server.url)
        app = TestApp(LogoutMiddleware(hello, backend))
        app.set_cookie("session", "sid1")
        response = app.post(DEFAULT_LOGOUT_PATH, status=500)
        assert "sid1" not in response.text
    raw.set("session:sid1", b"{}")
    app.set_cookie("session", "sid1")
    app.post(DEFAULT_LOGOUT_PATH, status=200)
    assert not raw.exists("session:sid1")
    backend.close()


def test_dead_redis_fails_promptly(redis_server: RedisServer) -> None:
    """A refused connection fails at once, not after the connect timeout: with a 20 s
    timeout, anything under half of it is the refusal (a busy machine cannot stretch a
    refused connect that far)."""
    backend = RedisBackend(redis_server.url, socket_connect_timeout=20.0, socket_timeout=20.0)
    backend.delete("warm")  # a pooled connection exists
    with redis_server.stopped():
        started = time.monotonic()
        with pytest.raises(redis.ConnectionError):
            backend.delete("abc")
        assert time.monotonic() - started < 10.0
    backend.close()


def test_frozen_redis_times_out(redis_server: RedisServer) -> None:
    """A frozen server is given up after the socket timeout (1 s, no retry), not waited
    for: the bound is the timeout plus a margin a busy machine cannot exhaust."""
    backend = RedisBackend(redis_server.url, socket_timeout=1.0, retries=0)
    backend.delete("warm")
    with redis_server.paused():
        started = time.monotonic()
        with pytest.raises(redis.TimeoutError):
            backend.delete("abc")
        elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 5.0
    backend.delete("after")  # the timed-out connection was dropped, not reused
    backend.close()


def test_frozen_redis_with_default_settings_is_bounded(
    redis_server: RedisServer, backend: RedisBackend
) -> None:
    """Defaults: 2 s socket timeout, one retry: about 4 s, never a hung worker."""
    backend.delete("warm")
    app = TestApp(LogoutMiddleware(hello, backend))
    app.set_cookie("session", "sid")
    with redis_server.paused():
        started = time.monotonic()
        app.post(DEFAULT_LOGOUT_PATH, status=500)
        elapsed = time.monotonic() - started
    assert 1.9 < elapsed < 6.0


def test_logouts_work_after_a_restart_without_a_new_backend(
    redis_server: RedisServer, backend: RedisBackend, raw: redis.Redis
) -> None:
    backend.delete("warm")  # the pool now holds a connection that the restart will cut
    redis_server.stop()
    redis_server.start()
    raw.connection_pool.disconnect()
    raw.set("session:after-restart", b"{}")
    backend.delete("after-restart")  # no error: the stale connection is replaced
    assert not raw.exists("session:after-restart")


def test_logouts_fail_during_an_outage_and_recover_after_it(
    redis_server: RedisServer, backend: RedisBackend, raw: redis.Redis
) -> None:
    app = TestApp(LogoutMiddleware(hello, backend))
    sid = backend.create({"user": "ada"})
    with redis_server.stopped():
        app.set_cookie("session", sid)
        app.post(DEFAULT_LOGOUT_PATH, status=500)
    raw.connection_pool.disconnect()
    sid = backend.create({"user": "ada"})  # the restart emptied Redis
    app.set_cookie("session", sid)
    app.post(DEFAULT_LOGOUT_PATH, status=200)
    assert backend.get(sid) is None


@pytest.fixture
def sentinel_port(redis_server: RedisServer, tmp_path: Path) -> Iterator[int]:
    """A real Redis Sentinel (``redis-server --sentinel``) watching ``redis_server``."""
    port = free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"bind 127.0.0.1\nport {port}\ndir {tmp_path}\n"
        f"sentinel monitor main 127.0.0.1 {redis_server.port} 1\n"
    )
    proc = subprocess.Popen(
        [redis_server.binary, str(conf), "--sentinel"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                    s.sendall(b"SENTINEL get-master-addr-by-name main\r\n")
                    if str(redis_server.port).encode() in s.recv(256):
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "sentinel did not come up"
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_sentinel_master_client_is_accepted(sentinel_port: int, raw: redis.Redis) -> None:
    from redis.sentinel import Sentinel

    sentinel = Sentinel([("127.0.0.1", sentinel_port)], socket_timeout=1)
    master = sentinel.master_for("main", socket_timeout=1)
    backend = RedisBackend(master)
    raw.set("session:via-sentinel", b"{}")
    backend.delete("via-sentinel")
    assert not raw.exists("session:via-sentinel")
    master.close()
    for s in sentinel.sentinels:
        s.close()
