"""Reading a ``Set-Cookie`` value as a browser does (RFC 6265bis, section 5.6).

:func:`parse_set_cookie` splits the name and value from the attributes and reads each
attribute the way Chromium does, which is the RFC's algorithm with two differences
found by the kit's Chromium table (``tests/integration/test_testing_chromium.py``):

* ``Max-Age=+0`` counts as ``Max-Age=0`` (the RFC ignores a ``+``; Chromium's number
  parser takes it);
* the last ``Domain`` attribute wins even when it is empty, and an empty one makes the
  cookie host-only (the RFC ignores an empty ``Domain``).

Dates follow the RFC's cookie-date algorithm (section 5.1.1), which reads the three
formats servers send (``Thu, 01 Jan 1970 00:00:00 GMT``, ``Thursday, 01-Jan-70
00:00:00 GMT``, ``Thu Jan  1 00:00:00 1970``) and refuses ``0`` or ``1970-01-01``: an
``Expires`` the browser cannot read is ignored, so such a "deletion" leaves a cookie.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_AGE_CAP", "SetCookie", "cookie_date", "parse_set_cookie"]

#: Browsers cap an expiry at 400 days from now (RFC 6265bis, section 5.5).
MAX_AGE_CAP = 400 * 24 * 3600
#: The longest ``name=value`` a browser stores, and the longest attribute value it reads.
MAX_NAME_VALUE, MAX_ATTRIBUTE_VALUE = 4096, 1024

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_DELIMITER = re.compile(r"[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+")
_TIME = re.compile(r"(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\D.*)?\Z", re.S)
_DAY = re.compile(r"(\d{1,2})(?:\D.*)?\Z", re.S)
_YEAR = re.compile(r"(\d{2,4})(?:\D.*)?\Z", re.S)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MAX_AGE = re.compile(r"[+-]?\d+\Z")
_SAMESITE = {"none": "None", "lax": "Lax", "strict": "Strict"}


def cookie_date(text: str) -> float | None:
    """The time (seconds since the epoch) of a cookie date, or ``None`` when a browser
    could not read it (RFC 6265, section 5.1.1)."""
    time = day = month = year = None
    for token in filter(None, _DELIMITER.split(text)):
        if time is None and (match := _TIME.match(token)):
            time = tuple(int(g) for g in match.groups())
        elif day is None and (match := _DAY.match(token)):
            day = int(match.group(1))
        elif month is None and token[:3].lower() in _MONTHS:
            month = _MONTHS.index(token[:3].lower()) + 1
        elif year is None and (match := _YEAR.match(token)):
            year = int(match.group(1))
    if time is None or day is None or month is None or year is None:
        return None
    year += 1900 if 70 <= year <= 99 else 2000 if year <= 69 else 0
    hour, minute, second = time
    if year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    return float(calendar.timegm((year, month, day, hour, minute, second)))


@dataclass(frozen=True)
class SetCookie:
    """One ``Set-Cookie`` value as a browser reads it.

    Each attribute holds its last valid occurrence (a browser reads them in order and
    the last one wins); :attr:`attributes` keeps them all, as written.
    """

    #: The value as received.
    header: str
    name: str
    value: str
    #: Every attribute, ``(name, value)`` as written (name not lower-cased).
    attributes: tuple[tuple[str, str], ...] = ()
    #: ``Domain``, lower-case without its leading dot; ``""`` when the last one was
    #: empty (host-only, as Chromium reads it), ``None`` without one.
    domain: str | None = None
    #: ``Path`` when it starts with ``/``; ``None`` otherwise: the browser then uses
    #: the directory of the URL that set the cookie (the default path).
    path: str | None = None
    secure: bool = False
    httponly: bool = False
    partitioned: bool = False
    #: ``"None"``, ``"Lax"``, ``"Strict"``, or ``"Default"`` (absent or unknown).
    samesite: str = "Default"
    #: ``Max-Age`` in seconds (``<= 0`` expires the cookie now), or ``None``.
    max_age: int | None = None
    #: ``Expires`` as a time, or ``None`` when absent or unreadable.
    expires: float | None = None

    def written(self, attribute: str) -> str | None:
        """The value of the last ``attribute`` (any case) as written, or ``None``."""
        found = None
        for name, value in self.attributes:
            if name.lower() == attribute.lower():
                found = value
        return found

    def expiry(self, now: float) -> float | None:
        """When the cookie expires: ``Max-Age`` wins over ``Expires``, both capped at
        400 days; ``None`` for a session cookie; ``-inf`` for "already expired"."""
        if self.max_age is not None:
            return float("-inf") if self.max_age <= 0 else now + min(self.max_age, MAX_AGE_CAP)
        if self.expires is not None:
            return min(self.expires, now + MAX_AGE_CAP)
        return None


def parse_set_cookie(header: str) -> SetCookie:
    """Read one ``Set-Cookie`` value; :class:`ValueError` says why a browser would
    ignore it entirely (a control character, no name and no value, too long)."""
    if _CONTROL.search(header):
        raise ValueError("it contains a control character")
    pair, _, rest = header.partition(";")
    name, equals, value = pair.partition("=")
    if not equals:
        name, value = "", name
    name, value = name.strip(" \t"), value.strip(" \t")
    if not name and not value:
        raise ValueError("it has neither a name nor a value")
    if len(name) + len(value) > MAX_NAME_VALUE:
        raise ValueError(f"its name and value are longer than {MAX_NAME_VALUE} bytes")
    fields: dict[str, Any] = {}
    attributes = []
    for item in rest.split(";") if rest else ():
        key, _, raw = item.partition("=")
        key, raw = key.strip(" \t"), raw.strip(" \t")
        if not key or len(raw) > MAX_ATTRIBUTE_VALUE:
            continue
        attributes.append((key, raw))
        fields.update(_attribute(key.lower(), raw))
    return SetCookie(header, name, value, tuple(attributes), **fields)


def _attribute(key: str, raw: str) -> dict[str, Any]:
    """The field one attribute sets, or nothing when a browser ignores it."""
    if key == "expires":
        when = cookie_date(raw)
        return {} if when is None else {"expires": when}
    if key == "max-age":
        return {"max_age": int(raw)} if _MAX_AGE.match(raw) else {}
    if key == "domain":
        return {"domain": (raw[1:] if raw.startswith(".") else raw).lower()}
    if key == "path":
        return {"path": raw if raw.startswith("/") else None}
    if key in ("secure", "httponly", "partitioned"):
        return {key: True}
    if key == "samesite":
        return {"samesite": _SAMESITE.get(raw.lower(), "Default")}
    return {}
