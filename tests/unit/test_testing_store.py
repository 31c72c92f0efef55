"""The kit's browser cookie store and Set-Cookie reader, rule by rule.

The store's agreement with Chromium is tested case by case in
tests/integration/test_testing_chromium.py; these tests pin each rule down on its own,
over generated variants, without a browser.
"""

from __future__ import annotations

import itertools

import pytest

from logout_middleware.testing import CookieStore, parse_set_cookie
from logout_middleware.testing.parsing import MAX_AGE_CAP, cookie_date
from logout_middleware.testing.store import (
    canonical_path,
    default_path,
    domain_match,
    path_match,
    registrable_domain,
)

SITE = "https://app.example.com"


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- dates, attributes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
        ("Thursday, 01-Jan-70 00:00:01 GMT", 1.0),
        ("Thu Jan  1 00:00:02 1970", 2.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480.0),
        ("21 oct 15 07:28:00", 1445412480.0),
        ("Sat, 01 Jan 2000 00:00:00 GMT", 946684800.0),
        ("0", None),
        ("1970-01-01", None),
        ("Thu, 31 Feb 2000 00:00:00 GMT", None),
        ("Thu, 01 Jan 1600 00:00:00 GMT", -11676096000.0),  # no 1601 limit (64-bit Linux)
        ("Thu, 01 Jan 9 00:00:00 GMT", 1230768000.0),
        ("Thu, 01 Jan 01970 00:00:00 GMT", 0.0),
        ("Thu, 01 Jan 1970 00:00:000 GMT", 0.0),
        ("Thu, 01 Jan 1970GMT 00:00:00", None),
        ("Jan 00:00:00 1970 01:00:00", None),
        ("Thu, 01 Jan 1970 0x:00:00 00:00:03", 3.0),
        ("Thu, 01 Jan 1970 99:00:00 00:00:00", None),
        ("Thu, 01 Jan 1970 00:00:60", None),
        ("1 jan 99999 00:00:00", 3093496444800.0),
        ("Thu, 01 Jan 2000 24:00:00 GMT", None),
        ("Thu, 01 Foo 2000 00:00:00 GMT", None),
        ("", None),
    ],
)
def test_cookie_dates_are_read_as_browsers_read_them(text: str, expected: float | None) -> None:
    assert cookie_date(text) == expected


def test_the_last_attribute_wins_even_unreadable_and_names_are_any_case() -> None:
    cookie = parse_set_cookie(
        " sid = v 1 ; path=/a; PATH=/b; Max-Age=5; max-age=x; DOMAIN=.Example.COM; secure"
    )
    assert (cookie.name, cookie.value) == ("sid", "v 1")
    assert (cookie.path, cookie.max_age, cookie.domain, cookie.secure) == (
        "/b",
        None,  # Chromium: the last Max-Age, unreadable, leaves Expires to decide
        "example.com",
        True,
    )
    assert cookie.written("path") == "/b"
    expires = parse_set_cookie("a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Expires=garbage")
    assert expires.expires is None and expires.expiry(1000.0) is None
    assert parse_set_cookie("a=; Domain=.").domain == "."


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("+0", 0),
        ("-1", -1),
        ("abc", None),
        ("", None),
        ("5x", None),
        ("99999999999999999999", 2**63 - 1),
        ("-99999999999999999999x", -(2**63)),
    ],
)
def test_max_age_is_read_as_a_64_bit_number(text: str, value: int | None) -> None:
    assert parse_set_cookie(f"a=1; Max-Age={text}").max_age == value


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("/a/./b", "/a/b"),
        ("/a/x/../b", "/a/b"),
        ("/a/%2E%2e/b", "/b"),
        ("/a/b/..", "/a/"),
        ("", "/"),
        ("/@a:b;c=d", "/@a:b;c=d"),
        ("/a b|é", "/a%20b%7C%C3%A9"),
        ("/a\\b", "/a/b"),
        ("/%41%zz", "/%41%zz"),
    ],
)
def test_url_paths_are_read_as_the_browser_reads_them(path: str, canonical: str) -> None:
    assert canonical_path(path) == canonical


