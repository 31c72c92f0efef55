"""Which session a request carries: the one cookie reader and the canonical identity.

Every feature that asks "which session is this" -- the logout, revocation, and what
comes after them -- reads the ``Cookie`` header here, and nowhere else. Each second
reading would be a bypass: a spelling that one reader skips and the application
accepts.

**Reading the header.** Applications read one header in several ways. werkzeug
(Flask) and WebOb (Pyramid) honour quoted values, so ``x="a;session=R"`` is one
cookie to them; Django and Starlette split on every ``;``, so it holds a cookie
``session=R`` to them. Django strips Unicode whitespace around names and values
(after decoding the header as UTF-8), Starlette strips what is whitespace in latin-1,
werkzeug only spaces and tabs. :func:`read_cookie` is the union of those readings:
it finds a pair wherever *any* of them would, matches the name after stripping
whitespace in every one of those senses, and undoes quoting and backslash escapes.

**Naming the session.** Frameworks also accept several spellings of one *value*.
itsdangerous (Flask's and Starlette's signed sessions, Flask-Session's signed ids)
base64-decodes the signature after dropping non-ASCII characters, so extra padding,
characters outside the alphabet, ``+`` for ``-`` and the unused low bits of the last
character all leave the signature valid; WebOb's signed cookies (Pyramid) decode the
whole value that way; Django compares signatures as text. :func:`session_tokens`
maps a value to the fingerprints of its *canonical identities*, so that two spellings
that one application reads as the same session share at least one fingerprint:

* the value as the frameworks read it, reduced to printable ASCII (quotes, backslashes
  and whitespace dropped) and, when it decodes as base64 the way Python's lenient
  decoder does, to the decoded bytes;
* when the value has a ``.``: the part before the last ``.`` (the signed payload and
  timestamp, exact) with the *decoded* signature after it.

The tokens are hex SHA-256 digests: a store never holds a cookie value.
Two different sessions could share a token only if their values differ by nothing
but the characters the frameworks ignore, which no session id generator produces.
"""

from __future__ import annotations

import binascii
import bisect
import functools
import hashlib
import re

__all__ = [
    "CookieReading",
    "cookie_values",
    "decode_value",
    "read_cookie",
    "recorded_tokens",
    "session_tokens",
]

# What one of the splitting readers strips around a name or a value, as bytes: what
# str.strip() strips in latin-1 (Starlette decodes the header as latin-1), and the
# UTF-8 encodings of Unicode whitespace (Django decodes it as UTF-8).
_SPACE = (
    r"(?:[\t\n\x0b\x0c\r\x1c-\x20\x85\xa0]|\xc2[\x85\xa0]|\xe1\x9a\x80"
    r"|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]|\xe2\x81\x9f|\xe3\x80\x80)"
)
_STRIP = re.compile(rf"\A{_SPACE}+|{_SPACE}+\Z")


def _strip(text: str) -> str:
    return _STRIP.sub("", text) if text else text


# The werkzeug reading (Flask): ``key=value`` or ``key="quoted"`` between ';',
# spaces and tabs ignored around them; a malformed pair is skipped up to the next ';'.
_WERKZEUG_PAIR = re.compile(
    r'[ \t]*([^ \t=";]+)(?:[ \t]*=[ \t]*("(?:[^\\"]|\\.)*"|[^ \t";]*))?[ \t]*(?:;|\Z)',
    re.ASCII | re.DOTALL,
)
# The WebOb reading (Pyramid): any run of legal characters followed by '=' and a
# value, found anywhere in the header, whatever separates it from the previous one.
_LEGAL = r"[\w~!@#$%^&*()+=\-`.?|:/{}<>']"
_LEGAL_RUN = re.compile(rf"{_LEGAL}+", re.ASCII)
_WEBOB_REST = re.compile(
    rf'\s*=\s*("(?:\\"|.)*?"|\w{{3}},\s[\w-]{{9,11}}\s[\d:]{{8}}\sGMT'
    rf"|(?:{_LEGAL}|\\(?:[0-3][0-7][0-7]|.))*)",
    re.ASCII,
)
_UNSLASH = re.compile(r"\\([0-3][0-7]{2}|.)", re.DOTALL)
# A header that every reading splits alike: pairs of letters, digits and ``_.-+/=:``
# (no quotes, no backslashes, no other separators), between ';' and spaces.
_PAIR_CHAR = "[A-Za-z0-9_.+/:=-]"
_PLAIN_HEADER = re.compile(rf"[ ;]*(?:{_PAIR_CHAR}+(?:[ ]*;[ ;]*|\Z))*\Z")
# What survives into the printable-ASCII identity.
_IDENTITY = tuple(range(64))
_NOT_PRINTABLE = re.compile(r'[^\x21-\x7e]|["\\]')
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/_=-]")
_URLSAFE = str.maketrans("-_", "+/")


def _unslash(match: re.Match[str]) -> str:
    escaped = match.group(1)
    return chr(int(escaped, 8)) if len(escaped) == 3 else escaped


