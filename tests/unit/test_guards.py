"""Cross-site defence (on by default) and Studio's double-submit token."""

from __future__ import annotations

import pytest
from wsgi_util import LOGOUT, RecordingBackend, client, set_cookies

from logout_middleware.guards import normalize_origin

HOST = "app.example:8080"
OWN = "http://app.example:8080"


def logout(headers: dict[str, str], status: int | str = "*", **options: object):  # type: ignore[no-untyped-def]
    backend = RecordingBackend()
    app, _ = client(backend, **options)  # type: ignore[arg-type]
    response = app.post(
        LOGOUT, headers={"Host": HOST, "Cookie": "session=abc", **headers}, status=status
    )
    return response, backend


# (Sec-Fetch-Site, Origin, trusted_origins, expected status)
MATRIX = [
    (None, None, (), 200),  # curl, API clients, WebTest
    ("same-origin", None, (), 200),
    ("none", None, (), 200),  # user typed it / bookmark
    ("cross-site", None, (), 403),
    ("cross-site", OWN, (), 403),
    ("same-site", None, (), 403),
    ("same-site", "http://other.app.example", (), 403),
    ("same-site", "http://other.app.example", ("http://other.app.example",), 200),
    (None, OWN, (), 200),
    (None, "HTTP://APP.EXAMPLE:8080", (), 200),
    ("same-origin", OWN, (), 200),
    (None, "http://evil.example", (), 403),
    (None, "null", (), 403),
    (None, "null", ("http://evil.example",), 403),
    (None, "http://app.example", (), 403),  # same host, another port
    (None, "https://app.example:8080", (), 403),  # another scheme
    (None, "http://app.example:9090", ("http://app.example:9090",), 200),
    (None, "http://evil.example", ("http://evil.example:80",), 200),  # default port
    (None, "garbage", (), 403),
    # A trusted Origin passes even cross-site: a trusted admin site may log out.
    ("cross-site", "http://trusted.example", ("http://trusted.example",), 200),
    # Fetch Metadata first: a same-origin form on a no-referrer page sends Origin: null.
    ("same-origin", "null", (), 200),
    ("none", "null", (), 200),
    ("same-site", "null", (), 403),
    ("cross-site", "null", (), 403),
    # With Sec-Fetch-Site present, it decides, whatever the Origin says.
    ("same-origin", "http://evil.example", (), 200),
    ("cross-site", OWN, ("http://other.example",), 403),
    ("same-site", OWN, (), 403),
    # An unknown Sec-Fetch-Site value is refused (as Go's CrossOriginProtection does).
    ("weird", OWN, (), 403),
    ("SAME-ORIGIN", None, (), 200),
    # Subdomain wildcards, as Django's CSRF_TRUSTED_ORIGINS spells them.
    ("cross-site", "https://admin.example.net", ("https://*.example.net",), 200),
    ("cross-site", "https://a.b.example.net", ("https://*.example.net",), 200),
    ("cross-site", "https://example.net", ("https://*.example.net",), 403),
    ("cross-site", "http://admin.example.net", ("https://*.example.net",), 403),
    ("cross-site", "https://admin.example.net:8443", ("https://*.example.net",), 403),
    ("cross-site", "https://evilexample.net", ("https://*.example.net",), 403),
    ("cross-site", "https://admin.example.net.evil", ("https://*.example.net",), 403),
]


@pytest.mark.parametrize("fetch_site,origin,trusted,expected", MATRIX)
def test_cross_site_matrix(
    fetch_site: str | None, origin: str | None, trusted: tuple[str, ...], expected: int
) -> None:
    headers = {}
    if fetch_site is not None:
        headers["Sec-Fetch-Site"] = fetch_site
    if origin is not None:
        headers["Origin"] = origin
    response, backend = logout(headers, trusted_origins=trusted)
    assert response.status_int == expected
    assert response.content_type == "application/json"
    if expected == 403:
        assert backend.deleted == []
        assert not set_cookies(response)
        assert "Cross-site" in response.json["message"]
    else:
        assert backend.deleted == ["abc"]


def test_default_ports_are_normalised_for_the_requests_own_origin() -> None:
    backend = RecordingBackend()
    app, _ = client(backend)
    app.post(LOGOUT, headers={"Host": "app.example", "Origin": "http://app.example:80"})
    app.post(
        LOGOUT, headers={"Host": "app.example:443", "Origin": "https://app.example"},
        extra_environ={"wsgi.url_scheme": "https"},
    )


def test_cross_site_defence_can_be_switched_off() -> None:
    response, backend = logout(
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
        cross_site_protection=False,
    )
    assert response.status_int == 200
    assert backend.deleted == ["abc"]


@pytest.mark.parametrize(
    "raw,normal",
    [
        ("http://h", "http://h:80"),
        ("http://h:80", "http://h:80"),
        ("https://H:443", "https://h:443"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("http://h:0", None),
        ("http://h:99999", None),
        ("ftp://h", None),
        ("null", None),
        ("http://u@h", None),
        ("http://h/path", None),
    ],
)
def test_origin_normalisation(raw: str, normal: str | None) -> None:
    assert normalize_origin(raw) == normal


CSRF = {"csrf_cookie_name": "XSRF-TOKEN", "csrf_header_name": "X-XSRF-TOKEN"}


@pytest.mark.parametrize(
    "cookie,header,expected",
    [
        (None, None, 403),
        ("tok123", None, 403),
        (None, "tok123", 403),
        ("tok123", "tok124", 403),
        ("tok123", "tok12", 403),
        ("", "", 403),
        ("", "tok123", 403),
        ("tok123", "tok123", 200),
    ],
    ids=["none", "header-missing", "cookie-missing", "wrong", "prefix", "empty-both",
         "empty-cookie", "right"],
)
def test_double_submit_token(cookie: str | None, header: str | None, expected: int) -> None:
    cookies = "session=abc"
    if cookie is not None:
        cookies += f"; XSRF-TOKEN={cookie}"
    headers = {"Cookie": cookies}
    if header is not None:
        headers["X-XSRF-TOKEN"] = header
    response, backend = logout(headers, **CSRF)
    assert response.status_int == expected
    if expected == 403:
        assert backend.deleted == []
        assert "CSRF" in response.json["message"]
    else:
        assert backend.deleted == ["abc"]


def test_double_submit_success_expires_the_csrf_cookie_too() -> None:
    response, _ = logout({"Cookie": "session=abc; XSRF-TOKEN=t", "X-XSRF-TOKEN": "t"}, **CSRF)
    names = [h.split("=", 1)[0] for h in set_cookies(response)]
    assert names == ["session", "XSRF-TOKEN"]
    [xsrf] = [h for h in set_cookies(response) if h.startswith("XSRF-TOKEN=")]
    assert "Max-Age=0" in xsrf and "Path=/" in xsrf
    assert "HttpOnly" not in xsrf  # the token cookie is readable by scripts


def test_token_is_compared_with_hmac_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    from logout_middleware import guards

    calls = []
    original = hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr(guards.hmac, "compare_digest", recording)
    logout({"Cookie": "session=abc; XSRF-TOKEN=t", "X-XSRF-TOKEN": "t"}, **CSRF)
    assert calls == [(b"t", b"t")]
