"""Cookie deletion headers that a browser really honours.

A browser replaces a stored cookie only when the new one has the same **name,
domain, host-only flag and path** (RFC 6265bis, storage model); ``Secure`` cookies
cannot be overwritten from plain HTTP, ``SameSite=None`` needs ``Secure``, the
``__Secure-`` and ``__Host-`` prefixes (matched case-insensitively) constrain the
deletion header too, and a partitioned (CHIPS) cookie is deleted only by a header
that says ``Partitioned``. :class:`CookieSpec` validates those rules once, at
construction, and prebuilds the ``Set-Cookie`` values with werkzeug's
:func:`~werkzeug.http.dump_cookie`: empty value, ``Max-Age=0`` and
``Expires=Thu, 01 Jan 1970 00:00:00 GMT``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.http import dump_cookie

from ._validation import flag, printable_path

__all__ = [
    "CookieLike",
    "CookieSpec",
    "to_cookie_spec",
    "validate_domain",
]

# RFC 6265 cookie-name = token (RFC 9110 tchar).
_TOKEN = re.compile(r"\A[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# A Domain attribute: labels of letters, digits, '-' and '_', optional leading dot.
_DOMAIN = re.compile(
    r"\A\.?[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?"
    r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\Z"
)
_SAMESITE = {"strict": "Strict", "lax": "Lax", "none": "None"}


def validate_domain(domain: str, what: str) -> str:
    """Return ``domain`` if it can be a cookie's ``Domain``, else raise ``ValueError``."""
    if not isinstance(domain, str) or not _DOMAIN.match(domain):
        raise ValueError(
            f"{what} must be a host name such as 'example.com' (or None for a "
            f"host-only cookie); got {domain!r}"
        )
    return domain