def _unquote(value: str, *, escapes_outside_quotes: bool = False) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return _UNSLASH.sub(_unslash, value[1:-1])
    if escapes_outside_quotes and "\\" in value:
        return _UNSLASH.sub(_unslash, value)
    return value


class CookieReading:
    """Where one cookie name appears in a ``Cookie`` header, by every reading.

    :ivar segments: the header split at every ``;``, byte for byte.
    :ivar groups: for each segment, the first segment of the run it belongs to:
        segments that one cookie spans (a quoted value holding ``;``) stand or fall
        together.
    :ivar pairs: ``(segment, value)`` for each place the name was found by one of
        the readings, values unquoted and stripped, in header order.

    Treat it as immutable: readings are cached and shared.
    """

    __slots__ = ("groups", "pairs", "segments")

    def __init__(
        self,
        segments: tuple[str, ...],
        groups: tuple[int, ...],
        pairs: tuple[tuple[int, str], ...],
    ) -> None:
        self.segments = segments
        self.groups = groups
        self.pairs = pairs

    @property
    def values(self) -> list[str]:
        """The distinct values of the cookie, first seen first (may include ``""``)."""
        return list(dict.fromkeys(value for _, value in self.pairs))

    def without(self, values: set[str] | frozenset[str]) -> str:
        """The header with every pair whose value is in ``values`` removed.

        Every other cookie stays byte for byte as it was, in its place. A pair that
        one reading finds inside another cookie (in its quoted value, or behind a
        space) takes that cookie with it: no reading may find it afterwards.
        """
        doomed = {self.groups[index] for index, value in self.pairs if value in values}
        kept = [s for i, s in enumerate(self.segments) if self.groups[i] not in doomed]
        return ";".join(kept).strip(" ;")


class _Runs:
    """The segments of a header, joined into runs by the spans of the cookies read
    (a union-find whose roots are the first segment of each run)."""

    def __init__(self, segments: list[str]) -> None:
        self.starts: list[int] = []
        offset = 0
        for segment in segments:
            self.starts.append(offset)
            offset += len(segment) + 1
        self.parent = list(range(len(segments)))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            i = self.parent[i]
        return i

    def join(self, start: int, end: int) -> int:
        """Join the segments under ``header[start:end]``; return the first of them."""
        first = bisect.bisect_right(self.starts, start) - 1
        last = bisect.bisect_right(self.starts, max(start, end - 1)) - 1
        for i in range(first + 1, last + 1):
            a, b = self.find(first), self.find(i)
            if a != b:
                self.parent[max(a, b)] = min(a, b)
        return first


def _webob_pairs(header: str) -> list[tuple[int, str, int, str]]:
    """``(start, key, end, raw value)`` of each pair WebOb's ``findall`` finds, in
    linear time: a key is the shortest run of legal characters followed by ``=``, so
    a run with no ``=`` in it (or right after it) can hold no key anywhere."""
    pairs = []
    pos, size = 0, len(header)
    while pos < size:
        run = _LEGAL_RUN.match(header, pos)
        if run is None:
            pos += 1
            continue
        equals = header.find("=", pos + 1, run.end())
        key_end = equals if equals != -1 else run.end()
        rest = _WEBOB_REST.match(header, key_end)
        if rest is None:
            pos = run.end()
            continue
        pairs.append((pos, header[pos:key_end], rest.end(), rest.group(1)))
        pos = max(rest.end(), pos + 1)
    return pairs


@functools.lru_cache(maxsize=64)
def _alone(name: str) -> re.Pattern[str]:
    # The header is one plain token pair named ``name`` (a case of _PLAIN_HEADER).
    # Possessive: a header with more after the value fails at once, without backtracking.
    return re.compile(rf"[ ;]*+{re.escape(name)}=({_PAIR_CHAR}*+)(?:[ ]*+;[ ;]*+)?+\Z")


def _plain_pairs(header: str, segments: list[str], name: str) -> list[tuple[int, str]] | None:
    """``(segment, value)`` of each pair named ``name`` when the header holds only token
    pairs between ';' and spaces -- where every reading agrees -- else ``None``."""
    if len(segments) > len(_IDENTITY) or not _PLAIN_HEADER.match(header):
        return None
    pairs = []
    for index, segment in enumerate(segments):
        key, sep, value = segment.partition("=")
        if sep and key.strip(" ") == name:
            pairs.append((index, value.strip(" ")))
    return pairs


