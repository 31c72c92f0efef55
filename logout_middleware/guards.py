"""Request guards for the logout path: cross-site defence and the double-submit token.

**Cross-site defence** (on by default) decides in the order current browsers and Go
1.25's ``CrossOriginProtection`` use:

1. an ``Origin`` listed in ``trusted_origins`` passes, even ``cross-site`` (a trusted
   admin site on another domain may log users out);
2. otherwise, when the request carries ``Sec-Fetch-Site`` (every current browser
   sends it), it decides: ``same-origin`` and ``none`` (typed in the address bar, a
   bookmark) pass; ``same-site``, ``cross-site`` and anything else are refused. A
   same-origin form on a page sent with ``Referrer-Policy: no-referrer`` carries
   ``Origin: null`` and ``Sec-Fetch-Site: same-origin``, and passes;
3. only without it, the ``Origin`` must be the request's own origin (scheme, host and
   port, default ports normalised: ``http://h`` equals ``http://h:80``); ``null`` and
   anything malformed are foreign;
4. with neither header (curl, API clients, WebTest), the request passes.

The request's own origin is built from the scheme and ``Host`` (or the server's name
and port). Behind a proxy that rewrites the host or the scheme, wrap the application
in :class:`werkzeug.middleware.proxy_fix.ProxyFix` *outside* the logout middleware, or
list the public origin in ``trusted_origins``.

**Double-submit token** (opt-in; CrafterCMS Studio's convention): the request must
carry a header equal to a cookie (``X-XSRF-TOKEN`` and ``XSRF-TOKEN``), compared in
constant time; a missing or empty cookie or header is refused. With a form field name
as well (``csrf_field_name``, as Django's ``csrfmiddlewaretoken`` or Spring's
``_csrf``), a request without the header may carry the token in that field of an
urlencoded form instead, which is what a plain HTML ``<form>`` can send: the header,
when sent, is the one compared; the field must be given once (or always alike).

Every header is parsed by code that cannot raise: any byte a client sends yields an
answer, never an exception.
"""

from __future__ import annotations

import functools
import hmac
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from ._validation import optional_strings
from .request import Request
from .sessionref import cookie_values

__all__ = ["CsrfGuard", "OriginGuard", "normalize_origin", "request_origin"]

_DEFAULT_PORTS = {"http": "80", "https": "443"}
# scheme://host[:port], ASCII only; a host is a name (dot-separated labels, none
# empty; a trailing dot is another host) or a bracketed IPv6 literal.
_ORIGIN = re.compile(
    r"\A(https?)://(\[[0-9a-f:.]+\]|(?:[a-z0-9_-]+\.)*[a-z0-9_-]+\.?)(?::([0-9]{1,5}))?\Z",
    re.ASCII | re.IGNORECASE,
)
# A subdomain wildcard in trusted_origins: scheme://*.parent[:port].
_WILDCARD = re.compile(
    r"\A(https?)://\*\.([a-z0-9-]+(?:\.[a-z0-9-]+)+)(?::([0-9]{1,5}))?\Z",
    re.ASCII | re.IGNORECASE,
)


def normalize_origin(origin: str) -> str | None:
    """Return ``scheme://host:port`` in lower case, or ``None`` if not an origin.

    Only ``http`` and ``https`` origins are recognised; the default port is made
    explicit, so ``http://H`` and ``http://h:80`` normalise alike. Never raises.
    Results are cached (a site sees few distinct origins; the cache is bounded, and
    holds no value longer than a host name can be).
    """
    if len(origin) > 300:
        return _normalize(origin)
    return _normalize_cached(origin)


def _normalize(origin: str) -> str | None:
    match = _ORIGIN.match(origin.strip(" \t"))
    if match is None:
        return None
    scheme, host, port = match.group(1).lower(), match.group(2).lower(), match.group(3)
    if port is None:
        port = _DEFAULT_PORTS[scheme]
    elif not 0 < int(port) < 65536:
        return None
    else:
        port = str(int(port))
    return f"{scheme}://{host}:{port}"


_normalize_cached = functools.lru_cache(maxsize=1024)(_normalize)


def request_origin(request: Request) -> str | None:
    """Return the normalised origin this request was addressed to."""
    host = request.header("host")
    if not host:
        host = request.server_name
        if ":" in host and not host.startswith("["):  # an IPv6 address
            host = f"[{host}]"
        if request.server_port:
            host = f"{host}:{request.server_port}"
    return normalize_origin(f"{request.scheme}://{host}")


def _trusted(origins: Any) -> tuple[frozenset[str], tuple[tuple[str, str], ...]]:
    exact, wildcards = set(), []
    for origin in optional_strings(origins, "trusted_origins"):
        wildcard = _WILDCARD.match(origin)
        if wildcard is not None:
            scheme, parent, port = (
                wildcard.group(1).lower(),
                wildcard.group(2).lower(),
                wildcard.group(3),
            )
            wildcards.append((f"{scheme}://", f".{parent}:{port or _DEFAULT_PORTS[scheme]}"))
            continue
        normal = normalize_origin(origin)
        if normal is None:
            raise ValueError(
                "each trusted origin must look like 'https://app.example.com', "
                "'http://host:8080' or 'https://*.example.com' (a subdomain wildcard); "
                f"scheme and host, no path; got {origin!r}"
            )
        exact.add(normal)
    return frozenset(exact), tuple(wildcards)