@pytest.mark.parametrize(
    ("attribute", "max_age"),
    [
        ("0", 0),
        ("-1", -1),
        ("+0", 0),
        ("-0", 0),
        ("60", 60),
        ("abc", None),
        ("1e3", None),
        ("", None),
    ],
)
def test_max_age_takes_what_chromium_takes(attribute: str, max_age: int | None) -> None:
    assert parse_set_cookie(f"a=; Max-Age={attribute}").max_age == max_age


def test_max_age_wins_over_expires_and_both_are_capped() -> None:
    now = 1_000_000.0
    assert (
        parse_set_cookie("a=; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT").expiry(now)
        == now + 60
    )
    assert parse_set_cookie("a=; Max-Age=0; Expires=Thu, 01 Jan 2099 00:00:00 GMT").expiry(
        now
    ) == float("-inf")
    assert parse_set_cookie("a=; Max-Age=99999999999").expiry(now) == now + MAX_AGE_CAP
    assert (
        parse_set_cookie("a=; Expires=Thu, 01 Jan 2999 00:00:00 GMT").expiry(now)
        == now + MAX_AGE_CAP
    )
    assert parse_set_cookie("a=1").expiry(now) is None


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("a=b\x01", "control character"),
        ("=", "neither a name nor a value"),
        ("a=" + "x" * 4096, "longer than 4096"),
    ],
)
def test_headers_a_browser_cannot_read_are_refused_with_the_reason(
    header: str, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_set_cookie(header)
    (result,) = CookieStore().receive(SITE, header)
    assert result.rule == "unreadable" and reason in (result.refused or "")


def test_a_nameless_cookie_and_an_overlong_attribute() -> None:
    assert (parse_set_cookie("abc").name, parse_set_cookie("abc").value) == ("", "abc")
    assert parse_set_cookie("a=1; Path=/" + "x" * 1024).path is None


# -- URL matching ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_path", "cookie_path", "match"),
    [
        ("/studio", "/studio", True),
        ("/studio/x", "/studio", True),
        ("/studio/x", "/studio/", True),
        ("/studiox", "/studio", False),
        ("/studio", "/studio/", False),
        ("/Studio", "/studio", False),
        ("/anything", "/", True),
    ],
)
def test_path_match(request_path: str, cookie_path: str, match: bool) -> None:
    assert path_match(request_path, cookie_path) is match


@pytest.mark.parametrize(
    ("path", "default"),
    [("/", "/"), ("/login", "/"), ("/studio/login", "/studio"), ("/studio/", "/studio"), ("", "/")],
)
def test_default_path_is_the_directory(path: str, default: str) -> None:
    assert default_path(path) == default


@pytest.mark.parametrize(
    ("host", "domain", "match"),
    [
        ("example.com", "example.com", True),
        ("www.example.com", "example.com", True),
        ("wwwexample.com", "example.com", False),
        ("example.com", "www.example.com", False),
        ("127.0.0.1", "0.0.1", False),
    ],
)
def test_domain_match(host: str, domain: str, match: bool) -> None:
    assert domain_match(host, domain) is match


@pytest.mark.parametrize(
    ("host", "registrable"),
    [
        ("www.example.com", "example.com"),
        ("a.b.example.co.uk", "example.co.uk"),
        ("co.uk", None),
        ("com", None),
        ("user.github.io", "user.github.io"),
        ("localhost", None),
        ("127.0.0.1", None),
        ("app.example.test", "example.test"),
        ("app.example.test.", "example.test."),
        ("test.", None),
        ("[::1]", None),
    ],
)
def test_registrable_domain(host: str, registrable: str | None) -> None:
    assert registrable_domain(host) == registrable


# -- the storage model ----------------------------------------------------------------


def test_a_cookie_is_replaced_only_by_its_exact_identity() -> None:
    store = CookieStore()
    store.receive(SITE + "/studio/login", "a=1; Path=/studio; Domain=example.com")
    for other in (
        "a=; Path=/; Domain=example.com; Max-Age=0",
        "a=; Path=/studio; Max-Age=0",
        "a=; Path=/studio; Domain=app.example.com; Max-Age=0",
        "a=; Path=/studio; Domain=example.com; Secure; Partitioned; Max-Age=0",
        "A=; Path=/studio; Domain=example.com; Max-Age=0",
    ):
        (result,) = store.receive(SITE + "/studio/logout", other)
        assert result.replaced is None, other
        assert [c.value for c in store.cookies()] == ["1"], other
    (result,) = store.receive(SITE + "/x", "a=; Path=/studio; Domain=.EXAMPLE.com; Max-Age=0")
    assert result.deleted and result.replaced is not None and store.cookies() == []


