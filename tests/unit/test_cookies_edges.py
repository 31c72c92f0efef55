"""Edges of the deletion headers (logout_middleware.cookies): SameSite spelled in lower
case and the Secure it requires, the prefixes, sweeps, and every constructor check."""

from __future__ import annotations

from typing import Any

import pytest
from wsgi_util import cookie_attrs

from logout_middleware.cookies import CookieSpec, to_cookie_spec, validate_domain


def attrs(header: str) -> dict[str, str]:
    return cookie_attrs(header)[1]


@pytest.mark.parametrize(("given", "spelled"), [("none", "None"), ("NONE", "None"),
                                                ("lax", "Lax"), ("sTrIcT", "Strict")])
def test_samesite_is_accepted_in_any_case_and_sent_as_browsers_spell_it(
    given: str, spelled: str
) -> None:
    spec = CookieSpec("sid", samesite=given)
    assert spec.samesite == spelled
    for header in spec.headers:
        assert attrs(header)["samesite"] == spelled


def test_lower_case_samesite_none_makes_the_deletion_secure_even_on_plain_http() -> None:
    spec = CookieSpec("sid", samesite="none")
    assert spec.secure_by_scheme == (True, True)
    assert all("secure" in attrs(h) for h in spec.headers)


def test_lower_case_samesite_none_with_secure_false_is_refused() -> None:
    with pytest.raises(ValueError, match="needs Secure because of SameSite=None"):
        CookieSpec("sid", samesite="none", secure=False)


def test_samesite_lax_on_plain_http_is_not_secure_by_default() -> None:
    spec = CookieSpec("sid", samesite="lax")
    assert spec.secure_by_scheme == (False, True)


def test_secure_true_is_secure_on_plain_http_too() -> None:
    assert CookieSpec("sid", secure=True).secure_by_scheme == (True, True)


def test_secure_false_is_never_secure() -> None:
    spec = CookieSpec("sid", secure=False)
    assert spec.secure_by_scheme == (False, False)
    assert not any("secure" in attrs(h) for h in spec.headers)


@pytest.mark.parametrize("name", ["__secure-sid", "__SECURE-sid", "__host-sid", "__Host-sid"])
def test_prefixes_are_matched_in_any_case_and_make_the_deletion_secure(name: str) -> None:
    assert CookieSpec(name).secure_by_scheme == (True, True)
    with pytest.raises(ValueError, match="needs Secure because of the __"):
        CookieSpec(name, secure=False)


def test_every_reason_for_secure_is_named() -> None:
    with pytest.raises(ValueError) as info:
        CookieSpec("__Host-s", samesite="None", partitioned=True, secure=False)
    assert "the __Host- prefix and SameSite=None and Partitioned" in str(info.value)


@pytest.mark.parametrize("name", ["__host-s", "__HOST-s"])
def test_lower_case_host_prefix_forbids_a_domain_and_requires_path_root(name: str) -> None:
    with pytest.raises(ValueError, match="forbids a Domain"):
        CookieSpec(name, domain="example.com")
    with pytest.raises(ValueError, match="requires Path=/"):
        CookieSpec(name, path="/app")


def test_secure_prefix_allows_a_domain_and_a_path() -> None:
    spec = CookieSpec("__Secure-s", domain="example.com", path="/app")
    assert attrs(spec.headers[0])["domain"] == "example.com"
    assert attrs(spec.headers[0])["path"] == "/app"


