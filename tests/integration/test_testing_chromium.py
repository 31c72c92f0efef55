"""The kit's cookie store against real Chromium, case by case.

Each case is a few steps: a URL and the ``Set-Cookie`` values its response carries
(the login, then the logout). ``N`` in a case stands for a cookie name of its own, so
that many cases can share one browser. The test serves the steps from a real server on
127.0.0.1 (plain http and https with a self-signed certificate; Chromium maps the
``*.example.test`` names there with ``--host-resolver-rules`` and accepts the
certificate with ``--ignore-certificate-errors``), navigates Chromium through them,
and reads back every cookie Chromium kept (CDP ``Network.getAllCookies``) and the
``Cookie`` header it sent with the last step.

* ``TABLE``: hand-written cases with the outcome Chromium gave, recorded. The store
  must give the same outcome (no browser needed), and Chromium must still give it.
* ``matrix()``: login cookies of every path/domain/Secure/prefix/Partitioned/SameSite
  combination, each logged out by a dozen deletion headers (exact, and off by one
  attribute), over http and https. The store must agree with Chromium on every one.

The same table is run through WebTest's jar (``http.cookiejar``) and werkzeug's test
client: ``COOKIEJAR_DIFFERS`` and ``WERKZEUG_DIFFERS`` list the cases where they
disagree with Chromium (docs/testing.rst explains them).

Hosts: ``app.example.test`` (the site), ``www.example.test`` (a sibling),
``example.test`` (the parent); ``localhost`` and ``127.0.0.1`` are the potentially
trustworthy hosts where Chromium takes Secure cookies over plain http.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from chromium_util import launched
from conftest import unavailable

from logout_middleware.testing.store import CookieStore, StoredCookie

EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"
FUTURE = "Thu, 01 Jan 2099 00:00:00 GMT"
APP = "app.example.test"


@dataclass(frozen=True)
class Case:
    id: str
    #: ``(url, set_cookie_values)`` per step; ``N`` is the case's cookie name.
    steps: tuple[tuple[str, tuple[str, ...]], ...]
    #: What Chromium kept, each cookie as :func:`compact` writes it (recorded).
    kept: tuple[str, ...] | None = None
    #: The ``Cookie`` header Chromium sent with the last step (recorded).
    sent: str | None = None


def case(
    id: str, *steps: tuple[str, str | tuple[str, ...]], kept: tuple[str, ...] = (), sent: str = ""
) -> Case:
    return Case(
        id,
        tuple((url, (h,) if isinstance(h, str) else h) for url, h in steps),
        kept,
        sent,
    )


def compact(name: str, value: str, domain: str, path: str, flags: tuple[str, ...]) -> str:
    """``N=1 .example.test/studio Secure``: a leading dot marks a Domain cookie."""
    return " ".join((f"{name}={value}", f"{domain}{path}", *flags))


def stored_compact(cookie: StoredCookie) -> str:
    flags = tuple(
        flag
        for flag, on in (
            ("Secure", cookie.secure),
            ("HttpOnly", cookie.httponly),
            (f"Partitioned({cookie.partition_key})", cookie.partition_key is not None),
            ("persistent", cookie.expires is not None),
        )
        if on
    )
    domain = cookie.domain if cookie.host_only else "." + cookie.domain
    return compact(cookie.name, cookie.value, domain, cookie.path, flags)


def http(path: str, host: str = APP) -> str:
    return f"http://{host}{path}"


def https(path: str, host: str = APP) -> str:
    return f"https://{host}{path}"


# --------------------------------------------------------------------------------------
# The hand-written table. Outcomes: what Chromium kept, and the Cookie header it sent
# with the last step.

TABLE: list[Case] = [
    # -- Path: identity, default path, path-match --------------------------------------
    case(
        "path-exact-deletes",
        (http("/studio/login"), "N=1; Path=/studio"),
        (http("/studio/logout"), "N=; Path=/studio; Max-Age=0"),
        kept=(),
        sent="N=1",
    ),
    case(
        "path-root-deletion-misses-a-studio-cookie",
        (http("/studio/login"), "N=1; Path=/studio"),
        (http("/studio/logout"), "N=; Path=/; Max-Age=0"),
        kept=("N=1 app.example.test/studio",),
        sent="N=1",
    ),
    case(
        "path-trailing-slash-is-another-path",
        (http("/studio/login"), "N=1; Path=/studio/"),
        (http("/studio/logout"), "N=; Path=/studio; Max-Age=0"),
        kept=("N=1 app.example.test/studio/",),
        sent="N=1",
    ),
    case(
        "path-is-case-sensitive",
        (http("/studio/login"), "N=1; Path=/Studio"),
        (http("/Studio/logout"), "N=; Path=/studio; Max-Age=0"),
        kept=("N=1 app.example.test/Studio",),
        sent="N=1",
    ),
    case(
        "default-path-is-the-login-directory",
        (http("/studio/login"), "N=1"),
        (http("/studio/logout"), "N=; Max-Age=0"),
        kept=(),
        sent="N=1",
    ),
    case(
        "default-path-of-a-deep-logout-misses",
        (http("/login"), "N=1"),
        (http("/api/1/security/logout.json"), "N=; Max-Age=0"),
        kept=("N=1 app.example.test/",),
        sent="N=1",
    ),
    case(
        "default-path-of-a-trailing-slash",
        (http("/studio/"), "N=1"),
        (http("/studio/x/logout"), "N=; Path=/studio; Max-Age=0"),
        kept=(),
        sent="N=1",
    ),
    case(
        "path-without-slash-is-the-default",
        (http("/studio/login"), "N=1; Path=studio"),
        (http("/studio/logout"), "N=; Path=/studio; Max-Age=0"),
        kept=(),
        sent="N=1",
    ),
    case(
        "last-path-wins-even-empty",
        (http("/studio/login"), ("Na=1; Path=/x; Path=", "Nb=1; Path=/x; Path=/")),
        (http("/studio/logout"), ()),
        kept=("Na=1 app.example.test/studio", "Nb=1 app.example.test/"),
        sent="Na=1; Nb=1",
    ),
    case(
        "path-prefix-is-not-a-path-match",
        (http("/login"), ("Na=1; Path=/studio", "Nb=1; Path=/studio/")),
        (http("/studiox/logout"), ()),
        kept=("Na=1 app.example.test/studio", "Nb=1 app.example.test/studio/"),
        sent="",
    ),
    case(
        "longest-path-is-sent-first",
        (http("/login"), ("Na=1; Path=/", "Nb=1; Path=/studio", "Nc=1; Path=/studio/api")),
        (http("/studio/api/logout"), ()),
        kept=(
            "Na=1 app.example.test/",
            "Nb=1 app.example.test/studio",
            "Nc=1 app.example.test/studio/api",
        ),
        sent="Nc=1; Nb=1; Na=1",
    ),
    case(
        "a-rewritten-cookie-keeps-its-place-only-with-its-value",
        (http("/login"), ("Na=1", "Nb=1", "Nc=1")),
        (http("/again"), ("Na=1", "Nb=2")),
        (http("/logout"), ()),
        kept=("Na=1 app.example.test/", "Nb=2 app.example.test/", "Nc=1 app.example.test/"),
        sent="Na=1; Nc=1; Nb=2",
    ),
    # -- Domain and the host-only flag -------------------------------------------------
    case(
        "domain-cookie-deleted-with-its-domain",
        (http("/login"), "N=1; Domain=.example.test"),
        (http("/logout"), "N=; Domain=example.test; Max-Age=0"),
        kept=(),
        sent="N=1",
    ),
    case(
        "domain-cookie-survives-a-host-only-deletion",
        (http("/login"), "N=1; Domain=example.test"),
        (http("/logout"), "N=; Max-Age=0"),
        kept=("N=1 .example.test/",),
        sent="N=1",
    ),
    case(
        "host-only-cookie-survives-a-domain-deletion",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Domain=example.test; Max-Age=0"),
        kept=("N=1 app.example.test/",),
        sent="N=1",
    ),
    case(
        "domain-equal-to-the-host-is-not-host-only",
        (http("/login"), "N=1; Domain=app.example.test"),
        (http("/logout"), "N=; Max-Age=0"),
        kept=("N=1 .app.example.test/",),
        sent="N=1",
    ),
    case(
        "domain-cookie-deleted-from-a-sibling",
        (http("/login"), "N=1; Domain=example.test"),
        (http("/logout", "www.example.test"), "N=; Domain=example.test; Max-Age=0"),
        kept=(),
        sent="N=1",
    ),
    case(
        "host-only-cookie-of-another-host-is-untouched",
        (http("/login"), "N=1"),
        (http("/logout", "www.example.test"), "N=; Max-Age=0"),
        kept=("N=1 app.example.test/",),
        sent="",
    ),
    case(
        "domain-is-lower-cased",
        (http("/login"), "N=1; Domain=Example.TEST"),
        (http("/logout"), "N=; Domain=example.test; Max-Age=0"),
        kept=(),
        sent="N=1",
    ),
    case(
        "public-suffix-domain-is-refused",
        (http("/login"), ("Na=1; Domain=test", "Nb=1; Domain=.test")),
        (http("/logout"), ()),
        kept=(),
        sent="",
    ),
    case(
        "foreign-domain-is-refused",
        (http("/login"), ("Na=1; Domain=other.test", "Nb=1; Domain=www.example.test")),
        (http("/logout"), ()),
        kept=(),
        sent="",
    ),
    case(
        "trailing-dot-domain-is-refused",
        (http("/login"), "N=1; Domain=example.test."),
        (http("/logout"), ()),
        kept=(),
        sent="",
    ),
    case(
        "empty-domain-is-host-only-and-the-last-one-wins",
        (http("/login"), ("Na=1; Domain=", "Nb=1; Domain=example.test; Domain=")),
        (http("/logout"), ("Na=; Max-Age=0", "Nb=; Max-Age=0")),
        kept=(),
        sent="Na=1; Nb=1",
    ),
    case(
        "ip-host-may-name-itself-host-only",
        (http("/login", "127.0.0.1"), ("Na=1; Domain=127.0.0.1", "Nb=1; Domain=0.0.1")),
        (http("/logout", "127.0.0.1"), "Na=; Max-Age=0"),
        kept=(),
        sent="Na=1",
    ),
    case(
        "several-cookies-of-one-name-one-deleted",
        (
            http("/studio/login"),
            ("N=host; Path=/", "N=parent; Domain=example.test; Path=/", "N=studio; Path=/studio"),
        ),
        (http("/studio/logout"), "N=; Domain=example.test; Path=/; Max-Age=0"),
        kept=("N=host app.example.test/", "N=studio app.example.test/studio"),
        sent="N=studio; N=host; N=parent",
    ),
    case(
        "several-cookies-of-one-name-all-deleted",
        (
            http("/studio/login"),
            ("N=host; Path=/", "N=parent; Domain=example.test; Path=/", "N=studio; Path=/studio"),
        ),
        (
            http("/studio/logout"),
            (
                "N=; Path=/; Max-Age=0",
                "N=; Domain=example.test; Path=/; Max-Age=0",
                "N=; Path=/studio; Max-Age=0",
            ),
        ),
        kept=(),
        sent="N=studio; N=host; N=parent",
    ),
    # -- Secure ------------------------------------------------------------------------
    case(
        "secure-cookie-refused-over-http",
        (http("/login"), "N=1; Secure"),
        (http("/logout"), ()),
        kept=(),
        sent="",
    ),
    case(
        "secure-cookie-deleted-over-https",
        (https("/login"), "N=1; Secure; Path=/"),
        (https("/logout"), "N=; Secure; Path=/; Max-Age=0"),
        kept=(),
        sent="N=1",
    ),
    case(
        "secure-cookie-deleted-over-https-without-secure",
        (https("/login"), "N=1; Secure; Path=/"),
        (https("/logout"), "N=; Path=/; Max-Age=0"),
        kept=(),
        sent="N=1",
    ),
    case(
        "secure-cookie-survives-a-deletion-over-http",
        (https("/login"), ("Na=1; Secure; Path=/", "Nb=1; Secure; Path=/")),
        (http("/logout"), ("Na=; Path=/; Max-Age=0", "Nb=; Secure; Path=/; Max-Age=0")),
        kept=("Na=1 app.example.test/ Secure", "Nb=1 app.example.test/ Secure"),
        sent="",
    ),
    case(
        "plain-cookie-from-https-deleted-over-http",
        (https("/login"), "N=1; Path=/"),
        (http("/logout"), "N=; Path=/; Max-Age=0"),
        kept=(),
        sent="N=1",
    ),
    case(
        "http-may-not-shadow-a-secure-cookie",
        (
            https("/login"),
            (
                "Na=1; Secure; Path=/studio",
                "Nb=1; Secure; Path=/",
                "Nc=1; Secure; Path=/",
                "Nd=1; Secure; Domain=example.test; Path=/",
            ),
        ),
        (
            http("/logout"),
            ("Na=2; Path=/", "Nb=2; Path=/x", "Nc=2; Domain=example.test", "Nd=2; Path=/"),
        ),
        kept=(
            "Na=1 app.example.test/studio Secure",
            "Na=2 app.example.test/",
            "Nb=1 app.example.test/ Secure",
            "Nc=1 app.example.test/ Secure",
            "Nd=1 .example.test/ Secure",
        ),
        sent="",
    ),
    case(
        "https-replaces-a-secure-cookie-with-a-plain-one",
        (https("/login"), "N=1; Secure; Path=/"),
        (https("/again"), "N=2; Path=/"),
        (http("/logout"), ()),
        kept=("N=2 app.example.test/",),
        sent="N=2",
    ),
    case(
        "localhost-takes-secure-cookies-over-http",
        (http("/login", "localhost"), ("Na=1; Secure", "__Host-Nb=1; Secure; Path=/")),
        (http("/logout", "localhost"), "Na=; Max-Age=0"),
        kept=("__Host-Nb=1 localhost/ Secure",),
        sent="Na=1; __Host-Nb=1",
    ),
    case(
        "loopback-takes-secure-cookies-over-http",
        (http("/login", "127.0.0.1"), "N=1; Secure"),
        (http("/x/logout", "127.0.0.1"), ()),
        kept=("N=1 127.0.0.1/ Secure",),
        sent="N=1",
    ),
    case(
        "dot-localhost-takes-secure-cookies-over-http",
        (http("/login", "app.localhost"), "N=1; Secure; SameSite=None; Partitioned"),
        (http("/logout", "app.localhost"), ()),
        kept=("N=1 app.localhost/ Secure Partitioned(http://app.localhost)",),
        sent="N=1",
    ),
    # -- Prefixes ----------------------------------------------------------------------
    case(
        "secure-prefix-needs-secure-in-any-case",
        (
            https("/login"),
            ("__Secure-Na=1", "__secure-Nb=1", "__SECURE-Nc=1; Secure", "__Secure-Nd=1; Secure"),
        ),
        (https("/logout"), ()),
        kept=("__SECURE-Nc=1 app.example.test/ Secure", "__Secure-Nd=1 app.example.test/ Secure"),
        sent="__SECURE-Nc=1; __Secure-Nd=1",
    ),
    case(
        "secure-prefix-applies-to-the-deletion",
        (https("/login"), ("__Secure-Na=1; Secure", "__Secure-Nb=1; Secure")),
        (https("/logout"), ("__Secure-Na=; Max-Age=0", "__Secure-Nb=; Secure; Max-Age=0")),
        kept=("__Secure-Na=1 app.example.test/ Secure",),
        sent="__Secure-Na=1; __Secure-Nb=1",
    ),
    case(
        "host-prefix-rules-in-any-case",
        (
            https("/studio/login"),
            (
                "__Host-Na=1; Secure; Path=/",
                "__Host-Nb=1; Secure",
                "__Host-Nc=1; Secure; Path=/; Domain=app.example.test",
                "__host-Nd=1; Path=/",
                "__HOST-Ne=1; Secure; Path=/",
                "__Host-Nf=1; Secure; Path=/studio",
                "__Host-Ng=1; Secure; Path=/; Domain=",
            ),
        ),
        (https("/logout"), ()),
        kept=(
            "__HOST-Ne=1 app.example.test/ Secure",
            "__Host-Na=1 app.example.test/ Secure",
            "__Host-Ng=1 app.example.test/ Secure",
        ),
        sent="__Host-Na=1; __HOST-Ne=1; __Host-Ng=1",
    ),
    case(
        "host-prefix-applies-to-the-deletion",
        (https("/login"), ("__Host-Na=1; Secure; Path=/", "__Host-Nb=1; Secure; Path=/")),
        (
            https("/studio/logout"),
            ("__Host-Na=; Secure; Max-Age=0", "__Host-Nb=; Secure; Path=/; Max-Age=0"),
        ),
        kept=("__Host-Na=1 app.example.test/ Secure",),
        sent="__Host-Na=1; __Host-Nb=1",
    ),
    case(
        "http-prefixes-need-httponly-and-secure",
        (
            https("/login"),
            (
                "__Http-Na=1; Secure; HttpOnly",
                "__Http-Nb=1; Secure",
                "__http-Nc=1; Secure",
                "__Http-Nd=1; HttpOnly",
                "__Host-Http-Ne=1; Secure; HttpOnly; Path=/",
                "__Host-Http-Nf=1; Secure; Path=/",
            ),
        ),
        (https("/logout"), ("__Http-Na=; Secure; Max-Age=0",)),
        kept=(
            "__Host-Http-Ne=1 app.example.test/ Secure HttpOnly",
            "__Http-Na=1 app.example.test/ Secure HttpOnly",
        ),
        sent="__Http-Na=1; __Host-Http-Ne=1",
    ),
    case(
        "nameless-cookie-may-not-look-prefixed",
        (https("/login"), ("__Host-N", "=__Secure-N; Secure")),
        (https("/logout"), ()),
        kept=(),
        sent="",
    ),
    # -- Partitioned (CHIPS) -----------------------------------------------------------
    case(
        "partitioned-needs-secure",
        (https("/login"), ("Na=1; Partitioned; Path=/", "Nb=1; Partitioned; Secure; Path=/")),
        (https("/logout"), ()),
        kept=("Nb=1 app.example.test/ Secure Partitioned(https://example.test)",),
        sent="Nb=1",
    ),
    case(
        "partitioned-cookie-deleted-by-a-partitioned-deletion",
        (https("/login"), "N=1; Secure; Partitioned; Path=/"),
        (https("/logout"), "N=; Secure; Partitioned; Path=/; Max-Age=0"),
        kept=(),
        sent="N=1",
    ),
    case(
        "partitioned-cookie-survives-a-plain-deletion",
        (https("/login"), "N=1; Secure; Partitioned; Path=/"),
        (https("/logout"), "N=; Secure; Path=/; Max-Age=0"),
        kept=("N=1 app.example.test/ Secure Partitioned(https://example.test)",),
        sent="N=1",
    ),
    case(
        "plain-cookie-survives-a-partitioned-deletion",
        (https("/login"), "N=1; Secure; Path=/"),
        (https("/logout"), "N=; Secure; Partitioned; Path=/; Max-Age=0"),
        kept=("N=1 app.example.test/ Secure",),
        sent="N=1",
    ),
    case(
        "partitioned-and-plain-of-one-name-live-side-by-side",
        (https("/login"), ("N=plain; Secure; Path=/", "N=part; Secure; Partitioned; Path=/")),
        (https("/logout", "www.example.test"), ()),
        kept=(
            "N=part app.example.test/ Secure Partitioned(https://example.test)",
            "N=plain app.example.test/ Secure",
        ),
        sent="",
    ),
    # -- SameSite and HttpOnly ---------------------------------------------------------
    case(
        "samesite-none-needs-secure",
        (
            https("/login"),
            ("Na=1; SameSite=None", "Nb=1; samesite=none; Secure", "Nc=1; SameSite=Bogus"),
        ),
        (https("/logout"), ()),
        kept=("Nb=1 app.example.test/ Secure", "Nc=1 app.example.test/"),
        sent="Nb=1; Nc=1",
    ),
    case(
        "samesite-and-httponly-are-not-identity",
        (http("/login"), ("Na=1; SameSite=Lax; HttpOnly", "Nb=1; SameSite=Strict")),
        (http("/logout"), ("Na=; SameSite=Strict; Max-Age=0", "Nb=; Max-Age=0; HttpOnly")),
        kept=(),
        sent="Na=1; Nb=1",
    ),
    case(
        "samesite-none-deletion-without-secure-is-refused",
        (https("/login"), "N=1; SameSite=None; Secure; Path=/"),
        (https("/logout"), "N=; SameSite=None; Path=/; Max-Age=0"),
        kept=("N=1 app.example.test/ Secure",),
        sent="N=1",
    ),
    # -- Max-Age and Expires -----------------------------------------------------------
    case(
        "max-age-zero-deletes",
        (http("/login"), ("Na=1", "Nb=1", "Nc=1", "Nd=1")),
        (
            http("/logout"),
            ("Na=; Max-Age=0", "Nb=; Max-Age=-1", "Nc=; Max-Age=-0", "Nd=; Max-Age= 0"),
        ),
        kept=(),
        sent="Na=1; Nb=1; Nc=1; Nd=1",
    ),
    case(
        "max-age-plus-zero-deletes-in-chromium",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Max-Age=+0"),
        kept=(),
        sent="N=1",
    ),
    case(
        "past-expires-deletes-in-every-format",
        (http("/login"), ("Na=1", "Nb=1", "Nc=1", "Nd=1")),
        (
            http("/logout"),
            (
                f"Na=; Expires={EPOCH}",
                "Nb=; Expires=Thursday, 01-Jan-70 00:00:01 GMT",
                "Nc=; Expires=Thu Jan  1 00:00:00 1970",
                "Nd=; expires=Wed, 21 Oct 2015 07:28:00 GMT",
            ),
        ),
        kept=(),
        sent="Na=1; Nb=1; Nc=1; Nd=1",
    ),
    case(
        "max-age-wins-over-expires",
        (http("/login"), ("Na=1", "Nb=1", "Nc=1")),
        (
            http("/logout"),
            (
                f"Na=; Max-Age=60; Expires={EPOCH}",
                f"Nb=; Expires={EPOCH}; Max-Age=60",
                f"Nc=; Max-Age=0; Expires={FUTURE}",
            ),
        ),
        kept=("Na= app.example.test/ persistent", "Nb= app.example.test/ persistent"),
        sent="Na=1; Nb=1; Nc=1",
    ),
    case(
        "unreadable-expiry-leaves-an-empty-cookie",
        (http("/login"), ("Na=1", "Nb=1", "Nc=1", "Nd=1")),
        (
            http("/logout"),
            (
                "Na=; Expires=0",
                "Nb=; Expires=1970-01-01",
                f"Nc=; Max-Age=abc; Expires={EPOCH}",
                "Nd=",
            ),
        ),
        kept=("Na= app.example.test/", "Nb= app.example.test/", "Nd= app.example.test/"),
        sent="Na=1; Nb=1; Nc=1; Nd=1",
    ),
    # -- Names and values --------------------------------------------------------------
    case(
        "names-are-case-sensitive",
        (http("/login"), ("Na=1", "NA=1")),
        (http("/logout"), "NA=; Max-Age=0"),
        kept=("Na=1 app.example.test/",),
        sent="Na=1; NA=1",
    ),
    case(
        "whitespace-around-name-value-and-attributes",
        (http("/studio/login"), ' N = "1 2" ;  Path = /studio ; HttpOnly'),
        (http("/studio/logout"), ()),
        kept=('N="1 2" app.example.test/studio HttpOnly',),
        sent='N="1 2"',
    ),
    case(
        "any-value-deletes",
        (http("/login"), "N=1"),
        (http("/logout"), "N=deleted; Max-Age=0"),
        kept=(),
        sent="N=1",
    ),
]


# --------------------------------------------------------------------------------------
# The generated matrix: every login cookie variant, logged out by each deletion variant.


@dataclass(frozen=True)
class Login:
    prefix: str
    path: str | None
    domain: str | None
    secure: bool
    partitioned: bool
    samesite: str | None
    httponly: bool

    def header(self, value: str = "1", **change: Any) -> str:
        spec = {**self.__dict__, **change}
        parts = [f"{spec['prefix']}N={value}"]
        if spec["path"] is not None:
            parts.append(f"Path={spec['path']}")
        if spec["domain"] is not None:
            parts.append(f"Domain={spec['domain']}")
        for attribute in ("secure", "httponly", "partitioned"):
            if spec[attribute]:
                parts.append(attribute.capitalize().replace("only", "Only"))
        if spec["samesite"] is not None:
            parts.append(f"SameSite={spec['samesite']}")
        return "; ".join(parts)


def logins() -> list[Login]:
    found = []
    samesites = itertools.cycle([None, "Lax", "Strict", "None"])
    for prefix, path, domain, secure, partitioned in itertools.product(
        ["", "__Secure-", "__Host-", "__host-"],
        ["/", "/studio", None],
        [None, "example.test"],
        [False, True],
        [False, True],
    ):
        if not secure and (partitioned or prefix):
            continue
        if prefix.lower() == "__host-" and (path != "/" or domain is not None):
            continue
        samesite = next(samesites)
        if samesite == "None" and not secure:
            samesite = "Lax"
        found.append(
            Login(prefix, path, domain, secure, partitioned, samesite, len(found) % 2 == 0)
        )
    return found


END = f"Max-Age=0; Expires={EPOCH}"
DELETIONS: dict[str, Any] = {
    "exact": lambda login: login.header("") + f"; {END}",
    "no-secure": lambda login: login.header("", secure=False) + f"; {END}",
    "other-path": lambda login: (
        login.header("", path="/studio" if login.path == "/" else "/") + f"; {END}"
    ),
    "no-path": lambda login: login.header("", path=None) + f"; {END}",
    "other-domain": lambda login: (
        login.header("", domain=None if login.domain else "example.test") + f"; {END}"
    ),
    "host-as-domain": lambda login: login.header("", domain=APP) + f"; {END}",
    "partitioned-flipped": lambda login: (
        login.header("", partitioned=not login.partitioned) + f"; {END}"
    ),
    "other-samesite-no-httponly": lambda login: (
        login.header("", samesite="Strict", httponly=False) + f"; {END}"
    ),
    "max-age-only": lambda login: login.header("") + "; Max-Age=0",
    "expires-only": lambda login: login.header("") + f"; Expires={EPOCH}",
    "max-age-beats-expires": lambda login: login.header("") + f"; Max-Age=60; Expires={EPOCH}",
    "no-attributes": lambda login: f"{login.prefix}N=; Max-Age=0",
}


def matrix() -> list[Case]:
    cases = []
    for index, login in enumerate(logins()):
        login_url = (https if login.secure else http)("/studio/login")
        for (name, deletion), logout in itertools.product(
            DELETIONS.items(), [http("/studio/api/logout"), https("/studio/api/logout")]
        ):
            scheme = urlsplit(logout).scheme
            cases.append(
                Case(
                    f"{index}-{name}-{scheme}",
                    ((login_url, (login.header(),)), (logout, (deletion(login),))),
                )
            )
    return cases


# --------------------------------------------------------------------------------------
# Running cases: the kit's store, WebTest's jar, werkzeug's client, and Chromium.


def token(number: int) -> str:
    """The cookie name ``N`` stands for in case ``number``."""
    return f"Q{number}Q"


def own(header: str, number: int) -> str:
    """``header`` with ``N`` in its name and value (not its attributes) made the case's."""
    pair, semicolon, attributes = header.partition(";")
    return pair.replace("N", token(number)) + semicolon + attributes


