"""Converters from configuration strings (ini files, URLs) to setting values.

Each converter takes the string and the setting's name (for the message) and
returns the value, or raises :class:`ValueError` that says what to write. The
values are then validated by the constructor they are passed to, like any other.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

__all__ = [
    "Converter",
    "as_bool",
    "as_callable",
    "as_callables",
    "as_float",
    "as_int",
    "as_list",
    "as_optional_bool",
    "as_optional_float",
    "as_optional_str",
    "as_str",
    "resolve",
]

Converter = Callable[[str, str], Any]

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})
_NONE = frozenset({"", "none"})
_SEPARATORS = re.compile(r"[\s,]+")


def as_bool(value: str, key: str) -> bool:
    """``true``/``false`` (and ``yes``/``no``, ``on``/``off``, ``1``/``0``)."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{key} must be true or false (yes/no, on/off, 1/0); got {value!r}")


def as_optional_bool(value: str, key: str) -> bool | None:
    """A boolean, or ``none``/``auto``/empty for ``None``."""
    if value.strip().lower() in (*_NONE, "auto"):
        return None
    return as_bool(value, key)


def as_int(value: str, key: str) -> int:
    """An integer."""
    try:
        return int(value.strip())
    except ValueError:
        raise ValueError(f"{key} must be an integer; got {value!r}") from None


def as_float(value: str, key: str) -> float:
    """A number (the constructor refuses NaN and infinity where they make no sense)."""
    try:
        return float(value.strip())
    except ValueError:
        raise ValueError(f"{key} must be a number; got {value!r}") from None


def as_optional_float(value: str, key: str) -> float | None:
    """A number, or ``none``/empty for ``None``."""
    return None if value.strip().lower() in _NONE else as_float(value, key)


def as_str(value: str, key: str) -> str:
    """The string, stripped."""
    return value.strip()


def as_optional_str(value: str, key: str) -> str | None:
    """The string, or ``none``/empty for ``None``."""
    return None if value.strip().lower() in _NONE else value.strip()


def as_list(value: str, key: str = "") -> list[str]:
    """Items separated by whitespace, commas or newlines; empty items dropped. An
    item starting with ``#`` or ``;`` is refused: an ini file keeps a comment written
    after a value as part of it (PasteDeploy's parser), so it would become items."""
    items = [item for item in _SEPARATORS.split(value.strip()) if item]
    for item in items:
        if item[0] in "#;":
            raise ValueError(
                f"{key or 'a list'}: {item!r} starts a comment, which an ini file keeps in "
                "the value; put the comment on a line of its own"
            )
    return items


def resolve(reference: str, key: str) -> Any:
    """Import ``package.module:name`` (``name`` may be dotted) and return the object."""
    module_name, colon, attribute = reference.strip().partition(":")
    if not colon or not module_name or not attribute:
        raise ValueError(f"{key} must name an object as 'package.module:name'; got {reference!r}")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError, TypeError, ValueError) as exc:  # relative: TypeError
        raise ValueError(
            f"{key}: cannot import {reference!r} (write an absolute 'package.module:name'): {exc}"
        ) from exc
    return obj


def as_callable(value: str, key: str) -> Callable[..., Any] | None:
    """``package.module:name`` of a callable, or ``none``/empty for ``None``."""
    if value.strip().lower() in _NONE:
        return None
    obj = resolve(value, key)
    if not callable(obj):
        raise ValueError(f"{key}: {value!r} is not callable")
    return obj  # type: ignore[no-any-return]


def as_callables(value: str, key: str) -> list[Callable[..., Any]]:
    """Several ``package.module:name`` references."""
    return [c for c in (as_callable(item, key) for item in as_list(value)) if c is not None]
