"""The provider's discovery document (OpenID Connect Discovery 1.0), fetched on first
need and kept.

Only three members are read: ``issuer``, which must equal the configured issuer
exactly (else the document is refused: it describes another provider); ``jwks_uri``;
and ``end_session_endpoint`` (RP-Initiated Logout 1.0), both held to the same URL rule
as the settings (https, or http on a loopback host). An unusable ``jwks_uri`` refuses
the document; an unusable ``end_session_endpoint`` is logged and read as none, so that
the back-channel logout, which does not need it, still works.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._cache import Fetched
from ._fetch import fetch_json
from ._urls import checked_url, discovery_url
from .errors import ProviderError

__all__ = ["Discovery", "ProviderMetadata"]

logger = logging.getLogger("logout_middleware.oidc")


@dataclass(frozen=True)
class ProviderMetadata:
    """What the logout needs from a discovery document."""

    #: The issuer, equal to the configured one.
    issuer: str
    #: The JWKS URL, or ``None`` when the document has none.
    jwks_uri: str | None
    #: The end-session endpoint, or ``None`` when the provider offers none.
    end_session_endpoint: str | None
    #: The whole document, as fetched.
    document: Mapping[str, Any]


def parse_metadata(document: Mapping[str, Any], issuer: str, url: str) -> ProviderMetadata:
    """Check a discovery document against the configured ``issuer``.

    :raises ProviderError: for another issuer or a ``jwks_uri`` that is not a usable URL.
    """
    if document.get("issuer") != issuer:
        raise ProviderError(
            f"the discovery document at {url} names another issuer than the configured "
            f"{issuer!r} (issuer must match exactly, trailing '/' included): refused"
        )
    urls: dict[str, str | None] = {}
    for member in ("jwks_uri", "end_session_endpoint"):
        value = document.get(member)
        try:
            urls[member] = None if value is None else checked_url(value, member)
        except ValueError as exc:
            if member == "jwks_uri":
                raise ProviderError(f"the discovery document at {url}: {exc}") from None
            logger.warning("the discovery document at %s: %s; no RP-initiated logout", url, exc)
            urls[member] = None
    return ProviderMetadata(issuer, urls["jwks_uri"], urls["end_session_endpoint"], document)


class Discovery:
    """The discovery document of ``issuer``: fetched once, on first need, and kept for
    the life of the process; a failed fetch is tried again at most once per
    ``interval`` seconds (in between, callers fail at once with the same error).

    :param issuer: the configured issuer.
    :param timeout: the bound of one fetch, in seconds.
    :param interval: the least number of seconds between two attempts.
    :param ssl_context: for https, instead of the system's default.
    """

    def __init__(
        self,
        issuer: str,
        *,
        timeout: float,
        interval: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.issuer = issuer
        #: ``issuer`` + ``/.well-known/openid-configuration`` (any trailing ``/`` dropped).
        self.url = discovery_url(issuer)
        self._timeout = timeout
        self._ssl_context = ssl_context
        self._cache: Fetched[ProviderMetadata] = Fetched(self._fetch, interval)

    def _fetch(self) -> ProviderMetadata:
        document = fetch_json(
            self.url, "the discovery document", timeout=self._timeout, ssl_context=self._ssl_context
        )
        return parse_metadata(document, self.issuer, self.url)

    def metadata(self) -> ProviderMetadata:
        """The checked document, fetched on first need.

        :raises ProviderError: when it could not be fetched or was refused.
        """
        return self._cache.get()

    @property
    def fetches(self) -> int:
        """How many fetches of the document were attempted."""
        return self._cache.attempts
