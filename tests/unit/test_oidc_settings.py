"""OIDCLogout's settings: checked once, at construction, with messages that say what
to write; nothing is fetched before the first need."""

from __future__ import annotations

import math
import ssl
import subprocess
import sys
from typing import Any

import pytest

from logout_middleware.backends import MemoryRevocationStore
from logout_middleware.oidc import (
    DEFAULT_ALGORITHMS,
    MemoryReplayCache,
    OIDCLogout,
    RevocationReplayCache,
)

ISSUER = "https://login.example.com/realms/main"


def make(**settings: Any) -> OIDCLogout:
    settings.setdefault("issuer", ISSUER)
    settings.setdefault("client_id", "app")
    return OIDCLogout(**settings)


def test_defaults_are_the_documented_ones_and_nothing_is_fetched() -> None:
    oidc = make()
    assert oidc.issuer == ISSUER and oidc.client_id == "app"
    assert oidc.backchannel_path == "/oidc/backchannel-logout"
    assert oidc.algorithms == frozenset(DEFAULT_ALGORITHMS)
    assert oidc.clock_skew == 60 and oidc.timeout == 5 and oidc.max_token_age == 600
    assert isinstance(oidc.replay_cache, MemoryReplayCache)
    assert oidc.post_logout_redirect_uri is None
    assert oidc.jwks_fetches == 0 and oidc.discovery_fetches == 0
    assert oidc.discovery.url == ISSUER + "/.well-known/openid-configuration"
    assert "app" in repr(oidc) and ISSUER in repr(oidc)


@pytest.mark.parametrize(
    ("issuer", "discovery"),
    [
        ("https://tenant.auth0.com/", "https://tenant.auth0.com/.well-known/openid-configuration"),
        ("https://idp.example/a/b", "https://idp.example/a/b/.well-known/openid-configuration"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/.well-known/openid-configuration"),
    ],
)
def test_the_discovery_url_drops_a_trailing_slash_of_the_issuer(
    issuer: str, discovery: str
) -> None:
    oidc = make(issuer=issuer)
    assert oidc.issuer == issuer  # iss is compared exactly, slash included
    assert oidc.discovery.url == discovery


LOOPBACK = ["127.0.0.1", "127.0.0.2", "[::1]", "localhost", "LOCALHOST", "127.0.0.1:9000"]
NOT_LOOPBACK = ["example.com", "10.0.0.1", "192.168.1.1", "[2001:db8::1]", "localhost.example"]


@pytest.mark.parametrize("setting", ["issuer", "jwks_url", "end_session_endpoint",
                                     "post_logout_redirect_uri"])  # fmt: skip
@pytest.mark.parametrize("host", LOOPBACK)
def test_http_is_accepted_on_loopback_hosts(setting: str, host: str) -> None:
    oidc = make(**{setting: f"http://{host}/x"})
    assert oidc is not None


@pytest.mark.parametrize("setting", ["issuer", "jwks_url", "end_session_endpoint",
                                     "post_logout_redirect_uri"])  # fmt: skip
@pytest.mark.parametrize("host", NOT_LOOPBACK)
def test_http_elsewhere_is_refused_at_construction(setting: str, host: str) -> None:
    with pytest.raises(ValueError, match=f"{setting} must use https"):
        make(**{setting: f"http://{host}/x"})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "must be an https URL"),
        (None, "must be an https URL"),
        (42, "must be an https URL"),
        ("login.example.com", "must be an https URL"),
        ("ftp://login.example.com", "must be an https URL"),
        ("file:///etc/passwd", "must be an https URL"),
        ("https://", "must be an https URL"),
        ("https://login.example.com:99999", "must be an https URL"),
        ("https://user:pw@login.example.com", "user info"),
        ("https://login.example.com/#frag", "fragment"),
        ("https://login.example.com/x#", "fragment"),
        ("https://login.example.com/?a=1", "query"),
        ("https://login.example.com/?", "query"),
        ("https://login.example.com /x", "whitespace"),
        ("https://login.example.com/\nx", "whitespace"),
        ("https://login.example.com/\x00", "control"),
    ],
)
def test_a_bad_issuer_is_refused_with_what_to_write(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        make(issuer=value)
    assert str(caught.value).startswith("issuer ")


def test_other_urls_may_carry_a_query_but_no_fragment() -> None:
    oidc = make(end_session_endpoint="https://idp.example/logout?tenant=a")
    assert oidc.end_session_endpoint() == "https://idp.example/logout?tenant=a"
    with pytest.raises(ValueError, match="jwks_url must not have a fragment"):
        make(jwks_url="https://idp.example/jwks#x")


@pytest.mark.parametrize("value", ["", None, 7, "a\x00b", "a\nb", "x" * 256])
def test_a_bad_client_id_is_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="client_id must be"):
        make(client_id=value)


@pytest.mark.parametrize("value", ["oidc", "", "/a;b", "/caf\u00e9", 3, None])
def test_backchannel_path_must_start_with_a_slash_and_be_printable(value: Any) -> None:
    with pytest.raises(ValueError, match="backchannel_path must"):
        make(backchannel_path=value)


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_the_none_algorithm_is_refused_with_the_reason(alg: str) -> None:
    with pytest.raises(ValueError, match="must be signed"):
        make(algorithms=["RS256", alg])


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512", "hs256"])
def test_hmac_algorithms_are_refused_with_the_reason(alg: str) -> None:
    with pytest.raises(ValueError, match="public key as a shared secret"):
        make(algorithms=[alg])