def outcome(cookies: list[str], sent: str, number: int) -> tuple[tuple[str, ...], str]:
    """Keep a case's own cookies and pairs, with its token written ``N`` again."""
    mine = token(number)
    kept = tuple(sorted(c.replace(mine, "N") for c in cookies if mine in c.split(" ", 1)[0]))
    pairs = [p for p in sent.split("; ") if mine in p]
    return kept, "; ".join(p.replace(mine, "N") for p in pairs)


def in_store(case: Case) -> tuple[tuple[str, ...], str]:
    store = CookieStore()
    sent = ""
    for url, headers in case.steps:
        sent = store.cookie_header(url)
        store.receive(url, *[own(h, 0) for h in headers])
    return outcome([stored_compact(c) for c in store.cookies()], sent, 0)


@pytest.mark.parametrize("case", TABLE, ids=lambda c: c.id)
def test_the_store_keeps_what_chromium_kept(case: Case) -> None:
    assert in_store(case) == (case.kept, case.sent)


def test_the_table_cases_have_distinct_ids_and_names() -> None:
    assert len({c.id for c in TABLE}) == len(TABLE)
    assert len({c.id for c in matrix()}) == len(matrix())
    for c in TABLE:
        for _, headers in c.steps:
            assert all("N" in h for h in headers), c.id


