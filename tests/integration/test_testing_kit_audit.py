"""Audit of the testing kit's verdicts ("the browser drops the cookie" or "keeps it")
against Chromium, by recorded probes and by generated deletion headers.

* ``PROBES``: a login cookie, a logout's ``Set-Cookie`` values, and whether Chromium
  dropped the cookie (recorded). The kit must say the same. A probe's ``was`` records
  the false verdict the kit gave before the audit's fixes, and why (all fixed now).
  The browser test checks that every recording is still what Chromium does.
* ``reference_parse``: an independent reading of ``Set-Cookie`` as Chromium does it
  (the last ``Max-Age``/``Expires`` wins even when unreadable; Chromium's own
  cookie-date parser; ``Domain=.`` is refused), and ``reference_shadows`` (the
  strict-secure check within one partition). The kit's store run with them is the
  reference. Generated deletion headers (attribute order, case and duplicates, paths,
  domains, Secure, prefixes, Partitioned, SameSite, Max-Age/Expires forms) are compared
  kit against reference without a browser, and a sample reference against Chromium.
* WebTest checks of the fixture path (``logout_deletes_cookie``): every cookie the
  login set under the name is checked, and the request URL is read as the browser
  wrote it.
"""

from __future__ import annotations

import calendar
import contextlib
import dataclasses
import random
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from chromium_util import launched
from conftest import unavailable

from logout_middleware.testing import assert_cookie_deleted, parse_set_cookie
from logout_middleware.testing import store as store_module
from logout_middleware.testing.fixtures import logout_deletes_cookie
from logout_middleware.testing.parsing import SetCookie
from logout_middleware.testing.store import CookieStore, StoredCookie

EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"
FUTURE = "Thu, 01 Jan 2099 00:00:00 GMT"
APP = "app.example.test"


def http(path: str, host: str = APP) -> str:
    return f"http://{host}{path}"


def https(path: str, host: str = APP) -> str:
    return f"https://{host}{path}"


# --------------------------------------------------------------------------------------
# The reference: Chromium's reading where the kit's differs (net/cookies/parsed_cookie.cc,
# canonical_cookie.cc ParseExpiration, cookie_util.cc ParseCookieExpirationTime), each
# rule confirmed by a probe below.

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DELIMITERS = re.compile(r"[\t !\"#$%&'()*+,\-./;<=>?@\[\\\]^_`{|}~]+")
_DIGITS = re.compile(r"[0-9]+")


def chromium_date(text: str) -> float | None:
    """Chromium's cookie-date parser (as Chromium 156 on 64-bit Linux behaves, see the
    date probes): a token is a month (text), a time (digits with ``:``: exactly three
    numbers below 2**32, else skipped; the first one counts), a day (digits only,
    <= 2 chars) or a year (digits only, <= 5 chars); digits with letters are nothing;
    years 0-69 and 70-99 are 20xx and 19xx; no lower year limit."""
    hms = day = month = year = None
    for token in filter(None, _DELIMITERS.split(text)):
        if not "0" <= token[0] <= "9":
            if month is None and token[:3].isascii() and token[:3].lower() in _MONTHS:
                month = _MONTHS.index(token[:3].lower()) + 1
        elif ":" in token:
            parts = token.split(":")
            if (
                hms is None
                and len(parts) == 3
                and all(p.isascii() and p.isdigit() and int(p) < 2**32 for p in parts)
            ):
                hms = tuple(int(p) for p in parts)
        elif not _DIGITS.fullmatch(token):
            continue
        elif day is None and len(token) <= 2:
            day = int(token)
        elif year is None and len(token) <= 5:
            year = int(token)
    if hms is None or day is None or month is None or year is None:
        return None
    year += 1900 if 70 <= year <= 99 else 2000 if year <= 69 else 0
    hour, minute, second = hms
    if hour > 23 or minute > 59 or second > 59:
        return None
    if year > 9999:
        return float("inf")
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    return float(calendar.timegm((year, month, day, hour, minute, second)))


def _last(parsed: SetCookie, name: str) -> str | None:
    found = None
    for key, value in parsed.attributes:
        if key.lower() == name:
            found = value
    return found


