"""Which signature algorithms a logout token may use, and which keys verify each.

Only asymmetric algorithms: a logout token is signed with the provider's private key
and checked with its public key. ``none`` is never accepted, and neither is any HMAC
algorithm (``HS256``...): with one, the *public* key would be used as the shared
secret, and anyone who read the provider's key set could sign tokens.

The header's ``alg`` picks the algorithm only after it is found in the allow-list,
and it must fit the key the ``kid`` names: its type (``RSA`` for ``RS*``/``PS*``;
``EC`` on the matching curve for ``ES*``; ``OKP`` Ed25519/Ed448 for ``EdDSA``), and
the key's own ``alg`` member when it has one. An EC key's curve names its one
algorithm (RFC 7518 section 3.4), so an ``ES*`` member that contradicts the curve is
passed over: authentik publishes every EC key as ``ES256`` while it signs with
``ES384`` on P-384 and ``ES512`` on P-521 keys. The curve still decides, so such a
key verifies its curve's algorithm only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["DEFAULT_ALGORITHMS", "algorithms_for", "checked_algorithms"]

_RSA = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
_EC_CURVES = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
_OKP_CURVES = ("Ed25519", "Ed448")

#: Every algorithm accepted by default, and the only ones that can be allowed.
DEFAULT_ALGORITHMS: tuple[str, ...] = (*_RSA, "ES256", "ES384", "ES512", "EdDSA")


def checked_algorithms(value: Any) -> frozenset[str]:
    """The ``algorithms`` setting: a non-empty list of names from
    :data:`DEFAULT_ALGORITHMS`. ``none`` and ``HS*`` are refused with the reason."""
    items = (value,) if isinstance(value, str) else value
    try:
        names = list(items)
    except TypeError:
        names = [value]
    if not names:
        raise ValueError(f"algorithms must name at least one of {', '.join(DEFAULT_ALGORITHMS)}")
    for name in names:
        if not isinstance(name, str):
            raise ValueError(f"algorithms must be names such as 'RS256'; got {name!r}")
        if name.lower() == "none":
            raise ValueError("algorithms must not hold 'none': a logout token must be signed")
        if name.upper().startswith("HS"):
            raise ValueError(
                f"algorithms must not hold {name!r}: HMAC would use the provider's public "
                "key as a shared secret, so anyone could sign logout tokens"
            )
        if name not in DEFAULT_ALGORITHMS:
            raise ValueError(
                f"algorithms may hold {', '.join(DEFAULT_ALGORITHMS)} (case matters); got {name!r}"
            )
    return frozenset(names)


def algorithms_for(jwk: Mapping[str, Any]) -> tuple[str, ...]:
    """The algorithms a JWK can verify: by its ``kty`` (and ``crv``), narrowed to its
    ``alg`` member when it has one (an EC key's curve decides over an ``ES*`` member);
    ``()`` for a key that must not verify signatures (``oct``, ``use`` other than
    ``sig``, ``key_ops`` without ``verify``)."""
    kty = jwk.get("kty")
    if kty == "RSA":
        algs: tuple[str, ...] = _RSA
    elif kty == "EC":
        crv = jwk.get("crv")
        curve = _EC_CURVES.get(crv) if isinstance(crv, str) else None
        algs = (curve,) if curve else ()
    elif kty == "OKP":
        algs = ("EdDSA",) if jwk.get("crv") in _OKP_CURVES else ()
    else:
        return ()
    if jwk.get("use", "sig") != "sig":
        return ()
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return ()
    declared = jwk.get("alg")
    if declared is not None and not (kty == "EC" and declared in _EC_CURVES.values()):
        algs = tuple(a for a in algs if a == declared)
    return algs
