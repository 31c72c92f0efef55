"""PasteDeploy: put the logout middleware in an ini pipeline.

The package declares a ``paste.filter_app_factory`` entry point named ``main``, so a
filter section needs only ``use = egg:logout-middleware``::

    [pipeline:main]
    pipeline = logout myapp

    [filter:logout]
    use = egg:logout-middleware
    backend = sqlite:///%(here)s/sessions.sqlite3
    backend.table = sessions
    cookie_name = session
    cookie_samesite = Lax
    csrf_cookie_name = XSRF-TOKEN
    csrf_header_name = X-XSRF-TOKEN
    trusted_origins = https://admin.example.com https://app.example.com

Every keyword of :class:`~logout_middleware.LogoutMiddleware` is accepted under its
own name, converted by the one table :data:`OPTIONS` (a test checks that its keys are
exactly the constructor's keywords):

* booleans: ``true``/``false``, ``yes``/``no``, ``on``/``off``, ``1``/``0``;
  ``cookie_secure`` also takes ``auto`` (or ``none``): Secure where needed;
* numbers: ``max_form_size = 8192``, ``revocation_max_age = 86400``;
* lists (``path``, ``methods``, ``trusted_origins``, ``also_expire``,
  ``sweep_domains``, ``clear_site_data``, ``allowed_redirect_hosts``,
  ``on_logout``): items separated by whitespace, commas or newlines;
* ``None``: the word ``none`` or an empty value, for the options that allow it
  (``backend``, ``cookie_domain``, ``csrf_cookie_name``, ``redirect_to``,
  ``clear_site_data``, ``revocation``, ``index``, ``oidc``, ``oidc.replay_cache``...).
  ``cookie_samesite`` is the exception: ``Lax``, ``Strict`` and ``None`` are the
  attribute's values as a browser spells them, and an empty value means no SameSite
  attribute;
* callables (``session_id_from_cookie``, ``user_from_cookie``, each item of
  ``on_logout``): ``package.module:name``.

The stores are named by URLs (:mod:`logout_middleware.backends.urls`), with their
options as ``backend.<name>``, ``revocation.<name>`` and ``index.<name>`` keys; the
OpenID Connect logout is ``oidc = <issuer>`` with :data:`OIDC_OPTIONS` as
``oidc.<name>`` keys::

    backend = redis://127.0.0.1:6379/0
    backend.key_prefix = session:
    revocation = sqlite:///%(here)s/revoked.sqlite3
    index = redis://127.0.0.1:6379/0
    index.key_prefix = session-index:
    everywhere_path = /logout/everywhere
    oidc = https://login.example.com/realms/main
    oidc.client_id = studio
    oidc.post_logout_redirect_uri = https://studio.example.com/
    oidc.replay_cache = redis://127.0.0.1:6379/1

``signed_secret_key`` is a shorthand for ``session_id_from_cookie =
signed_session_id(key)``: Flask-Session's ``SESSION_USE_SIGNER`` cookies. A secret is
one string, taken whole (spaces, commas and all). To accept cookies signed with
retired keys during a rotation, list them, oldest first, one per line, under
``signed_secret_key.fallbacks``.

An unknown key raises :class:`ValueError` naming it and listing the valid ones, so a
typo never goes unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._convert import (
    Converter,
    as_bool,
    as_callable,
    as_callables,
    as_float,
    as_int,
    as_list,
    as_optional_bool,
    as_optional_str,
    as_str,
)
from .backends.urls import backend_from_url, index_from_url, revocation_store_from_url
from .middleware import LogoutMiddleware

if TYPE_CHECKING:  # pragma: no cover
    from ._wsgi import WSGIApplication

__all__ = [
    "OIDC_OPTIONS",
    "OPTIONS",
    "filter_app_factory",
    "middleware_options",
    "oidc_from_options",
]


def _path(value: str, key: str) -> str | list[str]:
    paths = as_list(value)
    return paths[0] if len(paths) == 1 else paths


def _samesite(value: str, key: str) -> str | None:
    # The attribute's own vocabulary: Lax, Strict, None; empty means no attribute.
    return value.strip() or None


def _store_url(value: str, key: str) -> str | None:
    # A URL, built with its <key>.* options in middleware_options; none/empty: None.
    return as_optional_str(value, key)


def _optional_list(value: str, key: str) -> list[str] | None:
    return None if as_optional_str(value, key) is None else as_list(value)


#: Each ini key of the filter section and the converter of its string.
OPTIONS: dict[str, Converter] = {
    "path": _path,
    "methods": as_list,
    "cookie_name": as_str,
    "cookie_path": as_str,
    "cookie_domain": as_optional_str,
    "cookie_secure": as_optional_bool,
    "cookie_httponly": as_bool,
    "cookie_samesite": _samesite,
    "cookie_partitioned": as_bool,
    "session_id_from_cookie": as_callable,
    "also_expire": as_list,
    "sweep_domains": as_list,
    "cross_site_protection": as_bool,
    "trusted_origins": as_list,
    "csrf_cookie_name": as_optional_str,
    "csrf_header_name": as_optional_str,
    "csrf_cookie_path": as_str,
    "csrf_cookie_domain": as_optional_str,
    "csrf_field_name": as_optional_str,
    "clear_site_data": _optional_list,
    "redirect_to": as_optional_str,
    "next_param": as_str,
    "allowed_redirect_hosts": as_list,
    "max_form_size": as_int,
    "on_logout": as_callables,
    "revocation": _store_url,
    "revocation_max_age": as_float,
    "expose_errors": as_bool,
    "index": _store_url,
    "everywhere_path": as_optional_str,
    "user_from_cookie": as_callable,
    "oidc": _store_url,
}


def _replay_cache(value: str, key: str) -> Any:
    url = as_optional_str(value, key)
    return None if url is None else revocation_store_from_url(url, what="oidc.replay_cache")


#: The ``oidc.<name>`` keys: :class:`~logout_middleware.oidc.OIDCLogout`'s keywords
#: (all but ``ssl_context``); ``oidc.replay_cache`` is a revocation store URL.
OIDC_OPTIONS: dict[str, Converter] = {
    "client_id": as_str,
    "jwks_url": as_optional_str,
    "end_session_endpoint": as_optional_str,
    "post_logout_redirect_uri": as_optional_str,
    "backchannel_path": as_str,
    "algorithms": as_list,
    "clock_skew": as_float,
    "timeout": as_float,
    "max_token_age": as_float,
    "refetch_interval": as_float,
    "jwks_max_age": as_float,
    "replay_cache": _replay_cache,
}


def oidc_from_options(issuer: str, options: Mapping[str, str]) -> Any:
    """Build an :class:`~logout_middleware.oidc.OIDCLogout` from ``oidc = <issuer>``
    and its ``oidc.<name>`` keys (``oidc.client_id`` is required)."""
    from .oidc import OIDCLogout

    converted = {}
    for key, value in options.items():
        converter = OIDC_OPTIONS.get(key)
        if converter is None:
            raise ValueError(
                f"unknown oidc option {key!r}; valid options: {', '.join(sorted(OIDC_OPTIONS))}"
            )
        converted[key] = converter(value, f"oidc option {key!r}")
    client_id = converted.pop("client_id", None)
    if not client_id:
        raise ValueError("oidc = <issuer> needs oidc.client_id = <this app's client id>")
    return OIDCLogout(issuer.strip(), client_id, **converted)


#: The store keywords built from a URL, and their factories.
_STORE_URLS: dict[str, Callable[[str, Mapping[str, str]], Any]] = {
    "revocation": revocation_store_from_url,
    "index": index_from_url,
    "oidc": oidc_from_options,
}
#: Keys of the filter section that are not keywords of the middleware.
OWN_KEYS = ("backend", "signed_secret_key", "signed_secret_key.fallbacks")


def _split(local_conf: Mapping[str, str]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    plain: dict[str, str] = {}
    stores: dict[str, dict[str, str]] = {
        "backend": {},
        "revocation": {},
        "index": {},
        "oidc": {},
    }
    for key, value in local_conf.items():
        store, dot, option = key.partition(".")
        if dot and store in stores:
            stores[store][option] = value
        else:
            plain[key] = value
    return plain, stores


def middleware_options(local_conf: Mapping[str, str]) -> dict[str, Any]:
    """Turn an ini section into :class:`~logout_middleware.LogoutMiddleware` keywords
    (``backend`` included).

    Raises :class:`ValueError` for an unknown key or a value of the wrong type.
    """
    plain, stores = _split(local_conf)
    valid = sorted({*OPTIONS, *OWN_KEYS, *(f"{store}.<option>" for store in stores)})
    for key in plain:
        if key not in OPTIONS and key not in OWN_KEYS:
            raise ValueError(
                f"unknown logout middleware option {key!r} in the ini file; valid "
                f"options: {', '.join(valid)}"
            )
    backend_url = as_optional_str(plain.pop("backend", ""), "backend")
    if not backend_url and stores["backend"]:
        raise ValueError("backend.* options are set but there is no 'backend = URL'")
    if not backend_url and as_optional_str(plain.get("revocation", ""), "revocation") is None:
        raise ValueError(
            "the logout filter needs 'backend = URL' (sqlite:///path, memory:, "
            "redis://..., postgresql+psycopg://...), or 'revocation = URL' for "
            "cookie-only sessions"
        )
    for store in _STORE_URLS:
        if stores[store] and as_optional_str(plain.get(store, ""), store) is None:
            raise ValueError(f"{store}.* options are set but there is no '{store} = URL'")
    secret_key = plain.pop("signed_secret_key", None)
    fallbacks = plain.pop("signed_secret_key.fallbacks", None)
    options = {key: OPTIONS[key](value, f"option {key!r}") for key, value in plain.items()}
    if fallbacks is not None and secret_key is None:
        raise ValueError("signed_secret_key.fallbacks needs signed_secret_key (the current key)")
    if secret_key is not None:
        if not secret_key.strip():
            raise ValueError(
                "signed_secret_key is empty: write the application's secret key, or leave "
                "the key out"
            )
        if "session_id_from_cookie" in options:
            raise ValueError("set signed_secret_key or session_id_from_cookie, not both")
        from .signing import signed_session_id

        # One key per line, oldest first; the current key last.
        keys = [line.strip() for line in (fallbacks or "").splitlines() if line.strip()]
        options["session_id_from_cookie"] = signed_session_id([*keys, secret_key.strip()])
    options["backend"] = backend_from_url(backend_url, stores["backend"]) if backend_url else None
    for store, from_url in _STORE_URLS.items():
        if options.get(store) is not None:
            options[store] = from_url(options[store], stores[store])
    return options


def filter_app_factory(
    app: WSGIApplication, global_conf: Mapping[str, str], **local_conf: str
) -> LogoutMiddleware:
    """PasteDeploy ``paste.filter_app_factory``: wrap ``app`` as the ini section says.

    ``global_conf`` (the ``[DEFAULT]`` section, with ``here`` and ``__file__``) is used
    only through PasteDeploy's ``%(here)s`` interpolation.
    """
    options = middleware_options(local_conf)
    backend = options.pop("backend")
    return LogoutMiddleware(app, backend, **options)
