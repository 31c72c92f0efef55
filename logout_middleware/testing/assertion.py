"""``assert_cookie_deleted``: prove in a test that a logout answer really drops the cookie.

The test client's own jar is no proof: WebTest's (``http.cookiejar``) and werkzeug's
predate RFC 6265bis and delete cookies a browser keeps (see the "Testing your logout"
page). This check replays the login cookie and the logout answer through
:class:`~logout_middleware.testing.store.CookieStore`, which follows the browser.

Test clients call every site ``localhost``, which Chromium trusts like https (it takes
``Secure`` cookies over plain http there). The check models a real site instead: a
request to ``localhost`` or a loopback address becomes one to the cookie's ``Domain``,
or to ``www.example.com``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from http.cookies import SimpleCookie
from urllib.parse import quote, urlsplit

from .diagnosis import explain, hint
from .parsing import SetCookie, parse_set_cookie
from .store import CookieStore, Received, StoredCookie, registrable_domain

__all__ = [
    "SITE",
    "assert_cookie_deleted",
    "response_headers",
    "set_cookie_header",
    "set_cookie_headers",
    "site_for",
]

#: The host the checks use when the test's own says nothing (``localhost``).
SITE = "www.example.com"


def site_for(cookie: SetCookie) -> str:
    """The host a cookie is modelled on: its ``Domain`` (a host under it when the
    ``Domain`` is a public suffix, so that the browser's refusal shows), or :data:`SITE`."""
    if not cookie.domain:
        return SITE
    return cookie.domain if registrable_domain(cookie.domain) else "www." + cookie.domain


def response_headers(response: object) -> list[tuple[str, str]]:
    """The headers of a WebTest ``TestResponse``, a WebOb or werkzeug response, a Django
    ``HttpResponse``, or a list of ``(name, value)`` pairs, duplicates kept."""
    if isinstance(response, (list, tuple)):
        if all(
            isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(x, str) for x in pair)
            for pair in response
        ):
            return list(response)
    elif isinstance(headerlist := getattr(response, "headerlist", None), list):  # WebOb
        return [(str(k), str(v)) for k, v in headerlist]
    elif callable(to_list := getattr(getattr(response, "headers", None), "to_wsgi_list", None)):
        return [(str(k), str(v)) for k, v in to_list()]  # werkzeug
    elif isinstance(cookies := getattr(response, "cookies", None), SimpleCookie):  # Django
        items = getattr(response, "items", list)
        return [*items(), *(("Set-Cookie", m.OutputString()) for m in cookies.values())]
    raise TypeError(
        "expected a WebTest TestResponse, a WebOb or werkzeug response, a Django "
        f"HttpResponse or a list of (name, value) header pairs; got {type(response).__name__}"
    )


def _set_cookies(response: object) -> list[str]:
    return [v for k, v in response_headers(response) if k.lower() == "set-cookie"]


def _parsed(header: str) -> SetCookie | None:
    try:
        return parse_set_cookie(header)
    except ValueError:
        return None


def _name(header: str) -> str:
    parsed = _parsed(header)
    return "" if parsed is None else parsed.name


def set_cookie_header(response: object, name: str | None = None) -> str:
    """The ``Set-Cookie`` value for cookie ``name`` in ``response`` (the last one when
    there are several: :func:`set_cookie_headers` gives them all, and
    :func:`assert_cookie_deleted` takes them all); without ``name``, the response must
    set exactly one cookie.

    Raises :class:`AssertionError` naming the cookies the response does set.
    """
    return set_cookie_headers(response, name)[-1]


