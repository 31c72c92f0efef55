"""Reading a ``Set-Cookie`` value as a browser does (RFC 6265bis, section 5.6).

:func:`parse_set_cookie` splits the name and value from the attributes and reads each
attribute the way Chromium does, which is the RFC's algorithm with two differences
found by the kit's Chromium tables (``tests/integration/test_testing_chromium.py``,
``tests/integration/test_testing_kit_audit.py``):

* ``Max-Age=+0`` counts as ``Max-Age=0`` (the RFC ignores a ``+``; Chromium's number
  parser takes it), and a number too large for 64 bits saturates;
* the last ``Max-Age``, ``Expires`` and ``Domain`` attribute wins even when the browser
  cannot read it: an unreadable last ``Max-Age`` leaves ``Expires`` to decide, an
  unreadable or empty last ``Expires`` makes a session cookie (however readable an
  earlier one was), and an empty last ``Domain`` makes the cookie host-only (the RFC
  skips them all);
* ``Domain=.`` names no host at all: the browser refuses the whole header.

Dates follow Chromium's own cookie-date parser (``ParseCookieExpirationTime``), not the
RFC's algorithm (section 5.1.1). It reads the three formats servers send (``Thu, 01 Jan
1970 00:00:00 GMT``, ``Thursday, 01-Jan-70 00:00:00 GMT``, ``Thu Jan  1 00:00:00
1970``) and refuses ``0`` or ``1970-01-01``: an ``Expires`` the browser cannot read is
ignored, so such a "deletion" leaves a cookie. Where it differs from the RFC: a token
with ``:`` is only ever the time: three numbers of any length (``00:00:000``), and the
first such token counts even when out of range (anything else with ``:`` is skipped);
a token of digits only is the day when it has up to two, then the year when it has up
to five (``9`` is 2009, ``01970`` is 1970, a longer one is nothing); digits with
letters (``1970GMT``, ``1a``) are nothing; there is no lower year limit (as on 64-bit
Linux: ``1600`` and ``100`` are dates in the past).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_AGE_CAP", "SetCookie", "cookie_date", "max_age", "parse_set_cookie"]

#: Browsers cap an expiry at 400 days from now (RFC 6265bis, section 5.5).
MAX_AGE_CAP = 400 * 24 * 3600
#: The longest ``name=value`` a browser stores, and the longest attribute value it reads.
MAX_NAME_VALUE, MAX_ATTRIBUTE_VALUE = 4096, 1024

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
#: Chromium's date delimiters: ASCII punctuation but ``:``, space and tab.
_DELIMITER = re.compile(r"[\t !\"#$%&'()*+,\-./;<=>?@\[\\\]^_`{|}~]+")
#: A time: three numbers (of any length, each below 2**32) between colons.
_TIME = re.compile(r"([0-9]+):([0-9]+):([0-9]+)\Z")
_UINT32 = 2**32
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_NUMBER = re.compile(r"([+-]?)([0-9]*)")
_INT64 = 2**63
_SAMESITE = {"none": "None", "lax": "Lax", "strict": "Strict"}


def cookie_date(text: str) -> float | None:
    """The time (seconds since the epoch) of a cookie date, or ``None`` when a browser
    could not read it (Chromium's ``ParseCookieExpirationTime``, on 64-bit Linux)."""
    time: tuple[int, ...] | None = None
    day = month = year = None
    for token in filter(None, _DELIMITER.split(text)):
        if not "0" <= token[0] <= "9":  # a word: the first month name counts
            if month is None and token[:3].lower() in _MONTHS and token[:3].isascii():
                month = _MONTHS.index(token[:3].lower()) + 1
        elif ":" in token:  # only ever a time; the first well-formed one counts
            if time is None and (match := _TIME.match(token)):
                numbers = tuple(int(g) for g in match.groups())
                time = numbers if max(numbers) < _UINT32 else None
        elif not (token.isascii() and token.isdigit()):
            continue  # "1970GMT", "1a": neither day nor year
        elif day is None and len(token) <= 2:
            day = int(token)
        elif year is None and len(token) <= 5:
            year = int(token)
    if time is None or day is None or month is None or year is None:
        return None
    year += 1900 if 70 <= year <= 99 else 2000 if year <= 69 else 0
    hour, minute, second = time
    if hour > 23 or minute > 59 or second > 59 or not 1 <= day <= _days_in(year, month):
        return None
    return float(_days_since_epoch(year, month, day) * 86400 + hour * 3600 + minute * 60 + second)


def _days_in(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_since_epoch(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 in the proleptic Gregorian calendar, for any year (Python's
    :mod:`calendar` stops at 9999)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def max_age(text: str) -> int | None:
    """``Max-Age`` as Chromium reads it (``base::StringToInt64``): a whole number with an
    optional sign; one too large for 64 bits saturates, even when more follows its
    digits; ``None`` when unreadable (then ``Expires`` decides)."""
    match = _NUMBER.match(text)
    assert match is not None
    sign, digits = match.groups()
    if not digits:
        return None
    number = -int(digits) if sign == "-" else int(digits)
    if number >= _INT64:
        return _INT64 - 1
    if number < -_INT64:
        return -_INT64
    return number if match.end() == len(text) else None


@dataclass(frozen=True)
class SetCookie:
    """One ``Set-Cookie`` value as a browser reads it.

    Each attribute holds its last occurrence (a browser reads them in order and the
    last one wins, even when it cannot read it: an unreadable last ``Max-Age`` or
    ``Expires`` is ``None``); :attr:`attributes` keeps them all, as written.
    """

    #: The value as received.
    header: str
    name: str
    value: str
    #: Every attribute, ``(name, value)`` as written (name not lower-cased).
    attributes: tuple[tuple[str, str], ...] = ()
    #: ``Domain``, lower-case without its leading dot; ``""`` when the last one was
    #: empty (host-only, as Chromium reads it), ``"."`` for ``Domain=.`` (no host: the
    #: browser refuses the cookie), ``None`` without one.
    domain: str | None = None
    #: ``Path`` when it starts with ``/``; ``None`` otherwise: the browser then uses
    #: the directory of the URL that set the cookie (the default path).
    path: str | None = None
    secure: bool = False
    httponly: bool = False
    partitioned: bool = False
    #: ``"None"``, ``"Lax"``, ``"Strict"``, or ``"Default"`` (absent or unknown).
    samesite: str = "Default"
    #: ``Max-Age`` in seconds (``<= 0`` expires the cookie now), or ``None`` (absent, or
    #: the last one unreadable: then ``Expires`` decides).
    max_age: int | None = None
    #: ``Expires`` as a time, or ``None`` when absent or the last one is unreadable.
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
    """The field one attribute sets (a later one of the same name overrides it), or
    nothing when a browser ignores it."""
    if key == "expires":  # the last one counts, even unreadable
        return {"expires": cookie_date(raw)}
    if key == "max-age":
        return {"max_age": max_age(raw)}
    if key == "domain":
        return {"domain": (raw[1:] if raw.startswith(".") and raw != "." else raw).lower()}
    if key == "path":
        return {"path": raw if raw.startswith("/") else None}
    if key in ("secure", "httponly", "partitioned"):
        return {key: True}
    if key == "samesite":
        return {"samesite": _SAMESITE.get(raw.lower(), "Default")}
    return {}
