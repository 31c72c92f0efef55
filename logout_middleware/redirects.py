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

import ipaddress
import logging
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

from ._validation import byte_count, optional_strings
from .request import Request

__all__ = ["RedirectPolicy", "form_length", "is_valid_host", "safe_next_url", "validate_hosts"]

logger = logging.getLogger("logout_middleware")
_DIGITS = re.compile(r"\A[0-9]{1,12}\Z")

_PRINTABLE = re.compile(r"\A[\x21-\x7e]+\Z")
_BAD_ESCAPE = re.compile(r"%(?:2f|5c|[01][0-9a-f]|7f)", re.IGNORECASE)
_HOST = re.compile(r"\A(?:\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::[0-9]{1,5})?\Z")


def is_valid_host(host: str) -> bool:
    """Whether ``host`` (a ``Host`` header) is a plain ``name[:port]`` or ``[v6][:port]``
    with a real IPv6 address, safe to put in a ``Location`` header."""
    if not isinstance(host, str) or _HOST.match(host.lower()) is None:
        return False
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1 : host.index("]")])
        except ValueError:
            return False
    return True


def validate_hosts(hosts: Iterable[str] | str) -> frozenset[str]:
    """Validate ``allowed_redirect_hosts`` entries (``host`` or ``host:port``)."""
    result = set()
    for host in optional_strings(hosts, "allowed_redirect_hosts"):
        if not is_valid_host(host):
            raise ValueError(
                "each allowed_redirect_hosts entry must be a host name, optionally with a "
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


def validate_redirect_to(value: str | None) -> str | None:
    """``None``, a path such as ``/login?logout``, or an absolute http(s) URL with a
    host; printable ASCII without spaces (it goes into a ``Location`` header)."""
    if value is None:
        return None
    ok = isinstance(value, str) and _PRINTABLE.match(value) is not None
    if ok and value.startswith("/"):
        ok = not value.startswith("//") and "\\" not in value
    elif ok:
        try:
            parts = urlsplit(value)
            ok = (
                parts.scheme in ("http", "https")
                and value.startswith(parts.scheme + "://")
                and is_valid_host(parts.netloc)
            )
        except ValueError:
            ok = False
    if not ok:
        raise ValueError(
            "redirect_to must be a path such as '/login?logout' or an absolute "
            "http(s) URL such as 'https://sso.example.com/logged-out' (printable "
            f"ASCII, no spaces, a host after the scheme); got {value!r}"
        )
    return value


def _param(query: str, name: str) -> str | None:
    """The first value of ``name`` in an urlencoded string (bounded), or ``None``."""
    if len(query) > 65536:
        return None
    try:
        pairs = parse_qsl(query, max_num_fields=100, errors="replace")
    except ValueError:
        return None
    for key, value in pairs:
        if key == name:
            return value
    return None


def form_length(request: Request, max_size: int) -> int:
    """The body bytes to read for a urlencoded form field: its ``Content-Length`` when
    the body is such a form of at most ``max_size`` bytes; ``max_size + 1`` for such a
    form without a ``Content-Length`` whose end the server marks (chunked, HTTP/2:
    :attr:`Request.body_terminated`), so that one too long is seen as such and read
    as no body; else 0 (nothing to read)."""
    content_type = request.header("content-type").split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded" or max_size <= 0:
        return 0
    length = request.header("content-length").strip()
    if not length and request.body_terminated:
        return max_size + 1
    if not _DIGITS.match(length) or not 0 < int(length) <= max_size:
        return 0
    return int(length)


class RedirectPolicy:
    """Where the browser goes after logout, in redirect mode.

    :param redirect_to: the default target: a path (on the request's own host) or an
        absolute http(s) URL.
    :param next_param: the query or form parameter that names where to go next; a
        safe value (:func:`safe_next_url`) wins over ``redirect_to``.
    :param allowed_redirect_hosts: hosts besides the request's own that ``next`` may
        point to.
    :param max_form_size: the largest urlencoded body read for ``next``, in bytes.
    """

    def __init__(
        self,
        redirect_to: str | None,
        *,
        next_param: str = "next",
        allowed_redirect_hosts: Iterable[str] | str = (),
        max_form_size: int = 8192,
    ) -> None:
        if not isinstance(next_param, str) or not next_param:
            raise ValueError(f"next_param must be a non-empty string; got {next_param!r}")
        self.redirect_to = validate_redirect_to(redirect_to) or "/"
        self.next_param = next_param
        self.allowed_hosts = validate_hosts(allowed_redirect_hosts)
        self.max_form_size = byte_count(max_form_size, "max_form_size")

    def body_limit(self, request: Request) -> int:
        """How many body bytes to read for ``next`` (0: none): a urlencoded form of
        at most ``max_form_size`` bytes, when the query string has no ``next``."""
        if _param(request.query, self.next_param) is not None:
            return 0
        return form_length(request, self.max_form_size)

    def location(self, request: Request) -> str | None:
        """The absolute URL to send the browser to, or ``None`` for the JSON answer
        (only when the request names no valid host to build a URL on)."""
        redirect_to = self.redirect_to
        host = request.header("host")
        if not is_valid_host(host):
            host = _server_host(request)
            if not is_valid_host(host):
                return None if redirect_to.startswith("/") else redirect_to
        target = _param(request.query, self.next_param)
        if target is None and request.body:
            target = _param(request.body.decode("latin-1"), self.next_param)
        if target is not None:
            url = safe_next_url(
                target, scheme=request.scheme, host=host, allowed_hosts=self.allowed_hosts
            )
            if url is not None:
                return url
        if redirect_to.startswith("/"):
            return f"{request.scheme}://{host}{redirect_to}"
        return redirect_to


def _server_host(request: Request) -> str:
    host, port = request.server_name or "localhost", request.server_port
    if port and (request.scheme, port) not in (("http", "80"), ("https", "443")):
        host = f"{host}:{port}"
    return host
