"""Back-channel logout tokens from a real OpenID Provider on loopback, validated as
Back-Channel Logout 1.0 section 2.6 says: real keys of every allowed algorithm, real
signatures by PyJWT, and a token that breaks each rule, in many ways."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from oidc_provider import (
    ACCEPTED,
    BREACHES,
    EVENT,
    FAMILY,
    Breach,
    OpenIDProvider,
    SigningKey,
    b64,
    compact,
    new_key,
    oidc_provider_fixture,  # noqa: F401 - the oidc_provider fixture
)

from logout_middleware.backends import MemoryRevocationStore, SQLiteRevocationStore
from logout_middleware.oidc import (
    DEFAULT_ALGORITHMS,
    InvalidLogoutToken,
    LogoutClaims,
    OIDCLogout,
    RevocationReplayCache,
)


def logout_for(provider: OpenIDProvider, **settings: Any) -> OIDCLogout:
    settings.setdefault("timeout", 3)
    return OIDCLogout(provider.issuer, provider.client_id, **settings)


def assert_refused(oidc: OIDCLogout, token: str, message: str) -> InvalidLogoutToken:
    with pytest.raises(InvalidLogoutToken, match=message) as caught:
        oidc.validate_logout_token(token)
    assert_no_fragment(token, caught.value.description)
    return caught.value


def assert_no_fragment(token: str, description: str) -> None:
    """Not one run of 8 characters of the token appears in the description."""
    for segment in token.split("."):
        for start in range(max(len(segment) - 7, 0)):
            assert segment[start : start + 8] not in description, description


@pytest.fixture(scope="module")
def every_algorithm() -> Iterator[OpenIDProvider]:
    with OpenIDProvider(DEFAULT_ALGORITHMS) as provider:
        yield provider


# --- every allowed algorithm, with real keys ----------------------------------------


@pytest.mark.parametrize("alg", DEFAULT_ALGORITHMS)
def test_a_token_signed_with_each_allowed_algorithm_is_accepted(
    every_algorithm: OpenIDProvider, alg: str
) -> None:
    oidc = logout_for(every_algorithm)
    kid = next(k.kid for k in every_algorithm.keys.values() if k.alg == alg)
    claims = oidc.validate_logout_token(every_algorithm.logout_token(kid=kid))
    assert isinstance(claims, LogoutClaims)
    assert claims.lookup == ("oidc_sid", f"{every_algorithm.issuer} op-session-1")
    assert oidc.jwks_fetches == 1


@pytest.mark.parametrize("alg", DEFAULT_ALGORITHMS)
def test_keys_without_an_alg_member_verify_every_algorithm_of_their_type(alg: str) -> None:
    with OpenIDProvider(()) as provider:
        provider.add_key(alg, declare_alg=False)
        oidc = logout_for(provider)
        assert oidc.validate_logout_token(provider.logout_token()).sub == "user-1"


@pytest.mark.parametrize("alg", DEFAULT_ALGORITHMS)
def test_an_algorithm_left_out_of_the_allow_list_is_refused(
    every_algorithm: OpenIDProvider, alg: str
) -> None:
    others = [a for a in DEFAULT_ALGORITHMS if a != alg]
    oidc = logout_for(every_algorithm, algorithms=others)
    kid = next(k.kid for k in every_algorithm.keys.values() if k.alg == alg)
    assert_refused(oidc, every_algorithm.logout_token(kid=kid), "alg is not one of")
    assert oidc.jwks_fetches == 0  # refused from the header alone


# --- each claim rule, through a real signature -------------------------------------


@pytest.mark.parametrize("breach", BREACHES, ids=lambda b: b.id)
def test_a_signed_token_that_breaks_a_claim_rule_is_refused(
    oidc_provider: OpenIDProvider, breach: Breach
) -> None:
    payload = oidc_provider.logout_claims()
    breach.change(payload)
    assert_refused(logout_for(oidc_provider), oidc_provider.sign(payload), breach.message)


@pytest.mark.parametrize("change", ACCEPTED.values(), ids=list(ACCEPTED))
def test_a_signed_token_within_every_rule_is_accepted(
    oidc_provider: OpenIDProvider, change: Any
) -> None:
    payload = oidc_provider.logout_claims()
    change(payload)
    claims = logout_for(oidc_provider).validate_logout_token(oidc_provider.sign(payload))
    assert claims.jti == payload["jti"]


def test_an_id_token_is_not_a_logout_token(oidc_provider: OpenIDProvider) -> None:
    id_token, _ = oidc_provider.id_token()
    assert_refused(logout_for(oidc_provider), id_token, "(jti|events) claim is missing")


def test_an_id_token_with_the_event_is_still_refused_for_its_nonce(
    oidc_provider: OpenIDProvider,
) -> None:
    token, _ = oidc_provider.id_token(claims={"events": {EVENT: {}}, "jti": "j"})
    assert_refused(logout_for(oidc_provider), token, "nonce")


# --- the signature ------------------------------------------------------------------


@pytest.mark.parametrize("alg", DEFAULT_ALGORITHMS)
def test_a_token_signed_by_another_key_under_the_published_kid_is_refused(
    every_algorithm: OpenIDProvider, alg: str
) -> None:
    published = next(k for k in every_algorithm.keys.values() if k.alg == alg)
    impostor = SigningKey(published.kid, alg, new_key(FAMILY[alg]))
    token = every_algorithm.logout_token(key=impostor)
    assert_refused(logout_for(every_algorithm), token, "signature does not verify")


def tampered(token: str, **claims: Any) -> str:
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=="))
    data.update(claims)
    return f"{header}.{b64(json.dumps(data).encode())}.{signature}"


@pytest.mark.parametrize(
    "claims",
    [{"sub": "admin"}, {"sid": "another"}, {"aud": "app"}, {"exp": 9999999999}],
)
def test_claims_changed_after_signing_are_refused(
    oidc_provider: OpenIDProvider, claims: dict[str, Any]
) -> None:
    token = tampered(oidc_provider.logout_token(), **claims)
    assert_refused(logout_for(oidc_provider), token, "signature does not verify")


@pytest.mark.parametrize(
    ("signature", "message"),
    [("", "does not verify"), ("AAAA", "does not verify"), ("!!!!", "not a well-formed|verify")],
)
def test_a_missing_or_garbled_signature_is_refused(
    oidc_provider: OpenIDProvider, signature: str, message: str
) -> None:
    header, payload, _ = oidc_provider.logout_token().split(".")
    assert_refused(logout_for(oidc_provider), f"{header}.{payload}.{signature}", message)


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("signature", [b"", b"x"])
def test_an_unsigned_token_is_refused(
    oidc_provider: OpenIDProvider, alg: str, signature: bytes
) -> None:
    header = {"alg": alg, "typ": "logout+jwt", "kid": oidc_provider.signing_kid}
    token = compact(header, oidc_provider.logout_claims(), lambda _: signature)
    oidc = logout_for(oidc_provider)
    assert_refused(oidc, token, "not signed")
    assert oidc.jwks_fetches == 0


def public_secrets(key: SigningKey) -> dict[str, bytes]:
    """The forms of a public key an attacker could use as an HMAC secret."""
    public = key.private_key.public_key()
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    forms = {
        "pem": public.public_bytes(serialization.Encoding.PEM, spki),
        "der": public.public_bytes(serialization.Encoding.DER, spki),
        "jwk": json.dumps(key.jwk()).encode(),
    }
    if key.alg.startswith(("RS", "PS")):
        forms["pkcs1"] = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
        )
        forms["modulus"] = key.jwk()["n"].encode()
    return forms


@pytest.mark.parametrize("hs", ["HS256", "HS384", "HS512"])
@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA"])
def test_hmac_signed_with_the_public_key_as_secret_is_refused(
    every_algorithm: OpenIDProvider, hs: str, alg: str
) -> None:
    key = next(k for k in every_algorithm.keys.values() if k.alg == alg)
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[hs]
    oidc = logout_for(every_algorithm)
    for secret in public_secrets(key).values():
        header = {"alg": hs, "typ": "logout+jwt", "kid": key.kid}
        token = compact(
            header,
            every_algorithm.logout_claims(),
            lambda data, s=secret: hmac.new(s, data, digest).digest(),  # type: ignore[misc]
        )
        assert_refused(oidc, token, "alg is not one of")


@pytest.mark.parametrize(
    ("header_alg", "key_alg"),
    [
        ("ES256", "RS256"),  # EC alg, RSA key
        ("RS256", "ES256"),  # RSA alg, EC key
        ("ES384", "ES256"),  # another curve
        ("ES256", "ES512"),
        ("EdDSA", "ES256"),
        ("ES256", "EdDSA"),
        ("PS256", "RS256"),  # the key declares alg RS256
        ("RS512", "RS256"),
        ("RS256", "PS384"),
    ],
)
def test_an_alg_that_does_not_fit_the_named_key_is_refused(
    every_algorithm: OpenIDProvider, header_alg: str, key_alg: str
) -> None:
    key = next(k for k in every_algorithm.keys.values() if k.alg == key_alg)
    signer = next(k for k in every_algorithm.keys.values() if k.alg == header_alg)
    header = {"alg": header_alg, "typ": "logout+jwt", "kid": key.kid}
    token = compact(header, every_algorithm.logout_claims(), signer.sign)
    assert_refused(logout_for(every_algorithm), token, "does not fit")


def test_keys_offered_in_the_token_header_are_ignored(oidc_provider: OpenIDProvider) -> None:
    with OpenIDProvider() as attacker:
        token = attacker.logout_token(
            claims={"iss": oidc_provider.issuer},
            headers={"jku": attacker.jwks_url, "jwk": attacker.jwks()["keys"][0],
                     "x5u": attacker.jwks_url},
        )  # fmt: skip
        oidc = logout_for(oidc_provider)
        assert_refused(oidc, token, "no key in the provider's key set has the token's key id")
        assert attacker.requests["jwks"] == 0


@pytest.mark.parametrize("typ", [None, "logout+jwt", "JWT", "jwt", "application/logout+jwt",
                                 "Logout+JWT", "APPLICATION/LOGOUT+JWT"])  # fmt: skip
def test_typ_may_be_absent_logout_jwt_or_jwt(oidc_provider: OpenIDProvider, typ: Any) -> None:
    token = oidc_provider.logout_token(headers={"typ": typ})
    assert logout_for(oidc_provider).validate_logout_token(token).sub == "user-1"


@pytest.mark.parametrize("typ", ["at+jwt", "secevent+jwt", "id_token", "JOSE", "", 1, ["JWT"]])
def test_any_other_typ_is_refused(oidc_provider: OpenIDProvider, typ: Any) -> None:
    token = oidc_provider.logout_token(headers={"typ": typ})
    assert_refused(logout_for(oidc_provider), token, "typ is neither")


@pytest.mark.parametrize("kid", [5, ["k"], {"k": 1}, True])
def test_a_kid_that_is_not_a_string_is_refused(oidc_provider: OpenIDProvider, kid: Any) -> None:
    assert_refused(
        logout_for(oidc_provider), oidc_provider.logout_token(headers={"kid": kid}), "kid"
    )


def test_without_a_kid_the_only_key_of_its_type_verifies(oidc_provider: OpenIDProvider) -> None:
    oidc_provider.add_key("ES256", sign=False)
    token = oidc_provider.logout_token(headers={"kid": None})
    assert logout_for(oidc_provider).validate_logout_token(token).sid == "op-session-1"


def test_without_a_kid_several_keys_of_its_type_are_ambiguous(
    oidc_provider: OpenIDProvider,
) -> None:
    oidc_provider.add_key("RS256", sign=False)
    token = oidc_provider.logout_token(headers={"kid": None})
    assert_refused(logout_for(oidc_provider), token, "names no key")


def test_an_unknown_critical_header_is_refused(oidc_provider: OpenIDProvider) -> None:
    for crit in (["exp"], ["b64"], [], "x"):
        token = oidc_provider.logout_token(headers={"crit": crit, "exp": 1, "b64": True})
        assert_refused(logout_for(oidc_provider), token, "critical extensions")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "missing"),
        ("abc", "three parts"),
        ("a.b", "three parts"),
        ("a.b.c.d", "three parts"),
        ("a.b.c.d.e", "encrypted logout tokens"),
        ("a.b.c.d.e.f", "three parts"),
        ("é.b.c", "not ASCII"),
        ("a" * 20000 + ".b.c", "too long"),
        ("!!.b.c", "header is not a JSON object"),
        ("e30x.b.c", "header is not a JSON object"),
        (b64(b"not json") + ".b.c", "header is not a JSON object"),
        (b64(b"[1,2]") + ".b.c", "header is not a JSON object"),
        (b64(b"\xff\xfe") + ".b.c", "header is not a JSON object"),
        (b64(b'{"typ":"JWT"}') + ".b.c", "has no alg"),
        (b64(b'{"alg":5}') + ".b.c", "has no alg"),
        (b64(b'{"alg":""}') + ".b.c", "has no alg"),
    ],
)
def test_malformed_tokens_are_refused_before_any_fetch(
    oidc_provider: OpenIDProvider, token: str, message: str
) -> None:
    oidc = logout_for(oidc_provider)
    assert_refused(oidc, token, message)
    assert oidc.jwks_fetches == 0 and oidc.discovery_fetches == 0


@pytest.mark.parametrize("payload", [b"not json", b"[1,2]", b'"text"', b"\xff\xfe"])
def test_a_signed_payload_that_is_not_a_json_object_is_refused(
    oidc_provider: OpenIDProvider, payload: bytes
) -> None:
    assert_refused(logout_for(oidc_provider), oidc_provider.sign(payload), "not a well-formed")


def test_a_token_that_is_not_a_string_is_refused(oidc_provider: OpenIDProvider) -> None:
    token = oidc_provider.logout_token().encode()
    with pytest.raises(InvalidLogoutToken, match="missing"):
        logout_for(oidc_provider).validate_logout_token(token)  # type: ignore[arg-type]


# --- replay -------------------------------------------------------------------------


def test_the_same_token_twice_is_a_replay(oidc_provider: OpenIDProvider) -> None:
    oidc = logout_for(oidc_provider)
    token = oidc_provider.logout_token()
    oidc.validate_logout_token(token)
    assert_refused(oidc, token, "received before")
    # Another token for the same session is not a replay: only the jti counts.
    assert oidc.validate_logout_token(oidc_provider.logout_token()).sid == "op-session-1"


def test_the_same_jti_with_other_claims_is_a_replay(oidc_provider: OpenIDProvider) -> None:
    oidc = logout_for(oidc_provider)
    oidc.validate_logout_token(oidc_provider.logout_token(claims={"jti": "same"}))
    token = oidc_provider.logout_token(sid="other", claims={"jti": "same"})
    assert_refused(oidc, token, "received before")


def test_remembering_after_the_sessions_ended_lets_a_retry_through(
    oidc_provider: OpenIDProvider,
) -> None:
    oidc = logout_for(oidc_provider)
    token = oidc_provider.logout_token()
    claims = oidc.validate_logout_token(token, remember=False)
    # Ending the sessions failed: the provider retries with the same token.
    claims = oidc.validate_logout_token(token, remember=False)
    oidc.remember(claims)
    assert_refused(oidc, token, "received before")


def test_the_replay_cache_is_shared_through_a_revocation_store(
    oidc_provider: OpenIDProvider, tmp_path: Any
) -> None:
    path = str(tmp_path / "revoked.sqlite3")
    worker_a = logout_for(oidc_provider, replay_cache=SQLiteRevocationStore(path))
    worker_b = logout_for(oidc_provider, replay_cache=SQLiteRevocationStore(path))
    token = oidc_provider.logout_token()
    worker_a.validate_logout_token(token)
    assert_refused(worker_b, token, "received before")


def test_the_jti_is_kept_as_long_as_the_token_could_be_accepted(
    oidc_provider: OpenIDProvider,
) -> None:
    store = MemoryRevocationStore()
    oidc = logout_for(oidc_provider, replay_cache=RevocationReplayCache(store))
    token = oidc_provider.logout_token()
    claims = oidc.validate_logout_token(token)
    (key,) = store._expiry
    assert claims.jti not in key
    lifetime = store._expiry[key] - time.monotonic()
    assert abs(lifetime - (claims.valid_until - time.time())) < 2
    assert 118 <= lifetime <= 120 + 60  # exp (120 s) plus the skew


def test_concurrent_deliveries_of_one_token_end_the_same_sessions(
    oidc_provider: OpenIDProvider,
) -> None:
    # The documented race: both may pass the check, and both name the same sessions.
    oidc = logout_for(oidc_provider)
    token = oidc_provider.logout_token()
    results: list[Any] = []
    barrier = threading.Barrier(8)

    def deliver() -> None:
        barrier.wait()
        try:
            results.append(oidc.validate_logout_token(token).lookup)
        except InvalidLogoutToken as exc:
            results.append(exc.description)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = {r for r in results if isinstance(r, tuple)}
    assert accepted == {("oidc_sid", f"{oidc_provider.issuer} op-session-1")}
    assert all("received before" in r for r in results if isinstance(r, str))
