"""Each kind of setting refuses every wrong kind of value the same way, in both
adapters: a ``ValueError`` that names the setting (never a bare ``TypeError`` from
deep inside), generated over the options of a kind and the wrong values, not listed."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from logout_middleware import (
    LogoutMiddleware,
    MemoryBackend,
    MemoryRevocationStore,
    MemorySessionIndex,
)
from logout_middleware.asgi import LogoutMiddleware as AsgiLogoutMiddleware
from logout_middleware.oidc import OIDCLogout


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [])
    return [b""]


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
    pass


def messages(**settings: Any) -> list[str]:
    """Each adapter's refusal of ``settings``, as text; fails when one accepts them."""
    texts = []
    for cls, app in ((LogoutMiddleware, wsgi_app), (AsgiLogoutMiddleware, asgi_app)):
        backend = settings.pop("backend", MemoryBackend())
        with pytest.raises(ValueError) as refused:
            cls(app, backend, **settings)
        settings["backend"] = backend
        texts.append(str(refused.value))
    assert texts[0] == texts[1], "the two adapters refuse alike"
    return texts


#: The options that take a string or a list of them (or cookies, or callables).
LISTS = [
    "path", "methods", "also_expire", "sweep_domains", "trusted_origins",
    "allowed_redirect_hosts", "on_logout", "clear_site_data",
]
#: Values that are no list of what these options hold.
NOT_LISTS = [None, 5, 3.5, object(), b"POST", bytearray(b"x"), {"a": 1}, [None], [5], [b"x"]]


@pytest.mark.parametrize(("option", "value"), list(itertools.product(LISTS, NOT_LISTS)))
def test_a_list_option_refuses_what_is_not_a_list_of_its_items(option: str, value: Any) -> None:
    if option == "clear_site_data" and value is None:
        return  # None is its default: no Clear-Site-Data
    for text in messages(**{option: value}):
        assert option in text, text


@pytest.mark.parametrize("option", ["on_logout"])
@pytest.mark.parametrize("path", ["app.events:record", "print"])
def test_an_import_path_is_not_a_callable(option: str, path: str) -> None:
    for text in messages(**{option: path}):
        assert path in text and "not their import paths" in text


STORES = {
    "backend": MemoryBackend,
    "index": MemorySessionIndex,
    "revocation": MemoryRevocationStore,
}


@pytest.mark.parametrize("option", sorted(STORES))
def test_a_store_class_is_refused_saying_to_make_an_instance(option: str) -> None:
    store = STORES[option]
    for text in messages(**{option: store}):
        assert f"{store.__name__}(...)" in text and option in text


def test_an_oidc_replay_cache_class_is_refused_saying_to_make_an_instance() -> None:
    with pytest.raises(ValueError, match=r"replay_cache .*MemoryRevocationStore\(\.\.\.\)"):
        OIDCLogout("https://idp.example", "app", replay_cache=MemoryRevocationStore)  # type: ignore[arg-type]


#: Headers the browser writes: a page's script cannot carry the token in them.
BROWSER_HEADERS = [
    "Cookie", "cookie", "Host", "Origin", "Referer", "Content-Type", "Content-Length",
    "User-Agent", "Sec-Fetch-Site", "sec-fetch-mode", "Sec-CH-UA", "Accept",
]


@pytest.mark.parametrize("header", BROWSER_HEADERS)
def test_the_token_header_is_one_a_script_sets(header: str) -> None:
    for text in messages(csrf_cookie_name="XSRF-TOKEN", csrf_header_name=header):
        assert "csrf_header_name" in text and "X-XSRF-TOKEN" in text


@pytest.mark.parametrize("name", ["session", "sid"])
def test_the_token_cookie_is_not_the_session_cookie(name: str) -> None:
    for text in messages(cookie_name=name, csrf_cookie_name=name, csrf_header_name="X-T"):
        assert "csrf_cookie_name must differ from cookie_name" in text


@pytest.mark.parametrize(
    "settings", [{"csrf_cookie_path": "/x"}, {"csrf_cookie_domain": "example.com"},
                 {"csrf_cookie_path": "relative"}, {"csrf_cookie_domain": ""}],
)
def test_token_cookie_attributes_need_the_token_cookie(settings: dict[str, Any]) -> None:
    for text in messages(**settings):
        assert "set csrf_cookie_name and csrf_header_name too" in text


def _oidc() -> OIDCLogout:
    return OIDCLogout("https://idp.example", "app", jwks_url="https://idp.example/jwks")


@pytest.mark.parametrize(
    ("reader", "settings"),
    [
        ("csrf_field_name", {"csrf_cookie_name": "X", "csrf_header_name": "X-T",
                             "csrf_field_name": "_csrf"}),
        ("oidc", {"oidc": _oidc(), "index": MemorySessionIndex()}),
    ],
)
def test_what_reads_the_form_body_needs_a_form_size(reader: str, settings: dict[str, Any]) -> None:
    for text in messages(max_form_size=0, **settings):
        assert text.startswith(reader) and "max_form_size must be more than 0" in text
    # The same settings with a body to read are taken.
    LogoutMiddleware(wsgi_app, MemoryBackend(), max_form_size=1, **settings)


def test_without_a_form_reader_a_zero_form_size_is_taken() -> None:
    # Redirect mode reads ``next`` from the query alone then: a choice, not a mistake.
    LogoutMiddleware(wsgi_app, MemoryBackend(), max_form_size=0, redirect_to="/")
    AsgiLogoutMiddleware(asgi_app, MemoryBackend(), max_form_size=0, redirect_to="/")
