"""A browser's cookie store: the RFC 6265bis storage model, as Chromium implements it.

:class:`CookieStore` receives ``Set-Cookie`` values for a URL and keeps, replaces,
deletes or refuses cookies by the rules a browser applies:

* a cookie is identified by **name, domain, host-only flag and path**, and by its
  partition key when it is ``Partitioned`` (CHIPS): a header that differs in any of
  them makes another cookie instead of replacing (or deleting) the first;
* ``Domain`` must cover the request host and may not be a public suffix (``com``,
  ``co.uk``, any single label such as ``test``); an IP address or a single-label host
  may only repeat itself, which makes a host-only cookie;
* without a ``Path`` (or with one not starting with ``/``) the cookie gets the
  directory of the URL that set it, once the URL's path is read as the browser reads
  it (``.`` and ``..`` segments resolved, ``\\`` as ``/``, characters such as spaces
  percent-encoded; ``@``, ``:``, ``;`` and the like kept as written);
* an IPv6 host is written in brackets (``[::1]``), as the browser compares it with
  ``Domain``; a host with a trailing dot (``app.example.com.``) is a host of its own,
  whose ``Domain`` must end with the dot too;
* ``Secure`` is refused from plain http, and a cookie without ``Secure`` that arrives
  over plain http may not replace or shadow a ``Secure`` one of the same name, in the
  same partition, whose domain and path overlap it ("strict secure cookies");
* ``SameSite=None`` and ``Partitioned`` need ``Secure``; the prefixes, matched in any
  case: ``__Secure-`` needs ``Secure``; ``__Host-`` needs ``Secure``, no ``Domain`` and
  ``Path=/``; ``__Http-`` needs ``Secure`` and ``HttpOnly``; ``__Host-Http-`` all of those;
* ``Max-Age`` wins over ``Expires``; ``Max-Age <= 0`` or an ``Expires`` in the past
  deletes the cookie with that identity (and stores nothing).

Like Chromium, it counts ``http://localhost``, ``*.localhost`` and loopback addresses
as secure ("potentially trustworthy"): ``Secure`` cookies can be set over plain http
there. To model a real site, use a real host name (the kit's checks do).

Not modelled: SameSite on cross-site requests (the store sees first-party, top-level
navigations), the limits on the number of cookies (eviction), cookies set from
JavaScript, and the full Public Suffix List (:data:`PUBLIC_SUFFIXES` is an excerpt;
pass ``public_suffixes=`` to add yours).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from urllib.parse import quote, urlsplit

from .parsing import SetCookie, parse_set_cookie

__all__ = [
    "PUBLIC_SUFFIXES",
    "CookieStore",
    "Received",
    "StoredCookie",
    "canonical_path",
    "default_path",
    "domain_match",
    "path_match",
    "registrable_domain",
]

#: Multi-label public suffixes the store knows besides every single label (``com``,
#: ``test``): an excerpt of the Public Suffix List.
PUBLIC_SUFFIXES = frozenset(
    {
        "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "ltd.uk", "plc.uk", "net.uk",
        "com.au", "net.au", "org.au", "edu.au", "gov.au", "co.nz", "org.nz",
        "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp", "com.br", "net.br", "org.br",
        "com.cn", "net.cn", "org.cn", "co.in", "net.in", "org.in", "co.za", "org.za",
        "com.mx", "com.ar", "com.tr", "com.tw", "com.hk", "co.kr", "or.kr", "com.sg",
        "github.io", "gitlab.io", "herokuapp.com", "appspot.com", "blogspot.com",
        "cloudfront.net", "azurewebsites.net", "pages.dev", "workers.dev", "netlify.app",
        "vercel.app", "web.app", "firebaseapp.com", "fly.dev", "onrender.com",
        "readthedocs.io", "s3.amazonaws.com",
    }
)  # fmt: skip


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def domain_match(host: str, domain: str) -> bool:
    """Whether ``host`` is ``domain`` or a subdomain of it (never for an IP address)."""
    return host == domain or (host.endswith("." + domain) and not _is_ip(host))


def path_match(request_path: str, cookie_path: str) -> bool:
    """Whether a cookie with ``cookie_path`` is sent to ``request_path``: the same
    path, or one below it (``/studio`` covers ``/studio/x``, not ``/studiox``)."""
    if request_path == cookie_path:
        return True
    return request_path.startswith(cookie_path) and (
        cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    )


def default_path(request_path: str) -> str:
    """The path a cookie set without ``Path`` gets: the directory of the URL's path."""
    if not request_path.startswith("/") or request_path.count("/") == 1:
        return "/"
    return request_path[: request_path.rindex("/")]


