"""Cookie expiry rules: the deletion header matches the cookie the browser holds."""

from __future__ import annotations

import pytest
from wsgi_util import LOGOUT, client, cookie_attrs, set_cookies

from logout_middleware import CookieSpec, LogoutMiddleware, MemoryBackend


def expiry(https: bool = False, **options: object) -> dict[str, str]:
    app, _ = client(**options)  # type: ignore[arg-type]
    scheme = "https" if https else "http"
    response = app.post(LOGOUT, extra_environ={"wsgi.url_scheme": scheme})
    [header] = [h for h in set_cookies(response) if h.startswith(
        str(options.get("cookie_name", "session")) + "=")]
    first, attrs = cookie_attrs(header)
    assert first.endswith("=")  # empty value
    return attrs


def test_expiry_has_empty_value_max_age_zero_and_epoch_expires() -> None:
    attrs = expiry()
    assert attrs["max-age"] == "0"
    assert attrs["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"


def test_expiry_keeps_the_configured_path_and_domain() -> None:
    attrs = expiry(cookie_path="/studio", cookie_domain="example.com")
    assert attrs["path"] == "/studio"
    assert attrs["domain"] == "example.com"


def test_host_only_cookie_expiry_has_no_domain() -> None:
    assert "domain" not in expiry()


def test_secure_follows_the_request_scheme_by_default() -> None:
    assert "secure" not in expiry(https=False)
    assert "secure" in expiry(https=True)


@pytest.mark.parametrize("name", ["__Secure-sid", "__Host-sid", "__host-sid"])
def test_prefixed_names_are_always_secure(name: str) -> None:
    assert "secure" in expiry(cookie_name=name)


def test_samesite_none_is_always_secure() -> None:
    attrs = expiry(cookie_samesite="None")
    assert attrs["samesite"] == "None"
    assert "secure" in attrs


def test_secure_forced_on_and_off() -> None:
    assert "secure" in expiry(cookie_secure=True)
    assert "secure" not in expiry(https=True, cookie_secure=False)


def test_samesite_none_setting_means_no_attribute() -> None:
    assert "samesite" not in expiry(cookie_samesite=None)


@pytest.mark.parametrize("value,expected", [("lax", "Lax"), ("Strict", "Strict")])
def test_samesite_is_normalised(value: str, expected: str) -> None:
    assert expiry(cookie_samesite=value)["samesite"] == expected


def test_httponly_can_be_switched_off() -> None:
    assert "httponly" in expiry()
    assert "httponly" not in expiry(cookie_httponly=False)


def test_partitioned_cookie_expiry_says_partitioned_and_secure() -> None:
    attrs = expiry(cookie_partitioned=True)
    assert "partitioned" in attrs
    assert "secure" in attrs


@pytest.mark.parametrize(
    "options,fragment",
    [
        ({"cookie_name": ""}, "non-empty"),
        ({"cookie_name": "a b"}, "separator"),
        ({"cookie_name": "a;b"}, "separator"),
        ({"cookie_name": "a=b"}, "separator"),
        ({"cookie_name": "a\x01"}, "control"),
        ({"cookie_samesite": "Loose"}, "'Lax', 'Strict', 'None'"),
        ({"cookie_samesite": "None", "cookie_secure": False}, "needs Secure"),
        ({"cookie_name": "__Secure-s", "cookie_secure": False}, "needs Secure"),
        ({"cookie_partitioned": True, "cookie_secure": False}, "needs Secure"),
        ({"cookie_name": "__Host-s", "cookie_domain": "example.com"}, "forbids a Domain"),
        ({"cookie_name": "__Host-s", "cookie_path": "/app"}, "requires Path=/"),
        ({"cookie_path": "app"}, "starting with '/'"),
        ({"cookie_path": "/a;b"}, "without ';'"),
        ({"cookie_domain": "exa mple.com"}, "host name"),
        ({"path": "logout"}, "must start with '/'"),
        ({"path": []}, "non-empty list"),
        ({"methods": ["po st"]}, "HTTP method"),
        ({"csrf_cookie_name": "XSRF-TOKEN"}, "csrf_header_name"),
        ({"clear_site_data": ["everything"]}, "unknown clear_site_data"),
        ({"redirect_to": "//evil.example"}, "redirect_to"),
        ({"trusted_origins": ["example.com"]}, "trusted origin"),
        ({"on_logout": [42]}, "callables"),
        ({"max_form_size": -1}, "max_form_size"),
        ({"also_expire": [{"path": "/"}]}, "needs 'name'"),
        ({"sweep_domains": ["bad domain"]}, "host name"),
        # Settings that would silently weaken or break the logout (issue 10).
        ({"revocation_max_age": float("nan")}, "finite number of seconds"),
        ({"revocation_max_age": float("inf")}, "finite number of seconds"),
        ({"revocation_max_age": True}, "finite number of seconds"),
        ({"revocation_max_age": 0}, "finite number of seconds"),
        ({"redirect_to": "https://"}, "a host after the scheme"),
        ({"redirect_to": "http://"}, "a host after the scheme"),
        ({"redirect_to": "/bye\r\nSet-Cookie: x=1"}, "printable"),
        ({"redirect_to": "/bye\n"}, "printable"),
        ({"redirect_to": "https://sso.example.com/\r\nX: y"}, "printable"),
        ({"redirect_to": "/with space"}, "no spaces"),
        ({"redirect_to": "https://user@sso.example.com/"}, "redirect_to"),
        ({"redirect_to": "/\\evil.example"}, "redirect_to"),
        ({"redirect_to": "javascript:alert(1)"}, "redirect_to"),
        ({"trusted_origins": ["https://*"]}, "wildcard"),
        ({"trusted_origins": ["https://*.com"]}, "wildcard"),
        ({"trusted_origins": ["https://a.*.example.com"]}, "wildcard"),
        ({"trusted_origins": ["*"]}, "wildcard"),
        ({"max_form_size": True}, "max_form_size"),
        ({"cookie_httponly": "yes"}, "httponly"),
        ({"expose_errors": 1}, "expose_errors"),
        ({"cross_site_protection": "off"}, "cross_site_protection"),
    ],
)
def test_bad_settings_fail_at_construction_saying_what_to_change(
    options: dict[str, object], fragment: str
) -> None:
    with pytest.raises(ValueError) as info:
        LogoutMiddleware(lambda e, s: [], MemoryBackend(), **options)  # type: ignore[arg-type]
    assert fragment in str(info.value)


def test_backend_without_delete_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="delete"):
        LogoutMiddleware(lambda e, s: [], object())  # type: ignore[arg-type]


def test_missing_backend_is_refused_without_revocation() -> None:
    with pytest.raises(ValueError, match="backend is required"):
        LogoutMiddleware(lambda e, s: [], None)


def test_cookie_spec_prebuilds_both_scheme_variants() -> None:
    spec = CookieSpec("sid", path="/x")
    plain, https = spec.headers
    assert "Secure" not in plain and "Secure" in https
    assert spec.secure_by_scheme == (False, True)
