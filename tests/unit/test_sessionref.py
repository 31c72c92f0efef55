"""The one cookie reader agrees with every framework's reading, by construction and
by generated headers: whatever werkzeug, Django, Starlette or WebOb would read as the
session cookie, read_cookie finds with the same canonical identity, and after the
revocation filter's rewrite none of them finds a revoked session."""

from __future__ import annotations

import http.cookies
from typing import Any

from django.http.cookie import parse_cookie as django_parse_cookie
from hypothesis import given, settings
from hypothesis import strategies as st
from webob.cookies import _rx_cookie  # type: ignore[attr-defined]
from webob.cookies import parse_cookie as webob_parse_cookie
from werkzeug.sansio.http import parse_cookie as werkzeug_parse_cookie

from logout_middleware.sessionref import (
    _webob_pairs,
    cookie_values,
    read_cookie,
    session_tokens,
)

NAME = "session"
# Characters that change how one reader or another splits, strips or unquotes.
PIECES = [
    "session",
    "session",
    "=",
    "=",
    ";",
    " ",
    "\t",
    '"',
    "\\",
    ",",
    "[",
    "a",
    "Zq9",
    "-_",
    "+/",
    ".",
    ":",
    "\x00",
    "\x0b",
    "\x1c",
    "\x85",
    "\xa0",
    "\xc2\xa0",
    "\xe2\x80\x83",
    "\xe3\x80\x80",
    "\xff",
    "\\126",
    "Wed, 09-Jun-2021 10:18:14 GMT",
]
headers = st.lists(st.sampled_from(PIECES), max_size=24).map("".join)


def werkzeug_values(header: str) -> list[str]:
    text = header.encode("latin-1").decode("utf-8", "replace")
    return werkzeug_parse_cookie(text).getlist(NAME)


def django_values(header: str) -> list[str]:
    text = header.encode("latin-1").decode("utf-8", "replace")
    # Django keeps the last value of a name; every chunk is a candidate.
    values = []
    for chunk in text.split(";"):
        values += [v for k, v in django_parse_cookie(chunk).items() if k == NAME]
    return values


def starlette_values(header: str) -> list[str]:
    values = []
    for chunk in header.split(";"):  # Starlette: latin-1 text, split, str.strip()
        key, sep, value = chunk.partition("=")
        if sep and key.strip() == NAME:
            values.append(http.cookies._unquote(value.strip()))  # type: ignore[attr-defined]
    return values


def webob_values(header: str) -> list[str]:
    return [v.decode("latin-1") for k, v in webob_parse_cookie(header) if k == NAME.encode()]


def framework_values(header: str) -> dict[str, list[str]]:
    return {
        "werkzeug": werkzeug_values(header),
        "django": django_values(header),
        "starlette": starlette_values(header),
        "webob": webob_values(header),
    }


def as_wsgi(value: str) -> str:
    return value.encode("utf-8", "surrogateescape").decode("latin-1")


def names_a_session(value: str) -> bool:
    """Whether a value holds anything but what the identities ignore (whitespace,
    quotes, backslashes, non-ASCII): a value of only those is no session."""
    return any(0x21 <= ord(c) <= 0x7E and c not in '"\\' for c in value)


def tokens_of(values: list[str]) -> set[str]:
    return {t for v in values if v for t in session_tokens(v)}


@settings(max_examples=3000, deadline=None, database=None)
@given(headers)
def test_every_framework_reading_of_the_session_is_found(header: str) -> None:
    ours = tokens_of(read_cookie(header, NAME).values)
    for framework, values in framework_values(header).items():
        for value in values:
            if not names_a_session(value):
                continue
            theirs = set(session_tokens(as_wsgi(value)))
            assert theirs & ours, (framework, header, value)


@settings(max_examples=3000, deadline=None, database=None)
@given(headers)
def test_after_the_rewrite_no_framework_finds_a_removed_session(header: str) -> None:
    reading = read_cookie(header, NAME)
    removed = {v for v in reading.values if v}
    rewritten = reading.without(removed)
    gone = tokens_of(sorted(removed))
    for framework, values in framework_values(rewritten).items():
        for value in values:
            if names_a_session(value):
                assert not set(session_tokens(as_wsgi(value))) & gone, (
                    framework,
                    header,
                    rewritten,
                    value,
                )


@settings(max_examples=5000, deadline=None, database=None)
@given(headers)
def test_the_linear_webob_reading_equals_webobs_own_findall(header: str) -> None:
    raw = header.encode("latin-1")
    theirs = [
        (m.start(), m.group(1).decode("latin-1"), m.end(), m.group(2).decode("latin-1"))
        for m in _rx_cookie.finditer(raw)
    ]
    assert _webob_pairs(header) == theirs


def test_pathological_headers_are_read_in_linear_steps() -> None:
    # A long legal run without '=' used to be rescanned from every position (WebOb's
    # lazy key): the linear reading visits each run once. Counted, not timed.
    calls: list[Any] = []
    header = "\x00=" + "x" * 20000 + "; session=1"
    import logout_middleware.sessionref as sessionref

    original = sessionref._LEGAL_RUN

    class Counting:
        def match(self, text: str, pos: int) -> Any:
            calls.append(pos)
            return original.match(text, pos)

    sessionref._LEGAL_RUN = Counting()  # type: ignore[assignment]
    try:
        assert read_cookie(header, NAME).values == ["1"]
    finally:
        sessionref._LEGAL_RUN = original
    assert len(calls) < 20


@settings(max_examples=3000, deadline=None, database=None)
@given(st.one_of(headers, st.from_regex(r"[ ;]*(?:[a-z0-9=.]{1,9}[ ;]+){0,6}", fullmatch=True)))
def test_the_plain_header_shortcut_gives_the_full_readings_values(header: str) -> None:
    assert cookie_values(header, NAME) == [v for v in read_cookie(header, NAME).values if v]