#: What a browser percent-encodes in a URL's path (besides controls and non-ASCII).
_PATH_ESCAPED = frozenset(' "<>`{}|^')
_DOT, _DOTDOT = frozenset({".", "%2e"}), frozenset({"..", ".%2e", "%2e.", "%2e%2e"})


def canonical_path(path: str) -> str:
    """A URL's path as a browser reads it before anything else (Chromium's URL
    canonicalizer): ``\\`` is ``/``; controls, spaces, ``"<>`{}|^`` and non-ASCII are
    percent-encoded (UTF-8); ``.`` and ``..`` segments, also written ``%2e``, are
    resolved. Other characters and existing ``%`` escapes are kept as written."""
    path = path.replace("\\", "/")
    if not path.startswith("/"):
        path = "/" + path
    encoded = "".join(
        c if " " < c < "\x7f" and c not in _PATH_ESCAPED else quote(c, safe="", errors="replace")
        for c in path
    )
    segments = encoded.split("/")[1:]
    kept: list[str] = []
    for number, segment in enumerate(segments, 1):
        dots = segment.lower()
        if dots in _DOTDOT and kept:
            kept.pop()
        if dots in _DOT or dots in _DOTDOT:
            if number == len(segments):  # "/a/b/.." is "/a/"
                kept.append("")
        else:
            kept.append(segment)
    return "/" + "/".join(kept)


def registrable_domain(host: str, suffixes: Iterable[str] = PUBLIC_SUFFIXES) -> str | None:
    """The public suffix plus one label (``example.co.uk``), or ``None`` for an IP
    address, a single label, or a host that is itself a public suffix. A host with
    a trailing dot keeps it (``app.example.com.`` gives ``example.com.``)."""
    if host.endswith(".") and not host.endswith(".."):
        found = registrable_domain(host[:-1], suffixes)
        return None if found is None else found + "."
    labels = host.split(".")
    if _is_ip(host) or len(labels) < 2 or not all(labels):
        return None
    known = suffixes if isinstance(suffixes, frozenset) else frozenset(suffixes)
    for i in range(len(labels)):
        if i == len(labels) - 1 or ".".join(labels[i:]) in known:
            return None if i == 0 else ".".join(labels[i - 1 :])
    return None  # pragma: no cover - the loop always returns


@dataclass(frozen=True)
class _Url:
    scheme: str
    host: str
    path: str

    @classmethod
    def parse(cls, url: str) -> _Url:
        """The URL as the browser reads it: an IPv6 host in brackets (``[::1]``, the
        form ``Domain`` is compared with), an IDN host in ASCII, the path
        canonicalized (:func:`canonical_path`)."""
        parts = urlsplit(url)
        host = parts.hostname
        if parts.scheme not in ("http", "https") or not host:
            raise ValueError(
                f"expected an absolute http(s) URL such as 'https://www.example.com/'; got {url!r}"
            )
        if ":" in host:
            try:
                host = f"[{ipaddress.IPv6Address(host.split('%')[0]).compressed}]"
            except ValueError:
                host = f"[{host}]"
        elif not host.isascii():
            host = host.encode("idna").decode("ascii")
        return cls(parts.scheme, host, canonical_path(parts.path))

    @property
    def secure(self) -> bool:
        """https, or a host Chromium trusts over plain http (localhost, loopback)."""
        if self.scheme == "https" or self.host == "localhost" or self.host.endswith(".localhost"):
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False


@dataclass(frozen=True)
class StoredCookie:
    """A cookie as the browser keeps it."""

    name: str
    value: str
    #: The host (host-only) or the ``Domain`` (without a leading dot).
    domain: str
    host_only: bool
    path: str
    secure: bool
    httponly: bool
    #: ``"None"``, ``"Lax"``, ``"Strict"`` or ``"Default"``.
    samesite: str
    #: The top-level site (``https://example.com``) of a partitioned cookie, else ``None``.
    partition_key: str | None
    #: When it expires (seconds since the epoch); ``None`` for a session cookie.
    expires: float | None
    #: The order of creation (a replaced cookie keeps the serial of the one it replaced
    #: when the value is unchanged), which orders cookies of equal path length.
    serial: int = 0
    #: The header that set it.
    source: SetCookie | None = field(default=None, compare=False, repr=False)

    @property
    def identity(self) -> tuple[str, str, bool, str, str | None]:
        """What a new cookie must repeat to replace this one."""
        return (self.name, self.domain, self.host_only, self.path, self.partition_key)

    def describe(self) -> str:
        """``session (Path=/studio, Domain=example.com, Secure)``: its identity in words."""
        parts = [f"Path={self.path}"]
        parts.append(f"host-only on {self.domain}" if self.host_only else f"Domain={self.domain}")
        parts += [
            flag
            for flag, on in (
                ("Secure", self.secure),
                ("Partitioned", self.partition_key is not None),
            )
            if on
        ]
        return f"{self.name or '(nameless)'} ({', '.join(parts)})"