def chromium_max_age(text: str) -> int | None:
    """base::StringToInt64 as ParseExpiration uses it: a perfect conversion, or a
    saturated one (the digits overflow 64 bits before anything else goes wrong)."""
    match = re.match(r"([+-]?)([0-9]+)", text)
    if match is None:
        return None
    value = int(match.group(1) + match.group(2))
    if not -(2**63) <= value < 2**63:
        return max(-(2**63), min(value, 2**63 - 1))
    return value if match.end() == len(text) else None


def reference_parse(header: str) -> SetCookie:
    """The kit's reading, with Chromium's rules for Max-Age, Expires and ``Domain=.``."""
    parsed = parse_set_cookie(header)
    max_age = _last(parsed, "max-age")
    expires = _last(parsed, "expires")
    domain = _last(parsed, "domain")
    return dataclasses.replace(
        parsed,
        max_age=None if max_age is None else chromium_max_age(max_age),
        expires=None if expires is None else chromium_date(expires),
        domain="." if domain == "." else parsed.domain,
    )


_SHADOWS = CookieStore._shadows_secure


def reference_shadows(
    self: CookieStore, cookie: StoredCookie, url: Any, now: float
) -> tuple[str, str] | None:
    """Chromium's strict-secure check compares only cookies of the same partition
    (CanonicalCookie::IsEquivalentForSecureCookieMatching)."""
    saved = self._cookies  # type: ignore[attr-defined]
    self._cookies = {  # type: ignore[attr-defined]
        k: c for k, c in saved.items() if c.partition_key == cookie.partition_key
    }
    try:
        return _SHADOWS(self, cookie, url, now)
    finally:
        self._cookies = saved  # type: ignore[attr-defined]


@contextlib.contextmanager
def reference() -> Iterator[None]:
    with (
        mock.patch.object(store_module, "parse_set_cookie", reference_parse),
        mock.patch.object(CookieStore, "_shadows_secure", reference_shadows),
    ):
        yield


def compact(cookie: StoredCookie) -> tuple[Any, ...]:
    domain = cookie.domain if cookie.host_only else "." + cookie.domain
    return (
        cookie.name,
        cookie.value,
        domain,
        cookie.path,
        cookie.secure,
        cookie.httponly,
        cookie.partition_key is not None,
        cookie.expires is not None,
    )


def chromium_compact(cookie: dict[str, Any]) -> tuple[Any, ...]:
    return (
        cookie["name"],
        cookie["value"],
        cookie["domain"],
        cookie["path"],
        cookie["secure"],
        cookie["httpOnly"],
        cookie.get("partitionKey") is not None,
        not cookie["session"],
    )


# --------------------------------------------------------------------------------------
# Probes: one login (its cookie with the value 1 is watched), one logout.


@dataclass(frozen=True)
class Probe:
    id: str
    login_url: str
    login: tuple[str, ...]
    logout_url: str
    logout: tuple[str, ...]
    #: Whether Chromium dropped the watched cookie (recorded).
    chromium_drops: bool
    #: The kit's false verdict before the audit's fixes, and its cause (fixed).
    was: str | None = None


def probe(
    id: str,
    login: tuple[str, str | tuple[str, ...]],
    logout: tuple[str, str],
    drops: bool,
    was: str | None = None,
) -> Probe:
    headers = (login[1],) if isinstance(login[1], str) else login[1]
    return Probe(id, login[0], headers, logout[0], (logout[1],), drops, was)


LAST_WINS = (
    "Chromium takes the last {a} even when unreadable (then {then}); the kit kept the last "
    "readable one (parsing.py skipped an unreadable value)"
)
DATE = "cookie_date followed RFC 6265 5.1.1, Chromium its own parser ({why})"
V6 = (
    "_Url.parse kept urlsplit().hostname, which drops an IPv6 host's brackets, so Domain "
    "was compared with '::1', not '[::1]' as Chromium does"
)

