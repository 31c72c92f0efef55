"""The cookie expiry: every header that ends the session on the client.

Built once from the settings that concern it: the session cookie, the companion
cookies (``also_expire`` and the double-submit token cookie), the parent domains to
sweep, and ``Clear-Site-Data``. It prebuilds two header lists, one for plain http and
one for https (where ``Secure`` is added and ``Clear-Site-Data`` is sent), so that a
logout answer only picks one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._validation import optional_strings, strings
from .cookies import CookieLike, CookieSpec, cookie_list, to_cookie_spec, validate_domain
from .responses import Header

__all__ = ["CLEAR_SITE_DATA_DIRECTIVES", "CookieExpiry"]

#: The directives ``clear_site_data`` accepts.
CLEAR_SITE_DATA_DIRECTIVES = frozenset(
    {
        "cache",
        "cookies",
        "storage",
        "executionContexts",
        "clientHints",
        "prefetchCache",
        "prerenderCache",
        "*",
    }
)


class CookieExpiry:
    """The ``Set-Cookie`` (and ``Clear-Site-Data``) headers sent on logout.

    :param cookie: the session cookie, as it was set.
    :param also_expire: more cookies to expire: names (which take the session cookie's
        path, domain and flags), mappings of :class:`CookieSpec` arguments, or
        ``CookieSpec`` objects.
    :param sweep_domains: parent domains on which to expire every cookie too.
    :param clear_site_data: ``Clear-Site-Data`` directives, sent on https only.
    """

    def __init__(
        self,
        cookie: CookieSpec,
        also_expire: Iterable[CookieLike] | CookieLike = (),
        sweep_domains: Iterable[str] | str = (),
        clear_site_data: Iterable[str] | str | None = None,
    ) -> None:
        defaults = cookie_defaults(cookie)
        cookies = (
            cookie,
            *(
                to_cookie_spec(c, defaults, "each also_expire entry")
                for c in cookie_list(also_expire, "also_expire")
            ),
        )
        domains = tuple(
            validate_domain(d, "each sweep domain")
            for d in optional_strings(sweep_domains, "sweep_domains")
        )
        plain: list[Header] = []
        https: list[Header] = []
        for spec in cookies:
            for headers, values in zip((plain, https), spec.deletion_headers(domains), strict=True):
                headers.extend(("Set-Cookie", v) for v in values)
        if clear_site_data is not None:
            directives = strings(clear_site_data, "clear_site_data")
            unknown = set(directives) - CLEAR_SITE_DATA_DIRECTIVES
            if unknown:
                raise ValueError(
                    f"unknown clear_site_data directive(s) {sorted(unknown)}; use "
                    f"{sorted(CLEAR_SITE_DATA_DIRECTIVES)}"
                )
            https.append(("Clear-Site-Data", ", ".join(f'"{d}"' for d in directives)))
        #: Every cookie expired on logout, session cookie first.
        self.cookies: tuple[CookieSpec, ...] = cookies
        #: The parent domains swept.
        self.sweep_domains = domains
        self._headers = (tuple(plain), tuple(https))

    def headers(self, https: bool) -> tuple[Header, ...]:
        """The headers for a request over plain http or https."""
        return self._headers[https]


def cookie_defaults(cookie: CookieSpec) -> dict[str, Any]:
    """The attributes a companion cookie named by its name alone takes from ``cookie``."""
    return {
        "path": cookie.path,
        "domain": cookie.domain,
        "secure": cookie.secure,
        "httponly": cookie.httponly,
        "samesite": cookie.samesite,
        "partitioned": cookie.partitioned,
    }
