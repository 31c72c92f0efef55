"""Edges of the cross-site defence and the double-submit token (logout_middleware.guards)
that the end-to-end tests do not reach: the server's own name when there is no Host,
wildcard boundaries, the reasons of refusals, header-name checks."""

from __future__ import annotations

import pytest

from logout_middleware.guards import CsrfGuard, OriginGuard, request_origin
from logout_middleware.request import Request


def post(headers: dict[str, str], **fields: str) -> Request:
    return Request("POST", "/logout", headers=headers, **fields)


def test_without_a_host_the_requests_origin_is_the_server_name_and_port() -> None:
    request = post({}, server_name="srv.example", server_port="8080")
    assert request_origin(request) == "http://srv.example:8080"


def test_without_a_host_or_a_server_port_the_default_port_is_assumed() -> None:
    request = post({}, scheme="https", server_name="srv.example")
    assert request_origin(request) == "https://srv.example:443"


def test_the_host_header_wins_over_the_server_name() -> None:
    request = post({"host": "public.example:8443"}, server_name="internal", server_port="80")
    assert request_origin(request) == "http://public.example:8443"


def test_origin_matching_the_server_name_passes_when_there_is_no_host() -> None:
    guard = OriginGuard()
    own = post({"origin": "http://srv.example:8080"}, server_name="srv.example",
               server_port="8080")
    other_port = post({"origin": "http://srv.example:9090"}, server_name="srv.example",
                      server_port="8080")
    assert guard.refuses(own) is None
    assert guard.refuses(other_port) == "Origin is not this site's"


def test_origin_is_compared_with_the_host_not_the_server_name() -> None:
    guard = OriginGuard()
    request = post({"host": "public.example", "origin": "http://internal"},
                   server_name="internal", server_port="80")
    assert guard.refuses(request) == "Origin is not this site's"
    request = post({"host": "public.example", "origin": "http://public.example"},
                   server_name="internal", server_port="80")
    assert guard.refuses(request) is None


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"sec-fetch-site": "cross-site"}, "Sec-Fetch-Site is 'cross-site'"),
        ({"sec-fetch-site": " Same-Site\t"}, "Sec-Fetch-Site is 'same-site'"),
        ({"sec-fetch-site": "x" * 50}, f"Sec-Fetch-Site is {'x' * 20!r}"),
        # Only spaces and tabs are optional whitespace in a header value.
        ({"sec-fetch-site": "none\x0b"}, "Sec-Fetch-Site is 'none\\x0b'"),
        ({"sec-fetch-site": "XnoneX"}, "Sec-Fetch-Site is 'xnonex'"),
        ({"origin": "null"}, "Origin is null or malformed"),
        ({"origin": "http://evil.example", "host": "app.example"}, "Origin is not this site's"),
    ],
)
def test_each_refusal_says_why(headers: dict[str, str], reason: str) -> None:
    assert OriginGuard().refuses(post(headers)) == reason


@pytest.mark.parametrize("fetch_site", ["same-origin", "none", " NONE ", "\tsame-origin"])
def test_same_origin_and_none_pass_whatever_the_origin(fetch_site: str) -> None:
    request = post({"sec-fetch-site": fetch_site, "origin": "http://evil.example"})
    assert OriginGuard().refuses(request) is None


def test_an_empty_sec_fetch_site_leaves_the_decision_to_origin() -> None:
    guard = OriginGuard()
    assert guard.refuses(post({"sec-fetch-site": " ", "origin": "null"})) is not None
    assert guard.refuses(post({"sec-fetch-site": "", "host": "a.example",
                               "origin": "http://a.example"})) is None


def test_a_trusted_origin_passes_even_cross_site() -> None:
    guard = OriginGuard(["https://admin.example"])
    request = post({"sec-fetch-site": "cross-site", "origin": "https://admin.example"})
    assert guard.refuses(request) is None


def test_trusted_origins_may_be_one_string() -> None:
    guard = OriginGuard("https://admin.example:8443")
    assert guard.trusted == frozenset({"https://admin.example:8443"})


def test_trusted_origins_are_normalised() -> None:
    guard = OriginGuard(["HTTPS://Admin.Example", "http://b.example:80"])
    assert guard.trusted == frozenset({"https://admin.example:443", "http://b.example:80"})


@pytest.mark.parametrize(
    ("wildcard", "origin", "trusted"),
    [
        ("https://*.example.com", "https://a.example.com:443", True),
        ("https://*.example.com", "https://a.b.example.com:443", True),
        ("https://*.example.com", "https://example.com:443", False),  # not the parent
        ("https://*.example.com", "https://.example.com:443", False),  # no label
        ("https://*.example.com", "http://a.example.com:443", False),  # the scheme
        ("https://*.example.com", "https://a.example.com:8443", False),  # the port
        ("https://*.example.com", "https://aexample.com:443", False),
        ("https://*.Example.COM:8443", "https://a.example.com:8443", True),
        ("HTTP://*.example.com", "http://a.example.com:80", True),
    ],
)
def test_subdomain_wildcards_trust_only_subdomains(
    wildcard: str, origin: str, trusted: bool
) -> None:
    assert OriginGuard([wildcard]).is_trusted(origin) is trusted