PROBES = [
    # -- (a) the kit said "dropped", Chromium keeps the cookie ----------------------------
    probe(
        "max-age-0-then-invalid-max-age-keeps",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Max-Age=0; Max-Age=abc"),
        False,
        LAST_WINS.format(a="Max-Age", then="no expiry: a session cookie N=''"),
    ),
    probe(
        "max-age-0-then-empty-max-age-keeps",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Max-Age=0; Max-Age="),
        False,
        LAST_WINS.format(a="Max-Age", then="no expiry: a session cookie N=''"),
    ),
    probe(
        "past-expires-then-unreadable-expires-keeps",
        (http("/login"), "N=1"),
        (http("/logout"), f"N=; Expires={EPOCH}; Expires=garbage"),
        False,
        LAST_WINS.format(a="Expires", then="a session cookie N=''"),
    ),
    probe(
        "past-expires-then-empty-expires-keeps",
        (http("/login"), "N=1"),
        (http("/logout"), f"N=; Expires={EPOCH}; Expires="),
        False,
        LAST_WINS.format(a="Expires", then="a session cookie N=''"),
    ),
    probe(
        "domain-dot-deletion-is-refused",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Domain=.; Max-Age=0"),
        False,
        "Domain=. : the kit stripped the dot and read an empty Domain (host-only); Chromium "
        "canonicalizes '.' and refuses the whole header, so the deletion never applies",
    ),
    probe(
        "domain-dot-host-prefix-deletion-is-refused",
        (https("/login"), "__Host-N=1; Secure; Path=/"),
        (https("/logout"), "__Host-N=; Secure; Path=/; Domain=.; Max-Age=0"),
        False,
        "Domain=. read as host-only also passed the __Host- rule; Chromium refuses the header",
    ),
    probe(
        "year-token-longer-than-5-chars-is-no-year",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Expires=Thu, 01 Jan 1970GMT 00:00:00"),
        False,
        DATE.format(why="a numeric token over 5 chars is never the year"),
    ),
    probe(
        "a-second-time-token-is-no-day",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Expires=Jan 00:00:00 1970 01:00:00"),
        False,
        DATE.format(why="a token with ':' is only ever a time; the kit read '01:00:00' as day 1"),
    ),
    probe(
        "ipv6-domain-without-brackets-is-refused",
        ("http://[::1]/login", "N=1"),
        ("http://[::1]/logout", "N=; Domain=::1; Max-Age=0"),
        False,
        V6 + ": the kit took Domain=::1 as host-only, Chromium refuses the header",
    ),
    # -- (b) the kit said "kept", Chromium drops the cookie -------------------------------
    probe(
        "invalid-last-max-age-falls-back-to-expires",
        (http("/login"), "N=1"),
        (http("/logout"), f"N=; Max-Age=60; Max-Age=abc; Expires={EPOCH}"),
        True,
        LAST_WINS.format(a="Max-Age", then="Expires decides: deleted"),
    ),
    probe(
        "year-1600-deletes",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Expires=Thu, 01 Jan 1600 00:00:00 GMT"),
        True,
        DATE.format(why="no year < 1601 limit on 64-bit Linux"),
    ),
    probe(
        "three-digit-year-deletes",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Expires=Thu, 01 Jan 100 00:00:00 GMT"),
        True,
        DATE.format(why="no year < 1601 limit on 64-bit Linux"),
    ),
    probe(
        "one-digit-year-deletes",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Expires=Thu, 01 Jan 9 00:00:00 GMT"),
        True,
        DATE.format(why="a 1-char numeric token after the day is the year, 9 -> 2009"),
    ),
    probe(
        "five-digit-year-deletes",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Expires=Thu, 01 Jan 01970 00:00:00 GMT"),
        True,
        DATE.format(why="a year token may have 5 chars"),
    ),
    probe(
        "three-digit-seconds-deletes",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Expires=Thu, 01 Jan 1970 00:00:000 GMT"),
        True,
        DATE.format(why="sscanf %2u:%2u:%2u ignores what follows the seconds"),
    ),
    probe(
        "dot-segment-logout-url-default-path",
        (http("/login"), "N=1; Path=/studio"),
        (http("/studio/./logout"), "N=; Max-Age=0"),
        True,
        "the store took the URL path as written; Chromium canonicalizes "
        "/studio/./logout to /studio/logout, whose default path /studio is the cookie's",
    ),
    probe(
        "trailing-dot-host-takes-its-trailing-dot-domain",
        (http("/login", APP + "."), "N=1; Domain=example.test."),
        (http("/logout", APP + "."), "N=; Domain=example.test.; Max-Age=0"),
        True,
        "registrable_domain was None for a host with a trailing dot, so the login cookie was "
        "refused ('would not even store'); Chromium stores .example.test. and the deletion "
        "drops it",
    ),
    probe(
        "ipv6-bracketed-domain-is-host-only",
        ("http://[::1]/login", "N=1; Domain=[::1]"),
        ("http://[::1]/logout", "N=; Domain=[::1]; Max-Age=0"),
        True,
        V6 + ": the kit refused the login cookie, Chromium stores it host-only and drops it",
    ),
    # -- agreements: coverage ------------------------------------------------------------
    probe(
        "invalid-then-valid-max-age-deletes",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Max-Age=abc; Max-Age=0"),
        True,
    ),
    probe(
        "overlong-max-age-is-ignored",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Max-Age=0; Max-Age=" + "1" * 1100),
        True,
    ),
    probe(
        "control-character-in-an-attribute-voids-the-header",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Max-Age=0; X=\x01"),
        False,
    ),
    probe(
        "del-character-in-an-attribute-voids-the-header",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Max-Age=0; X=\x7f"),
        False,
    ),
    probe(
        "quoted-expires-deletes",
        (http("/login"), "N=1"),
        (http("/logout"), f'N=; Expires="{EPOCH}"'),
        True,
    ),
    probe(
        "net-0001-year-is-2001",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; expires=Mon, 01-Jan-0001 00:00:00 GMT"),
        True,
    ),
    probe(
        "samesite-none-then-lax-without-secure-deletes",
        (https("/login"), "N=1; Secure; SameSite=None"),
        (https("/logout"), "N=; Max-Age=0; SameSite=None; SameSite=Lax"),
        True,
    ),
    probe(
        "reserved-characters-in-the-path",
        (http("/login"), "N=1; Path=/@studio"),
        (http("/@studio/logout"), "N=; Max-Age=0"),
        True,
    ),
    probe(
        "two-cookies-of-one-name-one-deleted",
        (http("/login"), ("N=1; Path=/", "N=2; Path=/studio")),
        (http("/studio/logout"), "N=; Path=/studio; Max-Age=0"),
        False,
    ),
    probe(
        "trailing-dot-host-is-another-host",
        (http("/login", APP + "."), "N=1"),
        (http("/logout"), "N=; Max-Age=0"),
        False,
    ),
    # -- found while fixing: more of each defect's class ---------------------------------
    probe(
        "max-age-overflow-saturates-even-with-a-tail",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Max-Age=-99999999999999999999x"),
        True,
    ),
    probe(
        "max-age-with-a-tail-falls-back-to-expires",
        (http("/login"), "N=1"),
        (http("/logout"), f"N=; Max-Age=5x; Expires={EPOCH}"),
        True,
    ),
    probe(
        "year-token-with-letters-is-no-year",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Expires=Thu, 01 Jan 1970a 00:00:00"),
        False,
    ),
    probe(
        "day-token-with-letters-is-skipped",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Expires=Thu, 5a 01 Jan 2099 00:00:00"),
        False,
    ),
    probe(
        "year-token-with-letters-is-skipped",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Expires=Thu, 01 Jan 2099a 1970 00:00:00"),
        True,
    ),
    probe(
        "time-with-a-tail-is-no-time",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Expires=Thu, 01 Jan 1970 00:00:00x GMT"),
        False,
    ),
    probe(
        "a-malformed-time-is-skipped",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Expires=Thu, 01 Jan 1970 0x:00:00 00:00:00"),
        True,
    ),
    probe(
        "four-part-time-is-skipped",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Expires=Thu, 01 Jan 1970 00:00:00:00 00:00:00"),
        True,
    ),
    probe(
        "time-numbers-of-any-length",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Expires=Thu, 01 Jan 1970 000:00:0000000"),
        True,
    ),
    probe(
        "a-time-number-over-32-bits-is-skipped",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Expires=Thu, 01 Jan 1970 00:00:4294967296 00:00:00"),
        True,
    ),
    probe(
        "the-first-time-counts-even-out-of-range",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Expires=Thu, 01 Jan 1970 00:00:2147483648 00:00:00"),
        False,
    ),
    probe(
        "second-60-is-no-date",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Expires=Thu, 01 Jan 1970 00:00:60 GMT"),
        False,
    ),
    probe(
        "dot-segment-dot-dot-logout-url-default-path",
        (http("/login"), "N=1; Path=/studio"),
        (http("/studio/x/../logout"), "N=; Max-Age=0"),
        True,
    ),
    probe(
        "dot-segment-escaped-logout-url-default-path",
        (http("/login"), "N=1; Path=/studio"),
        (http("/studio/%2e/logout"), "N=; Max-Age=0"),
        True,
    ),
    probe(
        "dot-segment-space-in-the-logout-url-is-percent-encoded",
        (http("/login"), "N=1; Path=/a%20b"),
        (http("/a b/logout"), "N=; Max-Age=0"),
        True,
    ),
    probe(
        "dot-segment-pipe-in-the-logout-url-is-percent-encoded",
        (http("/login"), "N=1; Path=/a%7Cb"),
        (http("/a|b/logout"), "N=; Max-Age=0"),
        True,
    ),
    probe(
        "trailing-dot-host-refuses-a-domain-without-the-dot",
        (http("/login", APP + "."), "N=1"),
        (http("/logout", APP + "."), "N=; Domain=example.test; Max-Age=0"),
        False,
    ),
    probe(
        "trailing-dot-domain-does-not-cover-the-plain-host",
        (http("/login"), "N=1; Domain=example.test"),
        (http("/logout"), "N=; Domain=example.test.; Max-Age=0"),
        False,
    ),
    probe(
        "trailing-dot-host-its-own-domain",
        (http("/login", APP + "."), "N=1; Domain=app.example.test."),
        (http("/logout", APP + "."), "N=; Domain=.app.example.test.; Max-Age=0"),
        True,
    ),
    probe(
        "ipv6-dotted-bracketed-domain-is-host-only",
        ("http://[::1]/login", "N=1"),
        ("http://[::1]/logout", "N=; Domain=.[::1]; Max-Age=0"),
        True,
    ),
    probe(
        "ipv6-domain-in-another-spelling-is-refused",
        ("http://[::1]/login", "N=1"),
        ("http://[::1]/logout", "N=; Domain=[0:0::1]; Max-Age=0"),
        False,
    ),
    probe(
        "domain-dot-dot-is-refused",
        (http("/login"), "N=1"),
        (http("/logout"), "N=; Domain=..; Max-Age=0"),
        False,
    ),
]


