"""Request guards for the logout path: cross-site defence and the double-submit token.

**Cross-site defence** (on by default) follows the OWASP Fetch Metadata guidance with
an ``Origin`` fallback:

* ``Sec-Fetch-Site: cross-site`` is refused;
* ``Sec-Fetch-Site: same-site`` (a sibling subdomain, not this app) is refused unless
  the ``Origin`` is listed in ``trusted_origins``;
* an ``Origin`` that is neither the request's own origin (scheme and host, default
  ports normalised: ``http://h`` equals ``http://h:80``) nor trusted is refused, and
  ``Origin: null`` (sandboxed frames, opaque redirects) is always foreign;
* requests with neither header (curl, API clients, WebTest) pass.

The request's own origin is built from ``wsgi.url_scheme`` and ``HTTP_HOST`` (or
``SERVER_NAME``/``SERVER_PORT``). Behind a proxy that rewrites the host or the scheme,
wrap the application in :class:`werkzeug.middleware.proxy_fix.ProxyFix` *outside* the
logout middleware, or list the public origin in ``trusted_origins``.

**Double-submit token** (opt-in; CrafterCMS Studio's convention): the request must
carry a header equal to a cookie (``X-XSRF-TOKEN`` and ``XSRF-TOKEN``), compared in
constant time; a missing or empty cookie or header is refused.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .cookies import parse_request_cookies

if TYPE_CHECKING:  # pragma: no cover
    from werkzeug.datastructures import MultiDict

    from ._wsgi import WSGIEnvironment

__all__ = ["CsrfGuard", "OriginGuard", "normalize_origin"]

_DEFAULT_PORTS = {"http": "80", "https": "443"}


@functools.lru_cache(maxsize=1024)
def normalize_origin(origin: str) -> str | None:
    """Return ``scheme://host:port`` in lower case, or ``None`` if not an origin.

    Only ``http`` and ``https`` origins are recognised; the default port is made
    explicit, so ``http://H`` and ``http://h:80`` normalise alike. Results are cached
    (a site sees few distinct origins; the cache is bounded).
    """
    scheme, sep, rest = origin.strip().partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in _DEFAULT_PORTS or not rest or any(c in rest for c in "/?#@\\ "):
        return None
    rest = rest.lower()
    if rest.startswith("["):  # IPv6 literal
        host, bracket, port = rest.partition("]")
        if not bracket or (port and not port.startswith(":")):
            return None
        host, port = host + "]", port[1:]
    else:
        host, _, port = rest.partition(":")
    if not host:
        return None
    if not port:
        port = _DEFAULT_PORTS[scheme]
    elif not port.isdigit() or not 0 < int(port) < 65536:
        return None
    else:
        port = str(int(port))
    return f"{scheme}://{host}:{port}"


def request_origin(environ: WSGIEnvironment) -> str | None:
    """Return the normalised origin this request was addressed to."""
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST")
    if not host:
        host = environ.get("SERVER_NAME", "")
        port = environ.get("SERVER_PORT", "")
        if port:
            host = f"{host}:{port}"
    return normalize_origin(f"{scheme}://{host}")


class OriginGuard:
    """Refuses logout requests that a foreign page sent.

    :param trusted_origins: origins (``scheme://host[:port]``) allowed besides the
        request's own. Raises :class:`ValueError` for one that is not an http(s) origin.
    """

    def __init__(self, trusted_origins: Iterable[str] = ()) -> None:
        if isinstance(trusted_origins, str):
            trusted_origins = [trusted_origins]
        trusted = set()
        for origin in trusted_origins:
            normal = normalize_origin(origin) if isinstance(origin, str) else None
            if normal is None:
                raise ValueError(
                    "each trusted origin must look like 'https://app.example.com' or "
                    f"'http://host:8080' (scheme and host, no path); got {origin!r}"
                )
            trusted.add(normal)
        self.trusted: frozenset[str] = frozenset(trusted)

    def refuses(self, environ: WSGIEnvironment) -> str | None:
        """Return why the request is refused, or ``None`` when it may log out."""
        fetch_site = environ.get("HTTP_SEC_FETCH_SITE", "").strip().lower()
        raw_origin = environ.get("HTTP_ORIGIN")
        if fetch_site == "cross-site":
            return "Sec-Fetch-Site is cross-site"
        if raw_origin is None:
            if fetch_site == "same-site":
                return "Sec-Fetch-Site is same-site and no trusted Origin was sent"
            return None
        origin = normalize_origin(raw_origin)
        if origin is None:
            return "Origin is null or malformed"
        if origin in self.trusted:
            return None
        if fetch_site == "same-site":
            return "Sec-Fetch-Site is same-site and the Origin is not trusted"
        if origin != request_origin(environ):
            return "Origin is not this site's"
        return None


class CsrfGuard:
    """Double-submit token check: header value must equal the cookie value.

    :param cookie_name: the token cookie, e.g. ``"XSRF-TOKEN"``.
    :param header_name: the request header, e.g. ``"X-XSRF-TOKEN"``.
    """

    def __init__(self, cookie_name: str, header_name: str) -> None:
        if (
            not header_name
            or not isinstance(header_name, str)
            or any(not (c.isalnum() or c in "-_") for c in header_name)
        ):
            raise ValueError(
                "csrf_header_name must be a header name such as 'X-XSRF-TOKEN'; "
                f"got {header_name!r}"
            )
        self.cookie_name = cookie_name
        self.header_name = header_name
        self.environ_key = "HTTP_" + header_name.upper().replace("-", "_")

    def refuses(
        self, environ: WSGIEnvironment, cookies: MultiDict[str, str] | None = None
    ) -> str | None:
        """Return why the request is refused, or ``None`` when the token matches.

        :param cookies: the request's parsed cookies, when the caller has them already.
        """
        if cookies is None:
            cookies = parse_request_cookies(environ.get("HTTP_COOKIE"))
        cookie = cookies.get(self.cookie_name, "")
        header = environ.get(self.environ_key, "")
        if not cookie or not header:
            return "double-submit token missing"
        # latin-1 round-trips every WSGI header string; compare_digest needs bytes.
        if not hmac.compare_digest(
            cookie.encode("utf-8", "surrogateescape"), header.encode("utf-8", "surrogateescape")
        ):
            return "double-submit token mismatch"
        return None