def test_deletion_headers_carry_every_attribute() -> None:
    spec = CookieSpec("sid", path="/app", domain="example.com", httponly=True,
                      samesite="Strict", partitioned=True)
    plain, https = spec.headers
    assert plain == https  # partitioned: Secure on both
    first, a = cookie_attrs(plain)
    assert first == "sid="
    assert a["path"] == "/app" and a["domain"] == "example.com"
    assert "httponly" in a and "secure" in a and "partitioned" in a
    assert a["samesite"] == "Strict" and a["max-age"] == "0"
    assert a["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"


def test_samesite_none_as_python_none_sends_no_samesite() -> None:
    spec = CookieSpec("sid", samesite=None, httponly=False)
    assert "samesite" not in attrs(spec.headers[0])
    assert "httponly" not in attrs(spec.headers[0])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": 5}, "cookie name must be a non-empty string"),
        ({"name": ""}, "cookie name must be a non-empty string"),
        ({"name": "a,b"}, "contains a separator"),
        ({"name": "sid", "samesite": 1}, "samesite of cookie 'sid'"),
        ({"name": "sid", "samesite": "relaxed"}, "samesite of cookie 'sid'"),
        ({"name": "sid", "secure": "yes"}, "secure of cookie 'sid' must be True, False or None"),
        ({"name": "sid", "secure": 1}, "secure of cookie 'sid' must be True, False or None"),
        ({"name": "sid", "httponly": 1}, "httponly of cookie 'sid' must be True or False"),
        ({"name": "sid", "partitioned": "no"}, "partitioned of cookie 'sid'"),
        ({"name": "sid", "path": "app"}, "path of cookie 'sid'"),
        ({"name": "sid", "domain": "a b"}, "domain of cookie 'sid'"),
        ({"name": "sid", "domain": ""}, "domain of cookie 'sid'"),
    ],
)
def test_cookie_spec_refuses_what_a_browser_would_refuse(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        CookieSpec(**options)


@pytest.mark.parametrize(
    "domain", ["example.com", ".example.com", "a-b.example_x.com", "localhost"]
)
def test_domains_of_labels_are_accepted(domain: str) -> None:
    assert validate_domain(domain, "d") == domain


@pytest.mark.parametrize("domain", ["-a.com", "a-.com", "a..com", "a.com.", "", "a/b", 5, None])
def test_malformed_domains_are_refused_naming_the_setting(domain: Any) -> None:
    with pytest.raises(ValueError, match=r"^the setting must be a host name"):
        validate_domain(domain, "the setting")


def test_a_sweep_adds_host_only_and_each_parent_once() -> None:
    spec = CookieSpec("sid", domain="app.example.com")
    plain, https = spec.deletion_headers(["example.com", "app.example.com", "example.com"])
    domains = [attrs(h).get("domain") for h in plain]
    assert domains == ["app.example.com", None, "example.com"]
    assert [attrs(h).get("domain") for h in https] == domains
    assert all("secure" in attrs(h) for h in https)
    assert not any("secure" in attrs(h) for h in plain)


def test_without_a_sweep_there_is_one_header_per_scheme() -> None:
    spec = CookieSpec("sid")
    assert spec.deletion_headers() == ((spec.headers[0],), (spec.headers[1],))


@pytest.mark.parametrize("name", ["__Host-sid", "__host-sid"])
def test_host_prefixed_cookies_get_no_sweep(name: str) -> None:
    spec = CookieSpec(name)
    assert spec.deletion_headers(["example.com"]) == ((spec.headers[0],), (spec.headers[1],))


def test_a_name_takes_the_defaults() -> None:
    spec = to_cookie_spec("other", {"path": "/p", "domain": "example.com", "httponly": False})
    assert (spec.name, spec.path, spec.domain, spec.httponly) == (
        "other", "/p", "example.com", False)


def test_a_mapping_overrides_the_defaults() -> None:
    spec = to_cookie_spec({"name": "o", "path": "/x", "secure": True}, {"path": "/p"})
    assert (spec.name, spec.path, spec.secure) == ("o", "/x", True)


def test_a_cookie_spec_is_taken_as_is() -> None:
    given = CookieSpec("o", path="/z")
    assert to_cookie_spec(given, {"path": "/p"}) is given


@pytest.mark.parametrize("mapping", [{"path": "/"}, {"name": "o", "colour": "red"}])
def test_a_mapping_without_name_or_with_unknown_keys_is_refused(mapping: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="a cookie mapping needs 'name'"):
        to_cookie_spec(mapping, {})


def test_anything_else_is_refused_showing_it() -> None:
    with pytest.raises(ValueError, match=r"a cookie must be a cookie name .*; got 5$"):
        to_cookie_spec(5, {})  # type: ignore[arg-type]


def test_a_mapping_may_give_every_attribute() -> None:
    spec = to_cookie_spec({"name": "o", "path": "/x", "domain": "example.com", "secure": True,
                           "httponly": False, "samesite": "None", "partitioned": True}, {})
    assert (spec.domain, spec.samesite, spec.partitioned, spec.httponly) == (
        "example.com", "None", True, False)
