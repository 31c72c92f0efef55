"""The compact serialization of a logout token, read by the middleware itself before
PyJWT's algorithm verifies the signature: every segment must be canonical base64url.

The variants are generated for each of the three segments and every algorithm: every
character outside the alphabet at the start, middle and end; each non-canonical
spelling of the last character; every wrong padding; a length no encoding has; a
signature cut short or lengthened. Right padding is accepted, as PyJWT accepts it.
A property test then mutates real tokens at random: a mutated token is either refused
with :class:`InvalidLogoutToken` or decodes to exactly the original bytes.
"""

from __future__ import annotations

import base64
import json
import string
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oidc_provider import (
    OpenIDProvider,
    SigningKey,
    b64,
    oidc_provider_fixture,  # noqa: F401 - the oidc_provider fixture
)

from logout_middleware.oidc import (
    DEFAULT_ALGORITHMS,
    InvalidLogoutToken,
    OIDCLogout,
    ProviderError,
    verify,
)

ALPHABET = string.ascii_letters + string.digits + "-_"
#: Every printable ASCII character outside base64url, and the whitespace a decoder skips.
JUNK = sorted(set(string.printable) - set(ALPHABET) - {"."})
SEGMENTS = ("header", "payload", "signature")


@pytest.fixture(scope="module")
def every_algorithm() -> Iterator[OpenIDProvider]:
    with OpenIDProvider(DEFAULT_ALGORITHMS) as provider:
        yield provider


def logout_for(provider: OpenIDProvider) -> OIDCLogout:
    return OIDCLogout(provider.issuer, provider.client_id, timeout=3)


def token_for(provider: OpenIDProvider, alg: str) -> str:
    kid = next(k.kid for k in provider.keys.values() if k.alg == alg)
    return provider.logout_token(kid=kid)


def token_and_segment(provider: OpenIDProvider, alg: str, which: int) -> tuple[str, str]:
    token = token_for(provider, alg)
    return token, token.split(".")[which]


def replaced(token: str, which: int, segment: str) -> str:
    parts = token.split(".")
    parts[which] = segment
    return ".".join(parts)


def refused_before_any_fetch(provider: OpenIDProvider, token: str) -> None:
    oidc = logout_for(provider)
    with pytest.raises(InvalidLogoutToken, match=r"header is not a JSON object|not a well-formed"):
        oidc.validate_logout_token(token)
    assert oidc.jwks_fetches == 0 and oidc.discovery_fetches == 0


def non_canonical(segment: str) -> list[str]:
    """Every other spelling of ``segment``'s last character that decodes to the same
    bytes (the unused low bits set)."""
    unused = {2: 4, 3: 2}.get(len(segment) % 4, 0)
    last = ALPHABET_INDEX[segment[-1]]
    base = last & ~((1 << unused) - 1)
    return [segment[:-1] + B64_ORDER[base | low] for low in range(1, 1 << unused)]


B64_ORDER = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
ALPHABET_INDEX = {c: i for i, c in enumerate(B64_ORDER)}