def kit_drops(p: Probe) -> bool:
    """The kit's verdict: ``assert_cookie_deleted`` passes (or, with several login
    cookies, the watched one is gone from the kit's store)."""
    deletions = [("Set-Cookie", h) for h in p.logout]
    if len(p.login) == 1:
        try:
            assert_cookie_deleted(p.login[0], deletions, url=p.logout_url, login_url=p.login_url)
        except AssertionError:
            return False
        return True
    store = CookieStore()
    store.receive(p.login_url, *p.login)
    (watched,) = [c for c in store.cookies() if c.value == "1"]
    store.receive(p.logout_url, *p.logout)
    return all(c.identity != watched.identity for c in store.cookies())


@pytest.mark.parametrize("p", PROBES, ids=lambda p: p.id)
def test_the_kit_gives_chromiums_verdict(p: Probe) -> None:
    assert kit_drops(p) == p.chromium_drops


def test_the_reference_gives_chromiums_verdict_on_the_parsing_probes() -> None:
    """The reference rules explain every parsing probe (not the URL and host ones)."""
    outside = {"dot-segment", "trailing-dot", "ipv6", "two-cookies"}
    with reference():
        wrong = [
            p.id
            for p in PROBES
            if not any(p.id.startswith(o) for o in outside) and kit_drops(p) != p.chromium_drops
        ]
    assert wrong == []


