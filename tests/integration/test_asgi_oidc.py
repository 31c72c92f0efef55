"""OIDC logout through the ASGI twin, against the real OpenID Provider on loopback of
``test_oidc_middleware.py``: the back-channel logout ends the token's sessions (its
validation, which may fetch the provider's keys, made in a worker thread, off the
event loop), a bad token is 400, a provider down 503, and the RP-initiated logout
carries the provider's logout URL."""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import urlsplit

import pytest
from asgi_util import LOGOUT, AsgiApp, Receive, Sent, http_scope
from oidc_provider import (
    OpenIDProvider,
    oidc_provider_fixture,  # noqa: F401 - the oidc_provider fixture
)

from logout_middleware import MemoryBackend, MemoryRevocationStore, MemorySessionIndex
from logout_middleware.asgi import LogoutMiddleware
from logout_middleware.oidc import OIDCLogout

BACKCHANNEL = "/oidc/backchannel-logout"
FORM = "application/x-www-form-urlencoded"


class World:
    def __init__(self, provider: OpenIDProvider, **oidc_options: Any) -> None:
        self.provider = provider
        self.backend, self.index = MemoryBackend(), MemorySessionIndex()
        self.oidc = OIDCLogout(
            provider.issuer,
            provider.client_id,
            post_logout_redirect_uri="http://127.0.0.1/after",
            replay_cache=MemoryRevocationStore(),
            **oidc_options,
        )
        self.middleware = LogoutMiddleware(AsgiApp(), self.backend, index=self.index,
                                           oidc=self.oidc)

    def login(self, *, sub: str = "user-1", sid: str = "op-session-1") -> str:
        id_token, claims = self.provider.id_token(sub=sub, sid=sid)
        session_id = self.backend.create({"sub": sub})
        self.index.add(session_id, 3600, user=sub, **self.oidc.session_labels(
            claims, id_token=id_token))
        return session_id

    def call(self, scope: dict[str, Any], body: bytes = b"") -> tuple[int, Any, list[int]]:
        """Answer a request from a loop; also which threads validated tokens."""
        import asyncio

        threads: list[int] = []
        validate = self.oidc.validate_logout_token

        def spy(*args: Any, **kwargs: Any) -> Any:
            threads.append(threading.get_ident())
            return validate(*args, **kwargs)

        async def go() -> tuple[int, Any, int]:
            self.oidc.validate_logout_token = spy  # type: ignore[method-assign]
            sent = Sent()
            await self.middleware(scope, Receive.body(body, chunk=64), sent)
            answer = sent.answer()
            return answer.status, json.loads(answer.body), threading.get_ident()

        status, body_json, loop_thread = asyncio.run(go())
        return status, body_json, [0 if t == loop_thread else 1 for t in threads]

    def backchannel(self, token: str) -> tuple[int, Any, list[int]]:
        body = f"logout_token={token}".encode()
        headers = [("content-type", FORM), ("content-length", str(len(body)))]
        return self.call(http_scope(BACKCHANNEL, "POST", headers=headers), body)


@pytest.fixture
def world(oidc_provider: OpenIDProvider) -> World:
    return World(oidc_provider)


def test_a_backchannel_logout_ends_the_sessions_off_the_loop(world: World) -> None:
    mine = [world.login(sid="op-1") for _ in range(2)]
    other = world.login(sid="op-2")
    status, body, threads = world.backchannel(world.provider.logout_token(sid="op-1"))
    assert (status, body) == (200, {"message": "OK", "ended": 2})
    assert not any(sid in world.backend for sid in mine) and other in world.backend
    assert threads == [1]  # validated in a worker thread, never on the loop


def test_a_bad_token_is_400_and_a_provider_down_503(oidc_provider: OpenIDProvider) -> None:
    world = World(oidc_provider, timeout=2.0)
    sid = world.login()
    status, body, _ = world.backchannel("not.a.token")
    assert status == 400 and body["error"] == "invalid_request"
    with oidc_provider.down():
        status, body, _ = world.backchannel(oidc_provider.logout_token())
    assert status == 503 and body["error"] == "temporarily_unavailable"
    assert sid in world.backend


def test_the_rp_initiated_logout_carries_the_providers_logout_url(world: World) -> None:
    sid = world.login()
    scope = http_scope(LOGOUT, "POST", headers=[("cookie", f"session={sid}")])
    status, body, _ = world.call(scope)
    assert status == 200 and body["message"] == "OK"
    parts = urlsplit(body["logoutUrl"])
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == world.provider.end_session_endpoint
    assert sid not in world.backend
