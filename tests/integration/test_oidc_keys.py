"""The provider's discovery document and key set over real HTTP: fetched once and
cached, refetched for a rotated key at most once per interval, and a provider that is
down, frozen or wrong fails fast with a clear error."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from oidc_provider import (
    OpenIDProvider,
    oidc_provider_fixture,  # noqa: F401 - the oidc_provider fixture
)

from logout_middleware.oidc import InvalidLogoutToken, OIDCLogout, ProviderError

# Generous margins: the bounds say "within the timeout, not hanging", on a busy machine.
MARGIN = 4.0


def logout_for(provider: OpenIDProvider, **settings: Any) -> OIDCLogout:
    settings.setdefault("timeout", 3)
    return OIDCLogout(provider.issuer, provider.client_id, **settings)


def in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """``work(n)`` in ``count`` threads started together; each result or exception."""
    results: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = work(n)
        except Exception as exc:
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


# --- caching ------------------------------------------------------------------------


def test_nothing_is_fetched_before_the_first_token(oidc_provider: OpenIDProvider) -> None:
    logout_for(oidc_provider)
    assert sum(oidc_provider.requests.values()) == 0


def test_one_fetch_of_each_document_per_1000_tokens_signed_with_one_key(
    oidc_provider: OpenIDProvider,
) -> None:
    oidc = logout_for(oidc_provider)
    for n in range(1000):
        oidc.validate_logout_token(oidc_provider.logout_token(sid=f"s{n}"))
    assert (oidc.jwks_fetches, oidc.discovery_fetches) == (1, 1)
    assert oidc_provider.requests == {"discovery": 1, "jwks": 1}


def test_a_configured_jwks_url_needs_no_discovery(oidc_provider: OpenIDProvider) -> None:
    oidc = logout_for(oidc_provider, jwks_url=oidc_provider.jwks_url)
    oidc.validate_logout_token(oidc_provider.logout_token())
    assert oidc_provider.requests == {"jwks": 1}
    assert oidc.discovery_fetches == 0


def test_a_cold_cache_hit_by_many_threads_fetches_once(oidc_provider: OpenIDProvider) -> None:
    oidc = logout_for(oidc_provider)
    tokens = [oidc_provider.logout_token(sid=f"s{n}") for n in range(16)]
    results = in_threads(16, lambda n: oidc.validate_logout_token(tokens[n]))
    assert all(r.sid == f"s{n}" for n, r in enumerate(results)), results
    assert oidc_provider.requests == {"discovery": 1, "jwks": 1}


# --- rotation -----------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["RS256", "ES256", "PS512", "EdDSA"])
def test_a_rotated_key_costs_one_refetch(oidc_provider: OpenIDProvider, alg: str) -> None:
    oidc = logout_for(oidc_provider, refetch_interval=0.2)
    oidc.validate_logout_token(oidc_provider.logout_token())
    time.sleep(0.25)
    oidc_provider.add_key(alg)  # the provider publishes a new key and signs with it
    for n in range(50):
        oidc.validate_logout_token(oidc_provider.logout_token(sid=f"s{n}"))
    assert oidc.jwks_fetches == 2 and oidc_provider.requests["jwks"] == 2


def test_a_key_rotated_within_the_interval_waits_for_it(oidc_provider: OpenIDProvider) -> None:
    oidc = logout_for(oidc_provider, refetch_interval=0.5)
    oidc.validate_logout_token(oidc_provider.logout_token())
    oidc_provider.add_key("RS256")
    with pytest.raises(InvalidLogoutToken, match="key id"):
        oidc.validate_logout_token(oidc_provider.logout_token())
    assert oidc.jwks_fetches == 1
    time.sleep(0.55)
    oidc.validate_logout_token(oidc_provider.logout_token())
    assert oidc.jwks_fetches == 2


def test_a_removed_key_is_refused_once_the_set_is_older_than_its_max_age(
    oidc_provider: OpenIDProvider,
) -> None:
    old = oidc_provider.signing_kid
    oidc_provider.add_key("ES256", sign=False)
    oidc = logout_for(oidc_provider, refetch_interval=0.1, jwks_max_age=0.3)
    oidc.validate_logout_token(oidc_provider.logout_token(kid=old))
    oidc_provider.remove_key(old)
    oidc.validate_logout_token(oidc_provider.logout_token(kid=old))  # cached: still trusted
    time.sleep(0.35)
    with pytest.raises(InvalidLogoutToken, match="key id"):
        oidc.validate_logout_token(oidc_provider.logout_token(kid=old))
    assert oidc.jwks_fetches == 2


@pytest.mark.parametrize("threads", [1, 8])
def test_forged_kids_in_a_burst_cost_one_refetch_per_interval(
    oidc_provider: OpenIDProvider, threads: int
) -> None:
    interval = 1.0
    oidc = logout_for(oidc_provider, refetch_interval=interval)
    oidc.validate_logout_token(oidc_provider.logout_token())
    time.sleep(interval)
    start = time.monotonic()

    def burst(_: int) -> int:
        refused = 0
        for _ in range(150):
            forged = oidc_provider.logout_token(headers={"kid": secrets.token_hex(8)})
            try:
                oidc.validate_logout_token(forged)
            except InvalidLogoutToken:
                refused += 1
        return refused

    results = in_threads(threads, burst)
    elapsed = time.monotonic() - start
    assert results == [150] * threads
    refetches = oidc.jwks_fetches - 1
    assert 1 <= refetches <= 1 + elapsed / interval, (refetches, elapsed)


def test_a_key_set_without_a_usable_key_is_a_provider_error(oidc_provider: OpenIDProvider) -> None:
    oidc_provider.responses["jwks"] = (
        200,
        b'{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}',
    )
    with pytest.raises(ProviderError, match="no usable signature key"):
        logout_for(oidc_provider).validate_logout_token(oidc_provider.logout_token())


@pytest.mark.parametrize(
    "extra", [{"use": "enc"}, {"key_ops": ["encrypt"]}, {"key_ops": "verify"}, {"alg": "RS256"}]
)
def test_keys_not_for_signatures_are_left_out(
    oidc_provider: OpenIDProvider, extra: dict[str, Any]
) -> None:
    encryption = oidc_provider.add_key("ES256", extra=extra, sign=False)
    token = oidc_provider.logout_token(kid=encryption)
    oidc = logout_for(oidc_provider)
    with pytest.raises(InvalidLogoutToken, match=r"key id|does not fit"):
        oidc.validate_logout_token(token)
    assert oidc.validate_logout_token(oidc_provider.logout_token()).sub == "user-1"


@pytest.mark.parametrize(
    "body",
    [
        b'{"keys": "none"}',
        b"{}",
        b'{"keys": [1, "x", null]}',
        b'{"keys": [{"kty": "RSA", "kid": "k", "n": "AQAB", "e": "!!"}]}',
        b'{"keys": [{"kty": "EC", "crv": "P-256", "kid": "k", "x": "AA", "y": "AA"}]}',
        b'{"keys": [{"kty": "OKP", "crv": "X25519", "kid": "k", "x": "AA"}]}',
    ],
)
def test_broken_key_sets_are_provider_errors(oidc_provider: OpenIDProvider, body: bytes) -> None:
    oidc_provider.responses["jwks"] = (200, body)
    with pytest.raises(ProviderError, match="key set"):
        logout_for(oidc_provider).validate_logout_token(oidc_provider.logout_token())


# --- the discovery document ----------------------------------------------------------


OTHER_ISSUERS: dict[str, Callable[[str], Any]] = {
    "missing": lambda issuer: None,
    "another-host": lambda issuer: "https://evil.example",
    "trailing-slash": lambda issuer: issuer + "/",
    "longer-path": lambda issuer: issuer + "/x",
    "upper-case": lambda issuer: issuer.upper(),
    "https-twin": lambda issuer: issuer.replace("http:", "https:"),
    "number": lambda issuer: 5,
}


@pytest.mark.parametrize("other", OTHER_ISSUERS.values(), ids=list(OTHER_ISSUERS))
def test_a_discovery_document_naming_another_issuer_is_refused(
    oidc_provider: OpenIDProvider, other: Callable[[str], Any]
) -> None:
    oidc_provider.discovery_overrides["issuer"] = other(oidc_provider.issuer)  # None: removed
    oidc = logout_for(oidc_provider)
    with pytest.raises(ProviderError, match="names another issuer") as caught:
        oidc.validate_logout_token(oidc_provider.logout_token())
    assert oidc_provider.issuer in str(caught.value)
    assert oidc_provider.requests["jwks"] == 0  # no key is read from a refused document


def test_an_issuer_with_a_path_is_discovered_under_it() -> None:
    with OpenIDProvider(issuer_path="/realms/main") as provider:
        oidc = logout_for(provider)
        assert oidc.discovery.url == provider.issuer + "/.well-known/openid-configuration"
        oidc.validate_logout_token(provider.logout_token())
        assert provider.requests["discovery"] == 1


@pytest.mark.parametrize(
    ("member", "value", "message"),
    [
        ("jwks_uri", None, "has no jwks_uri"),
        ("jwks_uri", "http://idp.example/jwks", "must use https"),
        ("jwks_uri", "file:///etc/passwd", "must be an https URL"),
        ("jwks_uri", 42, "must be an https URL"),
    ],
)
def test_unusable_urls_in_the_discovery_document_are_refused(
    oidc_provider: OpenIDProvider, member: str, value: Any, message: str
) -> None:
    oidc_provider.discovery_overrides[member] = value
    with pytest.raises(ProviderError, match=message):
        logout_for(oidc_provider).validate_logout_token(oidc_provider.logout_token())


@pytest.mark.parametrize("value", ["http://idp.example/logout", "javascript:x", 42])
def test_an_unusable_end_session_endpoint_does_not_stop_the_back_channel(
    oidc_provider: OpenIDProvider, value: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # The back-channel logout needs the keys, not the end-session endpoint: that one
    # is logged and read as none (no RP-initiated logout).
    oidc_provider.discovery_overrides["end_session_endpoint"] = value
    oidc = logout_for(oidc_provider)
    with caplog.at_level(logging.WARNING, "logout_middleware.oidc"):
        assert oidc.validate_logout_token(oidc_provider.logout_token()).jti
    assert oidc.end_session_endpoint() is None
    assert any("no RP-initiated logout" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("endpoint", "status", "body", "message"),
    [
        ("discovery", 404, b"{}", "answered HTTP 404"),
        ("discovery", 500, b"{}", "answered HTTP 500"),
        ("discovery", 302, b"", "redirects are not followed"),
        ("discovery", 200, b"<html>", "is not JSON"),
        ("discovery", 200, b"[1]", "not a JSON object"),
        ("discovery", 200, b" " * (1 << 20) + b"{}", "over 1048576 bytes"),
        ("jwks", 503, b"{}", "answered HTTP 503"),
        ("jwks", 200, b"null", "not a JSON object"),
    ],
)
def test_a_provider_answering_badly_is_a_clear_provider_error(
    oidc_provider: OpenIDProvider, endpoint: str, status: int, body: bytes, message: str
) -> None:
    oidc_provider.responses[endpoint] = (status, body)
    with pytest.raises(ProviderError, match=message) as caught:
        logout_for(oidc_provider).validate_logout_token(oidc_provider.logout_token())
    assert oidc_provider.base in str(caught.value)


# --- the provider down or frozen ------------------------------------------------------


def test_a_provider_that_is_down_fails_at_once_and_is_not_hammered(
    oidc_provider: OpenIDProvider,
) -> None:
    oidc = logout_for(oidc_provider, timeout=5, refetch_interval=60)
    token = oidc_provider.logout_token()
    with oidc_provider.down():
        start = time.monotonic()
        with pytest.raises(ProviderError, match="could not be fetched") as caught:
            oidc.validate_logout_token(token)
        assert time.monotonic() - start < 5  # refused, not waited for
        assert "discovery document" in str(caught.value) and oidc_provider.base in str(caught.value)
        start = time.monotonic()
        for _ in range(100):  # within the interval: the same error, without a new attempt
            with pytest.raises(ProviderError, match="next attempt in"):
                oidc.validate_logout_token(token)
        assert time.monotonic() - start < 5
        assert oidc.discovery_fetches == 1


def test_a_provider_back_up_is_used_after_the_interval(oidc_provider: OpenIDProvider) -> None:
    oidc = logout_for(oidc_provider, refetch_interval=0.3)
    with oidc_provider.down(), pytest.raises(ProviderError):
        oidc.validate_logout_token(oidc_provider.logout_token())
    time.sleep(0.35)
    assert oidc.validate_logout_token(oidc_provider.logout_token()).sub == "user-1"


def test_cached_keys_keep_working_while_the_provider_is_down(
    oidc_provider: OpenIDProvider,
) -> None:
    oidc = logout_for(oidc_provider, refetch_interval=0.1, jwks_max_age=0.2)
    oidc.validate_logout_token(oidc_provider.logout_token())
    with oidc_provider.down():
        time.sleep(0.25)  # the set is past its max age: the refetch fails, the old set serves
        for _ in range(20):
            oidc.validate_logout_token(oidc_provider.logout_token())
        time.sleep(0.15)
        forged = oidc_provider.logout_token(headers={"kid": "rotated"})
        with pytest.raises(ProviderError, match="no cached key fits the token"):
            oidc.validate_logout_token(forged)


@pytest.mark.parametrize("timeout", [0.5, 1.0])
def test_a_frozen_provider_times_out_within_the_bound(
    oidc_provider: OpenIDProvider, timeout: float
) -> None:
    oidc = logout_for(oidc_provider, timeout=timeout)
    token = oidc_provider.logout_token()
    with oidc_provider.frozen():
        start = time.monotonic()
        with pytest.raises(ProviderError, match=f"no answer within {timeout:g} s"):
            oidc.validate_logout_token(token)
        elapsed = time.monotonic() - start
        assert oidc_provider.requests["held"] == 1
    assert timeout * 0.9 <= elapsed < timeout + MARGIN


def test_discovery_and_the_key_set_share_one_timeout(oidc_provider: OpenIDProvider) -> None:
    # Each answers within the timeout, the two together do not: a cold fetch is cut
    # at one timeout, not two; once discovery is kept, the key set has its own.
    timeout = 2.0
    oidc = logout_for(oidc_provider, timeout=timeout, jwks_url=None)
    oidc_provider.delays.update(discovery=0.6 * timeout, jwks=0.6 * timeout)
    token = oidc_provider.logout_token()
    start = time.monotonic()
    with pytest.raises(ProviderError, match=f"no answer within {timeout:g} s"):
        oidc.validate_logout_token(token)
    assert time.monotonic() - start < timeout + MARGIN
    assert oidc_provider.requests["discovery"] == 1 and oidc_provider.requests["jwks"] == 1


def test_a_frozen_provider_holds_many_threads_for_one_timeout(
    oidc_provider: OpenIDProvider,
) -> None:
    timeout = 1.0
    oidc = logout_for(oidc_provider, timeout=timeout)
    token = oidc_provider.logout_token()
    with oidc_provider.frozen():
        start = time.monotonic()
        results = in_threads(8, lambda _: oidc.validate_logout_token(token))
        elapsed = time.monotonic() - start
    assert all(isinstance(r, ProviderError) for r in results), results
    # One fetch waited for the timeout; the threads queued behind it failed at once.
    assert elapsed < timeout + MARGIN
    assert oidc.discovery_fetches == 1


def test_a_jwks_fetch_that_freezes_times_out_too(oidc_provider: OpenIDProvider) -> None:
    oidc = logout_for(oidc_provider, timeout=0.5, jwks_url=oidc_provider.jwks_url)
    with oidc_provider.frozen():
        start = time.monotonic()
        with pytest.raises(ProviderError, match=r"key set .* no answer within 0\.5 s"):
            oidc.validate_logout_token(oidc_provider.logout_token())
    assert time.monotonic() - start < 0.5 + MARGIN