def set_cookie_headers(response: object, name: str | None = None) -> list[str]:
    """Every ``Set-Cookie`` value for cookie ``name`` in ``response``, in order (one
    name may make several cookies: other paths, other domains); without ``name``, the
    response must set exactly one cookie name.

    Raises :class:`AssertionError` naming the cookies the response does set.
    """
    values = _set_cookies(response)
    names = list(dict.fromkeys(map(_name, values)))
    if name is None:
        if len(names) == 1:
            return values
        raise AssertionError(
            f"the response sets {len(names)} cookies ({', '.join(map(repr, names)) or 'none'}): "
            "pass the name of the session cookie"
        )
    mine = [v for v in values if _name(v) == name]
    if not mine:
        sets = f"it sets {', '.join(map(repr, names))}" if names else "it sets no cookie"
        raise AssertionError(f"the response sets no cookie named {name!r}: {sets}")
    return mine


#: What stays as written in a path the browser sends: printable ASCII but the
#: characters it percent-encodes, ``%`` (a literal one was sent as ``%25``), and
#: ``?``, ``#`` and ``\``, which it would not have sent as part of the path.
_PATH_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in ' "<>`{}|^%?#\\')


def request_url(response: object) -> str | None:
    """The URL of the request a test client's response answers, as the browser wrote
    it, with ``localhost`` and loopback hosts left as they are; ``None`` when the
    response does not say.

    The path is the request's own (``RAW_URI`` or ``REQUEST_URI``) when the server
    kept it, else ``SCRIPT_NAME`` + ``PATH_INFO`` percent-encoded only where a browser
    does: ``@``, ``:``, ``;`` and the like stay as they are (``wsgiref``'s
    ``request_uri`` would encode them, and move the cookie's default path).
    """
    environ = getattr(getattr(response, "request", None), "environ", None)
    if not isinstance(environ, Mapping) or "wsgi.url_scheme" not in environ:
        return None
    scheme = str(environ["wsgi.url_scheme"])
    host = environ.get("HTTP_HOST")
    if not host:
        port = str(environ.get("SERVER_PORT", ""))
        default = port == ("443" if scheme == "https" else "80")
        host = str(environ.get("SERVER_NAME", "localhost"))
        host += "" if default or not port else ":" + port
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if isinstance(raw, str) and raw:
        path = urlsplit(raw).path
    else:
        path = quote(
            str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")),
            safe=_PATH_SAFE,
            encoding="latin-1",
        )
    return f"{scheme}://{host}{path or '/'}"