LOGINS = [
    ("sid=1; " + "; ".join(attrs))
    for attrs in itertools.product(
        ["Path=/", "Path=/studio"],
        ["Domain=example.com", "Domain="],
        ["Secure", "Secure; Partitioned"],
        ["SameSite=Lax", "SameSite=None", "SameSite=Strict"],
    )
] + [
    "__Host-sid=1; Path=/; Secure",
    "__host-sid=1; Path=/; Secure; Partitioned",
    "__Secure-sid=1; Path=/studio; Secure; Domain=example.com",
    "__Http-sid=1; Secure; HttpOnly; Path=/",
    "__Host-Http-sid=1; Secure; HttpOnly; Path=/",
]


@pytest.mark.parametrize("login", LOGINS)
def test_the_same_attributes_with_max_age_zero_delete_every_cookie_variant(login: str) -> None:
    store = CookieStore()
    assert store.receive(SITE + "/studio/login", login)[0].stored
    deletion = login.replace("=1;", "=; Max-Age=0;", 1)
    (result,) = store.receive(SITE + "/studio/logout", deletion)
    assert result.deleted, result.refused
    assert store.cookies() == []


@pytest.mark.parametrize(
    ("login", "drop"),
    [
        (login, drop)
        for login in LOGINS
        for drop in ("Secure", "Partitioned", "HttpOnly", "Path=/studio", "Domain=example.com")
        if f"; {drop}" in login
    ],
)
def test_dropping_one_attribute_from_the_deletion(login: str, drop: str) -> None:
    """Only identity attributes (and those a rule demands) matter: without Secure the
    deletion is refused where the cookie needs it; without Path, Domain or Partitioned
    it names another cookie; SameSite and HttpOnly never matter, except for the
    ``__Http-`` prefixes, which need HttpOnly."""
    store = CookieStore()
    store.receive(SITE + "/login", login)
    deletion = login.replace("=1;", "=; Max-Age=0;", 1).replace(f"; {drop}", "")
    store.receive(SITE + "/logout", deletion)
    lower = login.lower()
    needs_secure = lower.startswith(("__secure-", "__host-", "__http-")) or any(
        a in login for a in ("SameSite=None", "Partitioned")
    )
    deleted = {
        "Secure": not needs_secure,
        "HttpOnly": not lower.startswith(("__http-", "__host-http-")),
        "Partitioned": False,
        "Path=/studio": False,
        "Domain=example.com": False,
    }[drop]
    assert (store.cookies() == []) is deleted


@pytest.mark.parametrize("host", ["localhost", "app.localhost", "127.0.0.1", "[::1]"])
def test_trustworthy_hosts_take_secure_cookies_over_plain_http(host: str) -> None:
    (result,) = CookieStore().receive(f"http://{host}/", "a=1; Secure; SameSite=None")
    assert result.stored and result.cookie is not None and result.cookie.secure


@pytest.mark.parametrize(
    ("header", "rule"),
    [
        ("a=1; Secure", "secure-over-http"),
        ("a=1; SameSite=None", "samesite-none"),
        ("__Secure-a=1", "prefix"),
        ("__host-a=1; Path=/", "prefix"),
        ("a=1; Domain=com", "domain"),
        ("a=1; Domain=other.com", "domain"),
        ("a=1; Domain=example.com.", "domain"),
        ("a=1; Domain=.", "domain"),
        ("=__Host-x", "nameless"),
    ],
)
def test_refusals_over_plain_http_name_their_rule(header: str, rule: str) -> None:
    (result,) = CookieStore().receive("http://www.example.com/", header)
    assert result.rule == rule and result.refused and not result.stored


def test_plain_http_may_not_replace_or_shadow_a_secure_cookie() -> None:
    store = CookieStore()
    store.receive("https://www.example.com/", "a=1; Secure; Path=/studio", "b=1; Secure")
    refused = store.receive("http://www.example.com/", "a=2; Path=/studio/x", "b=; Max-Age=0")
    assert [r.rule for r in refused] == ["shadows-secure", "shadows-secure"]
    (beside,) = store.receive("http://www.example.com/", "a=2; Path=/")
    assert beside.stored  # "/" is not under "/studio": it may live beside it
    (over_https,) = store.receive("https://www.example.com/", "b=; Max-Age=0")
    assert over_https.deleted


