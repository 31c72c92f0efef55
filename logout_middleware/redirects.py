"""Safe "next" URLs for the redirect mode.

A ``next`` value is followed only when it is one of:

* a path starting with exactly one ``/`` (not ``//``, not ``/\\``), or
* an absolute ``http``/``https`` URL, with ``://``, no user info, whose host (and
  port) is the request's own or one of ``allowed_hosts``; an https request is never
  sent to plain http.

and, in every case, it is printable ASCII with no space and no backslash, and holds
no percent-encoded ``/``, ``\\`` or control character (``%2F``, ``%5C``, ``%00``-``%1F``,
``%7F``). This is stricter than Django's ``url_has_allowed_host_and_scheme``, which
lets ``%2F%2Fevil.example`` through. Anything else falls back to ``redirect_to``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["is_valid_host", "safe_next_url", "validate_hosts"]

_PRINTABLE = re.compile(r"\A[\x21-\x7e]+\Z")
_BAD_ESCAPE = re.compile(r"%(?:2f|5c|[01][0-9a-f]|7f)", re.IGNORECASE)
_HOST = re.compile(r"\A(?:\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::[0-9]{1,5})?\Z")


def is_valid_host(host: str) -> bool:
    """Whether ``host`` (a ``Host`` header) is a plain ``name[:port]`` or ``[v6][:port]``,
    safe to put in a ``Location`` header."""
    return isinstance(host, str) and _HOST.match(host.lower()) is not None


def validate_hosts(hosts: Iterable[str]) -> frozenset[str]:
    """Validate ``allowed_redirect_hosts`` entries (``host`` or ``host:port``)."""
    if isinstance(hosts, str):
        hosts = [hosts]
    result = set()
    for host in hosts:
        if not is_valid_host(host):
            raise ValueError(
                "each allowed redirect host must be a host name, optionally with a "
                f"port, such as 'accounts.example.com'; got {host!r}"
            )
        result.add(host.lower())
    return frozenset(result)


def safe_next_url(
    value: str, *, scheme: str, host: str, allowed_hosts: frozenset[str]
) -> str | None:
    """Return the absolute URL to redirect to, or ``None`` when ``value`` is unsafe.

    :param value: the raw ``next`` parameter (already percent-decoded once by the
        query-string parser).
    :param scheme: the request's scheme; :param host: its ``Host`` (with port if any).
    """
    if not _PRINTABLE.match(value) or "\\" in value or _BAD_ESCAPE.search(value):
        return None
    if value.startswith("/"):
        if value.startswith("//"):
            return None
        return f"{scheme}://{host}{value}"
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError for a malformed port
    except ValueError:
        return None
    target_scheme = parts.scheme.lower()
    if target_scheme not in ("http", "https") or not value[len(parts.scheme) :].startswith("://"):
        return None
    if scheme == "https" and target_scheme != "https":
        return None
    netloc = parts.netloc.lower()
    if not netloc or "@" in netloc or not parts.hostname:
        return None
    default = "443" if target_scheme == "https" else "80"
    here = host.lower()
    candidates = {netloc, f"{parts.hostname}:{port or default}"}
    if port is None or str(port) == default:
        candidates.add(parts.hostname)
    own = {here}
    if ":" not in here.rsplit("]", 1)[-1]:
        own.add(f"{here}:{'443' if scheme == 'https' else '80'}")
    if candidates & (own | allowed_hosts):
        return value
    return None
