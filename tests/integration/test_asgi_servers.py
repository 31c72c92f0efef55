"""The ASGI twin under each ASGI server users deploy it on: uvicorn (the reference),
hypercorn and daphne, each a real server on 127.0.0.1 (``asgi_servers_util.py``).

They find out differently that an application is ASGI 3 (uvicorn and hypercorn:
``__call__`` is a coroutine function; daphne: asgiref's ``guarantee_single_callable``)
and build scopes differently (``root_path``, websocket handshakes, lifespan). Under
each:

* **examples/starlette_app.py**, the scenarios of ``test_example_starlette.py``
  (``starlette_example.py``): the logout expires the session cookie, and a copy of it
  is anonymous over http and refused on the websocket handshake afterwards (the
  revocation); a cross-site logout is refused with ``403`` and the session lives on;
  the logout reads its form (``next``) through the server's ``receive``; every other
  path reaches Starlette untouched; nothing escapes to the server's log.
* **Under a root path** (``--root-path /sub``) the logout answers at ``/sub`` + its
  path: on the wire for hypercorn and daphne (which leave the prefix in ``path``), and
  for uvicorn behind the proxy that stripped it (uvicorn puts it back in ``path``).
* **Over HTTP/2** (hypercorn only: daphne speaks it over TLS only), cookies split over
  two ``cookie`` headers are read and revoked.
* **examples/django_project/asgi.py**, where the server loads ``LogoutMiddleware``
  itself as the application: the logout answers Studio's JSON ``{"message": "OK"}``
  with the cookies expired and the session row deleted (a blocking store, in a worker
  thread, under daphne's Twisted reactor too). uvicorn runs it in
  ``test_example_django_asgi.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import test_example_django_asgi as django_asgi
from asgi_servers_util import KINDS, problems, start
from example_apps import EXAMPLES
from starlette_example import (
    check_a_copied_cookie_is_refused,
    check_a_cross_site_logout_is_refused,
    log_in,
)
from test_example_django_asgi import db  # noqa: F401 - the migrated database fixture
from uvicorn_util import new_client, websocket_greeting

from benchmarks.harness import GunicornServer
from logout_middleware import DEFAULT_LOGOUT_PATH, MemoryRevocationStore
from logout_middleware.asgi import LogoutMiddleware, RevocationFilter
from logout_middleware.cookies import CookieSpec

#: The path on the wire in front of the application's paths under ``--root-path /sub``.
WIRE_PREFIX = {"uvicorn": "", "hypercorn": "/sub", "daphne": "/sub"}


def serve_starlette(kind: str, directory: Path, root_path: str | None = None) -> GunicornServer:
    revoked = directory / f"{kind}-revoked.sqlite3"
    return start(
        kind,
        "starlette_app:app",
        app_dir=EXAMPLES,
        root_path=root_path,
        env={"STARLETTE_EXAMPLE_REVOKED": f"sqlite:///{revoked}"},
    )


def assert_clean(server: GunicornServer) -> None:
    """Stopped by SIGTERM with exit code 0; no exception in the log (no request of
    this file fails a logout, so no traceback either)."""
    assert server.returncode == 0, server.log()[-3000:]
    assert problems(server) == []
    assert "Traceback" not in server.log(), server.log()[-3000:]


@pytest.fixture(scope="module", params=KINDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GunicornServer]:
    with serve_starlette(request.param, tmp_path_factory.mktemp("starlette")) as running:
        yield running
    assert_clean(running)


def test_a_copied_cookie_is_refused_after_logout_over_http_and_websocket(
    server: GunicornServer,
) -> None:
    check_a_copied_cookie_is_refused(server)


def test_a_cross_site_logout_is_refused_and_the_session_lives_on(
    server: GunicornServer,
) -> None:
    check_a_cross_site_logout_is_refused(server)


def test_the_logout_reads_its_form_through_the_servers_receive(server: GunicornServer) -> None:
    # hypercorn streams the body to the application, daphne buffers it whole first.
    with new_client(server) as client:
        answer = client.post(DEFAULT_LOGOUT_PATH, data={"next": "/after?x=1"})
        assert (answer.status_code, answer.headers["location"]) == (303, server.url + "/after?x=1")
        oversized = b"next=%2Fbig&" + b"a" * 100_000  # above max_form_size: not read
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        answer = client.post(DEFAULT_LOGOUT_PATH, content=oversized, headers=form)
        assert (answer.status_code, answer.headers["location"]) == (303, server.url + "/")


def test_other_paths_pass_through_untouched(server: GunicornServer) -> None:
    with new_client(server) as anonymous:
        page = anonymous.get("/")
        assert page.status_code == 200 and '<strong id="user">anonymous</strong>' in page.text
        assert "set-cookie" not in page.headers and "cache-control" not in page.headers
        # Paths that only end with, or extend, the logout path: Starlette's own 404.
        for path in ("/x" + DEFAULT_LOGOUT_PATH, DEFAULT_LOGOUT_PATH + "/", "/logout"):
            answer = anonymous.post(path)
            assert (answer.status_code, answer.text) == (404, "Not Found"), path
            assert "cache-control" not in answer.headers  # the middleware's answers have it
    # A live session: the app reads it, nothing is added to its answers or handshakes.
    dora, cookie = log_in(server, "dora")
    page = dora.get("/")
    assert '<strong id="user">dora</strong>' in page.text and "set-cookie" not in page.headers
    assert websocket_greeting(server, "/ws", f"session={cookie}") == "hello dora"


@pytest.mark.parametrize("kind", KINDS)
def test_under_a_root_path_the_logout_answers_at_root_path_plus_its_path(
    kind: str, tmp_path: Path
) -> None:
    prefix = WIRE_PREFIX[kind]
    with serve_starlette(kind, tmp_path, root_path="/sub") as server:
        check_a_copied_cookie_is_refused(server, prefix)
        if kind == "uvicorn":  # the prefix on the wire too: uvicorn sees /sub/sub/...
            with new_client(server) as client:
                assert client.post("/sub" + DEFAULT_LOGOUT_PATH).status_code == 404
    assert_clean(server)


def test_over_http2_under_hypercorn_split_cookie_headers_are_revoked(tmp_path: Path) -> None:
    """hypercorn also speaks HTTP/2 (here without TLS, with prior knowledge), where the
    scope's ``host`` comes from ``:authority`` and a client may send the cookies in
    several ``cookie`` headers: a same-origin logout passes, and the session cookie in
    the second of two headers is revoked."""
    with serve_starlette("hypercorn", tmp_path) as server:
        with httpx.Client(base_url=server.url, http1=False, http2=True, timeout=30) as h2:
            assert h2.post("/login", data={"username": "erin"}).http_version == "HTTP/2"
            cookie = h2.cookies["session"]
            answer = h2.post(DEFAULT_LOGOUT_PATH, headers={"Origin": server.url})
            assert answer.status_code == 303 and answer.http_version == "HTTP/2"
            assert answer.headers["set-cookie"].startswith("session=;")
            split = [("cookie", "theme=dark"), ("cookie", f"session={cookie}")]
            page = h2.get("/", headers=split)
            assert '<strong id="user">anonymous</strong>' in page.text
            # The expiry says the filter found it (Starlette reads the first header only).
            assert page.headers["set-cookie"].startswith("session=;")
    assert_clean(server)


@pytest.mark.parametrize("kind", ["hypercorn", "daphne"])
def test_django_asgi_logout_answers_studios_json_with_the_middleware_served_directly(
    kind: str,
    db: Path,  # noqa: F811 - the fixture imported above
) -> None:
    with start(
        kind,
        "django_project.asgi:application",
        app_dir=EXAMPLES,
        env={"DJANGO_EXAMPLE_DB": str(db), "DJANGO_SETTINGS_MODULE": "django_project.settings"},
    ) as server:
        ada = django_asgi.log_in(server, "ada")
        key = ada.cookies["sessionid"]
        assert ada.post(DEFAULT_LOGOUT_PATH).status_code == 403  # no CSRF header
        answer = django_asgi.post_with_token(ada, DEFAULT_LOGOUT_PATH)
        assert answer.status_code == 200 and answer.json() == {"message": "OK"}
        expired = answer.headers.get_list("set-cookie")
        assert {h.split("=", 1)[0] for h in expired} == {"sessionid", "csrftoken"}
        assert all("Max-Age=0" in h for h in expired)
        assert not django_asgi.session_exists(db, key), "the django_session row survived"
        with new_client(server, cookies={"sessionid": key}) as thief:
            assert django_asgi.shown_user(thief) == "anonymous"
    assert_clean(server)


def test_each_server_takes_both_asgi_classes_for_asgi_3() -> None:
    """What each server's detection makes of the classes it may be handed."""
    import uvicorn
    from asgiref.compatibility import guarantee_single_callable
    from hypercorn.utils import is_asgi

    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("not called")

    store = MemoryRevocationStore()
    for candidate in (
        LogoutMiddleware(app, None, revocation=store),
        RevocationFilter(app, store, CookieSpec("session")),
    ):
        config = uvicorn.Config(candidate, log_config=None)  # leaves logging alone
        config.load()
        assert config.interface == "asgi3"
        assert is_asgi(candidate)  # hypercorn: otherwise served as WSGI
        assert guarantee_single_callable(candidate) is candidate  # daphne: not wrapped