@dataclass(frozen=True)
class Received:
    """What the store did with one ``Set-Cookie`` value."""

    header: str
    #: The header as read, or ``None`` when it could not be read at all.
    parsed: SetCookie | None
    #: The cookie the header describes (also when it expires it, or was refused after
    #: its identity was known), or ``None``.
    cookie: StoredCookie | None
    #: Why the browser ignored the header; ``None`` when it was applied.
    refused: str | None = None
    #: Which rule refused it: ``"unreadable"``, ``"domain"``, ``"secure-over-http"``,
    #: ``"shadows-secure"``, ``"samesite-none"``, ``"partitioned"``, ``"nameless"`` or
    #: ``"prefix"``.
    rule: str | None = None
    #: The cookie of the same identity it replaced or deleted.
    replaced: StoredCookie | None = None

    #: Whether the cookie is in the store afterwards (``False`` for a deletion).
    stored: bool = False

    @property
    def deleted(self) -> bool:
        """Whether it was applied as a deletion: accepted, already expired."""
        return self.refused is None and self.cookie is not None and not self.stored


class CookieStore:
    """A browser's cookie jar for one browsing profile.

    :param clock: the time source (seconds since the epoch), for expiry.
    :param public_suffixes: multi-label public suffixes besides every single label.

    ``store.receive(url, *set_cookie_values)`` applies a response's headers;
    :meth:`cookies` lists what is kept and :meth:`cookie_header` what is sent.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        public_suffixes: Iterable[str] = PUBLIC_SUFFIXES,
    ) -> None:
        self._clock = clock
        self._suffixes = frozenset(public_suffixes) | PUBLIC_SUFFIXES
        self._cookies: dict[tuple[str, str, bool, str, str | None], StoredCookie] = {}
        self._serial = 0

    def receive(self, url: str, *set_cookies: str, top_level: str | None = None) -> list[Received]:
        """Apply ``Set-Cookie`` values received from ``url``, in order.

        :param top_level: the page's URL when ``url`` is not the top-level page (only
            the partition key of a ``Partitioned`` cookie depends on it).
        """
        where = _Url.parse(url)
        top = _Url.parse(top_level) if top_level is not None else where
        return [self._receive(where, top, header) for header in set_cookies]

    def cookies(self) -> list[StoredCookie]:
        """The live cookies, oldest first."""
        now = self._clock()
        live = [c for c in self._cookies.values() if c.expires is None or c.expires > now]
        return sorted(live, key=lambda c: c.serial)

    def cookies_for(self, url: str, *, top_level: str | None = None) -> list[StoredCookie]:
        """The cookies a request to ``url`` carries, in the order of its ``Cookie``
        header (longest path first, then oldest)."""
        where = _Url.parse(url)
        site = self.site(_Url.parse(top_level) if top_level is not None else where)
        sent = [
            c
            for c in self.cookies()
            if (where.host == c.domain if c.host_only else domain_match(where.host, c.domain))
            and path_match(where.path, c.path)
            and (where.secure or not c.secure)
            and c.partition_key in (None, site)
        ]
        return sorted(sent, key=lambda c: (-len(c.path), c.serial))

    def cookie_header(self, url: str, *, top_level: str | None = None) -> str:
        """The ``Cookie`` header a request to ``url`` carries (``""`` for none)."""
        return "; ".join(
            f"{c.name}={c.value}" if c.name else c.value
            for c in self.cookies_for(url, top_level=top_level)
        )

    def site(self, url: _Url) -> str:
        """The site of a URL (scheme and registrable domain): a partition key."""
        return f"{url.scheme}://{registrable_domain(url.host, self._suffixes) or url.host}"

    # -- the storage model -------------------------------------------------------

    def _receive(self, url: _Url, top: _Url, header: str) -> Received:
        try:
            parsed = parse_set_cookie(header)
        except ValueError as exc:
            return Received(header, None, None, f"a browser cannot read it: {exc}", "unreadable")
        now = self._clock()
        domain = self._domain(parsed, url)
        if isinstance(domain, str):
            return Received(header, parsed, None, domain, "domain")
        self._serial += 1
        cookie = StoredCookie(
            parsed.name,
            parsed.value,
            domain[0],
            domain[1],
            parsed.path or default_path(url.path),
            parsed.secure,
            parsed.httponly,
            parsed.samesite,
            self.site(top) if parsed.partitioned else None,
            parsed.expiry(now),
            self._serial,
            parsed,
        )
        refused = _refusal(parsed, url) or self._shadows_secure(cookie, url, now)
        if refused is not None:
            return Received(header, parsed, cookie, refused[1], refused[0])
        old = self._cookies.pop(cookie.identity, None)
        if old is not None and old.value == cookie.value:
            cookie = replace(cookie, serial=old.serial)
        stored = cookie.expires is None or cookie.expires > now
        if stored:
            self._cookies[cookie.identity] = cookie
        return Received(header, parsed, cookie, None, None, old, stored)

    def _domain(self, parsed: SetCookie, url: _Url) -> tuple[str, bool] | str:
        """``(domain, host_only)``, or why the ``Domain`` is refused."""
        wanted = parsed.domain
        if url.host.endswith(".."):
            return (
                f"the host {url.host} ends with an empty label: a browser takes no cookie from it"
            )
        if wanted == ".":
            return "Domain=. names no host: a browser refuses the whole header"
        if not wanted:
            return url.host, True
        own = registrable_domain(url.host, self._suffixes)
        if own is None:
            if wanted == url.host:
                return url.host, True
            return (
                f"Domain={wanted} cannot be set by {url.host}: an IP address, a single-label "
                "host or a public suffix can only set host-only cookies"
            )
        if registrable_domain(wanted, self._suffixes) is None:
            return f"Domain={wanted} is a public suffix: no site may set a cookie on it"
        if registrable_domain(wanted, self._suffixes) != own or not domain_match(url.host, wanted):
            return f"Domain={wanted} does not cover the host {url.host} that sent it"
        return wanted, False

    def _shadows_secure(
        self, cookie: StoredCookie, url: _Url, now: float
    ) -> tuple[str, str] | None:
        if cookie.secure or url.secure:
            return None
        for old in self._cookies.values():
            if (
                old.secure
                and old.name == cookie.name
                and old.partition_key == cookie.partition_key  # one partition at a time
                and (old.expires is None or old.expires > now)
                and (
                    domain_match(old.domain, cookie.domain)
                    or domain_match(cookie.domain, old.domain)
                )
                and path_match(cookie.path, old.path)
            ):
                return "shadows-secure", (
                    f"it came over plain http without Secure, and a Secure cookie {old.describe()} "
                    "exists: a browser never lets plain http replace or shadow a Secure cookie"
                )
        return None


#: The cookie name prefixes, longest first; matched in any case.
_PREFIXES = ("__host-http-", "__host-", "__http-", "__secure-")


def _refusal(parsed: SetCookie, url: _Url) -> tuple[str, str] | None:
    """``(rule, why)`` the browser refuses a cookie whose domain it accepted, or ``None``."""
    if parsed.secure and not url.secure:
        return "secure-over-http", (
            "it has Secure but came over plain http; a browser takes Secure cookies from https only"
        )
    if parsed.samesite == "None" and not parsed.secure:
        return "samesite-none", "it has SameSite=None without Secure; a browser refuses that"
    if parsed.partitioned and not parsed.secure:
        return "partitioned", "it has Partitioned without Secure; a browser refuses that"
    name = parsed.name.lower() or parsed.value.lower()
    if not parsed.name and name.startswith(_PREFIXES):
        return (
            "nameless",
            "a cookie without a name may not have a value starting with a cookie prefix",
        )
    prefix = next((p for p in _PREFIXES if name.startswith(p)), None)
    if prefix is None or not parsed.name:
        return None
    needs = [] if parsed.secure else ["Secure"]
    if "http-" in prefix and not parsed.httponly:
        needs.append("HttpOnly")
    if prefix.startswith("__host-"):
        if parsed.domain:  # Chromium lets an empty Domain pass
            needs.append("no Domain")
        if parsed.written("Path") != "/":
            needs.append("Path=/")
    if needs:
        return "prefix", f"the {parsed.name[: len(prefix)]} prefix needs {', '.join(needs)}"
    return None
