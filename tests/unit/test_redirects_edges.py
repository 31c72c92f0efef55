"""Edges of the redirect mode (logout_middleware.redirects): user info and default ports
in ``next``, the server's name when the Host is unusable, how much body is read."""

from __future__ import annotations

import pytest

from logout_middleware.redirects import (
    RedirectPolicy,
    is_valid_host,
    safe_next_url,
    validate_hosts,
    validate_redirect_to,
)
from logout_middleware.request import Request

NONE: frozenset[str] = frozenset()


def safe(value: str, scheme: str = "http", host: str = "app",
         allowed: frozenset[str] = NONE) -> str | None:
    return safe_next_url(value, scheme=scheme, host=host, allowed_hosts=allowed)


@pytest.mark.parametrize(
    "value",
    [
        "http://user@app/",
        "http://user:pw@app/",
        "http://app@evil.example/",
        "http://evil.example@app/",
        "https://@app/",
    ],
)
def test_next_with_user_info_on_our_own_host_is_refused(value: str) -> None:
    assert safe(value) is None


@pytest.mark.parametrize(
    ("value", "scheme", "host", "expected"),
    [
        # The default port of the target's scheme is the same host as no port.
        ("http://app:80/x", "http", "app", "http://app:80/x"),
        ("http://app/x", "http", "app:80", "http://app/x"),
        ("https://app:443/x", "https", "app", "https://app:443/x"),
        ("https://app/x", "https", "app:443", "https://app/x"),
        # A port that is not the default one of the target's scheme is another origin.
        ("http://app:443/", "http", "app", None),
        ("http://app:8080/", "http", "app", None),
        ("http://app/", "http", "app:8080", None),
        ("http://app:8080/", "http", "app:8080", "http://app:8080/"),
        # https on our host from a plain-http request: an upgrade, allowed.
        ("https://app/", "http", "app", "https://app/"),
        # plain http from an https request: never.
        ("http://app/", "https", "app", None),
        ("http://app:443/", "https", "app", None),
    ],
)
def test_default_ports_in_next(value: str, scheme: str, host: str, expected: str | None) -> None:
    assert safe(value, scheme, host) == expected


def test_an_ipv6_host_with_a_port_is_compared_as_given() -> None:
    assert safe("http://[::1]:8080/x", host="[::1]:8080") == "http://[::1]:8080/x"
    assert safe("http://[::1]/x", host="[::1]") == "http://[::1]/x"
    assert safe("http://[::1]:80/x", host="[::1]") == "http://[::1]:80/x"
    assert safe("http://[::1]:81/x", host="[::1]") is None


@pytest.mark.parametrize(
    ("value", "allowed", "expected"),
    [
        ("https://sso.example/x", frozenset({"sso.example"}), "https://sso.example/x"),
        ("https://sso.example:443/x", frozenset({"sso.example"}), "https://sso.example:443/x"),
        ("https://sso.example:8443/x", frozenset({"sso.example"}), None),
        ("https://sso.example:8443/x", frozenset({"sso.example:8443"}), "https://sso.example:8443/x"),
        ("https://SSO.example/x", frozenset({"sso.example"}), "https://SSO.example/x"),
        ("https://sso.example/x", NONE, None),
    ],
)
def test_allowed_hosts_with_and_without_ports(
    value: str, allowed: frozenset[str], expected: str | None
) -> None:
    assert safe(value, allowed=allowed) == expected


@pytest.mark.parametrize(
    "value",
    ["ftp://app/", "http:app/", "http:/app/", "//app/", "/\\app", "http://app:99999/",
     "http://app:x/", "http:///x", "javascript:alert(1)", "/a b", "/%2F%2Fevil", "/%5c",
     "/%0d", "/%7F", "/\u00e9", ""],
)
def test_unsafe_next_values_are_refused(value: str) -> None:
    assert safe(value) is None


def test_a_path_is_made_absolute_on_our_host() -> None:
    assert safe("/bye?x=1", "https", "app:8443") == "https://app:8443/bye?x=1"


@pytest.mark.parametrize("host", ["app", "app:8080", "[::1]", "[::1]:443", "APP.Example", "a_b"])
def test_valid_hosts(host: str) -> None:
    assert is_valid_host(host)


