"""The settings of the logout, validated once and assembled into a decision core.

:func:`build_core` takes every keyword of :class:`~logout_middleware.LogoutMiddleware`
(the WSGI middleware and the ASGI twin share it, so an option means the same and is
validated the same under both), hands each collaborator the settings that concern
it -- each validates its own through :mod:`logout_middleware._validation` -- and
returns the :class:`~logout_middleware.core.LogoutCore` they make up.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ._validation import callables, flag, positive_seconds, store_instance, strings
from .backends.base import RevocationStore, SessionBackend, SessionIndex
from .cookies import CookieLike, CookieSpec, cookie_list, to_cookie_spec
from .core import LogoutCore
from .events import LogoutEvent, Reporter
from .expiry import CookieExpiry, cookie_defaults
from .guards import CsrfGuard, OriginGuard
from .redirects import RedirectPolicy
from .responses import Answers
from .revocation import Revocation, UserFromCookie

if TYPE_CHECKING:  # pragma: no cover
    from .oidc import OIDCLogout

__all__ = ["build_core", "csrf_guard_for", "refuse_coroutine_stores"]

_METHOD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ-_")


def build_core(
    backend: SessionBackend | None,
    *,
    path: str | Iterable[str],
    methods: str | Iterable[str],
    cookie_name: str,
    cookie_path: str,
    cookie_domain: str | None,
    cookie_secure: bool | None,
    cookie_httponly: bool,
    cookie_samesite: str | None,
    cookie_partitioned: bool,
    session_id_from_cookie: Callable[[str], str | None] | None,
    also_expire: Iterable[CookieLike] | CookieLike,
    sweep_domains: Iterable[str] | str,
    cross_site_protection: bool,
    trusted_origins: Iterable[str] | str,
    csrf_cookie_name: str | None,
    csrf_header_name: str | None,
    csrf_cookie_path: str,
    csrf_cookie_domain: str | None,
    csrf_field_name: str | None,
    clear_site_data: Iterable[str] | None,
    redirect_to: str | None,
    next_param: str,
    allowed_redirect_hosts: Iterable[str] | str,
    max_form_size: int,
    on_logout: Iterable[Callable[[LogoutEvent], Any]],
    revocation: RevocationStore | None,
    revocation_max_age: float,
    expose_errors: bool,
    index: SessionIndex | None,
    everywhere_path: str | None,
    user_from_cookie: UserFromCookie | None,
    oidc: OIDCLogout | None,
) -> LogoutCore:
    """Validate the middleware's settings and assemble its core; raises
    :class:`ValueError` that names the setting and says what to write."""
    _check_stores_and_hooks(backend, index, revocation, session_id_from_cookie, user_from_cookie)
    paths = _paths(path)
    methods_ = _methods(methods)
    cookie = CookieSpec(
        cookie_name,
        path=cookie_path,
        domain=cookie_domain,
        secure=cookie_secure,
        httponly=cookie_httponly,
        samesite=cookie_samesite,
        partitioned=cookie_partitioned,
    )
    csrf = (csrf_cookie_name, csrf_header_name, csrf_cookie_path, csrf_cookie_domain)
    csrf_guard, csrf_cookie = csrf_guard_for(cookie, *csrf, field_name=csrf_field_name)
    also_expire = cookie_list(also_expire, "also_expire")
    redirects = RedirectPolicy(
        redirect_to,
        next_param=next_param,
        allowed_redirect_hosts=allowed_redirect_hosts,
        max_form_size=max_form_size,
    )
    _check_form_readers(redirects.max_form_size, csrf_field_name=csrf_field_name, oidc=oidc)
    guard = OriginGuard(trusted_origins)
    return LogoutCore(
        paths=paths,
        everywhere_paths=(everywhere := _everywhere_paths(everywhere_path, index, paths)),
        backchannel_paths=_backchannel_paths(oidc, index, (*paths, *everywhere)),
        max_form_size=redirects.max_form_size,
        methods=methods_,
        cookie=cookie,
        expiry=CookieExpiry(cookie, (*also_expire, *csrf_cookie), sweep_domains, clear_site_data),
        answers=Answers(methods_),
        origin_guard=guard if flag(cross_site_protection, "cross_site_protection") else None,
        csrf_guard=csrf_guard,
        redirects=redirects if redirect_to is not None else None,
        revocation=_revocation(revocation, cookie, revocation_max_age, index, user_from_cookie),
        session_id_from_cookie=session_id_from_cookie,
        deletes_sessions=backend is not None,
        expose_errors=flag(expose_errors, "expose_errors"),
        reporter=Reporter(callables(on_logout, "on_logout")),
    )


def _revocation(
    store: RevocationStore | None,
    cookie: CookieSpec,
    max_age: float,
    index: SessionIndex | None,
    user_from_cookie: UserFromCookie | None,
) -> Revocation | None:
    max_age = positive_seconds(max_age, "revocation_max_age")  # checked even when unused
    if store is None:
        return None
    return Revocation(
        store, cookie, max_age=max_age, index=index, user_from_cookie=user_from_cookie
    )


#: The methods the logout calls on each kind of store.
_STORE_METHODS = {
    "backend": ("delete", "delete_many"),
    "index": ("add", "find", "labels", "remove", "remove_many"),
    "revocation": ("revoke", "is_revoked"),
}


def refuse_coroutine_stores(**stores: Any) -> None:
    """Refuse a store whose methods are coroutines where they are called synchronously
    (the WSGI middleware): it would return an unawaited coroutine, delete nothing, and
    the logout would answer ``200``."""
    for kind, store in stores.items():
        for method in _STORE_METHODS[kind]:
            if inspect.iscoroutinefunction(getattr(type(store), method, None)):
                raise ValueError(
                    f"{kind} {type(store).__name__} is asynchronous ({method} is a "
                    "coroutine function): use it with logout_middleware.asgi.LogoutMiddleware, "
                    "or give the WSGI middleware a synchronous store (RedisBackend, "
                    "SQLAlchemyBackend...)"
                )


def _check_stores_and_hooks(
    backend: Any, index: Any, revocation: Any, session_id_from_cookie: Any, user_from_cookie: Any
) -> None:
    for what, store in (("backend", backend), ("index", index), ("revocation", revocation)):
        store_instance(store, what)
    if session_id_from_cookie is not None and not callable(session_id_from_cookie):
        raise ValueError("session_id_from_cookie must be a callable or None")
    if user_from_cookie is not None and revocation is None:
        raise ValueError(
            "user_from_cookie is for cookie-only sessions: it needs revocation=... "
            "(a RevocationStore) and index=..."
        )
    if backend is None and revocation is None:
        raise ValueError(
            "backend is required: pass a SessionBackend such as SQLiteBackend(...); "
            "None is allowed only with revocation=... for cookie-only sessions"
        )
    if backend is not None and not isinstance(backend, SessionBackend):
        raise ValueError(
            "backend must have a delete(session_id) method (the SessionBackend "
            f"protocol); got {type(backend).__name__}"
        )


def _check_form_readers(max_form_size: int, **readers: Any) -> None:
    # A setting that only works by reading the form body cannot work without one.
    if max_form_size == 0:
        for name, value in readers.items():
            if value is not None:
                raise ValueError(
                    f"{name} reads the request's form body: max_form_size must be more "
                    "than 0, such as 8192 (the default); got 0"
                )


def _everywhere_paths(
    everywhere_path: str | None, index: Any, logout_paths: tuple[str, ...]
) -> tuple[str, ...]:
    if index is not None and not isinstance(index, SessionIndex):
        raise ValueError(
            "index must be a SessionIndex (add, find, labels, remove), such as "
            f"SQLiteSessionIndex(path); got {type(index).__name__}"
        )
    if everywhere_path is None:
        return ()
    if index is None:
        raise ValueError(
            "everywhere_path needs index=... (a SessionIndex such as "
            "SQLiteSessionIndex(path)): it finds the sessions of the user"
        )
    (everywhere,) = _paths(everywhere_path, "everywhere_path", single=True)
    if everywhere in logout_paths:
        raise ValueError(
            f"everywhere_path {everywhere!r} is also a logout path; give it a path of its "
            "own, such as '/logout/everywhere'"
        )
    return (everywhere,)


def _backchannel_paths(
    oidc: Any, index: SessionIndex | None, taken: tuple[str, ...]
) -> tuple[str, ...]:
    if oidc is None:
        return ()
    from .oidc import OIDCLogout

    if not isinstance(oidc, OIDCLogout):
        raise ValueError(
            "oidc must be an OIDCLogout(issuer, client_id, ...) from "
            f"logout_middleware.oidc; got {type(oidc).__name__}"
        )
    if index is None:
        raise ValueError(
            "oidc needs index=... (a SessionIndex such as SQLiteSessionIndex(path)): "
            "the back-channel logout finds the sessions of an OIDC sid or sub there"
        )
    if oidc.backchannel_path in taken:
        raise ValueError(
            f"the OIDC backchannel_path {oidc.backchannel_path!r} is also a logout or "
            "everywhere path; give it a path of its own"
        )
    return (oidc.backchannel_path,)


def _paths(
    path: str | Iterable[str], name: str = "path", *, single: bool = False
) -> tuple[str, ...]:
    if single and not isinstance(path, str):
        raise ValueError(f"{name} must be one path such as '/logout/everywhere'; got {path!r}")
    paths = strings(path, name)
    for p in paths:
        if not p.startswith("/"):
            label = "logout path" if name == "path" else name
            raise ValueError(f"{label} must start with '/'; got {p!r}")
    return paths


def _methods(methods: str | Iterable[str]) -> tuple[str, ...]:
    result = tuple(dict.fromkeys(m.upper() for m in strings(methods, "methods")))
    if not all(m and set(m) <= _METHOD_CHARS for m in result):
        raise ValueError(f"methods must be HTTP method names such as 'POST'; got {methods!r}")
    return result


def csrf_guard_for(
    cookie: CookieSpec,
    cookie_name: str | None,
    header_name: str | None,
    cookie_path: str,
    cookie_domain: str | None = None,
    *,
    field_name: str | None = None,
) -> tuple[CsrfGuard | None, tuple[CookieSpec, ...]]:
    """The double-submit guard and the token cookie to expire, from the settings: the
    token cookie has its own Path and Domain (host-only by default, as Spring's
    ``CookieCsrfTokenRepository`` sets Studio's), the session cookie's other flags."""
    if (cookie_name is None) != (header_name is None):
        raise ValueError(
            "set both csrf_cookie_name and csrf_header_name (e.g. 'XSRF-TOKEN' and "
            "'X-XSRF-TOKEN'), or neither"
        )
    if cookie_name is None or header_name is None:
        if field_name is not None:
            raise ValueError(
                "csrf_field_name needs csrf_cookie_name and csrf_header_name: the field "
                "carries the same double-submit token as the header"
            )
        if cookie_path != "/" or cookie_domain is not None:
            raise ValueError(
                "csrf_cookie_path and csrf_cookie_domain describe the token cookie: set "
                "csrf_cookie_name and csrf_header_name too, or leave them out"
            )
        return None, ()
    if cookie_name == cookie.name:
        raise ValueError(
            f"csrf_cookie_name must differ from cookie_name ({cookie.name!r}): the token "
            "cookie is read by the page's script, the session cookie must not be; use "
            "a name such as 'XSRF-TOKEN'"
        )
    token_cookie = to_cookie_spec(
        {"name": cookie_name, "path": cookie_path, "domain": cookie_domain, "httponly": False},
        cookie_defaults(cookie),
    )
    return CsrfGuard(token_cookie.name, header_name, field_name), (token_cookie,)
