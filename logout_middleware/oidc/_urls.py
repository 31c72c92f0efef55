"""The URL rule of the OIDC settings: https, or http on a loopback host only."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from .._masking import shown_url

__all__ = ["checked_url", "discovery_url", "is_loopback"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback address (``127.0.0.0/8``, ``::1``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_url(value: Any, what: str, *, query: bool = True) -> str:
    """``value`` as given when it is an absolute https URL, or an http URL whose host is
    loopback (tests, development); no fragment, user info, whitespace or control
    characters; with ``query=False``, no query either (an issuer).

    Raises :class:`ValueError` naming ``what`` otherwise; the message shows the URL
    with any password in it masked (``https://user:***@host/...``).
    """
    example = "such as 'https://login.example.com/realms/main'"
    got = shown_url(value)  # never the password of a URL with user info
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be an https URL {example}; got {got}")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError(f"{what} must not contain whitespace or control characters; got {got}")
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ValueError(f"{what} must be an https URL {example}; got {got}") from None
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError(f"{what} must be an https URL {example}; got {got}")
    if parts.scheme == "http" and not is_loopback(host):
        raise ValueError(
            f"{what} must use https: http is accepted only on a loopback host (127.0.0.1, "
            f"::1, localhost) for tests and development; got {got}"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{what} must not hold user info (user:password@); got {got}")
    if parts.fragment or value.endswith("#"):
        raise ValueError(f"{what} must not have a fragment (#...); got {got}")
    if not query and (parts.query or "?" in value):
        raise ValueError(f"{what} must not have a query (?...); got {got}")
    return value


def discovery_url(issuer: str) -> str:
    """Where OpenID Connect Discovery 1.0 puts the issuer's configuration: the issuer
    without its trailing ``/``, then ``/.well-known/openid-configuration``."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"