def test_a_wildcard_is_kept_apart_from_the_exact_origins() -> None:
    guard = OriginGuard(["https://*.example.com", "https://exact.example"])
    assert guard.trusted == frozenset({"https://exact.example:443"})
    assert guard.trusted_wildcards == (("https://", ".example.com:443"),)


@pytest.mark.parametrize("header_name", ["", "X XSRF", "X-XSRF:", "X\u00e9", None, 42])
def test_csrf_header_name_must_be_a_header_name(header_name: object) -> None:
    with pytest.raises(ValueError, match="csrf_header_name must be a header name"):
        CsrfGuard("XSRF-TOKEN", header_name)  # type: ignore[arg-type]


@pytest.mark.parametrize("header_name", ["X-XSRF-TOKEN", "x_xsrf_token", "Token9"])
def test_csrf_header_names_of_letters_digits_dash_and_underscore_are_accepted(
    header_name: str,
) -> None:
    assert CsrfGuard("XSRF-TOKEN", header_name).header_name == header_name


@pytest.mark.parametrize(
    ("cookie", "header", "reason"),
    [
        (None, "t0ken", "double-submit token missing"),
        ("XSRF-TOKEN=", "t0ken", "double-submit token missing"),
        ("XSRF-TOKEN=t0ken", None, "double-submit token missing"),
        ("XSRF-TOKEN=t0ken", " \t", "double-submit token missing"),
        ("XSRF-TOKEN=t0ken", "other", "double-submit token mismatch"),
        ("XSRF-TOKEN=t0ken", "t0ken", None),
        ("XSRF-TOKEN=t0ken", " t0ken\t", None),
        ("XSRF-TOKEN=t0ken", "t0ken\x0b", "double-submit token mismatch"),
        ("XSRF-TOKEN=t0ken", "Xt0kenX", "double-submit token mismatch"),
        # The header may repeat any one of the cookie's values.
        ("XSRF-TOKEN=old; XSRF-TOKEN=t0ken", "t0ken", None),
        ("XSRF-TOKEN=; XSRF-TOKEN=t0ken", "t0ken", None),
        ("xsrf-token=t0ken", "t0ken", "double-submit token missing"),
    ],
)
def test_double_submit_decisions(cookie: str | None, header: str | None,
                                 reason: str | None) -> None:
    headers = {}
    if cookie is not None:
        headers["cookie"] = cookie
    if header is not None:
        headers["x-xsrf-token"] = header
    assert CsrfGuard("XSRF-TOKEN", "X-XSRF-TOKEN").refuses(post(headers)) == reason


def test_latin1_tokens_are_compared_byte_for_byte() -> None:
    guard = CsrfGuard("XSRF-TOKEN", "X-XSRF-TOKEN")
    cookie = {"cookie": "XSRF-TOKEN=\xe9t\xe9"}
    assert guard.refuses(post({**cookie, "x-xsrf-token": "\xe9t\xe9"})) is None
    assert guard.refuses(post({**cookie, "x-xsrf-token": "ete"})) == "double-submit token mismatch"


@pytest.mark.parametrize(
    "origin", ["https://..example.com", "https://a..example.com", "https://.a.example.com",
               "https://...", "http://a..b:80"],
)
def test_a_host_with_an_empty_label_is_no_origin(origin: str) -> None:
    from logout_middleware.guards import normalize_origin

    assert normalize_origin(origin) is None
    guard = OriginGuard(["https://*.example.com"])
    request = Request("POST", "/logout", "https", {"host": "app.example.com",
                                                   "origin": origin,
                                                   "sec-fetch-site": "cross-site"})
    assert guard.refuses(request) is not None


def test_a_trailing_dot_is_another_host() -> None:
    from logout_middleware.guards import normalize_origin

    assert normalize_origin("https://example.com.") == "https://example.com.:443"
    assert not OriginGuard(["https://*.example.com"]).is_trusted("https://a.example.com.:443")


def test_without_a_host_header_an_ipv6_server_address_is_bracketed() -> None:
    request = Request("POST", "/logout", "http", {}, server_name="::1", server_port="8000")
    assert request_origin(request) == "http://[::1]:8000"
    same = Request("POST", "/logout", "http", {"origin": "http://[::1]:8000"},
                   server_name="::1", server_port="8000")
    assert OriginGuard().refuses(same) is None


def test_a_long_origin_is_read_alike_and_not_cached() -> None:
    from logout_middleware import guards

    long_host = "a" * 40 + ("." + "b" * 60) * 5
    origin = f"https://{long_host}"
    assert len(origin) > 300
    before = guards._normalize_cached.cache_info().currsize
    assert guards.normalize_origin(origin) == f"{origin}:443"
    assert guards._normalize_cached.cache_info().currsize == before