# -- Chromium ---------------------------------------------------------------------------


@dataclass
class Servers:
    ports: dict[str, int]
    #: ``(group, step)`` -> the Set-Cookie values to send.
    plan: dict[tuple[int, int], list[str]]
    #: ``(group, step)`` -> the Cookie header received.
    seen: dict[tuple[int, int], str]

    def url(self, url: str, group: int, step: int) -> str:
        parts = urlsplit(url)
        port = self.ports[parts.scheme]
        return f"{parts.scheme}://{parts.hostname}:{port}{parts.path}?g={group}&s={step}"


def _certificate(directory: Path) -> tuple[str, str]:
    if shutil.which("openssl") is None:
        unavailable(
            "openssl is missing (Debian package openssl): the https cases need a certificate"
        )
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=example.test",
            "-addext", "subjectAltName=DNS:example.test,DNS:*.example.test",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    from werkzeug.serving import make_server

    plan: dict[tuple[int, int], list[str]] = {}
    seen: dict[tuple[int, int], str] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        headers = [("Content-Type", "text/plain"), ("Cache-Control", "no-store")]
        if "g" not in query:
            start_response("404 Not Found", headers)
            return [b""]
        key = (int(query["g"][0]), int(query["s"][0]))
        seen[key] = environ.get("HTTP_COOKIE", "")
        start_response("200 OK", headers + [("Set-Cookie", v) for v in plan.get(key, [])])
        return [b"ok"]

    cert = _certificate(tmp_path_factory.mktemp("tls"))
    running = [
        make_server("127.0.0.1", 0, app, threaded=True),
        make_server("127.0.0.1", 0, app, threaded=True, ssl_context=cert),
    ]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in running]
    for thread in threads:
        thread.start()
    try:
        yield Servers({"http": running[0].port, "https": running[1].port}, plan, seen)
    finally:
        for server, thread in zip(running, threads, strict=True):
            server.shutdown()
            server.server_close()
            thread.join(10)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    rules = "MAP *.example.test 127.0.0.1, MAP example.test 127.0.0.1"
    with launched(rules, "--ignore-certificate-errors") as browser:
        yield browser


