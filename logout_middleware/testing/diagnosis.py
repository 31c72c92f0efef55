"""Why a cookie survived a logout, in sentences that say what to configure.

:func:`explain` reads the store's account of every ``Set-Cookie`` of a logout answer
(:class:`~logout_middleware.testing.store.Received`) against the cookie that is still
there, picks the deletion header meant for it, and names each attribute that makes
it miss -- with the :class:`~logout_middleware.LogoutMiddleware` setting that fixes
it, e.g. ``the cookie was set with Path=/studio; the deletion has Path=/: set
cookie_path='/studio'``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from .parsing import SetCookie
from .store import Received, StoredCookie

__all__ = ["HTTPS_HINT", "SESSION_COOKIE", "Fixes", "explain", "hint", "setting"]

#: What to do when a Secure cookie meets a logout over plain http.
HTTPS_HINT = (
    "log out over https (in a WebTest test: extra_environ={'wsgi.url_scheme': 'https'}); "
    "over plain http the browser does not even send a Secure cookie"
)
#: What the browser does with a deletion it refuses, when the store's words need
#: rephrasing for a logout, and the hint that follows.
_REFUSALS = {
    "secure-over-http": "the deletion has Secure but came over plain http, where a browser "
    "takes no Secure cookie",
    "shadows-secure": "the deletion came over plain http without Secure, and a browser never "
    "lets plain http replace a Secure cookie",
}
_HINTS = {
    "secure-over-http": HTTPS_HINT,
    "shadows-secure": HTTPS_HINT,
    "samesite-none": "give the deletion Secure (cookie_secure=True or None)",
    "partitioned": "give the deletion Secure (cookie_secure=True or None)",
    "prefix": "give the deletion the attributes the prefix needs, as the cookie has them",
}


#: How to say which setting gives a cookie an attribute back: ``fixes["path"]("/studio")``
#: is ``"set cookie_path='/studio'"``. Keys: ``path``, ``domain``, ``partitioned``.
Fixes = Mapping[str, Callable[[object], str]]


#: The session cookie's settings (:class:`~logout_middleware.LogoutMiddleware`'s).
def setting(template: str) -> Callable[[object], str]:
    """A fix worded by ``template``, in which ``{value!r}`` is the value to set."""
    return lambda value: template.format(value=value)


SESSION_COOKIE: Fixes = {
    attribute: setting(f"set cookie_{attribute}={{value!r}}")
    for attribute in ("path", "domain", "partitioned")
}


def hint(rule: str | None) -> str:
    """``": what to do"`` after a refusal by ``rule``, or ``""``."""
    found = _HINTS.get(rule or "")
    return f": {found}" if found else ""


def explain(
    kept: StoredCookie,
    results: Sequence[Received],
    source: str = "the logout response",
    fixes: Fixes = SESSION_COOKIE,
) -> list[str]:
    """Why the headers in ``results`` left ``kept`` in the store; one sentence each,
    ending with the fix (``fixes`` words the setting to change)."""
    same = [r for r in results if r.parsed is not None and r.parsed.name == kept.name]
    if not same:
        return [_no_deletion(kept, results, source)]
    best = max(same, key=lambda r: _closeness(kept, r))
    assert best.parsed is not None
    found = _identity(kept, best.parsed, best.cookie, fixes)
    if best.refused is not None and best.rule != "domain":
        rule = best.rule or ""
        found.append(
            _REFUSALS.get(rule, f"the browser ignores the deletion: {best.refused}") + hint(rule)
        )
    elif best.refused is not None and not found:
        found.append(f"the browser ignores the deletion: {best.refused}")
    elif not found and best.cookie is not None and best.stored:
        found.append(_not_expiring(best.parsed, best.cookie))
    return found or [f"the deletion {best.header!r} does not replace the cookie"]


def _no_deletion(kept: StoredCookie, results: Sequence[Received], source: str) -> str:
    names = list(dict.fromkeys(r.parsed.name for r in results if r.parsed is not None))
    for name in names:
        if name.lower() == kept.name.lower():
            return (
                f"{source} expires {name!r}, but cookie names are case-sensitive: "
                f"set cookie_name={kept.name!r}"
            )
    expired = f"expires only {', '.join(map(repr, names))}" if names else "sets no cookie"
    return (
        f"{source} {expired}, not {kept.name!r}: set cookie_name={kept.name!r}, or list "
        f"{kept.name!r} in also_expire"
    )


def _closeness(kept: StoredCookie, result: Received) -> tuple[int, int]:
    """How many identity attributes a deletion shares with ``kept``; accepted first."""
    parsed = result.parsed
    assert parsed is not None
    path = result.cookie.path if result.cookie is not None else parsed.path
    same = (
        (path == kept.path)
        + (
            (not parsed.domain) == kept.host_only
            and (kept.host_only or parsed.domain == kept.domain)
        )
        + (parsed.partitioned == (kept.partition_key is not None))
    )
    return same, result.refused is None


def _identity(
    kept: StoredCookie, parsed: SetCookie, cookie: StoredCookie | None, fixes: Fixes
) -> list[str]:
    """The identity attributes (path, domain, partition) in which the deletion differs."""
    found = []
    path = cookie.path if cookie is not None else parsed.path
    if path is not None and path != kept.path:
        if parsed.path is None:
            written = parsed.written("Path")
            has = "no Path" if not written else f"Path={written}, which does not start with '/',"
            found.append(
                f"the cookie was set with Path={kept.path}; the deletion has {has} so the "
                f"browser gives it the directory of the logout URL, {path}: "
                + fixes["path"](kept.path)
            )
        else:
            found.append(
                f"the cookie was set with Path={kept.path}; the deletion has Path={path}: "
                + fixes["path"](kept.path)
            )
    domain = parsed.domain
    if kept.host_only and domain:
        found.append(
            f"the cookie was set without Domain (host-only); the deletion has Domain={domain}: "
            + fixes["domain"](None)
        )
    elif not kept.host_only and not domain:
        found.append(
            f"the cookie was set with Domain={kept.domain}; the deletion has no Domain: "
            + fixes["domain"](kept.domain)
        )
    elif not kept.host_only and domain != kept.domain:
        found.append(
            f"the cookie was set with Domain={kept.domain}; the deletion has Domain={domain}: "
            + fixes["domain"](kept.domain)
        )
    elif kept.host_only and cookie is not None and cookie.domain != kept.domain:
        found.append(
            f"the cookie is host-only on {kept.domain}; a deletion from {cookie.domain} "
            f"cannot reach it: log out on {kept.domain}"
        )
    if kept.partition_key is not None and not parsed.partitioned:
        found.append(
            "the cookie was set Partitioned; the deletion is not, so it names another "
            "cookie: " + fixes["partitioned"](True)
        )
    elif kept.partition_key is None and parsed.partitioned:
        found.append(
            "the cookie was set without Partitioned; the deletion has it, so it names "
            "another cookie: " + fixes["partitioned"](False)
        )
    return found


def _not_expiring(parsed: SetCookie, cookie: StoredCookie) -> str:
    """Why a deletion with the cookie's identity replaced it instead of removing it."""
    fix = "send Max-Age=0 and Expires=Thu, 01 Jan 1970 00:00:00 GMT"
    left = f"the browser keeps the cookie, with the value {cookie.value!r}"
    if parsed.max_age is not None:
        return f"the deletion has Max-Age={parsed.max_age}, which wins over Expires: {left}: {fix}"
    max_age = parsed.written("Max-Age")
    ignored = (
        ""
        if max_age is None
        else f"the deletion's {_last(parsed, 'Max-Age')}Max-Age={max_age} is not a number a "
        "browser can read, so Expires decides; "
    )
    expires = parsed.written("Expires")
    if parsed.expires is not None:
        return f"{ignored}the deletion's Expires={expires} is in the future: {left}: {fix}"
    if expires is not None:
        return (
            f"{ignored}the deletion's {_last(parsed, 'Expires')}Expires={expires} is not a date "
            f"a browser can read, so it is ignored: {left} until the browser closes: {fix}"
        )
    if max_age is not None:
        return f"{ignored}it has no Expires: {left} until the browser closes: {fix}"
    return f"the deletion has neither Max-Age nor Expires: {left} until the browser closes: {fix}"


def _last(parsed: SetCookie, attribute: str) -> str:
    """``"last "`` when ``attribute`` is repeated: the browser reads the last one only,
    even when an earlier one was readable."""
    several = sum(name.lower() == attribute.lower() for name, _ in parsed.attributes) > 1
    return "last " if several else ""