@pytest.mark.parametrize("value", [[], (), ["rs256"], ["ES256K"], ["RS1"], [256], 5])
def test_other_algorithm_lists_are_refused(value: Any) -> None:
    with pytest.raises(ValueError, match=r"algorithms (must|may)"):
        make(algorithms=value)


@pytest.mark.parametrize("alg", DEFAULT_ALGORITHMS)
def test_each_default_algorithm_can_be_allowed_alone(alg: str) -> None:
    assert make(algorithms=alg).algorithms == {alg}
    assert make(algorithms=[alg, alg]).algorithms == {alg}


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("clock_skew", -1),
        ("clock_skew", 301),
        ("clock_skew", math.nan),
        ("clock_skew", True),
        ("clock_skew", "60"),
        ("timeout", 0),
        ("timeout", 31),
        ("timeout", math.inf),
        ("timeout", None),
        ("max_token_age", 0),
        ("max_token_age", math.inf),
        ("refetch_interval", 0),
        ("refetch_interval", -5),
        ("jwks_max_age", math.nan),
    ],
)
def test_durations_out_of_range_are_refused(setting: str, value: Any) -> None:
    with pytest.raises(ValueError, match=setting):
        make(**{setting: value})


def test_durations_at_their_bounds_are_accepted() -> None:
    oidc = make(clock_skew=0, timeout=30, max_token_age=1, refetch_interval=0.01)
    assert (oidc.clock_skew, oidc.timeout, oidc.max_token_age) == (0, 30, 1)
    assert make(clock_skew=300).clock_skew == 300


def test_a_revocation_store_becomes_a_shared_replay_cache() -> None:
    store = MemoryRevocationStore()
    oidc = make(replay_cache=store)
    assert isinstance(oidc.replay_cache, RevocationReplayCache)
    assert oidc.replay_cache.store is store
    cache = MemoryReplayCache()
    assert make(replay_cache=cache).replay_cache is cache


@pytest.mark.parametrize("value", [object(), "redis://", 5])
def test_anything_else_as_replay_cache_is_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="replay_cache must"):
        make(replay_cache=value)


def test_ssl_context_must_be_one() -> None:
    assert make(ssl_context=ssl.create_default_context()) is not None
    with pytest.raises(ValueError, match="ssl_context"):
        make(ssl_context="verify")


def test_configured_endpoints_need_no_discovery() -> None:
    oidc = make(end_session_endpoint="https://idp.example/logout")
    assert oidc.end_session_endpoint() == "https://idp.example/logout"
    assert oidc.discovery_fetches == 0


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_importing_the_module_imports_no_jwt_library() -> None:
    result = run(
        "import sys, logout_middleware.oidc\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jwt', 'cryptography')))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_without_pyjwt_building_one_names_the_extra() -> None:
    result = run(
        "import sys\n"
        "sys.modules['jwt'] = None\n"
        "from logout_middleware.oidc import OIDCLogout\n"
        "OIDCLogout('https://idp.example', 'app')\n"
    )
    assert result.returncode != 0
    assert "pip install 'logout-middleware[oidc]'" in result.stderr


# -- which algorithms a published key verifies ------------------------------------------

_CURVE_ALG = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}


@pytest.mark.parametrize("crv", sorted(_CURVE_ALG))
@pytest.mark.parametrize(
    "declared", [None, "ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA", "none", "HS256"]
)
def test_an_ec_key_verifies_its_curves_algorithm_whatever_es_alg_it_declares(
    crv: str, declared: str | None
) -> None:
    # The curve names the one algorithm (RFC 7518 3.4); an ES* member that contradicts
    # it (authentik declares every EC key ES256) is passed over; any other member
    # leaves the key unusable, as before.
    from logout_middleware.oidc.algorithms import algorithms_for

    jwk: dict[str, Any] = {"kty": "EC", "crv": crv, "x": "x", "y": "y"}
    if declared is not None:
        jwk["alg"] = declared
    expected = (_CURVE_ALG[crv],) if declared is None or declared.startswith("ES") else ()
    assert algorithms_for(jwk) == expected


@pytest.mark.parametrize("declared", [None, "RS256", "RS384", "PS512", "ES256", "EdDSA"])
def test_an_rsa_or_okp_key_is_narrowed_to_what_it_declares(declared: str | None) -> None:
    from logout_middleware.oidc.algorithms import algorithms_for

    rsa_family = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
    rsa: dict[str, Any] = {"kty": "RSA", "n": "n", "e": "AQAB"}
    okp: dict[str, Any] = {"kty": "OKP", "crv": "Ed25519", "x": "x"}
    if declared is not None:
        rsa["alg"] = okp["alg"] = declared
    assert algorithms_for(rsa) == (rsa_family if declared is None else
                                   tuple(a for a in rsa_family if a == declared))
    assert algorithms_for(okp) == (("EdDSA",) if declared in (None, "EdDSA") else ())
