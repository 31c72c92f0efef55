"""examples/oidc_app.py, driven through WebTest against a real OpenID Provider on
loopback: the authorization-code login and what it refuses, the RP-initiated logout,
and a back-channel logout ending the session the login made."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import webtest
from example_apps import import_example
from oidc_provider import (
    OpenIDProvider,
    oidc_provider_fixture,  # noqa: F401 - the oidc_provider fixture
)

from logout_middleware import (
    DEFAULT_LOGOUT_PATH,
    MemoryRevocationStore,
    SQLiteBackend,
    SQLiteSessionIndex,
)
from logout_middleware.oidc import SID, SUB

oidc_app = import_example("oidc_app")
BASE = "http://localhost:8000"


class Example:
    def __init__(self, provider: OpenIDProvider, db: Path, **settings: Any) -> None:
        self.provider = provider
        self.backend = SQLiteBackend(db)
        self.index = SQLiteSessionIndex(db)
        self.middleware = oidc_app.make_app(
            provider.issuer,
            provider.client_id,
            base_url=BASE,
            store=self.backend,
            index=self.index,
            replay_cache=MemoryRevocationStore(),
            **settings,
        )
        self.app = webtest.TestApp(self.middleware, lint=True)

    def authorize(self) -> str:
        """GET /login, then the provider's authorization endpoint: the callback's
        path and query the provider sends the browser to."""
        start = self.app.get("/login", status=303)
        authorize = urlsplit(start.headers["Location"])
        granted = self.provider.answer(f"{authorize.path}?{authorize.query}")
        assert granted.status == 302, granted.body
        location = dict(granted.headers)["Location"]
        assert location.startswith(BASE + "/callback?")
        return location[len(BASE) :]

    def log_in(self) -> str:
        self.app.get(self.authorize(), status=303)
        return self.app.cookies["session"]

    def user(self) -> str:
        text = self.app.get("/").text
        return text.split('<strong id="user">', 1)[1].split("<", 1)[0]

    def close(self) -> None:
        self.index.close()
        self.backend.close()


@pytest.fixture
def example(oidc_provider: OpenIDProvider, tmp_path: Path) -> Any:
    made = Example(oidc_provider, tmp_path / "oidc.sqlite3")
    yield made
    made.close()


def test_the_login_validates_the_id_token_and_links_the_session(example: Example) -> None:
    assert example.user() == "anonymous"
    start = example.app.get("/login", status=303)
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["response_type"] == ["code"] and query["scope"] == ["openid"]
    assert query["redirect_uri"] == [BASE + "/callback"]
    assert len(query["state"][0]) >= 16 and len(query["nonce"][0]) >= 16

    session_id = example.log_in()
    assert example.user() == "user-1"
    assert example.backend.get(session_id) == {"username": "user-1", "sub": "user-1"}
    labels = example.index.labels(session_id)
    issuer = example.provider.issuer
    assert labels["user"] == "user-1" and labels[SUB] == f"{issuer} user-1"
    assert labels[SID].startswith(f"{issuer} op-")
    (id_token,) = example.provider.issued
    nonce = json.loads(base64.urlsafe_b64decode(id_token.split(".")[1] + "==="))["nonce"]
    assert nonce != query["nonce"][0]  # each login its own
    assert "oidc-login" not in example.app.cookies  # the login under way is over


def test_the_logout_answers_the_providers_end_session_url(example: Example) -> None:
    session_id = example.log_in()
    answer = example.app.post(DEFAULT_LOGOUT_PATH, "{}", content_type="application/json")
    url = urlsplit(answer.json["logoutUrl"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == example.provider.end_session_endpoint
    params = parse_qs(url.query)
    assert params["id_token_hint"] == example.provider.issued
    assert params["post_logout_redirect_uri"] == [BASE + "/"]
    assert example.backend.get(session_id) is None and example.index.labels(session_id) == {}
    assert example.user() == "anonymous"


def test_a_backchannel_logout_ends_the_session_of_the_providers_session(
    example: Example,
) -> None:
    session_id = example.log_in()
    sid = example.index.labels(session_id)[SID].split(" ", 1)[1]
    token = example.provider.logout_token(sid=sid, sub=None)
    answer = example.app.post("/oidc/backchannel-logout", {"logout_token": token})
    assert answer.json == {"message": "OK", "ended": 1}
    assert example.backend.get(session_id) is None
    assert example.user() == "anonymous"


def test_a_callback_of_another_login_is_refused(example: Example) -> None:
    callback = example.authorize()
    other = webtest.TestApp(example.middleware)  # another browser: no login under way
    other.get(callback, status=400)
    example.app.get(callback.replace("state=", "state=x"), status=400)
    assert "session" not in other.cookies and "session" not in example.app.cookies


def test_a_code_redeemed_twice_is_refused_by_the_provider_a_502(example: Example) -> None:
    callback = example.authorize()
    pending = example.app.cookies["oidc-login"]
    example.app.get(callback, status=303)
    example.app.reset()  # the same callback again, from a browser without the session
    example.app.set_cookie("oidc-login", pending)
    example.app.get(callback, status=502)
    assert "session" not in example.app.cookies


def test_a_provider_down_at_the_callback_is_a_502_and_no_session(example: Example) -> None:
    callback = example.authorize()
    with example.provider.down():
        example.app.get(callback, status=502)
    assert "session" not in example.app.cookies
    assert example.user() == "anonymous"