# --------------------------------------------------------------------------------------
# Generated deletion headers.

LOGINS = [
    (http("/studio/login"), "N=1"),
    (http("/login"), "N=1; Path=/"),
    (http("/login"), "N=1; Path=/studio; HttpOnly"),
    (http("/login"), "N=1; Domain=example.test; Path=/"),
    (https("/login"), "N=1; Secure; Path=/; SameSite=Lax"),
    (https("/login"), "__Host-N=1; Secure; Path=/"),
    (https("/login"), "__Secure-N=1; Secure; Path=/; Domain=example.test"),
    (https("/login"), "N=1; Secure; Partitioned; Path=/; SameSite=None"),
]
POOLS: dict[str, list[str | None]] = {
    "Path": ["/", "/studio", "/studio/", "", "studio", "/Studio"],
    "Domain": ["example.test", ".example.test", "EXAMPLE.TEST", "", ".", APP, "other.test",
               "..example.test"],
    "Secure": [None],
    "HttpOnly": [None],
    "Partitioned": [None],
    "SameSite": ["None", "Lax", "Strict", "bogus", ""],
    "Max-Age": ["0", "-1", "+0", "60", "abc", "", "00", "-0", "1e3", "0.5"],
    "Expires": [EPOCH, "Thursday, 01-Jan-70 00:00:01 GMT", "Thu Jan  1 00:00:00 1970", FUTURE,
                "garbage", "", "Thu, 01 Jan 1600 00:00:00 GMT", "Thu, 01 Jan 9 00:00:00 GMT",
                "01 Jan 01970 00:00:00", "Thu, 01 Jan 1970 00:00:000 GMT",
                "Thu, 01 Jan 1970GMT 00:00:00", "Feb 30 2000 00:00:00", "1 jan 2000 24:00:00",
                "Jan 00:00:00 1970 01:00:00", "Mon, 01-Jan-0001 00:00:00 GMT"],
}  # fmt: skip
VALUES = ["", "deleted", '""']
LOGOUTS = [http("/studio/logout"), https("/studio/logout"), http("/logout"), https("/logout")]