@pytest.mark.parametrize("alg", DEFAULT_ALGORITHMS)
@pytest.mark.parametrize("which", range(3), ids=SEGMENTS)
def test_every_character_outside_the_alphabet_is_refused_anywhere(
    every_algorithm: OpenIDProvider, alg: str, which: int
) -> None:
    token, segment = token_and_segment(every_algorithm, alg, which)
    for junk in JUNK:
        for at in (0, len(segment) // 2, len(segment)):
            if junk == "=" and at == len(segment):
                continue  # padding: its own test below
            spoiled = segment[:at] + junk + segment[at:]
            refused_before_any_fetch(every_algorithm, replaced(token, which, spoiled))


def with_unused_bits(provider: OpenIDProvider, alg: str, which: int, rest: int) -> str:
    """A token for ``alg`` whose segment ``which`` has ``len % 4 == rest``: the header
    and payload lengthened by a member of growing length."""
    kid = next(k.kid for k in provider.keys.values() if k.alg == alg)
    for n in range(8):
        filler = {"x": "a" * n}
        token = provider.logout_token(
            kid=kid, headers=filler if which == 0 else None, claims=filler if which == 1 else None
        )
        if len(token.split(".")[which]) % 4 == rest:
            return token
    raise AssertionError("no filler gave that length")


#: Signature lengths that leave unused bits: an ES384 or ES512 signature (96, 132
#: bytes) is a multiple of three bytes, so it has exactly one spelling.
SPELLABLE = [
    (alg, which, rest)
    for alg in DEFAULT_ALGORITHMS
    for which in range(3)
    for rest in (2, 3)
    if which < 2 or (alg not in ("ES384", "ES512") and rest == 2)
]


@pytest.mark.parametrize(("alg", "which", "rest"), SPELLABLE)
def test_a_non_canonical_last_character_is_refused(
    every_algorithm: OpenIDProvider, alg: str, which: int, rest: int
) -> None:
    # The same bytes spelled otherwise: PyJWT refuses them too (GHSA-hxm8-2xgr-2p9m).
    token = with_unused_bits(every_algorithm, alg, which, rest)
    segment = token.split(".")[which]
    spellings = non_canonical(segment)
    assert len(spellings) == (15 if rest == 2 else 3)
    for spelling in spellings:
        assert base64.urlsafe_b64decode(spelling + "==") == base64.urlsafe_b64decode(segment + "==")
        refused_before_any_fetch(every_algorithm, replaced(token, which, spelling))


@pytest.mark.parametrize("alg", DEFAULT_ALGORITHMS)
@pytest.mark.parametrize("which", range(3), ids=SEGMENTS)
def test_wrong_padding_and_impossible_lengths_are_refused(
    every_algorithm: OpenIDProvider, alg: str, which: int
) -> None:
    token, segment = token_and_segment(every_algorithm, alg, which)
    right = "=" * (-len(segment) % 4)
    wrong = {segment + right + "=", segment + "===", segment[:1] + "=" + segment[1:]}
    wrong |= {segment + "=" * n for n in range(1, 4) if n != len(right)}
    wrong.add(segment + "A" * ((1 - len(segment)) % 4))  # a length no encoding has
    assert segment + right not in wrong
    for spelling in wrong:
        refused_before_any_fetch(every_algorithm, replaced(token, which, spelling))


@pytest.mark.parametrize("alg", DEFAULT_ALGORITHMS)
def test_right_padding_is_accepted_as_pyjwt_accepts_it(
    every_algorithm: OpenIDProvider, alg: str
) -> None:
    # On the signature: the signing input is unchanged, so the signature still verifies.
    token = token_for(every_algorithm, alg)
    signature = token.split(".")[2]
    padded = replaced(token, 2, signature + "=" * (-len(signature) % 4))
    assert logout_for(every_algorithm).validate_logout_token(padded).sid == "op-session-1"
    # On all three, signed as written: a provider that pads signs the padded input.
    key = next(k for k in every_algorithm.keys.values() if k.alg == alg)
    header, payload, _ = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    signing_input = f"{pad(header)}.{pad(payload)}".encode()
    whole = f"{signing_input.decode()}.{pad(b64(key.sign(signing_input)))}"
    assert logout_for(every_algorithm).validate_logout_token(whole).sid == "op-session-1"


@pytest.mark.parametrize("alg", DEFAULT_ALGORITHMS)
def test_a_signature_cut_short_or_lengthened_does_not_verify(
    every_algorithm: OpenIDProvider, alg: str
) -> None:
    token = token_for(every_algorithm, alg)
    raw = base64.urlsafe_b64decode(token.split(".")[2] + "==")
    for changed in (b"", raw[:1], raw[:-1], raw[:-8], raw + b"\0", raw + raw, raw[::-1]):
        oidc = logout_for(every_algorithm)
        with pytest.raises(InvalidLogoutToken, match="signature does not verify"):
            oidc.validate_logout_token(replaced(token, 2, b64(changed)))


def test_an_rsa_key_under_2048_bits_is_never_trusted(oidc_provider: OpenIDProvider) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    oidc_provider.keys["weak"] = SigningKey("weak", "RS256", weak)
    oidc = logout_for(oidc_provider)
    with pytest.raises(ProviderError, match="under 2048 bits"):
        oidc.validate_logout_token(oidc_provider.logout_token(kid="weak"))
    # The provider's other keys still serve.
    assert oidc.validate_logout_token(oidc_provider.logout_token()).sid == "op-session-1"
    # A key set of weak keys alone is unusable.
    for kid in [k for k in oidc_provider.keys if k != "weak"]:
        oidc_provider.remove_key(kid)
    with pytest.raises(ProviderError, match="no usable signature key"):
        logout_for(oidc_provider).validate_logout_token(oidc_provider.logout_token(kid="weak"))


def _decoded(token: str) -> list[bytes]:
    return [base64.urlsafe_b64decode(s.rstrip("=") + "==") for s in token.split(".")]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_mutated_token_is_refused_or_decodes_to_the_original(
    every_algorithm: OpenIDProvider, data: st.DataObject
) -> None:
    alg = data.draw(st.sampled_from(DEFAULT_ALGORITHMS))
    token = token_for(every_algorithm, alg)
    chars = list(token)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(chars)))
        kind = data.draw(st.sampled_from(("insert", "replace", "delete")))
        char = data.draw(st.sampled_from(ALPHABET + "=.+/ \n%!\x00"))
        if kind == "insert":
            chars.insert(at, char)
        elif at < len(chars):
            chars[at : at + 1] = [char] if kind == "replace" else []
    mutated = "".join(chars)
    oidc = logout_for(every_algorithm)
    try:
        claims = oidc.validate_logout_token(mutated)
    except InvalidLogoutToken:
        return
    # Accepted: only spellings of the very same bytes (padding) get through.
    assert mutated.count(".") == 2
    assert _decoded(mutated) == _decoded(token)
    assert claims.sid == "op-session-1"


