"""examples/starlette_app.py under a real uvicorn with 2 workers: Starlette's cookie
sessions, logged out by the ASGI middleware with revocation.

The login goes through Starlette's own ``SessionMiddleware`` (the whole session in a
signed cookie); the logout through the middleware, which records the session as
revoked in the SQLite store both workers share. A copy of the cookie taken before the
logout must then be worthless over http (the page is anonymous and the answer expires
the cookie) and on the websocket (the handshake is refused), whichever worker serves
it; another user's session must live on. (The same scenarios run under hypercorn and
daphne in ``test_asgi_servers.py``: ``starlette_example.py`` holds them.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from example_apps import EXAMPLES
from starlette_example import (
    check_a_copied_cookie_is_refused,
    check_a_cross_site_logout_is_refused,
)
from uvicorn_util import UvicornServer, problems, start

WORKERS = 2


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UvicornServer]:
    revoked = tmp_path_factory.mktemp("starlette") / "revoked.sqlite3"
    with start(
        "starlette_app:app",
        workers=WORKERS,
        app_dir=EXAMPLES,
        env={"STARLETTE_EXAMPLE_REVOKED": f"sqlite:///{revoked}"},
    ) as running:
        yield running
    assert running.returncode == 0, running.log()[-3000:]
    assert problems(running, WORKERS) == []


def test_a_copied_cookie_is_refused_after_logout_over_http_and_websocket(
    server: UvicornServer,
) -> None:
    check_a_copied_cookie_is_refused(server)


def test_a_cross_site_logout_is_refused_and_the_session_lives_on(
    server: UvicornServer,
) -> None:
    check_a_cross_site_logout_is_refused(server)