#: Cases per browser context: Chromium keeps at most 180 cookies per site.
CHUNK = 60


def in_chromium(
    browser: Any, servers: Servers, cases: list[Case]
) -> dict[str, tuple[tuple[str, ...], str]]:
    """Run ``cases`` in Chromium: cases with the same URLs share a fresh context."""
    groups: dict[tuple[str, ...], list[tuple[int, Case]]] = {}
    for number, c in enumerate(cases, 1):
        groups.setdefault(tuple(url for url, _ in c.steps), []).append((number, c))
    results = {}
    group = 0
    for urls, members in groups.items():
        for start in range(0, len(members), CHUNK):
            chunk = members[start : start + CHUNK]
            group += 1
            for step in range(len(urls)):
                servers.plan[(group, step)] = [
                    own(h, n) for n, c in chunk for h in c.steps[step][1]
                ]
            context = browser.new_context(ignore_https_errors=True)
            try:
                page = context.new_page()
                for step, url in enumerate(urls):
                    page.goto(servers.url(url, group, step))
                cdp = context.new_cdp_session(page)
                cookies = [
                    chromium_compact(c) for c in cdp.send("Network.getAllCookies")["cookies"]
                ]
            finally:
                context.close()
            sent = servers.seen[(group, len(urls) - 1)]
            for number, c in chunk:
                results[c.id] = outcome(cookies, sent, number)
    return results