@pytest.mark.parametrize("host", ["", "app:", "app:123456", "a b", "app/x", "[::1", "a@b", 5])
def test_invalid_hosts(host: object) -> None:
    assert not is_valid_host(host)  # type: ignore[arg-type]


def test_allowed_redirect_hosts_are_lower_cased_and_may_be_one_string() -> None:
    assert validate_hosts("SSO.Example:8443") == frozenset({"sso.example:8443"})
    assert validate_hosts(["A", "a", "b"]) == frozenset({"a", "b"})


def test_an_allowed_redirect_host_with_a_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="each allowed_redirect_hosts entry must be a host name"):
        validate_hosts(["https://sso.example"])


@pytest.mark.parametrize("value", [None, "/", "/login?logout", "https://sso.example/out",
                                   "http://sso.example:8080"])
def test_redirect_to_accepts_paths_and_absolute_urls(value: str | None) -> None:
    assert validate_redirect_to(value) == value


@pytest.mark.parametrize("value", ["", "login", "//x", "/\\x", "ftp://x/", "https:/x",
                                   "HTTPS://sso.example/", "http://[::1/", 5])
def test_redirect_to_refuses_the_rest(value: object) -> None:
    with pytest.raises(ValueError, match="redirect_to must be a path"):
        validate_redirect_to(value)  # type: ignore[arg-type]


def test_policy_defaults() -> None:
    policy = RedirectPolicy(None)
    assert policy.redirect_to == "/"
    assert policy.next_param == "next"
    assert policy.allowed_hosts == NONE
    assert policy.max_form_size == 8192


@pytest.mark.parametrize("next_param", ["", None, 5])
def test_next_param_must_be_a_non_empty_string(next_param: object) -> None:
    with pytest.raises(ValueError, match="next_param must be a non-empty string"):
        RedirectPolicy("/", next_param=next_param)  # type: ignore[arg-type]


def form(length: str, query: str = "", content_type: str = "application/x-www-form-urlencoded",
         ) -> Request:
    return Request("POST", "/logout", query=query,
                   headers={"content-type": content_type, "content-length": length})


@pytest.mark.parametrize(
    ("request_", "limit"),
    [
        (form("10"), 10),
        (form("100"), 100),  # exactly max_form_size
        (form("101"), 0),  # larger: not read
        (form("0"), 0),
        (form("-1"), 0),
        (form(" 12 "), 12),
        (form("1e3"), 0),
        (form(""), 0),
        (form("10", content_type="Application/X-WWW-Form-Urlencoded; charset=utf-8"), 10),
        (form("10", content_type="multipart/form-data"), 0),
        (form("10", content_type="text/plain"), 0),
        (form("10", query="next=/x"), 0),  # the query string has it
        (form("10", query="other=/x"), 10),
    ],
)
def test_body_limit(request_: Request, limit: int) -> None:
    assert RedirectPolicy("/", max_form_size=100).body_limit(request_) == limit


def test_body_limit_uses_the_configured_next_param() -> None:
    policy = RedirectPolicy("/", next_param="to", max_form_size=100)
    assert policy.body_limit(form("10", query="to=/x")) == 0
    assert policy.body_limit(form("10", query="next=/x")) == 10


def request(host: str | None = "app", query: str = "", body: bytes | None = None,
            scheme: str = "http", server_name: str = "", server_port: str = "") -> Request:
    headers = {} if host is None else {"host": host}
    return Request("POST", "/logout", scheme=scheme, headers=headers, query=query, body=body,
                   server_name=server_name, server_port=server_port)


def test_location_follows_a_safe_next_in_the_query() -> None:
    assert RedirectPolicy("/bye").location(request(query="next=/home")) == "http://app/home"


def test_location_follows_a_safe_next_in_the_form_body() -> None:
    policy = RedirectPolicy("/bye")
    assert policy.location(request(body=b"a=1&next=%2Fhome")) == "http://app/home"


def test_the_query_string_wins_over_the_body() -> None:
    policy = RedirectPolicy("/bye")
    got = policy.location(request(query="next=/q", body=b"next=/b"))
    assert got == "http://app/q"


def test_the_first_next_in_the_query_wins() -> None:
    policy = RedirectPolicy("/bye")
    assert policy.location(request(query="next=/one&next=/two")) == "http://app/one"


