"""OIDC logout through the middleware, against a real OpenID Provider on loopback:
the back-channel endpoint (every answer it documents), and the RP-initiated logout
that sends the browser on to the provider after the local logout."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from oidc_provider import (
    BREACHES,
    Breach,
    OpenIDProvider,
    oidc_provider_fixture,  # noqa: F401 - the oidc_provider fixture
)
from webtest import TestApp

from logout_middleware import (
    DEFAULT_LOGOUT_PATH,
    LogoutEvent,
    LogoutMiddleware,
    MemoryBackend,
    MemoryRevocationStore,
    MemorySessionIndex,
)
from logout_middleware.oidc import OIDCLogout

BACKCHANNEL = "/oidc/backchannel-logout"
FORM = "application/x-www-form-urlencoded"


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


class World:
    def __init__(self, provider: OpenIDProvider, backend: Any = None, **options: Any) -> None:
        self.provider = provider
        self.backend = backend if backend is not None else MemoryBackend()
        self.index = MemorySessionIndex()
        self.events: list[LogoutEvent] = []
        self.oidc = OIDCLogout(
            provider.issuer,
            provider.client_id,
            post_logout_redirect_uri="http://127.0.0.1/after",
            replay_cache=MemoryRevocationStore(),
            **options.pop("oidc_options", {}),
        )
        self.middleware = LogoutMiddleware(
            hello,
            self.backend,
            index=self.index,
            oidc=self.oidc,
            on_logout=[self.events.append],
            **options,
        )
        self.app = TestApp(self.middleware)

    def login(self, *, sub: str = "user-1", sid: str | None = "op-session-1") -> str:
        """A session linked as the examples link it: user label plus OIDC labels."""
        id_token, claims = self.provider.id_token(sub=sub, sid=sid)
        session_id = self.backend.create({"sub": sub})
        labels = self.oidc.session_labels(claims, id_token=id_token)
        self.index.add(session_id, 3600, user=sub, **labels)
        return session_id

    def backchannel(self, token: str | None, *, status: int = 200, **kw: Any) -> Any:
        body = "" if token is None else f"logout_token={token}"
        return self.app.post(BACKCHANNEL, body, content_type=FORM, status=status, **kw)


@pytest.fixture
def world(oidc_provider: OpenIDProvider) -> World:
    return World(oidc_provider)


# -- back-channel logout ----------------------------------------------------------


def test_a_sid_token_ends_the_sessions_of_that_provider_session_only(world: World) -> None:
    mine = [world.login(sid="op-1") for _ in range(2)]
    other_device = world.login(sid="op-2")  # same user, another provider session
    response = world.backchannel(world.provider.logout_token(sid="op-1", sub="user-1"))
    assert response.headers["Cache-Control"] == "no-store"
    assert json.loads(response.body) == {"message": "OK", "ended": 2}
    assert not any(sid in world.backend for sid in mine)
    assert other_device in world.backend
    assert world.index.labels(mine[0]) == {}
    event = world.events[-1]
    assert (event.kind, event.outcome, event.ended, event.status) == ("backchannel", "ok", 2, 200)


def test_a_sub_token_ends_every_session_of_that_subject(world: World) -> None:
    alice = [world.login(sub="alice", sid=f"op-{i}") for i in range(3)]
    bob = world.login(sub="bob", sid="op-9")
    response = world.backchannel(world.provider.logout_token(sid=None, sub="alice"))
    assert json.loads(response.body)["ended"] == 3
    assert not any(sid in world.backend for sid in alice)
    assert bob in world.backend


def test_finding_nothing_is_still_200(world: World) -> None:
    response = world.backchannel(world.provider.logout_token(sid="nobody"))
    assert json.loads(response.body) == {"message": "OK", "ended": 0}


def test_the_browser_guards_do_not_apply(oidc_provider: OpenIDProvider) -> None:
    world = World(
        oidc_provider, csrf_cookie_name="XSRF-TOKEN", csrf_header_name="X-XSRF-TOKEN"
    )
    sid = world.login()
    token = oidc_provider.logout_token()
    cross_site = {"Origin": "https://op.elsewhere.example", "Sec-Fetch-Site": "cross-site"}
    world.backchannel(token, headers=cross_site)
    assert sid not in world.backend


@pytest.mark.parametrize("breach", BREACHES[:12], ids=lambda b: b.id)
def test_an_invalid_token_is_400_invalid_request_and_ends_nothing(
    world: World, breach: Breach, caplog: pytest.LogCaptureFixture
) -> None:
    sid = world.login()
    claims = world.provider.logout_claims()
    breach.change(claims)
    token = world.provider.sign(claims)
    with caplog.at_level(logging.INFO, logger="logout_middleware"):
        response = world.backchannel(token, status=400)
    body = json.loads(response.body)
    assert body["error"] == "invalid_request"
    assert breach.message in body["error_description"]
    assert response.headers["Cache-Control"] == "no-store"
    assert sid in world.backend
    for part in token.split("."):
        assert part[:12] not in caplog.text and part[:12] not in response.text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("", FORM),
        ("logout_token=", FORM),
        ("logout_token=%20", FORM),
        ("other=1", FORM),
        ("logout_token=a&logout_token=b", FORM),
        ('{"logout_token": "x"}', "application/json"),
        ("logout_token=x", "text/plain"),
        ("logout_token=x", "multipart/form-data; boundary=z"),
    ],
)
def test_a_malformed_request_is_400(world: World, body: str, content_type: str) -> None:
    response = world.app.post(BACKCHANNEL, body, content_type=content_type, status=400)
    assert json.loads(response.body)["error"] == "invalid_request"


def test_a_form_over_max_form_size_is_400(oidc_provider: OpenIDProvider) -> None:
    world = World(oidc_provider, max_form_size=100)
    world.backchannel(oidc_provider.logout_token(), status=400)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"])
def test_other_methods_are_405_with_allow_post(world: World, method: str) -> None:
    response = world.app.request(BACKCHANNEL, method=method, status=405)
    assert response.headers["Allow"] == "POST"


def test_a_replayed_token_is_refused(world: World) -> None:
    token = world.provider.logout_token()
    world.backchannel(token)
    again = world.backchannel(token, status=400)
    assert "received before" in json.loads(again.body)["error_description"]


class FlakyBackend(MemoryBackend):
    down = True

    def delete_many(self, session_ids: Any) -> None:
        if self.down:
            raise ConnectionError("store unreachable")
        super().delete_many(session_ids)


def test_a_store_failure_is_never_200_and_the_provider_may_retry(
    oidc_provider: OpenIDProvider,
) -> None:
    backend = FlakyBackend()
    world = World(oidc_provider, backend=backend)
    sid = world.login()
    token = oidc_provider.logout_token()
    failed = world.backchannel(token, status=500)
    assert json.loads(failed.body)["error"] == "server_error"
    assert sid in world.backend and world.index.labels(sid)  # nothing lost
    backend.down = False
    world.backchannel(token)  # the retry is not taken for a replay
    assert sid not in world.backend


def test_a_provider_that_is_down_gives_503_not_400(oidc_provider: OpenIDProvider) -> None:
    world = World(oidc_provider, oidc_options={"timeout": 2.0})
    sid = world.login()
    token = oidc_provider.logout_token()
    with oidc_provider.down():
        response = world.backchannel(token, status=503)
    assert json.loads(response.body)["error"] == "temporarily_unavailable"
    assert sid in world.backend


# -- RP-initiated logout ------------------------------------------------------------


def logout_url_params(url: str, provider: OpenIDProvider) -> dict[str, list[str]]:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == provider.end_session_endpoint
    return parse_qs(parts.query)


def test_the_json_logout_carries_the_providers_logout_url(world: World) -> None:
    id_token, claims = world.provider.id_token()
    sid = world.backend.create({})
    labels = world.oidc.session_labels(claims, id_token=id_token)
    world.index.add(sid, 3600, user="user-1", **labels)
    world.app.set_cookie("session", sid)
    response = world.app.post(DEFAULT_LOGOUT_PATH)
    body = json.loads(response.body)
    assert body["message"] == "OK"
    params = logout_url_params(body["logoutUrl"], world.provider)
    assert params["client_id"] == [world.provider.client_id]
    assert params["post_logout_redirect_uri"] == ["http://127.0.0.1/after"]
    assert params["id_token_hint"] == [id_token]
    assert params["state"][0]
    assert sid not in world.backend  # the local session ended first
    assert "Max-Age=0" in response.headers["Set-Cookie"]


def test_redirect_mode_sends_the_browser_to_the_provider(oidc_provider: OpenIDProvider) -> None:
    world = World(oidc_provider, redirect_to="/signed-out")
    sid = world.login()
    world.app.set_cookie("session", sid)
    response = world.app.post(DEFAULT_LOGOUT_PATH, status=303)
    logout_url_params(response.headers["Location"], oidc_provider)
    assert sid not in world.backend


def test_a_session_without_oidc_labels_gets_studios_plain_answer(world: World) -> None:
    sid = world.backend.create({})
    world.index.add(sid, 3600, user="local-user")
    world.app.set_cookie("session", sid)
    assert json.loads(world.app.post(DEFAULT_LOGOUT_PATH).body) == {"message": "OK"}


def test_a_provider_that_is_down_costs_only_the_trip_to_it(
    oidc_provider: OpenIDProvider,
) -> None:
    world = World(oidc_provider, oidc_options={"timeout": 2.0})
    sid = world.login()
    world.app.set_cookie("session", sid)
    with oidc_provider.down():
        response = world.app.post(DEFAULT_LOGOUT_PATH)
    assert json.loads(response.body) == {"message": "OK"}
    assert sid not in world.backend


# -- settings -----------------------------------------------------------------------


def test_oidc_needs_an_index(oidc_provider: OpenIDProvider) -> None:
    oidc = OIDCLogout(oidc_provider.issuer, "app")
    with pytest.raises(ValueError, match="oidc needs index"):
        LogoutMiddleware(hello, MemoryBackend(), oidc=oidc)


def test_oidc_must_be_an_oidclogout() -> None:
    with pytest.raises(ValueError, match="oidc must be an OIDCLogout"):
        LogoutMiddleware(
            hello, MemoryBackend(), index=MemorySessionIndex(), oidc=object()  # type: ignore[arg-type]
        )


def test_the_backchannel_path_must_be_its_own(oidc_provider: OpenIDProvider) -> None:
    oidc = OIDCLogout(oidc_provider.issuer, "app", backchannel_path="/logout/everywhere")
    with pytest.raises(ValueError, match="backchannel_path"):
        LogoutMiddleware(
            hello,
            MemoryBackend(),
            index=MemorySessionIndex(),
            everywhere_path="/logout/everywhere",
            oidc=oidc,
        )
