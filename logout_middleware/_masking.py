"""URLs as a message or a log may show them: the password of the user info, and the
values of query parameters such as ``password=`` or ``token=``, written ``***``."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["masked_url", "shown_url", "url_secrets", "without_url_secrets"]

#: The query parameters whose value :func:`masked_url` hides (``?password=...``).
_SECRET_QUERY = re.compile(
    r"([?&;][^=&;#]*(?:pass|pwd|secret|token|key|auth|credential)[^=&;#]*=)([^&;#]*)",
    re.IGNORECASE,
)
_SCHEME = re.compile(r"\A[A-Za-z][A-Za-z0-9+.\-]*://")


def url_secrets(url: str) -> tuple[str, ...]:
    """The parts of ``url`` that :func:`masked_url` hides: the user info's password
    (the whole user info when it has no ``:``, as a token often is) and the values of
    query parameters such as ``password=``, ``token=``, ``secret=`` or ``key=``."""
    secrets: list[str] = []
    scheme = _SCHEME.match(url)
    rest = url[scheme.end() :] if scheme else url
    at = rest.rfind("@")  # the last @: a password may hold an unescaped @ or /
    if at >= 0:
        user, colon, password = rest[:at].partition(":")
        secrets.append(password if colon else user)
        rest = rest[at + 1 :]
    secrets += [match.group(2) for match in _SECRET_QUERY.finditer(rest)]
    return tuple(s for s in secrets if s)


def masked_url(url: Any) -> str:
    """``url`` as it may be shown in a message or a log: the password of its user info
    written ``***`` (``redis://user:***@host:6379/0``; user info without ``:``, often a
    token, is all ``***``), as are the values of query parameters such as
    ``password=``. Anything but a string is shown as its ``repr``."""
    if not isinstance(url, str):
        return repr(url)
    scheme = _SCHEME.match(url)
    head, rest = (url[: scheme.end()], url[scheme.end() :]) if scheme else ("", url)
    at = rest.rfind("@")
    if at >= 0:
        user, colon, password = rest[:at].partition(":")
        if not colon:
            userinfo = "***"  # a lone token, or a password written as a user name
        else:
            userinfo = f"{user}:***" if password else f"{user}:"
        head, rest = f"{head}{userinfo}@", rest[at + 1 :]
    return head + _SECRET_QUERY.sub(lambda m: m.group(1) + ("***" if m.group(2) else ""), rest)


def shown_url(url: Any) -> str:
    """How a message shows ``url`` after ``got``: the ``repr`` of :func:`masked_url`."""
    return repr(masked_url(url)) if isinstance(url, str) else repr(url)


def without_url_secrets(text: str, url: str) -> str:
    """``text`` (a driver's message about ``url``) with every secret of ``url`` in it,
    and ``url`` itself, replaced as :func:`masked_url` writes them."""
    text = text.replace(url, masked_url(url))
    for secret in sorted(url_secrets(url), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
