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
own name; ini strings are converted to its types:

* booleans: ``true``/``false``, ``yes``/``no``, ``on``/``off``, ``1``/``0``;
* numbers: ``max_form_size = 8192``, ``revocation_max_age = 86400``;
* lists (``path``, ``methods``, ``trusted_origins``, ``also_expire``,
  ``sweep_domains``, ``clear_site_data``, ``allowed_redirect_hosts``,
  ``on_logout``): items separated by whitespace, commas or newlines;
* ``None``: the word ``none`` or an empty value, for the options that allow it
  (``cookie_domain``, ``cookie_secure``, ``csrf_cookie_name``, ``redirect_to``...).
  ``cookie_samesite`` is the exception: ``Lax``, ``Strict`` and ``None`` are the
  attribute's values as a browser spells them, and an empty value means no SameSite
  attribute;
* callables (``session_id_from_cookie``, each item of ``on_logout``):
  ``package.module:name``.

The backend is named by a URL, with its options as ``backend.<name>`` keys:

======================================  ==============================================
``backend =``                           store
======================================  ==============================================
``sqlite:///relative/or/%(here)s/path`` :class:`~logout_middleware.SQLiteBackend`
``memory:``                             :class:`~logout_middleware.MemoryBackend`
                                        (one process only: tests and development)
``redis://``, ``rediss://``, ``unix://`` :class:`~logout_middleware.backends.RedisBackend`
any other SQLAlchemy URL                :class:`~logout_middleware.backends.SQLAlchemyBackend`
(``postgresql+psycopg://...``)          over ``sqlalchemy.create_engine(url)``
``call:package.module:factory``         ``factory(**backend_options)``, your own store
======================================  ==============================================

``sqlite:`` paths follow SQLAlchemy's spelling: three slashes and a relative path,
four for an absolute one; ``%(here)s`` (the ini file's directory) makes a path that
does not depend on the working directory. ``revocation`` takes ``memory:``,
``sqlite:///...`` or a Redis URL the same way, with ``revocation.<name>`` options.
``signed_secret_key`` (one or more keys, oldest first) is a shorthand for
``session_id_from_cookie = signed_session_id(keys)``: Flask-Session's
``SESSION_USE_SIGNER`` cookies.

Nothing is imported for a store that is not used: ``redis`` and ``sqlalchemy`` stay
optional. An unknown key raises :class:`ValueError` naming it and listing the valid
ones, so a typo never goes unnoticed.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .middleware import LogoutMiddleware

if TYPE_CHECKING:  # pragma: no cover
    from ._wsgi import WSGIApplication

__all__ = ["build_backend", "build_revocation", "filter_app_factory", "middleware_options"]

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})
_NONE = frozenset({"", "none"})
_SEPARATORS = re.compile(r"[\s,]+")
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
# Keys of this factory that are not keywords of the middleware.
_OWN_KEYS = ("backend", "revocation", "signed_secret_key")