def test_an_unsafe_next_falls_back_to_redirect_to_on_our_host() -> None:
    policy = RedirectPolicy("/bye")
    assert policy.location(request(query="next=//evil", scheme="https")) == "https://app/bye"


def test_an_absolute_redirect_to_is_used_as_is() -> None:
    policy = RedirectPolicy("https://sso.example/out")
    assert policy.location(request(query="next=//evil")) == "https://sso.example/out"


def test_a_custom_next_param_is_read() -> None:
    policy = RedirectPolicy("/bye", next_param="to")
    assert policy.location(request(query="to=/there&next=/not")) == "http://app/there"


def test_a_next_to_an_allowed_host_is_followed() -> None:
    policy = RedirectPolicy("/bye", allowed_redirect_hosts=["sso.example"])
    got = policy.location(request(query="next=https://sso.example/x"))
    assert got == "https://sso.example/x"


@pytest.mark.parametrize(
    ("server_name", "server_port", "scheme", "expected"),
    [
        ("srv", "8080", "http", "http://srv:8080/bye"),
        ("srv", "80", "http", "http://srv/bye"),
        ("srv", "443", "https", "https://srv/bye"),
        ("srv", "443", "http", "http://srv:443/bye"),
        ("srv", "80", "https", "https://srv:80/bye"),
        ("srv", "", "http", "http://srv/bye"),
        ("", "8080", "http", "http://localhost:8080/bye"),
    ],
)
def test_without_a_usable_host_the_server_name_and_port_are_used(
    server_name: str, server_port: str, scheme: str, expected: str
) -> None:
    policy = RedirectPolicy("/bye")
    for host in (None, "bad host", "evil.example\r\nX: y"):
        got = policy.location(request(host, scheme=scheme, server_name=server_name,
                                      server_port=server_port))
        assert got == expected


def test_with_no_usable_host_at_all_a_path_target_gives_no_location() -> None:
    bad = request("bad host", server_name="bad name")
    assert RedirectPolicy("/bye").location(bad) is None
    assert RedirectPolicy("https://sso.example/o").location(bad) == "https://sso.example/o"


def test_a_next_is_checked_against_the_server_name_when_there_is_no_host() -> None:
    policy = RedirectPolicy("/bye")
    got = policy.location(request(None, query="next=http://srv:8080/x", server_name="srv",
                                  server_port="8080"))
    assert got == "http://srv:8080/x"


def test_an_oversized_or_broken_query_string_is_ignored() -> None:
    policy = RedirectPolicy("/bye")
    huge = "next=/x&" + "a=1&" * 20000
    assert policy.location(request(query=huge)) == "http://app/bye"
    many = "&".join(["a=1"] * 150) + "&next=/x"
    assert policy.location(request(query=many)) == "http://app/bye"


def test_a_query_string_of_up_to_64_kib_is_read() -> None:
    policy = RedirectPolicy("/bye")
    query = "next=/x&pad=" + "a" * (65536 - len("next=/x&pad="))
    assert len(query) == 65536
    assert policy.location(request(query=query)) == "http://app/x"
    assert policy.location(request(query=query + "a")) == "http://app/bye"


def test_a_query_string_of_up_to_100_fields_is_read() -> None:
    policy = RedirectPolicy("/bye")
    fields = ["next=/x"] + [f"f{i}=1" for i in range(99)]
    assert policy.location(request(query="&".join(fields))) == "http://app/x"
    assert policy.location(request(query="&".join([*fields, "g=1"]))) == "http://app/bye"


def test_a_one_byte_form_is_read() -> None:
    assert RedirectPolicy("/", max_form_size=100).body_limit(form("1")) == 1


def test_only_the_media_type_before_the_first_parameter_counts() -> None:
    typed = form("10", content_type="application/x-www-form-urlencoded; a=1; b=2")
    assert RedirectPolicy("/", max_form_size=100).body_limit(typed) == 10


@pytest.mark.parametrize("host", ["[1.2.3.4]", "[::1::2]", "[:::]:80", "[12345::]"])
def test_a_bracketed_host_must_hold_a_real_ipv6_address(host: str) -> None:
    assert not is_valid_host(host)