def read_cookie(header: str, name: str) -> CookieReading:
    """Find every value of cookie ``name`` in a ``Cookie`` header, by every reading.

    ``header`` is a WSGI string (latin-1: one character per byte), or an ASGI header
    decoded as latin-1. Never raises.
    """
    segments = header.split(";")
    plain = _plain_pairs(header, segments, name)
    if plain is not None:
        return CookieReading(tuple(segments), _IDENTITY[: len(segments)], tuple(plain))
    runs = _Runs(segments)
    found: list[tuple[int, str]] = []  # (first segment, value)
    for index, segment in enumerate(segments):  # Django, Starlette: split at every ';'
        key, sep, value = segment.partition("=")
        if sep and _strip(key) == name:
            found.append((index, _unquote(_strip(value))))
    pos = 0
    while pos < len(header):  # werkzeug: quoted values may hold ';'
        match = _WERKZEUG_PAIR.match(header, pos)
        if match is None or match.end() == pos:
            pos = header.find(";", pos) + 1
            if pos == 0:
                break
            continue
        first = runs.join(match.start(), match.end())
        if match.group(1) == name and match.group(2) is not None:
            found.append((first, _unquote(match.group(2))))
        pos = match.end()
    for start, key, end, value in _webob_pairs(header):  # WebOb: pairs anywhere
        first = runs.join(start, end)
        if key == name:
            found.append((first, _unquote(value, escapes_outside_quotes=True)))
    pairs = sorted(set(found))
    groups = tuple(runs.find(i) for i in range(len(segments)))
    return CookieReading(tuple(segments), groups, tuple(pairs))


def cookie_values(header: str, name: str) -> list[str]:
    """The distinct non-empty values of cookie ``name``: :func:`read_cookie`'s, with
    shortcuts for the usual headers: the cookie alone, or plain token pairs."""
    alone = _alone(name).match(header)
    if alone is not None:  # the header is this one plain pair: every reading agrees
        value = alone.group(1)
        return [value] if value else []
    plain = _plain_pairs(header, header.split(";"), name)
    if plain is not None:
        if len(plain) == 1:  # the usual header
            return [plain[0][1]] if plain[0][1] else []
        return list(dict.fromkeys(value for _, value in plain if value))
    return [v for v in read_cookie(header, name).values if v]


def decode_value(value: str) -> str:
    """A cookie value from :func:`read_cookie` as the application's text: the bytes
    decoded as UTF-8, undecodable bytes replaced (what werkzeug hands to Flask)."""
    if value.isascii():
        return value
    return value.encode("latin-1", "replace").decode("utf-8", "replace")


def _lenient_base64(text: str) -> bytes | None:
    """Decode base64 the way ``base64.urlsafe_b64decode`` does after the caller pads
    it: characters outside the alphabet are skipped, and the first complete padding
    ends the data. ``None`` when no padding could make it decode."""
    return _base64_reading(text)[0]


def _base64_reading(text: str) -> tuple[bytes | None, bool]:
    """:func:`_lenient_base64`'s bytes, and whether a complete padding ended the data
    before more of the alphabet came (``b64(data)=.ts.sig``: the data alone)."""
    text = _NOT_BASE64.sub("", text).translate(_URLSAFE)
    early = False
    if "=" in text:
        data, quad, pads = [], 0, 0
        for i, c in enumerate(text):
            if c == "=":
                if quad >= 2:
                    pads += 1
                    if quad + pads >= 4:
                        early = bool(text[i + 1 :].strip("="))
                        break
                continue
            data.append(c)
            quad, pads = (quad + 1) % 4, 0
        text = "".join(data)
    if len(text) % 4 == 1:
        return None, early
    try:
        return binascii.a2b_base64(text + "=" * (-len(text) % 4)), early
    except binascii.Error:  # pragma: no cover - the text is clean by now
        return None, early


def _token(kind: bytes, *parts: bytes) -> str:
    digest = hashlib.sha256(b"logout-middleware/session/" + kind)
    for part in parts:
        digest.update(len(part).to_bytes(4, "big") + part)
    return digest.hexdigest()


def session_tokens(value: str) -> tuple[str, ...]:
    """The fingerprints of the canonical identities of one cookie value (1 or 2): a
    presented value is refused when any of them was recorded.

    ``value`` is a value from :func:`read_cookie`. Two spellings that an application
    accepts as one session share a token; see the module's documentation.
    """
    return _tokens_of(value, recording=False)


def recorded_tokens(value: str) -> tuple[str, ...]:
    """The fingerprints recorded when ``value`` is logged out (1 or 2): those of
    :func:`session_tokens`, except for a value whose base64 reading stops at a padding
    before the end. That reading (the data of a Starlette cookie
    ``b64(data)=.ts.sig``, which every session with the same data shares) is checked,
    so a signed cookie of WebOb's with anything added after its padding stays
    revoked, but never recorded: the exact text is, with the signed identity."""
    return _tokens_of(value, recording=True)


def _tokens_of(value: str, *, recording: bool) -> tuple[str, ...]:
    text = _NOT_PRINTABLE.sub("", value)
    decoded, early = _base64_reading(text)
    if decoded is not None and not (recording and early):
        tokens = [_token(b"base64", decoded)]
    else:
        tokens = [_token(b"text", text.encode("ascii"))]
    head, dot, signature = text.rpartition(".")
    if dot:
        raw_signature = _lenient_base64(signature)
        if raw_signature is not None:
            tokens.append(_token(b"signed", head.encode("ascii"), raw_signature))
    return tuple(tokens)