def _case(word: str, rng: random.Random) -> str:
    return rng.choice([word, word.lower(), word.upper()])


def generated(seed: int, count: int) -> list[Probe]:
    """Deletions of the login cookie: its name, attributes drawn with repetition, in any
    order and case, over http and https; ``chromium_drops`` is unknown (False)."""
    rng = random.Random(seed)
    cases = []
    for number in range(count):
        login_url, login = rng.choice(LOGINS)
        name = login.split("=", 1)[0]
        parts = [name + "=" + rng.choice(VALUES)]
        for _ in range(rng.randint(0, 6)):
            key = rng.choice(list(POOLS))
            value = rng.choice(POOLS[key])
            space = rng.choice(["", " "])
            word = _case(key, rng)
            parts.append(word if value is None else f"{word}{space}={space}{value}")
        cases.append(
            Probe(
                f"g{number}", login_url, (login,), rng.choice(LOGOUTS), ("; ".join(parts),), False
            )
        )
    return cases


def outcome(p: Probe) -> tuple[tuple[Any, ...], ...]:
    """What the store keeps after the login and the logout."""
    store = CookieStore()
    store.receive(p.login_url, *p.login)
    store.receive(p.logout_url, *p.logout)
    return tuple(sorted(compact(c) for c in store.cookies()))


def test_generated_deletions_the_kit_agrees_with_the_reference() -> None:
    differ = []
    for p in generated(6265, 3000):
        mine = outcome(p)
        with reference():
            theirs = outcome(p)
        if mine != theirs:
            differ.append((p.login[0], p.logout_url, p.logout[0], mine, theirs))
    assert differ == [], f"{len(differ)} differ, e.g. {differ[:5]}"


def test_a_plain_http_cookie_beside_a_partitioned_secure_one_is_stored() -> None:
    """Chromium's strict-secure check compares cookies of one partition only
    (IsEquivalentForSecureCookieMatching; seen in
    test_the_reference_matches_chromium_on_generated_deletions): the store used to refuse
    this cookie as shadowing the Secure one."""
    store = CookieStore()
    store.receive(https("/login"), "N=1; Secure; Partitioned; Path=/; SameSite=None")
    (result,) = store.receive(http("/studio/logout"), 'N=""')
    assert result.refused is None
    assert store.cookie_header(http("/studio/x")) == 'N=""'


# --------------------------------------------------------------------------------------
# The fixture path: WebTest responses.