@dataclass(frozen=True)
class CookieSpec:
    """A cookie to expire on logout, with the attributes it was set with.

    :param name: the cookie's name (an RFC 6265 token).
    :param path: the ``Path`` it was set with; must be the same or the browser keeps it.
    :param domain: the ``Domain`` it was set with, or ``None`` for a host-only cookie.
    :param secure: ``True``/``False`` to force the ``Secure`` flag; ``None`` (default)
        means Secure when the request is https, when the name has a ``__Secure-`` or
        ``__Host-`` prefix, when SameSite is None, or when it is partitioned.
    :param httponly: add ``HttpOnly``.
    :param samesite: ``"Lax"``, ``"Strict"``, ``"None"`` or ``None`` (no attribute).
    :param partitioned: add ``Partitioned`` (CHIPS); implies Secure.

    Raises :class:`ValueError` for a setting a browser would refuse.
    """

    name: str
    path: str = "/"
    domain: str | None = None
    secure: bool | None = None
    httponly: bool = True
    samesite: str | None = "Lax"
    partitioned: bool = False
    #: The prebuilt deletion header values: ``(plain_http, https)``.
    headers: tuple[str, str] = field(init=False, repr=False, compare=False)
    #: Whether those carry ``Secure``: ``(plain_http, https)``.
    secure_by_scheme: tuple[bool, bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        name, what = self.name, "cookie name"
        if not isinstance(name, str) or not name:
            raise ValueError(f"{what} must be a non-empty string; got {name!r}")
        if not _TOKEN.match(name):
            raise ValueError(
                f"{what} {name!r} contains a separator, space or control character; "
                "use letters, digits and !#$%&'*+-.^_`|~ only"
            )
        printable_path(self.path, f"path of cookie {name!r}")
        if self.domain is not None:
            validate_domain(self.domain, f"domain of cookie {name!r}")
        samesite = self.samesite
        if samesite is not None:
            if not isinstance(samesite, str) or samesite.lower() not in _SAMESITE:
                raise ValueError(
                    f"samesite of cookie {name!r} must be 'Lax', 'Strict', 'None' or "
                    f"None (no attribute); got {samesite!r}"
                )
            samesite = _SAMESITE[samesite.lower()]
            object.__setattr__(self, "samesite", samesite)
        if self.secure is not None and not isinstance(self.secure, bool):
            raise ValueError(f"secure of cookie {name!r} must be True, False or None")
        flag(self.httponly, f"httponly of cookie {name!r}")
        flag(self.partitioned, f"partitioned of cookie {name!r}")
        lower = name.lower()
        needs_secure = []
        if lower.startswith("__secure-"):
            needs_secure.append("the __Secure- prefix")
        if lower.startswith("__host-"):
            needs_secure.append("the __Host- prefix")
            if self.domain is not None:
                raise ValueError(
                    f"cookie {name!r} has the __Host- prefix, which forbids a Domain: "
                    "set domain=None"
                )
            if self.path != "/":
                raise ValueError(
                    f"cookie {name!r} has the __Host- prefix, which requires Path=/: "
                    f"set path='/' (got {self.path!r})"
                )
        if samesite == "None":
            needs_secure.append("SameSite=None")
        if self.partitioned:
            needs_secure.append("Partitioned")
        if needs_secure and self.secure is False:
            raise ValueError(
                f"cookie {name!r} needs Secure because of {' and '.join(needs_secure)}: "
                "set secure=True or None, or change the setting that needs it"
            )
        # Whether the header carries Secure on a plain-http and on an https request.
        secure_by_scheme = (bool(needs_secure) or self.secure is True, self.secure is not False)
        object.__setattr__(self, "secure_by_scheme", secure_by_scheme)
        object.__setattr__(
            self, "headers", tuple(self._dump(s, self.domain) for s in secure_by_scheme)
        )

    def _dump(self, secure: bool, domain: str | None) -> str:
        return dump_cookie(
            self.name,
            "",
            max_age=0,
            expires=0,
            path=self.path,
            domain=domain,
            secure=secure,
            httponly=self.httponly,
            samesite=self.samesite,
            partitioned=self.partitioned,
        )

    def deletion_headers(
        self, sweep_domains: Iterable[str] = ()
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Return the ``Set-Cookie`` values that expire this cookie: ``(http, https)``.

        Without ``sweep_domains`` each side holds one value. With it, one value per
        domain: the cookie's own, then host-only, then each listed parent domain, so
        that a copy of the cookie set on any of them dies too. ``__Host-`` cookies
        cannot have a Domain and get no sweep.
        """
        domains: list[str | None] = [self.domain]
        if sweep_domains and not self.name.lower().startswith("__host-"):
            for d in (None, *sweep_domains):
                if d not in domains:
                    domains.append(d)
        plain, https = (tuple(self._dump(s, d) for d in domains) for s in self.secure_by_scheme)
        return plain, https


#: What ``also_expire`` accepts: a name, a :class:`CookieSpec`, or a mapping of its
#: keyword arguments.
CookieLike = str | CookieSpec | Mapping[str, Any]


def to_cookie_spec(
    value: CookieLike, defaults: Mapping[str, Any], what: str = "a cookie"
) -> CookieSpec:
    """Turn a name, a mapping or a :class:`CookieSpec` into a :class:`CookieSpec`.

    A bare name or a mapping takes the missing attributes from ``defaults`` (the
    session cookie's path, domain and flags); ``what`` names the setting in errors.
    """
    if isinstance(value, CookieSpec):
        return value
    if isinstance(value, str):
        return CookieSpec(value, **defaults)
    if isinstance(value, Mapping):
        unknown = set(value) - {
            "name",
            "path",
            "domain",
            "secure",
            "httponly",
            "samesite",
            "partitioned",
        }
        if unknown or "name" not in value:
            raise ValueError(
                f"{what}: a cookie mapping needs 'name' and may have path, domain, secure, "
                f"httponly, samesite, partitioned; got keys {sorted(value)}"
            )
        return CookieSpec(**{**defaults, **value})
    raise ValueError(
        f"{what} must be a cookie name such as 'remember_token', a mapping or a CookieSpec; "
        f"got {value!r}"
    )


def cookie_list(value: Any, what: str) -> tuple[CookieLike, ...]:
    """One cookie (a name, a mapping, a :class:`CookieSpec`) or a list of them."""
    if isinstance(value, (str, CookieSpec, Mapping)):
        return (value,)
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, Iterable):
        raise ValueError(
            f"{what} must be a cookie name, a mapping, a CookieSpec or a list of them, "
            f"such as ['remember_token']; got {value!r}"
        )
    return tuple(value)
