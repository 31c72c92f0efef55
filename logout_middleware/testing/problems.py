"""``cookie_problems``: what a middleware's configuration would fail to delete, without
a request -- a check for a test, or for an application's start-up.

It replays the cookie as the application sets it (``set_cookie``) and the very
``Set-Cookie`` values the middleware prebuilt for its logout answer through
:class:`~logout_middleware.testing.store.CookieStore`, on a real host name, over
plain http and https, and checks that the browser sends the cookie to the logout
path at all (under the ``SCRIPT_NAME`` the application is mounted at).
"""

from __future__ import annotations

from collections.abc import Callable

from ..core import LogoutCore
from .assertion import site_for
from .diagnosis import HTTPS_HINT, SESSION_COOKIE, Fixes, explain, hint, setting
from .parsing import SetCookie, parse_set_cookie
from .store import CookieStore, StoredCookie

__all__ = ["cookie_problems", "core_of"]


def core_of(middleware: object) -> LogoutCore:
    """The decision core of a :class:`~logout_middleware.LogoutMiddleware`, found also
    behind the usual wrappers (a Flask app's ``wsgi_app``, WebTest's ``TestApp.app``)."""
    seen = middleware
    for _ in range(8):
        core = getattr(seen, "core", None)
        if isinstance(core, LogoutCore):
            return core
        inner = next(
            (getattr(seen, a) for a in ("wsgi_app", "app", "application") if hasattr(seen, a)),
            None,
        )
        if inner is None or inner is seen:
            break
        seen = inner
    raise TypeError(
        "expected a LogoutMiddleware (or an app that wraps one as .wsgi_app, .app or "
        f".application, such as a Flask app or a WebTest TestApp); got {type(middleware).__name__}"
    )


def cookie_problems(
    middleware: object,
    set_cookie: str,
    *,
    script_name: str = "",
    https: bool | None = None,
    host: str | None = None,
) -> list[str]:
    """Every way ``middleware`` would fail to delete the cookie ``set_cookie`` describes.

    :param middleware: a :class:`~logout_middleware.LogoutMiddleware` (or an app that
        wraps one: a Flask app, a WebTest ``TestApp``).
    :param set_cookie: the ``Set-Cookie`` value the application sends at login.
    :param script_name: where the application is mounted (``SCRIPT_NAME``, e.g.
        ``"/studio"``); the logout URL is ``script_name`` + the logout path, and a cookie
        ``Path`` that does not cover it never reaches the logout at all.
    :param https: ``True`` for a site served over https only, ``False`` for plain http
        only; ``None`` (default): https when the cookie is ``Secure``, else both.
    :param host: the site's host name; by default the cookie's ``Domain`` or
        ``www.example.com``.

    Returns an empty list when all is well; otherwise one sentence per problem, which
    names what does not match and the setting to change (a problem found on one scheme
    only starts with ``over https:`` or ``over plain http:``).
    """
    core = core_of(middleware)
    if script_name and (not script_name.startswith("/") or script_name.endswith("/")):
        raise ValueError(f"script_name must be '' or a path such as '/studio'; got {script_name!r}")
    try:
        cookie = parse_set_cookie(set_cookie)
    except ValueError as exc:
        return [f"set_cookie {set_cookie!r} is no cookie a browser keeps: {exc}"]
    schemes = [https] if https is not None else [True] if cookie.secure else [False, True]
    found: dict[str, set[bool]] = {}
    for secure in schemes:
        for problem in _problems(core, cookie, host or site_for(cookie), script_name, secure):
            found.setdefault(problem, set()).add(secure)
    return [
        p if len(on) == len(schemes) else f"over {'https' if True in on else 'plain http'}: {p}"
        for p, on in found.items()
    ]


def _problems(
    core: LogoutCore, cookie: SetCookie, host: str, script_name: str, secure: bool
) -> list[str]:
    scheme = "https" if secure else "http"
    store = CookieStore()
    login = f"{'https' if cookie.secure else scheme}://{host}{script_name}/"
    (result,) = store.receive(login, cookie.header)
    if result.refused is not None or result.cookie is None:
        return [f"a browser refuses this cookie at login: {result.refused}{hint(result.rule)}"]
    if not result.stored:
        return [
            f"set_cookie {cookie.header!r} is itself a deletion: pass the Set-Cookie of the login"
        ]
    kept = result.cookie
    problems = []
    csrf = core.csrf_guard.cookie_name if core.csrf_guard is not None else None
    if kept.name in (core.cookie.name, csrf):
        for path in (*core.paths, *core.everywhere_paths):
            url = f"{scheme}://{host}{script_name}{path}"
            if not any(c.identity == kept.identity for c in store.cookies_for(url)):
                problems.append(_not_sent(kept, script_name + path, kept.name == csrf))
    logout = f"{scheme}://{host}{script_name}{core.paths[0]}"
    deletions = [v for k, v in core.expiry.headers(secure) if k.lower() == "set-cookie"]
    results = store.receive(logout, *deletions)
    if any(c.identity == kept.identity for c in store.cookies()):
        problems += explain(kept, results, "the middleware", _fixes(core, kept.name))
    return problems


def _fixes(core: LogoutCore, name: str) -> Fixes:
    """The settings that give the cookie ``name`` its attributes in ``core``."""
    csrf = core.csrf_guard.cookie_name if core.csrf_guard is not None else None
    if name == core.cookie.name or all(c.name != name for c in core.expiry.cookies):
        return SESSION_COOKIE

    if name == csrf:  # the token cookie has its own Path and Domain, the rest is shared
        return {
            "path": setting("set csrf_cookie_path={value!r}"),
            "domain": setting("set csrf_cookie_domain={value!r}"),
            "partitioned": _takes(name, "Partitioned", "partitioned"),
        }
    return {
        attribute: setting(f"give {name!r} {attribute}={{value!r}} in also_expire")
        for attribute in ("path", "domain", "partitioned")
    }


def _takes(name: str, attribute: str, key: str) -> Callable[[object], str]:
    """The fix for a token cookie attribute that only the session cookie's setting gives:
    list the token cookie again, with its own attribute, in ``also_expire``."""
    return lambda value: (
        f"the token cookie takes the session cookie's {attribute}: list "
        f"{ {'name': name, key: value}!r} in also_expire"
    )


def _not_sent(kept: StoredCookie, path: str, csrf: bool) -> str:
    fails = (
        "the double-submit check refuses the logout"
        if csrf
        else "the logout cannot end the session"
    )
    if kept.secure:
        return (
            f"the cookie is Secure, so the browser sends it to {path} over https only: over "
            f"plain http {fails}: {HTTPS_HINT}"
        )
    return (
        f"the cookie has Path={kept.path}, which does not cover the logout URL path {path}: "
        f"the browser never sends it there, so {fails} (if the application is mounted under "
        f"{kept.path}, pass script_name={kept.path!r}; otherwise set the cookie with Path=/)"
    )