def _webtest_app(routes: dict[str, list[str]]) -> Any:
    webtest = pytest.importorskip("webtest")

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        cookies = routes.get(environ["PATH_INFO"], [])
        start_response(
            "200 OK", [("Content-Type", "text/plain")] + [("Set-Cookie", c) for c in cookies]
        )
        return [b"ok"]

    return webtest.TestApp(app)


def test_the_fixture_checks_every_cookie_the_login_set_under_the_name() -> None:
    """Login sets sid on Path=/ and on Path=/app, the logout deletes only /app: Chromium
    keeps sid on / (probe two-cookies-of-one-name-one-deleted). The fixture used to take
    the last sid only, and said "dropped"."""
    app = _webtest_app(
        {
            "/login": ["sid=1; Path=/", "sid=1; Path=/app"],
            "/app/logout": [f"sid=; Path=/app; Max-Age=0; Expires={EPOCH}"],
        }
    )
    login, logout = app.post("/login"), app.post("/app/logout")
    with pytest.raises(AssertionError, match=r"2 cookies named 'sid'.*1 outlive") as raised:
        logout_deletes_cookie(login, logout, "sid")
    survivors = str(raised.value).split("outlive the logout:")[1]
    assert "sid (Path=/, host-only" in survivors and "sid (Path=/app" not in survivors


def test_the_fixture_passes_when_every_cookie_of_the_name_is_dropped() -> None:
    app = _webtest_app(
        {
            "/login": ["sid=old; Path=/old; Max-Age=0", "sid=1; Path=/", "sid=1; Path=/app"],
            "/app/logout": [
                f"sid=; Path=/app; Max-Age=0; Expires={EPOCH}",
                f"sid=; Path=/; Max-Age=0; Expires={EPOCH}",
            ],
        }
    )
    logout_deletes_cookie(app.post("/login"), app.post("/app/logout"), "sid")


def test_the_fixture_reads_the_logout_url_as_the_browser_does() -> None:
    """Logout at /@studio/logout without Path, cookie Path=/@studio: Chromium keeps '@'
    and drops the cookie (probe reserved-characters-in-the-path). request_url used
    wsgiref's request_uri, which percent-quotes '@', and the kit said "kept"."""
    app = _webtest_app(
        {
            "/@studio/login": ["sid=1; Path=/@studio"],
            "/@studio/logout": [f"sid=; Max-Age=0; Expires={EPOCH}"],
        }
    )
    login, logout = app.post("/@studio/login"), app.post("/@studio/logout")
    logout_deletes_cookie(login, logout, "sid")


def test_the_fixture_resolves_dot_segments_in_the_logout_url() -> None:
    app = _webtest_app(
        {
            "/studio/login": ["sid=1"],
            "/studio/x/../logout": [f"sid=; Max-Age=0; Expires={EPOCH}"],
        }
    )
    login, logout = app.post("/studio/login"), app.post("/studio/x/../logout")
    logout_deletes_cookie(login, logout, "sid")


# --------------------------------------------------------------------------------------
# Chromium.


def token(number: int) -> str:
    return f"Z{number}Z"


def own(header: str, number: int) -> str:
    pair, semicolon, attributes = header.partition(";")
    return pair.replace("N", token(number)) + semicolon + attributes