def test_a_public_suffix_equal_to_the_host_makes_a_host_only_cookie() -> None:
    store = CookieStore(public_suffixes={"corp.example"})
    (result,) = store.receive("http://corp.example/", "a=1; Domain=corp.example")
    assert result.cookie is not None and result.cookie.host_only
    (other,) = store.receive("http://www.corp.example/", "a=1; Domain=corp.example")
    assert other.rule == "domain"


def test_partitioned_cookies_are_keyed_by_the_top_level_site() -> None:
    store = CookieStore()
    (first,) = store.receive(SITE + "/", "a=1; Secure; Partitioned")
    assert first.cookie is not None and first.cookie.partition_key == "https://example.com"
    (framed,) = store.receive(
        SITE + "/", "a=2; Secure; Partitioned", top_level="https://news.example.org/"
    )
    assert framed.cookie is not None and framed.cookie.partition_key == "https://example.org"
    assert store.cookie_header(SITE + "/") == "a=1"
    assert store.cookie_header(SITE + "/", top_level="https://news.example.org/") == "a=2"


def test_the_cookie_header_orders_by_path_then_age_and_skips_what_does_not_match() -> None:
    store = CookieStore()
    store.receive(
        SITE + "/",
        "a=1; Path=/",
        "b=1; Path=/studio",
        "c=1; Path=/studio; Secure",
        "d=1; Domain=example.com",
        "e=1; Path=/other",
    )
    assert store.cookie_header(SITE + "/studio/x") == "b=1; c=1; a=1; d=1"
    assert store.cookie_header("http://app.example.com/studio/x") == "b=1; a=1; d=1"
    assert store.cookie_header("http://www.example.com/") == "d=1"


def test_a_cookie_expires_with_the_clock() -> None:
    clock = Clock()
    store = CookieStore(clock=clock)
    store.receive(SITE + "/", "a=1; Max-Age=10", "b=1")
    clock.now += 11
    assert [c.name for c in store.cookies()] == ["b"]


def test_urls_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="absolute http"):
        CookieStore().receive("/logout", "a=1")


def test_describe_names_the_identity() -> None:
    (result,) = CookieStore().receive(
        SITE + "/", "a=1; Path=/x; Domain=example.com; Secure; Partitioned"
    )
    assert result.cookie is not None
    assert result.cookie.describe() == "a (Path=/x, Domain=example.com, Secure, Partitioned)"


def test_an_ipv6_host_is_compared_with_domain_in_brackets() -> None:
    store = CookieStore()
    (bare,) = store.receive("http://[::1]/", "a=1; Domain=::1")
    assert bare.rule == "domain"
    (bracketed,) = store.receive("http://[0:0::1]/", "a=1; Domain=[::1]")
    assert bracketed.stored and bracketed.cookie is not None
    assert (bracketed.cookie.domain, bracketed.cookie.host_only) == ("[::1]", True)


def test_a_trailing_dot_host_takes_a_trailing_dot_domain() -> None:
    store = CookieStore()
    (own,) = store.receive("http://app.example.com./", "a=1; Domain=example.com.")
    assert own.stored and own.cookie is not None and own.cookie.domain == "example.com."
    (plain,) = store.receive("http://app.example.com./", "b=1; Domain=example.com")
    assert plain.rule == "domain"
    (empty_label,) = store.receive("http://app.example.com../", "c=1")
    assert empty_label.rule == "domain"


def test_the_strict_secure_check_stays_within_a_partition() -> None:
    store = CookieStore()
    store.receive("https://www.example.com/", "a=1; Secure; Partitioned; Path=/")
    (plain,) = store.receive("http://www.example.com/studio/x", "a=2")
    assert plain.stored
    store.receive("https://www.example.com/", "b=1; Secure; Path=/")
    (shadowing,) = store.receive("http://www.example.com/studio/x", "b=2")
    assert shadowing.rule == "shadows-secure"


def test_the_default_path_comes_from_the_canonical_url_path() -> None:
    (result,) = CookieStore().receive("http://www.example.com/studio/./x/../login", "a=1")
    assert result.cookie is not None and result.cookie.path == "/studio"
