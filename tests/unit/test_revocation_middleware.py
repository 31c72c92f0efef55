"""Revocation for cookie-only sessions, wired through LogoutMiddleware."""

from __future__ import annotations

from typing import Any

from webtest import TestApp
from wsgi_util import LOGOUT, set_cookies

from logout_middleware import LogoutMiddleware
from logout_middleware.revocation import MemoryRevocationStore, cookie_token

# A signed cookie-only session, as Flask's default sessions are: no server-side record.
COOKIE = "eyJ1c2VyIjoiYWRhIn0.ZZZZ.signature"


def cookie_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Says who is logged in according to the cookie it sees."""
    who = "ada" if f"session={COOKIE}" in environ.get("HTTP_COOKIE", "") else "anonymous"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [who.encode()]


def make(store: MemoryRevocationStore) -> TestApp:
    return TestApp(LogoutMiddleware(cookie_app, None, revocation=store,
                                    revocation_max_age=3600))


def test_a_copied_cookie_is_worthless_after_logout() -> None:
    store = MemoryRevocationStore()
    app = make(store)
    headers = {"Cookie": f"session={COOKIE}; theme=dark"}
    assert app.get("/", headers=headers).text == "ada"
    assert app.post(LOGOUT, headers=headers).json == {"message": "OK"}
    assert store.is_revoked(cookie_token(COOKIE))
    # The attacker's copy of the cookie, replayed after logout:
    replay = app.get("/", headers=headers)
    assert replay.text == "anonymous"
    assert any(h.startswith("session=;") for h in set_cookies(replay))


def test_requests_without_the_cookie_reach_the_app_with_the_same_environ() -> None:
    seen = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]

    middleware = LogoutMiddleware(app, None, revocation=MemoryRevocationStore())
    environ = {"PATH_INFO": "/", "REQUEST_METHOD": "GET", "HTTP_COOKIE": "theme=dark"}
    middleware(environ, lambda s, h, e=None: None)  # type: ignore[arg-type,return-value]
    assert seen == [environ] and seen[0] is environ


def test_revocation_with_a_backend_deletes_the_record_and_revokes_the_cookie() -> None:
    from logout_middleware import MemoryBackend

    backend, store = MemoryBackend(), MemoryRevocationStore()
    sid = backend.create({})
    app = TestApp(LogoutMiddleware(cookie_app, backend, revocation=store))
    app.post(LOGOUT, headers={"Cookie": f"session={sid}"})
    assert backend.get(sid) is None
    assert store.is_revoked(cookie_token(sid))


def test_a_store_that_fails_on_logout_answers_500_and_still_expires_the_cookie() -> None:
    class Broken(MemoryRevocationStore):
        def revoke(self, token: str, ttl: float) -> None:
            raise ConnectionError("store down")

    app = TestApp(LogoutMiddleware(cookie_app, None, revocation=Broken()))
    response = app.post(LOGOUT, headers={"Cookie": f"session={COOKIE}"}, status=500)
    assert any(h.startswith("session=;") for h in set_cookies(response))
