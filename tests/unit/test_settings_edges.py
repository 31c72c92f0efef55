"""The settings (logout_middleware.settings): what each keyword becomes in the core, and
the constructor checks that refuse a setting saying what to write."""

from __future__ import annotations

from typing import Any

import pytest

from logout_middleware import LogoutMiddleware, MemoryBackend, MemoryRevocationStore
from logout_middleware.cookies import CookieSpec
from logout_middleware.settings import csrf_guard_for


def build(backend: Any = None, **options: Any) -> LogoutMiddleware:
    return LogoutMiddleware(lambda e, s: [], backend or MemoryBackend(), **options)


def test_defaults() -> None:
    mw = build()
    core = mw.core
    assert core.paths == ("/api/1/services/api/1/security/logout.json",)
    assert core.methods == ("POST",)
    assert mw.cookie == CookieSpec("session")
    assert mw.cookie.samesite == "Lax" and mw.cookie.httponly is True
    assert core.origin_guard is not None and core.csrf_guard is None
    assert core.redirects is None and core.revocation is None
    assert core.deletes_sessions is True and core.expose_errors is False
    assert core.reporter.callbacks == ()
    assert mw.redirect_to is None and mw.session_id_from_cookie is None


def test_redirect_defaults() -> None:
    redirects = build(redirect_to="/bye").core.redirects
    assert redirects is not None
    assert (redirects.redirect_to, redirects.next_param, redirects.max_form_size) == (
        "/bye", "next", 8192)


def test_methods_are_upper_cased_without_duplicates() -> None:
    assert build(methods=["post", "POST", "delete"]).methods == ("POST", "DELETE")
    assert build(methods="put").methods == ("PUT",)


def test_a_method_may_use_every_allowed_character() -> None:
    name = "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
    assert build(methods=[name]).methods == (name,)


@pytest.mark.parametrize("methods", [[""], ["GET1"], ["P\u00d6ST"], [5]])
def test_methods_must_be_method_names(methods: list[Any]) -> None:
    with pytest.raises(ValueError, match="methods must be"):
        build(methods=methods)


def test_paths_may_be_one_string_or_several() -> None:
    assert build(path="/out").paths == ("/out",)
    assert build(path=["/a", "/b", "/a"]).paths == ("/a", "/b")


def test_one_companion_cookie_may_be_given_alone() -> None:
    for companion in ("extra", {"name": "extra"}, CookieSpec("extra")):
        mw = build(also_expire=companion)
        assert [c.name for c in mw.expired_cookies] == ["session", "extra"]


def test_the_token_cookie_is_expired_with_its_own_path_and_readable_by_scripts() -> None:
    mw = build(csrf_cookie_name="XSRF-TOKEN", csrf_header_name="X-XSRF-TOKEN",
               csrf_cookie_path="/studio", cookie_domain="example.com")
    [_, token] = mw.expired_cookies
    assert (token.name, token.path, token.httponly, token.domain) == (
        "XSRF-TOKEN", "/studio", False, None)  # host-only, whatever the session's
    assert mw.csrf_guard is not None
    assert (mw.csrf_guard.cookie_name, mw.csrf_guard.header_name) == (
        "XSRF-TOKEN", "X-XSRF-TOKEN")


def test_csrf_guard_for_without_names_is_none() -> None:
    assert csrf_guard_for(CookieSpec("s"), None, None, "/") == (None, ())


@pytest.mark.parametrize(("cookie", "header"), [("XSRF", None), (None, "X-XSRF")])
def test_csrf_names_come_in_pairs(cookie: str | None, header: str | None) -> None:
    with pytest.raises(ValueError, match="set both csrf_cookie_name and csrf_header_name"):
        build(csrf_cookie_name=cookie, csrf_header_name=header)


def test_revocation_remembers_for_revocation_max_age() -> None:
    store = MemoryRevocationStore()
    core = LogoutMiddleware(lambda e, s: [], None, revocation=store,
                            revocation_max_age=3600).core
    assert core.revocation is not None
    assert core.revocation.max_age == 3600.0 and core.revocation.store is store
    assert core.deletes_sessions is False


def test_on_logout_may_be_one_callable() -> None:
    assert build(on_logout=print).core.reporter.callbacks == (print,)


def test_cross_site_protection_off_removes_the_guard() -> None:
    assert build(cross_site_protection=False).origin_guard is None


def test_expose_errors_is_kept() -> None:
    assert build(expose_errors=True).core.expose_errors is True


def test_session_id_from_cookie_must_be_callable() -> None:
    with pytest.raises(ValueError, match="session_id_from_cookie must be a callable or None"):
        build(session_id_from_cookie="sid")


def test_the_app_must_be_callable() -> None:
    with pytest.raises(ValueError, match="app must be a WSGI application"):
        LogoutMiddleware("app", MemoryBackend())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"revocation_max_age": -5}, "revocation_max_age must be a positive"),
        ({"path": 5}, "path must be a string"),
        ({"methods": []}, "methods must be a string or a non-empty list"),
        ({"on_logout": 42}, "on_logout must hold callables"),
        ({"sweep_domains": 5}, "sweep_domains must be a string"),
        ({"clear_site_data": [5]}, "clear_site_data must be a string"),
        ({"trusted_origins": 5}, "trusted_origins must be a string"),
        ({"redirect_to": "/", "next_param": ""}, "next_param must be a non-empty string"),
        ({"redirect_to": "/", "allowed_redirect_hosts": ["a b"]}, "allowed_redirect_hosts entry"),
        ({"csrf_cookie_name": "X", "csrf_header_name": "X Y"}, "csrf_header_name must be"),
    ],
)
def test_constructor_checks_name_the_setting(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build(**options)


def test_next_param_and_hosts_are_checked_even_without_redirect_to() -> None:
    with pytest.raises(ValueError, match="next_param"):
        build(next_param="")
    with pytest.raises(ValueError, match="max_form_size"):
        build(max_form_size=-1)


def test_the_token_cookie_is_host_only_unless_its_domain_is_set() -> None:
    from logout_middleware import LogoutMiddleware, MemoryBackend

    def token_deletions(**options: object) -> list[str]:
        mw = LogoutMiddleware(
            lambda e, s: [],
            MemoryBackend(),
            cookie_domain="example.com",
            csrf_cookie_name="XSRF-TOKEN",
            csrf_header_name="X-XSRF-TOKEN",
            **options,  # type: ignore[arg-type]
        )
        return [v for _, v in mw.core.expiry.headers(False) if v.startswith("XSRF-TOKEN=")]

    (host_only,) = token_deletions()
    assert "domain=" not in host_only.lower()  # as Spring sets Studio's token cookie
    (shared,) = token_deletions(csrf_cookie_domain="example.com")
    assert "Domain=example.com" in shared
    with pytest.raises(ValueError, match="domain"):
        token_deletions(csrf_cookie_domain="exa mple.com")
