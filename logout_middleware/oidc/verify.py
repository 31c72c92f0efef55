"""The signature of a logout token (Back-Channel Logout 1.0 section 2.6, step 2), with
PyJWT: the header is read, its ``alg`` and ``typ`` checked, the key its ``kid`` names
fetched from the provider's key set, and the signature verified with that key and
that algorithm only. Then the claims are checked by :func:`~.claims.check_claims`.

Encrypted logout tokens (JWE, five segments) are not supported and are refused.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from ._pyjwt import jwt
from .errors import InvalidLogoutToken, ProviderError

__all__ = ["MAX_TOKEN", "TYPES", "verified_payload"]

#: The longest logout token read, in characters.
MAX_TOKEN = 16384

#: The ``typ`` headers accepted (compared without case, with or without
#: ``application/``): ``logout+jwt`` as the specification recommends, and ``JWT``,
#: which some providers (Keycloak) send and which says no more than no ``typ`` at all.
TYPES = frozenset({"logout+jwt", "jwt"})

# Claims are checked by claims.py, with the clock skew and descriptions of its own.
_DECODER = jwt.PyJWT(
    {
        "verify_signature": True,
        "verify_exp": False,
        "verify_nbf": False,
        "verify_iat": False,
        "verify_aud": False,
        "verify_iss": False,
        "verify_sub": False,
        "verify_jti": False,
        "enforce_minimum_key_length": True,
    }
)

KeyFinder = Callable[[str | None, str], "jwt.PyJWK"]


def _read_header(token: str) -> dict[str, Any]:
    segment = token.partition(".")[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError:  # binascii.Error, UnicodeDecodeError and JSONDecodeError are ValueErrors
        header = None
    if not isinstance(header, dict):
        raise InvalidLogoutToken("the logout token's header is not a JSON object in base64url")
    return header


def _header(token: str, algorithms: frozenset[str]) -> tuple[str | None, str]:
    """The ``kid`` and ``alg`` of a token's header, once both are acceptable."""
    if not isinstance(token, str) or not token:
        raise InvalidLogoutToken("the logout token is missing")
    if len(token) > MAX_TOKEN or not token.isascii():
        raise InvalidLogoutToken("the logout token is not a signed JWT (too long, or not ASCII)")
    dots = token.count(".")
    if dots == 4:
        raise InvalidLogoutToken("encrypted logout tokens (JWE) are not supported")
    if dots != 2:
        raise InvalidLogoutToken("the logout token is not a signed JWT (three parts)")
    header = _read_header(token)
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
    kid, alg = _header(token, algorithms)
    jwk = key(kid, alg)
    try:
        # The key object, not the PyJWK: PyJWT < 2.10 takes no PyJWK here. Its type was
        # matched to alg when the key was found.
        payload: dict[str, Any] = _DECODER.decode(token, key=jwk.key, algorithms=[alg])
    except jwt.InvalidSignatureError:
        raise InvalidLogoutToken("the signature does not verify with the provider's key") from None
    except jwt.InvalidKeyError:
        raise ProviderError(
            "the provider's key for this token is unusable (an RSA key under 2048 bits?)"
        ) from None
    except jwt.InvalidAlgorithmError:
        raise InvalidLogoutToken("the token's alg does not fit the provider's key") from None
    except jwt.PyJWTError:
        raise InvalidLogoutToken("the logout token is not a well-formed signed JWT") from None
    return payload