def chromium_compact(cookie: dict[str, Any]) -> str:
    key = cookie.get("partitionKey")
    flags = tuple(
        flag
        for flag, on in (
            ("Secure", cookie["secure"]),
            ("HttpOnly", cookie["httpOnly"]),
            (f"Partitioned({key and key['topLevelSite']})", key is not None),
            ("persistent", not cookie["session"]),
        )
        if on
    )
    return compact(cookie["name"], cookie["value"], cookie["domain"], cookie["path"], flags)


@pytest.mark.browser
def test_chromium_and_the_store_agree_on_every_case(chromium: Any, servers: Servers) -> None:
    cases = TABLE + matrix()
    seen = in_chromium(chromium, servers, cases)
    differ = {}
    for c in cases:
        mine = in_store(c)
        recorded = None if c.kept is None else (c.kept, c.sent)
        if seen[c.id] != mine or (recorded is not None and recorded != seen[c.id]):
            differ[c.id] = {"chromium": seen[c.id], "store": mine, "recorded": recorded}
    assert not differ, "\n".join(f"{k}: {v}" for k, v in differ.items())


# -- the jars of WebTest (http.cookiejar) and werkzeug's test client ----------------------


class Replay:
    """A WSGI app that answers each request with the next step's ``Set-Cookie`` values
    and records the ``Cookie`` header it got."""

    def __init__(self) -> None:
        self.headers: list[str] = []
        self.sent = ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.sent = environ.get("HTTP_COOKIE", "")
        start_response(
            "200 OK", [("Content-Type", "text/plain")] + [("Set-Cookie", h) for h in self.headers]
        )
        return [b"ok"]