def asbool(value: str, key: str) -> bool:
    """``true``/``false`` (and ``yes``/``no``, ``on``/``off``, ``1``/``0``) as a bool."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{key} must be true or false (yes/no, on/off, 1/0); got {value!r}")


def aslist(value: str) -> list[str]:
    """Split on whitespace, commas and newlines; empty items are dropped."""
    return [item for item in _SEPARATORS.split(value.strip()) if item]


def _number(kind: type[int] | type[float], value: str, key: str) -> int | float:
    try:
        return kind(value.strip())
    except ValueError:
        raise ValueError(
            f"{key} must be {'an integer' if kind is int else 'a number'}; got {value!r}"
        ) from None


def resolve(reference: str, key: str) -> Any:
    """Import ``package.module:name`` (``name`` may be dotted) and return the object."""
    module_name, colon, attribute = reference.strip().partition(":")
    if not colon or not module_name or not attribute:
        raise ValueError(
            f"{key} must name an object as 'package.module:name'; got {reference!r}"
        )
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"{key}: cannot import {reference!r}: {exc}") from exc
    return obj


def _callable(reference: str, key: str) -> Callable[..., Any]:
    obj = resolve(reference, key)
    if not callable(obj):
        raise ValueError(f"{key}: {reference!r} is not callable")
    return obj  # type: ignore[no-any-return]


def _convert(annotation: str, value: str, key: str) -> Any:
    """Convert one ini string to the type named by a constructor annotation."""
    optional = annotation.endswith(" | None")
    base = annotation.removesuffix(" | None")
    if optional and value.strip().lower() in _NONE:
        return None
    if optional and base == "bool" and value.strip().lower() == "auto":
        return None  # cookie_secure = auto: Secure on https and where a rule needs it
    if base == "bool":
        return asbool(value, key)
    if base == "int":
        return _number(int, value, key)
    if base == "float":
        return _number(float, value, key)
    if base == "str":
        return value.strip()
    if base in ("Iterable[str]", "str | Iterable[str]"):
        return aslist(value)
    if base.startswith("Callable["):
        return _callable(value, key)
    if base.startswith("Iterable[Callable["):
        return [_callable(item, key) for item in aslist(value)]
    if base == "Iterable[CookieLike]":
        return aslist(value)
    raise ValueError(f"{key} cannot be set from an ini file (type {annotation})")


def _parameters(callable_: Callable[..., Any], skip: int) -> dict[str, inspect.Parameter]:
    """The keyword parameters of ``callable_``, after the first ``skip`` positional ones."""
    params = list(inspect.signature(callable_).parameters.values())[skip:]
    return {p.name: p for p in params if p.kind is not p.VAR_KEYWORD}


def _accepts_any_keyword(callable_: Callable[..., Any]) -> bool:
    return any(
        p.kind is p.VAR_KEYWORD for p in inspect.signature(callable_).parameters.values()
    )


def _options(
    target: Callable[..., Any], skip: int, raw: Mapping[str, str], what: str
) -> dict[str, Any]:
    """Convert ``raw`` ini strings for ``target``'s keywords; unknown keys raise."""
    params = _parameters(target, skip)
    options: dict[str, Any] = {}
    for key, value in raw.items():
        param = params.get(key)
        if param is None:
            if _accepts_any_keyword(target):
                options[key] = value  # passed through as the string it is
                continue
            raise ValueError(
                f"unknown {what} option {key!r}; valid options: {', '.join(sorted(params))}"
            )
        annotation = param.annotation
        if not isinstance(annotation, str):  # pragma: no cover - postponed annotations
            annotation = getattr(annotation, "__name__", str(annotation))
        options[key] = _convert(annotation, value, f"{what} option {key!r}")
    return options


def _sqlite_path(url: str, key: str) -> str:
    path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
    if not path:
        raise ValueError(
            f"{key} = {url!r}: an SQLite URL needs a file, 'sqlite:///relative/path' or "
            "'sqlite:////absolute/path' (or sqlite:///%(here)s/file.sqlite3)"
        )
    return path


def build_backend(url: str, options: Mapping[str, str]) -> Any:
    """Build a session backend from its URL and ``backend.*`` ini options."""
    url = url.strip()
    if url == "memory:":
        from .backends.memory import MemoryBackend

        return MemoryBackend(**_options(MemoryBackend, 1, options, "backend"))
    if url.startswith("sqlite:"):
        from .backends.sqlite import SQLiteBackend

        path = _sqlite_path(url, "backend")
        return SQLiteBackend(path, **_options(SQLiteBackend, 1, options, "backend"))
    if url.startswith(_REDIS_SCHEMES):
        from .backends.redis import RedisBackend

        return RedisBackend(url, **_options(RedisBackend, 1, options, "backend"))
    if url.startswith("call:"):
        factory = _callable(url[len("call:") :], "backend")
        return factory(**options)
    if "://" in url:
        from sqlalchemy import create_engine

        from .backends.sqlalchemy import SQLAlchemyBackend

        engine = create_engine(url, pool_pre_ping=True)
        return SQLAlchemyBackend(engine, **_options(SQLAlchemyBackend, 1, options, "backend"))
    raise ValueError(
        f"backend = {url!r} is not a store URL; use sqlite:///path, memory:, "
        "redis://host:port/db, an SQLAlchemy URL such as postgresql+psycopg://..., or "
        "call:package.module:factory"
    )


