"""The setting checks that repeat across the package, one message each.

Every constructor validates its settings once, through these functions, so the same
bad input gets the same message wherever it is given: a :class:`ValueError` that
names the setting, says what to write, and shows what was given.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

__all__ = [
    "byte_count",
    "callables",
    "flag",
    "identifier",
    "key_prefix",
    "optional_strings",
    "positive_seconds",
    "printable_path",
    "store_instance",
    "strings",
]

T = TypeVar("T")

_IDENTIFIER = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]{0,62}\Z")


def positive_seconds(value: Any, what: str) -> float:
    """A positive, finite number of seconds (``bool``, NaN and infinity refused)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0 < value < math.inf  # NaN fails both comparisons
    ):
        raise ValueError(
            f"{what} must be a positive, finite number of seconds such as 86400; got {value!r}"
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