def _pyjwt_accepts(token: str, key: Any, alg: str) -> bool:
    """PyJWT's own verdict on the signature layer: ``PyJWS().decode`` with the key,
    and a payload that is a JSON object."""
    try:
        payload = jwt.PyJWS().decode(token, key, algorithms=[alg])
        return isinstance(json.loads(payload), dict)
    except (jwt.PyJWTError, ValueError):
        return False


def _pyjwt_is_strict(provider: OpenIDProvider) -> bool:
    """Whether this PyJWT refuses a non-canonical spelling (2.12 and later do)."""
    token = with_unused_bits(provider, "RS256", 2, 2)
    key = logout_for(provider).keys.key(token_kid(token), "RS256").key
    spelling = replaced(token, 2, non_canonical(token.split(".")[2])[0])
    return not _pyjwt_accepts(spelling, key, "RS256")


def token_kid(token: str) -> str:
    kid: str = jwt.get_unverified_header(token)["kid"]
    return kid


_EDITS = st.sampled_from(("pad", "last", "junk", "drop"))


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_signature_layer_agrees_with_pyjwts_own(
    every_algorithm: OpenIDProvider, data: st.DataObject
) -> None:
    # Edits aimed where the rules are (padding, the last character, a stray
    # character): what PyJWS().decode accepts, the middleware accepts, and nothing
    # more. With an older PyJWT that accepts non-canonical spellings, only "nothing
    # more" is checked.
    alg = data.draw(st.sampled_from(DEFAULT_ALGORITHMS))
    token = token_for(every_algorithm, alg)
    oidc = logout_for(every_algorithm)
    key = oidc.keys.key(token_kid(token), alg)
    parts = token.split(".")
    for _ in range(data.draw(st.integers(1, 2))):
        which = data.draw(st.integers(0, 2))
        segment, edit = parts[which], data.draw(_EDITS)
        if edit == "pad":
            segment += "=" * data.draw(st.integers(1, 3))
        elif edit == "last" and segment:
            segment = segment[:-1] + data.draw(st.sampled_from(B64_ORDER))
        elif edit == "junk":
            at = data.draw(st.integers(0, len(segment)))
            segment = segment[:at] + data.draw(st.sampled_from(JUNK)) + segment[at:]
        elif segment:
            segment = segment[:-1]
        parts[which] = segment
    mutated = ".".join(parts)
    try:
        verify.verified_payload(mutated, oidc.algorithms, oidc.keys.key)
        ours = True
    except InvalidLogoutToken:
        ours = False
    theirs = _pyjwt_accepts(mutated, key.key, alg)
    assert not ours or theirs, f"accepted what PyJWT refuses: {mutated!r}"
    if _STRICT.setdefault("strict", _pyjwt_is_strict(every_algorithm)):
        assert ours == theirs, f"refused what PyJWT accepts: {mutated!r}"


_STRICT: dict[str, bool] = {}
