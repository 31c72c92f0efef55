"""The signature of a logout token (Back-Channel Logout 1.0 section 2.6, step 2): the
compact serialization is split and decoded here, the header's ``alg`` and ``typ``
checked, the key its ``kid`` names fetched from the provider's key set, and the
signature verified by PyJWT's algorithm for that ``alg`` with that key only. Then the
claims are checked by :func:`~.claims.check_claims`.

Why not ``jwt.decode``: the three segments are checked against the base64url alphabet
here by one regular expression, where PyJWT's ``PyJWS`` tests them one character at a
time in Python, which cost about a third of a whole RS256 verification; and the header
is read once, where decoding it first for its ``kid`` and then again in PyJWT read it
twice. The checks are PyJWT's own: the alphabet, at most two ``=`` of padding and only
where the length allows it, the canonical encoding (the unused bits of the last
character are zero), a JSON object for the header and the payload; the signature is
PyJWT's algorithm object's ``verify``.

Encrypted logout tokens (JWE, five segments) are not supported and are refused.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Callable
from typing import Any

from ._pyjwt import jwt
from .errors import InvalidLogoutToken

__all__ = ["MAX_TOKEN", "TYPES", "verified_payload"]

#: The longest logout token read, in characters.
MAX_TOKEN = 16384

#: The ``typ`` headers accepted (compared without case, with or without
#: ``application/``): ``logout+jwt`` as the specification recommends, and ``JWT``,
#: which some providers (Keycloak) send and which says no more than no ``typ`` at all.
TYPES = frozenset({"logout+jwt", "jwt"})

KeyFinder = Callable[[str | None, str], "jwt.PyJWK"]

_SEGMENT = re.compile(r"[A-Za-z0-9_-]*={0,2}").fullmatch

#: The last characters whose unused low bits are zero, by the segment's length mod 4
#: (a canonical encoding; 0 leaves no unused bits, 1 is no encoding's length).
_CANONICAL_LAST = {2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}


def _decoded(segment: str) -> bytes | None:
    """The bytes of one base64url segment, or ``None`` unless it is canonical: the
    alphabet only, padding (optional) only to a multiple of four, unused bits zero."""
    if _SEGMENT(segment) is None:
        return None
    stripped = segment.rstrip("=")
    rest = len(stripped) % 4
    if rest == 1 or (len(stripped) != len(segment) and len(segment) % 4):
        return None
    if rest and stripped[-1] not in _CANONICAL_LAST[rest]:
        return None
    return base64.urlsafe_b64decode(stripped + "==")  # extra padding is ignored


def _json_object(data: bytes | None) -> dict[str, Any] | None:
    if data is None:
        return None
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return value if isinstance(value, dict) else None


def _segments(token: str) -> list[str]:
    if not isinstance(token, str) or not token:
        raise InvalidLogoutToken("the logout token is missing")
    if len(token) > MAX_TOKEN or not token.isascii():
        raise InvalidLogoutToken("the logout token is not a signed JWT (too long, or not ASCII)")
    segments = token.split(".")
    if len(segments) == 5:
        raise InvalidLogoutToken("encrypted logout tokens (JWE) are not supported")
    if len(segments) != 3:
        raise InvalidLogoutToken("the logout token is not a signed JWT (three parts)")
    return segments


# A provider writes the same header on every token: it is read once. Refused headers
# raise and are not kept; the cache is bounded, so headers made up cannot grow it.
@functools.lru_cache(maxsize=64)
def _header(segment: str, algorithms: frozenset[str]) -> tuple[str | None, str]:
    """The ``kid`` and ``alg`` of a token's header, once both are acceptable."""
    header = _json_object(_decoded(segment))
    if header is None:
        raise InvalidLogoutToken("the logout token's header is not a JSON object in base64url")
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        raise InvalidLogoutToken("the token's header has no alg")
    if alg.lower() == "none":
        raise InvalidLogoutToken("the token is not signed (alg none)")
    if alg not in algorithms:
        raise InvalidLogoutToken(f"the token's alg is not one of {', '.join(sorted(algorithms))}")
    typ = header.get("typ")
    if typ is not None and (
        not isinstance(typ, str) or typ.lower().removeprefix("application/") not in TYPES
    ):
        raise InvalidLogoutToken("the token's typ is neither logout+jwt nor JWT")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise InvalidLogoutToken("the token's kid must be a string")
    if "crit" in header:
        raise InvalidLogoutToken("the token's header names critical extensions (crit)")
    return kid, alg


def verified_payload(token: str, algorithms: frozenset[str], key: KeyFinder) -> dict[str, Any]:
    """The claims of ``token`` once its signature is verified.

    :param algorithms: the allow-list.
    :param key: finds the provider's key for a ``kid`` (or ``None``) and an ``alg``.
    :raises InvalidLogoutToken: for a malformed token, a refused ``alg`` or ``typ``, an
        unknown ``kid``, or a signature that does not verify.
    :raises ProviderError: when the key set could not be fetched.
    """
    header, payload, signature = _segments(token)
    kid, alg = _header(header, algorithms)
    # Both decoded before any fetch: a malformed token never reaches the provider.
    claims, raw_signature = _decoded(payload), _decoded(signature)
    if claims is None or raw_signature is None:
        raise InvalidLogoutToken("the logout token is not a well-formed signed JWT")
    jwk = key(kid, alg)  # its type and curve fit alg: the key set matched them
    signing_input = token[: len(header) + 1 + len(payload)].encode("ascii")
    try:
        verified = jwk.Algorithm.verify(signing_input, jwk.key, raw_signature)
    except (ValueError, TypeError):  # a signature of the wrong length, on some versions
        verified = False
    if not verified:
        raise InvalidLogoutToken("the signature does not verify with the provider's key")
    found = _json_object(claims)
    if found is None:
        raise InvalidLogoutToken("the logout token is not a well-formed signed JWT")
    return found