class OriginGuard:
    """Refuses logout requests that a foreign page sent.

    :param trusted_origins: origins (``scheme://host[:port]``) allowed besides the
        request's own. ``https://*.example.com`` trusts every subdomain of
        ``example.com`` on https and port 443 (not ``example.com`` itself), as Django's
        ``CSRF_TRUSTED_ORIGINS`` does. Raises :class:`ValueError` for anything else.
    """

    def __init__(self, trusted_origins: Iterable[str] | str = ()) -> None:
        exact, wildcards = _trusted(trusted_origins)
        #: The normalised trusted origins.
        self.trusted: frozenset[str] = exact
        #: ``(scheme://, .parent:port)`` of each subdomain wildcard.
        self.trusted_wildcards = wildcards

    def is_trusted(self, origin: str) -> bool:
        """Whether a normalised origin is trusted, exactly or by a wildcard."""
        if origin in self.trusted:
            return True
        return any(
            origin.startswith(scheme)
            and origin.endswith(suffix)
            and len(origin) > len(scheme) + len(suffix)
            for scheme, suffix in self.trusted_wildcards
        )

    def refuses(self, request: Request) -> str | None:
        """Return why the request is refused, or ``None`` when it may log out."""
        raw_origin = request.headers.get("origin")
        origin = normalize_origin(raw_origin) if raw_origin is not None else None
        if origin is not None and self.is_trusted(origin):
            return None
        fetch_site = request.headers.get("sec-fetch-site")
        if fetch_site:
            fetch_site = fetch_site.strip(" \t").lower()
        if fetch_site:
            if fetch_site in ("same-origin", "none"):
                return None
            return f"Sec-Fetch-Site is {fetch_site[:20]!r}"
        if raw_origin is None:
            return None
        if origin is None:
            return "Origin is null or malformed"
        if origin != request_origin(request):
            return "Origin is not this site's"
        return None


class CsrfGuard:
    """Double-submit token check: header value (or form field) must equal the cookie value.

    :param cookie_name: the token cookie, e.g. ``"XSRF-TOKEN"``.
    :param header_name: the request header, e.g. ``"X-XSRF-TOKEN"``.
    :param field_name: the urlencoded form field that may carry the token when the
        header is absent, e.g. ``"_csrf"``; ``None``: the header only.
    """

    def __init__(self, cookie_name: str, header_name: str, field_name: str | None = None) -> None:
        if (
            not header_name
            or not isinstance(header_name, str)
            or any(not ((c.isascii() and c.isalnum()) or c in "-_") for c in header_name)
        ):
            raise ValueError(
                "csrf_header_name must be a header name such as 'X-XSRF-TOKEN'; "
                f"got {header_name!r}"
            )
        if header_name.lower() in _NOT_TOKEN_HEADERS or header_name.lower().startswith("sec-"):
            raise ValueError(
                "csrf_header_name must be a header of its own such as 'X-XSRF-TOKEN', which "
                f"the page's script sets; {header_name!r} is a header the browser sends"
            )
        if field_name is not None and (
            not isinstance(field_name, str)
            or not field_name
            or any(not 0x21 <= ord(c) < 0x7F or c in "&=+%#" for c in field_name)
        ):
            raise ValueError(
                "csrf_field_name must be a form field name such as '_csrf' or "
                f"'csrfmiddlewaretoken' (printable ASCII, no '&=+%#'); got {field_name!r}"
            )
        self.cookie_name = cookie_name
        self.header_name = header_name
        self.field_name = field_name

    def wants_form(self, request: Request) -> bool:
        """Whether the token can only be in the form: a field name is set, the header
        is absent, and the body has not been read yet."""
        return (
            self.field_name is not None
            and request.body is None
            and not request.header(self.header_name.lower()).strip(" \t")
        )

    def refuses(self, request: Request) -> str | None:
        """Return why the request is refused, or ``None`` when the token matches.

        The token cookie is read by the one cookie reader; the header (else the form
        field, when the body was read) must equal one of its values, byte for byte.
        """
        given = request.header(self.header_name.lower()).strip(" \t")
        if not given and self.field_name is not None and request.body:
            given = _field(request.body, self.field_name) or ""
        values = cookie_values(request.header("cookie"), self.cookie_name)
        if not values or not given:
            return "double-submit token missing"
        # Both are latin-1 strings (one character per byte); compare_digest needs bytes.
        token = given.encode("latin-1", "replace")
        if not any(hmac.compare_digest(v.encode("latin-1", "replace"), token) for v in values):
            return "double-submit token mismatch"
        return None


def _field(body: bytes, name: str) -> str | None:
    """The value of the form field ``name``, byte for byte (latin-1), when the form
    gives it exactly once or always alike; else ``None``."""
    try:
        pairs = parse_qsl(
            body.decode("latin-1"), keep_blank_values=True, encoding="latin-1", max_num_fields=100
        )
    except ValueError:  # too many fields
        return None
    found = {value for key, value in pairs if key == name}
    return found.pop() if len(found) == 1 else None


# Headers a browser writes itself (or the logout reads for something else): a script
# cannot put the token there.
_NOT_TOKEN_HEADERS = frozenset(
    {"cookie", "host", "origin", "referer", "content-type", "content-length", "user-agent",
     "connection", "accept", "accept-encoding", "accept-language", "transfer-encoding"}
)
