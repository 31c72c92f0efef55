"""RP-initiated logout against a real provider: the URL comes from its discovery
document, and its end-session page receives exactly the parameters it should."""

from __future__ import annotations

import time
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import pytest
from oidc_provider import (
    OpenIDProvider,
    oidc_provider_fixture,  # noqa: F401 - the oidc_provider fixture
)

from logout_middleware.backends import MemorySessionIndex, SQLiteSessionIndex
from logout_middleware.oidc import OIDCLogout, ProviderError


def logout_for(provider: OpenIDProvider, **settings: Any) -> OIDCLogout:
    settings.setdefault("timeout", 3)
    return OIDCLogout(provider.issuer, provider.client_id, **settings)


def visit(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:
        response.read()
        return int(response.status)


@pytest.mark.parametrize("index_kind", ["memory", "sqlite"])
@pytest.mark.parametrize("alg", ["RS256", "ES512"])
def test_the_end_session_page_receives_every_parameter(
    oidc_provider: OpenIDProvider, tmp_path: Any, index_kind: str, alg: str
) -> None:
    oidc_provider.add_key(alg)
    oidc = logout_for(oidc_provider, post_logout_redirect_uri="http://127.0.0.1:8000/bye")
    index = (
        MemorySessionIndex() if index_kind == "memory"
        else SQLiteSessionIndex(str(tmp_path / "index.sqlite3"))
    )  # fmt: skip
    id_token, claims = oidc_provider.id_token(sid="op-session-9")
    assert len(id_token) > 255  # kept in several labels
    index.add("session-1", user="ada", **oidc.session_labels(claims, id_token=id_token))

    url = oidc.logout_url(index.labels("session-1"), state="state-1")
    assert url is not None and url.startswith(oidc_provider.end_session_endpoint + "?")
    assert visit(url) == 200
    assert oidc_provider.end_sessions == [
        {
            "client_id": ["app"],
            "post_logout_redirect_uri": ["http://127.0.0.1:8000/bye"],
            "id_token_hint": [id_token],
            "state": ["state-1"],
        }
    ]
    assert oidc_provider.requests["discovery"] == 1


def test_the_endpoint_comes_from_discovery_once(oidc_provider: OpenIDProvider) -> None:
    oidc = logout_for(oidc_provider)
    labels = oidc.session_labels(oidc_provider.id_token()[1])
    urls = [oidc.logout_url(labels) for _ in range(100)]
    assert all(u is not None and u.startswith(oidc_provider.end_session_endpoint) for u in urls)
    assert oidc.discovery_fetches == 1 and oidc.jwks_fetches == 0


def test_a_provider_without_an_end_session_endpoint_gives_no_url(
    oidc_provider: OpenIDProvider,
) -> None:
    oidc_provider.discovery_overrides["end_session_endpoint"] = None
    oidc = logout_for(oidc_provider)
    labels = oidc.session_labels(oidc_provider.id_token()[1])
    assert oidc.logout_url(labels) is None
    assert oidc.end_session_endpoint() is None
    assert oidc.discovery_fetches == 1


def test_a_session_without_oidc_labels_asks_nothing_of_the_provider(
    oidc_provider: OpenIDProvider,
) -> None:
    oidc = logout_for(oidc_provider)
    assert oidc.logout_url({"user": "ada"}) is None
    assert sum(oidc_provider.requests.values()) == 0


def test_a_provider_down_fails_the_url_fast_unless_the_endpoint_is_configured(
    oidc_provider: OpenIDProvider,
) -> None:
    labels = logout_for(oidc_provider).session_labels(oidc_provider.id_token()[1])
    discovered = logout_for(oidc_provider)
    configured = logout_for(oidc_provider, end_session_endpoint=oidc_provider.end_session_endpoint)
    with oidc_provider.down():
        start = time.monotonic()
        with pytest.raises(ProviderError, match="could not be fetched"):
            discovered.logout_url(labels)
        assert time.monotonic() - start < 3
        url = configured.logout_url(labels)
    assert url is not None
    assert urlsplit(url).path == "/end-session"