def build_revocation(url: str, options: Mapping[str, str]) -> Any:
    """Build a revocation store from its URL and ``revocation.*`` ini options."""
    from . import revocation

    url = url.strip()
    if url == "memory:":
        store = revocation.MemoryRevocationStore
        return store(**_options(store, 0, options, "revocation"))
    if url.startswith("sqlite:"):
        sqlite_store = revocation.SQLiteRevocationStore
        path = _sqlite_path(url, "revocation")
        return sqlite_store(path, **_options(sqlite_store, 1, options, "revocation"))
    if url.startswith(_REDIS_SCHEMES):
        redis_store = revocation.RedisRevocationStore
        return redis_store(url, **_options(redis_store, 1, options, "revocation"))
    raise ValueError(
        f"revocation = {url!r} is not a revocation store URL; use memory:, "
        "sqlite:///path or redis://host:port/db"
    )


def middleware_options(local_conf: Mapping[str, str]) -> dict[str, Any]:
    """Turn an ini section into :class:`~logout_middleware.LogoutMiddleware` keywords.

    Raises :class:`ValueError` for an unknown key or a value of the wrong type.
    """
    plain: dict[str, str] = {}
    backend_options: dict[str, str] = {}
    revocation_options: dict[str, str] = {}
    for key, value in local_conf.items():
        if key.startswith("backend."):
            backend_options[key[len("backend.") :]] = value
        elif key.startswith("revocation."):
            revocation_options[key[len("revocation.") :]] = value
        else:
            plain[key] = value
    params = _parameters(LogoutMiddleware, 2)
    params.pop("revocation", None)
    valid = sorted({*params, *_OWN_KEYS, "backend.<option>", "revocation.<option>"})
    for key in plain:
        if key not in params and key not in _OWN_KEYS:
            raise ValueError(
                f"unknown logout middleware option {key!r} in the ini file; valid "
                f"options: {', '.join(valid)}"
            )
    backend_url = plain.pop("backend", None)
    if backend_url is None or not backend_url.strip():
        if backend_options:
            raise ValueError("backend.* options are set but there is no 'backend = URL'")
        if "revocation" not in plain:
            raise ValueError(
                "the logout filter needs 'backend = URL' (sqlite:///path, memory:, "
                "redis://..., postgresql+psycopg://...), or 'revocation = URL' for "
                "cookie-only sessions"
            )
    revocation_url = plain.pop("revocation", None)
    if revocation_options and revocation_url is None:
        raise ValueError("revocation.* options are set but there is no 'revocation = URL'")
    secret_keys = plain.pop("signed_secret_key", None)
    options = _options(LogoutMiddleware, 2, plain, "logout middleware")
    if "cookie_samesite" in plain:
        # The attribute's own vocabulary: Lax, Strict, None; empty means no attribute.
        options["cookie_samesite"] = plain["cookie_samesite"].strip() or None
    path = options.get("path")
    if isinstance(path, list) and len(path) == 1:
        options["path"] = path[0]
    if secret_keys is not None:
        if "session_id_from_cookie" in options:
            raise ValueError("set signed_secret_key or session_id_from_cookie, not both")
        from .signing import signed_session_id

        options["session_id_from_cookie"] = signed_session_id(aslist(secret_keys))
    options["backend"] = (
        build_backend(backend_url, backend_options) if backend_url and backend_url.strip() else None
    )
    if revocation_url is not None:
        options["revocation"] = build_revocation(revocation_url, revocation_options)
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
