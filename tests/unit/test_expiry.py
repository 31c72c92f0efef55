"""Companion cookies, the domain sweep and Clear-Site-Data."""

from __future__ import annotations

from wsgi_util import LOGOUT, client, cookie_attrs, set_cookies

from logout_middleware import CookieSpec


def headers_for(https: bool = False, **options: object) -> list[tuple[str, dict[str, str]]]:
    app, _ = client(**options)  # type: ignore[arg-type]
    response = app.post(
        LOGOUT, headers={"Cookie": "session=abc"},
        extra_environ={"wsgi.url_scheme": "https" if https else "http"},
    )
    return [cookie_attrs(h) for h in set_cookies(response)]


def test_also_expire_names_inherit_the_session_cookies_attributes() -> None:
    cookies = headers_for(also_expire=["remember_me"], cookie_path="/app",
                          cookie_domain="example.com")
    assert [c[0] for c in cookies] == ["session=", "remember_me="]
    attrs = cookies[1][1]
    assert attrs["path"] == "/app" and attrs["domain"] == "example.com"
    assert attrs["max-age"] == "0"


def test_also_expire_entries_carry_their_own_path_domain_and_flags() -> None:
    cookies = headers_for(
        https=True,
        also_expire=[
            {"name": "remember_token", "path": "/auth", "httponly": False},
            CookieSpec("crafterPreview", path="/", samesite="None", domain="cms.example"),
            {"name": "__Host-pref", "path": "/"},
        ],
    )
    by_name = {first[:-1]: attrs for first, attrs in cookies}
    assert by_name["remember_token"]["path"] == "/auth"
    assert "httponly" not in by_name["remember_token"]
    assert by_name["crafterPreview"]["samesite"] == "None"
    assert by_name["crafterPreview"]["domain"] == "cms.example"
    assert "secure" in by_name["crafterPreview"]
    assert "secure" in by_name["__Host-pref"] and "domain" not in by_name["__Host-pref"]


def test_domain_sweep_emits_one_header_per_domain_for_every_cookie() -> None:
    cookies = headers_for(
        sweep_domains=["example.com", "app.example.com"], also_expire=["remember_me"]
    )
    # session and remember_me, each: host-only plus two parent domains.
    assert len(cookies) == 6
    domains = [(first, attrs.get("domain")) for first, attrs in cookies]
    assert domains == [
        ("session=", None), ("session=", "example.com"), ("session=", "app.example.com"),
        ("remember_me=", None), ("remember_me=", "example.com"),
        ("remember_me=", "app.example.com"),
    ]
    for _, attrs in cookies:
        assert attrs["path"] == "/" and attrs["max-age"] == "0"
        assert attrs["samesite"] == "Lax" and "httponly" in attrs


def test_domain_sweep_keeps_the_configured_domain_first_and_adds_host_only() -> None:
    cookies = headers_for(cookie_domain="example.com", sweep_domains=["example.com", "ex.com"])
    assert [attrs.get("domain") for _, attrs in cookies] == ["example.com", None, "ex.com"]


def test_host_prefixed_cookies_are_never_swept_onto_a_domain() -> None:
    cookies = headers_for(cookie_name="__Host-sid", sweep_domains=["example.com"])
    assert [attrs.get("domain") for _, attrs in cookies] == [None]


def test_clear_site_data_is_sent_only_over_https() -> None:
    app, _ = client(clear_site_data=("cache", "cookies", "storage"))
    plain = app.post(LOGOUT)
    secure = app.post(LOGOUT, extra_environ={"wsgi.url_scheme": "https"})
    assert "Clear-Site-Data" not in plain.headers
    assert secure.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'


def test_clear_site_data_is_off_by_default() -> None:
    app, _ = client()
    assert "Clear-Site-Data" not in app.post(
        LOGOUT, extra_environ={"wsgi.url_scheme": "https"}
    ).headers


def test_every_logout_response_is_no_store() -> None:
    app, _ = client(csrf_cookie_name="X", csrf_header_name="X-X", redirect_to="/bye")
    for response in (
        app.post(LOGOUT, status=403),
        app.get(LOGOUT, status=405),
        app.post(LOGOUT, headers={"Cookie": "X=1", "X-X": "1"}, status=303),
    ):
        assert response.headers["Cache-Control"] == "no-store"


def test_custom_methods_are_accepted_and_listed_in_allow() -> None:
    app, _ = client(methods=("POST", "DELETE"))
    assert app.delete(LOGOUT).json == {"message": "OK"}
    response = app.put(LOGOUT, status=405)
    assert response.headers["Allow"] == "POST, DELETE"