def modelled(url: str, cookie: SetCookie) -> str:
    """``url`` on a real site: a ``localhost`` or loopback host becomes the cookie's
    ``Domain`` or :data:`SITE`."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host == "localhost" or host.endswith(".localhost") or _loopback(host):
        site = site_for(cookie)
        port = f":{parts.port}" if parts.port else ""
        return parts._replace(netloc=site + port).geturl()
    return url


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def assert_cookie_deleted(
    set_cookie: str | Sequence[str],
    logout_response: object,
    *,
    url: str | None = None,
    login_url: str | None = None,
) -> None:
    """Raise :class:`AssertionError` unless ``logout_response`` makes a browser drop the
    cookie that ``set_cookie`` (the ``Set-Cookie`` value of the login) created.

    :param set_cookie: the login's ``Set-Cookie`` value, e.g. from
        :func:`set_cookie_header`; or several, e.g. from :func:`set_cookie_headers`
        (a login may set one name on several paths or domains): every cookie they
        leave in the browser must be dropped.
    :param logout_response: a WebTest ``TestResponse``, a WebOb or werkzeug response,
        a Django ``HttpResponse``, or a list of ``(name, value)`` headers.
    :param url: the URL that answered the logout; by default the response's own request
        (``localhost`` made a real host). A list of headers carries no URL: then the
        logout is taken to be ``https://`` when the cookie or its deletion is
        ``Secure``, else ``http://``, at ``/`` on the cookie's ``Domain`` or
        ``www.example.com``; a deletion without ``Path`` needs ``url``.
    :param login_url: the URL that set the cookie; it matters only for a cookie set
        without ``Path`` (it then gets that URL's directory). By default ``/`` on the
        logout's host, over https when the cookie is ``Secure``.

    The message names the cookie and what does not match, and the setting to change,
    e.g. ``the cookie was set with Path=/studio; the deletion has Path=/: set
    cookie_path='/studio'``.
    """
    values = [set_cookie] if isinstance(set_cookie, str) else list(set_cookie)
    if not values:
        raise AssertionError("set_cookie is empty: pass the login's Set-Cookie value(s)")
    cookies = []
    for value in values:
        try:
            cookies.append(parse_set_cookie(value))
        except ValueError as exc:
            raise AssertionError(
                f"set_cookie {value!r} is no cookie a browser keeps: {exc}"
            ) from None
    deletions = _set_cookies(logout_response)
    logout = url or _logout_url(logout_response, cookies, deletions)
    login = login_url or _login_url(cookies, logout)
    store = CookieStore()
    kept = _log_in(store, login, values)
    results = store.receive(logout, *deletions)
    left = {c.identity for c in store.cookies()}
    survivors = [k for k in kept if k.identity in left]
    if survivors:
        if len(kept) == 1:
            raise AssertionError(survived(kept[0], explain(kept[0], results)))
        raise AssertionError(_several(kept, survivors, results))


def model_cookie(cookies: Sequence[SetCookie]) -> SetCookie:
    """The cookie whose ``Domain`` names the modelled site when a login sets several:
    the most specific ``Domain`` (a host under it also falls under the others)."""
    return max(cookies, key=lambda c: len(c.domain or ""))


def _several(
    kept: list[StoredCookie], survivors: list[StoredCookie], results: list[Received]
) -> str:
    head = (
        f"the login set {len(kept)} cookies named {kept[0].name!r} "
        f"({'; '.join(k.describe() for k in kept)}); {len(survivors)} outlive the logout"
    )
    return head + ":\n" + "\n".join(f"- {survived(k, explain(k, results))}" for k in survivors)


def _logout_url(response: object, cookies: Sequence[SetCookie], deletions: list[str]) -> str:
    cookie = model_cookie(cookies)
    seen = request_url(response)
    if seen is not None:
        return modelled(seen, cookie)
    names = {c.name for c in cookies}
    parsed = [d for d in map(_parsed, deletions) if d is not None and d.name in names]
    if any(d.path is None for d in parsed):
        raise AssertionError(
            f"the deletion of {cookie.name!r} has no Path, so where it lands depends on the "
            "logout URL, which a list of headers does not give: pass url='https://…/logout'"
        )
    secure = any(c.secure for c in cookies) or any(d.secure for d in parsed)
    return f"{'https' if secure else 'http'}://{site_for(cookie)}/"


def _login_url(cookies: Sequence[SetCookie], logout: str) -> str:
    parts = urlsplit(logout)
    scheme = "https" if any(c.secure for c in cookies) else parts.scheme
    return f"{scheme}://{parts.netloc}/"


def _log_in(store: CookieStore, login: str, values: list[str]) -> list[StoredCookie]:
    """The cookies the login leaves in the store (a later value may replace an
    earlier one of the same identity, or delete it)."""
    results = store.receive(login, *values)
    for result in results:
        if result.refused is not None or result.cookie is None:
            raise AssertionError(
                f"a browser would not even store the login cookie {result.header!r} "
                f"(received from {login}): {result.refused}{hint(result.rule)}"
            )
    live = {c.identity: c for c in store.cookies()}
    kept = [
        live[r.cookie.identity]
        for r in results
        if r.cookie is not None and r.cookie.identity in live
    ]
    kept = list({c.identity: c for c in kept}.values())
    if not kept:
        shown = values[0] if len(values) == 1 else values
        raise AssertionError(
            f"set_cookie {shown!r} is itself a deletion: pass the Set-Cookie of the login"
        )
    return kept


def survived(kept: StoredCookie, reasons: list[str]) -> str:
    """The message for a cookie that outlived its logout."""
    head = f"the browser keeps the cookie {kept.describe()} after the logout"
    if len(reasons) == 1:
        return f"{head}: {reasons[0]}"
    return head + ":\n" + "\n".join(f"- {reason}" for reason in reasons)
