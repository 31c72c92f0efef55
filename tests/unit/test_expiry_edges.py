"""The cookie expiry (logout_middleware.expiry): every header that ends the session on
the client, for plain http and https, exactly."""

from __future__ import annotations

import pytest

from logout_middleware.cookies import CookieSpec
from logout_middleware.expiry import CLEAR_SITE_DATA_DIRECTIVES, CookieExpiry, cookie_defaults

SESSION = CookieSpec("session", path="/app", domain="example.com", httponly=False,
                     samesite="Strict")


def test_the_session_cookie_alone() -> None:
    expiry = CookieExpiry(SESSION)
    assert expiry.headers(False) == (("Set-Cookie", SESSION.headers[0]),)
    assert expiry.headers(True) == (("Set-Cookie", SESSION.headers[1]),)
    assert expiry.cookies == (SESSION,) and expiry.sweep_domains == ()


def test_one_companion_given_alone_is_expired_with_the_session_cookies_attributes() -> None:
    for companion in ("XSRF", {"name": "XSRF"}, CookieSpec("XSRF", path="/app",
                      domain="example.com", httponly=False, samesite="Strict")):
        expiry = CookieExpiry(SESSION, companion)  # type: ignore[arg-type]
        [_, xsrf] = expiry.cookies
        assert (xsrf.name, xsrf.path, xsrf.domain, xsrf.httponly, xsrf.samesite) == (
            "XSRF", "/app", "example.com", False, "Strict")
        assert [v for _, v in expiry.headers(False)] == [SESSION.headers[0], xsrf.headers[0]]


def test_a_sweep_expires_every_cookie_on_every_domain() -> None:
    expiry = CookieExpiry(CookieSpec("s"), ["t"], sweep_domains="example.com")
    assert expiry.sweep_domains == ("example.com",)
    values = [v for _, v in expiry.headers(False)]
    assert len(values) == 4
    assert sum("Domain=example.com" in v for v in values) == 2
    assert all(name == "Set-Cookie" for name, _ in expiry.headers(True))


def test_a_bad_sweep_domain_is_refused() -> None:
    with pytest.raises(ValueError, match="host name"):
        CookieExpiry(SESSION, sweep_domains=["bad domain"])
    with pytest.raises(ValueError, match="string"):
        CookieExpiry(SESSION, sweep_domains=[5])  # type: ignore[list-item]


def test_clear_site_data_is_sent_on_https_only_quoted_in_order() -> None:
    expiry = CookieExpiry(SESSION, clear_site_data=["cookies", "storage", "cookies"])
    assert ("Clear-Site-Data", '"cookies", "storage"') == expiry.headers(True)[-1]
    assert all(name == "Set-Cookie" for name, _ in expiry.headers(False))


def test_clear_site_data_may_be_one_directive() -> None:
    expiry = CookieExpiry(SESSION, clear_site_data="*")
    assert expiry.headers(True)[-1] == ("Clear-Site-Data", '"*"')


def test_every_documented_directive_is_accepted() -> None:
    expiry = CookieExpiry(SESSION, clear_site_data=sorted(CLEAR_SITE_DATA_DIRECTIVES))
    assert expiry.headers(True)[-1][0] == "Clear-Site-Data"


@pytest.mark.parametrize("value", [["everything"], ["Cookies"], [], ""])
def test_unknown_or_no_directives_are_refused(value: object) -> None:
    with pytest.raises(ValueError):
        CookieExpiry(SESSION, clear_site_data=value)  # type: ignore[arg-type]


def test_cookie_defaults_copy_every_attribute() -> None:
    spec = CookieSpec("s", path="/p", domain="d.example", secure=True, httponly=False,
                      samesite="None", partitioned=True)
    assert cookie_defaults(spec) == {"path": "/p", "domain": "d.example", "secure": True,
                                     "httponly": False, "samesite": "None",
                                     "partitioned": True}