@dataclass
class Servers:
    #: ``(scheme, ipv6)`` -> port.
    ports: dict[tuple[str, bool], int]
    plan: dict[tuple[int, int], list[str]]

    def url(self, url: str, group: int, step: int) -> str:
        parts = urlsplit(url)
        host = parts.hostname or ""
        ipv6 = ":" in host
        port = self.ports[(parts.scheme, ipv6)]
        host = f"[{host}]" if ipv6 else host
        return f"{parts.scheme}://{host}:{port}{parts.path}?g={group}&s={step}"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    from werkzeug.serving import make_server

    plan: dict[tuple[int, int], list[str]] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        headers = [("Content-Type", "text/plain"), ("Cache-Control", "no-store")]
        key = (int(query.get("g", ["0"])[0]), int(query.get("s", ["0"])[0]))
        start_response("200 OK", headers + [("Set-Cookie", v) for v in plan.get(key, [])])
        return [b"ok"]

    if shutil.which("openssl") is None:
        unavailable("openssl is missing: the https probes need a certificate")
    directory: Path = tmp_path_factory.mktemp("tls")
    cert, key = str(directory / "cert.pem"), str(directory / "key.pem")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", key, "-out", cert, "-subj", "/CN=example.test",
            "-addext", "subjectAltName=DNS:example.test,DNS:*.example.test",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    running = {
        ("http", False): make_server("127.0.0.1", 0, app, threaded=True),
        ("https", False): make_server("127.0.0.1", 0, app, threaded=True, ssl_context=(cert, key)),
    }
    if socket.has_ipv6:
        with contextlib.suppress(OSError):
            running[("http", True)] = make_server("::1", 0, app, threaded=True)
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in running.values()]
    for thread in threads:
        thread.start()
    try:
        yield Servers({k: s.port for k, s in running.items()}, plan)
    finally:
        for server, thread in zip(running.values(), threads, strict=True):
            server.shutdown()
            server.server_close()
            thread.join(10)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    rules = ", ".join(
        f"MAP {h} 127.0.0.1"
        for h in ("*.example.test", "example.test", "*.example.test.", "example.test.")
    )
    with launched(rules, "--ignore-certificate-errors") as browser:
        yield browser


#: Cases per browser context: Chromium keeps at most 180 cookies per site.
CHUNK = 50


def in_chromium(
    browser: Any, servers: Servers, probes: list[Probe]
) -> dict[str, tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Each probe's own cookies after its login and after its logout, in Chromium."""
    groups: dict[tuple[str, str], list[tuple[int, Probe]]] = {}
    for number, p in enumerate(probes, 1):
        groups.setdefault((p.login_url, p.logout_url), []).append((number, p))
    results = {}
    group = 0
    for urls, members in groups.items():
        for start in range(0, len(members), CHUNK):
            chunk = members[start : start + CHUNK]
            group += 1
            servers.plan[(group, 0)] = [own(h, n) for n, p in chunk for h in p.login]
            servers.plan[(group, 1)] = [own(h, n) for n, p in chunk for h in p.logout]
            context = browser.new_context(ignore_https_errors=True)
            try:
                page = context.new_page()
                cdp = context.new_cdp_session(page)
                reads = []
                for step, url in enumerate(urls):
                    page.goto(servers.url(url, group, step))
                    reads.append(
                        [chromium_compact(c) for c in cdp.send("Network.getAllCookies")["cookies"]]
                    )
            finally:
                context.close()
            for number, p in chunk:
                mine = token(number)
                results[p.id] = tuple(  # type: ignore[assignment]
                    sorted((c[0].replace(mine, "N"), *c[1:]) for c in read if mine in c[0])
                    for read in reads
                )
    return results  # type: ignore[return-value]


def _identity(cookie: tuple[Any, ...]) -> tuple[Any, ...]:
    return (cookie[0], cookie[2], cookie[3], cookie[6])


@pytest.mark.browser
def test_the_recorded_probes_are_what_chromium_does(chromium: Any, servers: Servers) -> None:
    probes = [p for p in PROBES if "[" not in p.login_url or ("http", True) in servers.ports]
    seen = in_chromium(chromium, servers, probes)
    wrong = {}
    for p in probes:
        after_login, after_logout = seen[p.id]
        watched = [c for c in after_login if c[1] == "1"]
        assert len(watched) == 1, (p.id, after_login)
        drops = all(_identity(c) != _identity(watched[0]) for c in after_logout)
        if drops != p.chromium_drops:
            wrong[p.id] = (after_login, after_logout)
    assert wrong == {}


@pytest.mark.browser
def test_the_reference_matches_chromium_on_generated_deletions(
    chromium: Any, servers: Servers
) -> None:
    """A bounded sample (120 generated deletions) validates the reference (which the kit
    matches on all generated deletions, test above)."""
    sample = generated(80, 120)
    seen = in_chromium(chromium, servers, sample)
    wrong = {}
    for p in sample:
        chrome = tuple(seen[p.id][1])
        with reference():
            modelled = outcome(p)
        if modelled != chrome:
            wrong[p.id] = (p.login, p.logout_url, p.logout, chrome, modelled)
    assert wrong == {}