def in_webtest(case: Case) -> tuple[tuple[str, ...], str]:
    import webtest

    replay = Replay()
    client = webtest.TestApp(replay)
    for url, headers in case.steps:
        replay.headers = [own(h, 0) for h in headers]
        client.get(url)
    kept = []
    for c in client.cookiejar:
        flags = (
            ("Secure",) * c.secure
            + ("HttpOnly",) * any(c.has_nonstandard_attr(k) for k in ("HttpOnly", "httponly"))
            + ("persistent",) * (c.expires is not None)
        )
        kept.append(compact(c.name, c.value or "", c.domain, c.path, flags))
    return outcome(kept, replay.sent, 0)


def in_werkzeug(case: Case) -> tuple[tuple[str, ...], str]:
    from werkzeug.test import Client

    replay = Replay()
    client = Client(replay)
    for url, headers in case.steps:
        replay.headers = [own(h, 0) for h in headers]
        parts = urlsplit(url)  # werkzeug's get() drops the scheme and host of a full URL
        try:
            client.get(parts.path, base_url=f"{parts.scheme}://{parts.netloc}")
        except (StopIteration, ValueError) as exc:  # no name, or Max-Age=abc
            return (f"werkzeug raised {type(exc).__name__}",), ""
    kept = []
    for c in client._cookies.values():
        flags = (
            ("Secure",) * bool(c.secure)
            + ("HttpOnly",) * bool(c.http_only)
            + ("persistent",) * (c.expires is not None or c.max_age is not None)
        )
        domain = c.domain if c.origin_only or c.domain.startswith(".") else "." + c.domain
        kept.append(compact(c.key, c.value, domain, c.path, flags))
    return outcome(kept, replay.sent, 0)


