"""The setting checks that repeat across the package, one message each.

Every constructor validates its settings once, through these functions, so the same
bad input gets the same message wherever it is given: a :class:`ValueError` that
names the setting, says what to write, and shows what was given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from ._masking import shown_url

__all__ = [
    "byte_count",
    "callables",
    "count",
    "distinct_name",
    "encodable_text",
    "file_path",
    "flag",
    "identifier",
    "key_prefix",
    "optional_strings",
    "positive_seconds",
    "printable_path",
    "redis_url",
    "store_instance",
    "strings",
]

T = TypeVar("T")

_IDENTIFIER = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]{0,62}\Z")


#: The longest time anything may be kept or waited for: 100 years, in seconds. Every
#: store can hold it (Redis takes times to live in milliseconds in a signed 64-bit
#: integer, ``PEXPIREAT`` absolute ones), and nothing outlives it in practice.
MAX_SECONDS = 3_155_760_000


def positive_seconds(value: Any, what: str) -> float:
    """A positive number of seconds, at most :data:`MAX_SECONDS` (100 years; ``bool``,
    NaN and infinity refused)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0 < value <= MAX_SECONDS  # NaN fails both comparisons
    ):
        raise ValueError(
            f"{what} must be a positive, finite number of seconds such as 86400, at most "
            f"{MAX_SECONDS} (100 years); got {value!r}"
        )
    return float(value)


def byte_count(value: Any, what: str) -> int:
    """A whole number of bytes, ``>= 0`` (``bool`` refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a byte count >= 0 such as 8192; got {value!r}")
    return value


def flag(value: Any, what: str) -> bool:
    """``True`` or ``False``, nothing that merely looks truthy."""
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be True or False; got {value!r}")
    return value


def store_instance(value: Any, what: str) -> None:
    """Refuse a store's class where an instance of it is wanted (``MemoryBackend``
    for ``MemoryBackend()``): a class has the protocol's methods too, unbound, and
    every call would fail at the first request instead of here."""
    if isinstance(value, type):
        raise ValueError(
            f"{what} must be a store instance such as {value.__name__}(...), not the "
            f"class {value.__name__}"
        )


def strings(value: Any, what: str) -> tuple[str, ...]:
    """A string, or a non-empty list of strings, as a tuple without duplicates."""
    items = optional_strings(value, what)
    if not items:
        raise ValueError(f"{what} must be a string or a non-empty list of strings; got {value!r}")
    return items


def optional_strings(value: Any, what: str) -> tuple[str, ...]:
    """A string, or a (possibly empty) list of strings, as a tuple without duplicates."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (bytes, bytearray, Mapping)):  # not lists of strings
        items: tuple[Any, ...] = (value,)
    else:
        try:
            items = tuple(value)
        except TypeError:
            items = (value,)
    if not all(isinstance(v, str) for v in items):
        raise ValueError(f"{what} must be a string or a list of strings; got {value!r}")
    return tuple(dict.fromkeys(items))


def callables(value: Iterable[Callable[..., T]] | Callable[..., T], what: str) -> tuple[Any, ...]:
    """One callable or a list of them, as a tuple."""
    if isinstance(value, (str, bytes)):  # an import path, not a list of callables
        raise ValueError(
            f"{what} must be a callable or a list of callables (the functions themselves, "
            f"not their import paths); got {value!r}"
        )
    items = (value,) if callable(value) or not isinstance(value, Iterable) else tuple(value)
    for item in items:
        if not callable(item):
            raise ValueError(f"{what} must hold callables; got {item!r}")
    return items


def key_prefix(value: Any, what: str = "key_prefix") -> str:
    """A store key prefix: any string, possibly empty, without control characters."""
    if not isinstance(value, str) or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError(
            f"{what} must be a string without control characters such as 'session:'; got {value!r}"
        )
    return value


def identifier(value: Any, what: str) -> str:
    """A plain SQL identifier: ``[A-Za-z_][A-Za-z0-9_]*``, at most 63 characters.

    Table and column names cannot be query parameters, so they are restricted and
    quoted on use.
    """
    if not isinstance(value, str) or not _IDENTIFIER.match(value):
        raise ValueError(
            f"{what} must be a plain SQL identifier (letters, digits and '_', not "
            f"starting with a digit, at most 63 characters); got {value!r}"
        )
    return value


def printable_path(value: Any, what: str) -> str:
    """A URL path: starts with ``/``, printable ASCII, no ``;`` (safe in a header)."""
    if not isinstance(value, str) or not value.startswith("/"):
        raise ValueError(f"{what} must be a string starting with '/'; got {value!r}")
    if any(c == ";" or not 0x20 <= ord(c) < 0x7F for c in value):
        raise ValueError(f"{what} must be printable ASCII without ';'; got {value!r}")
    return value


# -- counts, files, column pairs and Redis URLs (the stores' settings) ---------------

def count(value: Any, what: str, example: int = 1) -> int:
    """A whole number ``>= 0`` (``bool`` refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a whole number >= 0 such as {example}; got {value!r}")
    return value


def file_path(value: Any, what: str = "path", example: str = "sessions.sqlite3") -> str:
    """A file system path: a non-empty ``str`` or ``os.PathLike[str]`` without NUL."""
    import os

    text = os.fspath(value) if isinstance(value, os.PathLike) else value
    if not isinstance(text, str) or not text or "\x00" in text:
        raise ValueError(
            f"{what} must be a file path, a str or pathlib.Path such as {example!r}; got {value!r}"
        )
    return text


def distinct_name(value: str, what: str, other: str, other_what: str) -> str:
    """``value``, a name that must not equal ``other`` (case ignored, as SQL does)."""
    if value.lower() == other.lower():
        raise ValueError(
            f"{what} and {other_what} must name two different columns, such as "
            f"{other_what}='id' and {what}='data'; got {what}={value!r} and "
            f"{other_what}={other!r}"
        )
    return value


def redis_url(value: str, what: str) -> str:
    """A Redis URL that redis-py reads as written: ``redis://`` or ``rediss://`` with a
    numeric port, if any, and a numeric database, if any (``redis://host:6379/0``;
    redis-py would silently use database 0 for ``/x``), or ``unix:///path.sock``.
    Messages show the URL with its password masked."""
    from urllib.parse import unquote, urlsplit

    form = (
        "'redis://host:6379/0' (rediss:// for TLS, redis://:password@host:6379/0 with a "
        "password; the port and the database are numbers) or 'unix:///path/to/redis.sock'"
    )
    shown = shown_url(value)
    if not isinstance(value, str) or not value.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"{what} must be a Redis URL such as {form}; got {shown}")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError(
            f"{what} must be a Redis URL without whitespace or control characters, such "
            f"as {form}; got {shown}"
        )
    if "#" in value:
        raise ValueError(
            f"{what} must be a Redis URL without '#' (write a '#' in a password as %23), "
            f"such as {form}; got {shown}"
        )
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError(
            f"{what} must be a Redis URL whose port is a number, such as {form}; got {shown}"
        ) from None
    if parts.scheme != "unix" and not re.fullmatch(r"(/[0-9]*)?/?", unquote(parts.path)):
        raise ValueError(
            f"{what} must be a Redis URL whose path is a database number, such as {form}; "
            f"got {shown}"
        )
    return value


def encodable_text(value: str, what: str) -> str:
    """A string that UTF-8 can encode: no lone surrogate (``'\\ud800'``), which no
    store outside this process's memory can hold."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"{what} must be text that UTF-8 can encode (no lone surrogate such as "
            f"'\\ud800'); got {value!r}"
        ) from None
    return value
