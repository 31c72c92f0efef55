"""The provider's signing keys (its JWK Set), cached, with bounded refetching.

The set is fetched on first need and kept. A token naming a key id (``kid``) the set
does not hold makes it fetched again (the provider may have rotated its keys), but at
most once per ``interval`` seconds: a burst of tokens with forged key ids costs the
provider one request per interval, and the application one bounded wait. A set older
than ``max_age`` is fetched again on next use; if that fails, the old set stays in use
until a fetch succeeds. Keys are read from the configured set only: the ``jku``,
``jwk``, ``x5u`` and ``x5c`` headers of a token are ignored.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any

from ._cache import Fetched
from ._fetch import fetch_json
from ._pyjwt import jwt
from .algorithms import algorithms_for
from .errors import InvalidLogoutToken, ProviderError

__all__ = ["MIN_RSA_BITS", "KeySet", "Keys"]

#: RSA keys shorter than this are left out of a key set (NIST SP 800-131A).
MIN_RSA_BITS = 2048


class Keys:
    """One fetched key set: its usable signature keys, by ``kid``.

    Keys that cannot verify signatures (``oct``, ``use: enc``, unknown types or
    curves, broken numbers) are left out, and so are RSA keys under
    :data:`MIN_RSA_BITS`: a token naming one fails with :class:`ProviderError`.

    :raises ProviderError: when the document holds no usable key.
    """

    def __init__(self, document: Mapping[str, Any], url: str) -> None:
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise ProviderError(f"the key set at {url} has no 'keys' list")
        self._keys: list[tuple[dict[str, Any], tuple[str, ...]]] = []
        self._by_kid: dict[str, list[int]] = {}
        self._weak: set[str] = set()
        for entry in entries:
            algs = algorithms_for(entry) if isinstance(entry, dict) else ()
            kid = entry.get("kid") if algs else None
            if not algs or (kid is not None and not isinstance(kid, str)):
                continue
            try:
                built = jwt.PyJWK(entry, algorithm=algs[0])
                built.Algorithm.prepare_key(built.key)  # the curve fits, on newer PyJWT
            except (jwt.PyJWTError, ValueError, TypeError, KeyError):
                continue  # broken numbers: older PyJWT raises them unwrapped
            if entry["kty"] == "RSA" and built.key.key_size < MIN_RSA_BITS:
                if kid is not None:
                    self._weak.add(kid)
                continue
            if kid is not None:
                self._by_kid.setdefault(kid, []).append(len(self._keys))
            self._keys.append((entry, algs))
        if not self._keys:
            raise ProviderError(f"the key set at {url} holds no usable signature key")
        self._built: dict[tuple[int, str], jwt.PyJWK] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def find(self, kid: str | None, alg: str) -> jwt.PyJWK | None:
        """The key to verify a token whose header has ``kid`` and ``alg`` (already
        allowed), or ``None`` when no key has that ``kid`` (or, without a ``kid``,
        when no key fits ``alg``).

        :raises InvalidLogoutToken: when the key named does not fit ``alg``, or without a
            ``kid`` when several keys do.
        """
        if kid is None:
            fitting = [i for i, (_, algs) in enumerate(self._keys) if alg in algs]
            if len(fitting) > 1:
                raise InvalidLogoutToken(
                    "the token names no key (kid) and the provider has several for its alg"
                )
        else:
            named = self._by_kid.get(kid)
            if named is None:
                if kid in self._weak:
                    raise ProviderError(
                        f"the provider's key for this token is an RSA key under {MIN_RSA_BITS} "
                        "bits, too weak to trust"
                    )
                return None
            fitting = [i for i in named if alg in self._keys[i][1]]
            if not fitting:
                raise InvalidLogoutToken(
                    "the token's alg does not fit the provider's key it names (key type, "
                    "curve or the key's own alg)"
                )
        if not fitting:
            return None
        built = self._built.get((fitting[0], alg))
        if built is None:
            built = jwt.PyJWK(self._keys[fitting[0]][0], algorithm=alg)
            self._built[(fitting[0], alg)] = built
        return built


class KeySet:
    """The provider's key set: fetched on first need, refetched for an unknown ``kid``
    at most once per ``interval`` seconds, and when older than ``max_age``.

    :param url: returns the JWKS URL (configured, or from the discovery document).
    :param timeout: the bound of one fetch, in seconds.
    :param interval: the least number of seconds between two fetches.
    :param max_age: seconds after which the set is fetched again on next use.
    :param ssl_context: for https, instead of the system's default.
    """

    def __init__(
        self,
        url: Callable[[], str],
        *,
        timeout: float,
        interval: float,
        max_age: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._url = url
        self._timeout = timeout
        self._max_age = max_age
        self._ssl_context = ssl_context
        self._cache: Fetched[Keys] = Fetched(self._fetch, interval)

    def _fetch(self) -> Keys:
        # One timeout for the whole fetch: the discovery document (on first need) and
        # the key set share it, so a cold fetch never holds a worker for two.
        deadline = time.monotonic() + self._timeout
        url = self._url()
        document = fetch_json(
            url,
            "the key set (JWKS)",
            timeout=self._timeout,
            ssl_context=self._ssl_context,
            deadline=deadline,
        )
        return Keys(document, url)

    @property
    def fetches(self) -> int:
        """How many fetches of the key set were attempted (successful or not)."""
        return self._cache.attempts

    def key(self, kid: str | None, alg: str) -> jwt.PyJWK:
        """The provider's key for a token with ``kid`` and ``alg`` in its header.

        :raises InvalidLogoutToken: when no key has that ``kid``, even after fetching
            the set again (or when that fetch was less than ``interval`` ago), or the
            key does not fit ``alg``.
        :raises ProviderError: when the set could not be fetched and no key was found.
        """
        keys = self._cache.get()
        if time.monotonic() - self._cache.fetched_at > self._max_age:
            keys = self._cache.refresh(keys)
        found = keys.find(kid, alg)
        if found is None:
            newer = self._cache.refresh(keys)
            found = newer.find(kid, alg) if newer is not keys else None
            if found is None:
                failure = self._cache.failure
                if failure is not None:
                    raise ProviderError(f"no cached key fits the token, and {failure}")
                raise InvalidLogoutToken(
                    "no key in the provider's key set has the token's key id (kid)"
                )
        return found