#: The table cases where WebTest's jar (``http.cookiejar``, WebTest's policy) does not
#: do what Chromium does. docs/testing.rst sums them up.
COOKIEJAR_DIFFERS = {
    "path-without-slash-is-the-default",
    "last-path-wins-even-empty",
    "a-rewritten-cookie-keeps-its-place-only-with-its-value",
    "empty-domain-is-host-only-and-the-last-one-wins",
    "ip-host-may-name-itself-host-only",
    "secure-cookie-refused-over-http",
    "secure-cookie-survives-a-deletion-over-http",
    "http-may-not-shadow-a-secure-cookie",
    "localhost-takes-secure-cookies-over-http",
    "loopback-takes-secure-cookies-over-http",
    "dot-localhost-takes-secure-cookies-over-http",
    "secure-prefix-needs-secure-in-any-case",
    "secure-prefix-applies-to-the-deletion",
    "host-prefix-rules-in-any-case",
    "http-prefixes-need-httponly-and-secure",
    "nameless-cookie-may-not-look-prefixed",
    "partitioned-needs-secure",
    "partitioned-cookie-survives-a-plain-deletion",
    "plain-cookie-survives-a-partitioned-deletion",
    "partitioned-and-plain-of-one-name-live-side-by-side",
    "samesite-none-needs-secure",
    "samesite-none-deletion-without-secure-is-refused",
    "past-expires-deletes-in-every-format",
    "unreadable-expiry-leaves-an-empty-cookie",
}
#: The same for werkzeug's test client (``werkzeug.test.Client``).
WERKZEUG_DIFFERS = {
    "path-without-slash-is-the-default",
    "longest-path-is-sent-first",
    "a-rewritten-cookie-keeps-its-place-only-with-its-value",
    "domain-cookie-deleted-with-its-domain",
    "domain-equal-to-the-host-is-not-host-only",
    "domain-is-lower-cased",
    "public-suffix-domain-is-refused",
    "foreign-domain-is-refused",
    "trailing-dot-domain-is-refused",
    "ip-host-may-name-itself-host-only",
    "several-cookies-of-one-name-one-deleted",
    "several-cookies-of-one-name-all-deleted",
    "secure-cookie-refused-over-http",
    "secure-cookie-survives-a-deletion-over-http",
    "http-may-not-shadow-a-secure-cookie",
    "dot-localhost-takes-secure-cookies-over-http",
    "secure-prefix-needs-secure-in-any-case",
    "secure-prefix-applies-to-the-deletion",
    "host-prefix-rules-in-any-case",
    "http-prefixes-need-httponly-and-secure",
    "nameless-cookie-may-not-look-prefixed",
    "partitioned-needs-secure",
    "partitioned-cookie-survives-a-plain-deletion",
    "plain-cookie-survives-a-partitioned-deletion",
    "partitioned-and-plain-of-one-name-live-side-by-side",
    "samesite-none-needs-secure",
    "samesite-none-deletion-without-secure-is-refused",
    "max-age-zero-deletes",
    "past-expires-deletes-in-every-format",
    "max-age-wins-over-expires",
    "unreadable-expiry-leaves-an-empty-cookie",
}


@pytest.mark.parametrize(
    ("jar", "documented"),
    [(in_webtest, COOKIEJAR_DIFFERS), (in_werkzeug, WERKZEUG_DIFFERS)],
    ids=["webtest-http.cookiejar", "werkzeug-test-client"],
)
def test_test_client_jars_differ_from_chromium_where_the_docs_say(
    jar: Any, documented: set[str]
) -> None:
    differ = {c.id for c in TABLE if jar(c) != (c.kept, c.sent)}
    assert differ == documented, (
        "the test clients' jars changed: update this set and docs/testing.rst; "
        f"newly different: {sorted(differ - documented)}, "
        f"now agreeing: {sorted(documented - differ)}"
    )
