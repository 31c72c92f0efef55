"""Store calls as data: lists and generators that say which calls to make, and the
drivers that make them synchronously.

Calls that need no results are a list (:func:`run` makes them). A *steps* generator,
for a sequence whose later calls depend on earlier results, yields each store call as a
``(bound_method, args)`` pair and is sent back its result (:func:`drive`). Neither does
I/O itself, so one sequence serves the WSGI middleware, Python callers and an
asynchronous driver, which awaits a coroutine method and runs a blocking one in a
worker thread. A call that raises ends the sequence:
the driver lets the exception out.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, TypeVar

__all__ = ["Call", "bulk", "drive", "run"]

#: One store call: a bound method of a store and its positional arguments.
Call = tuple[Callable[..., Any], tuple[Any, ...]]
T = TypeVar("T")


def drive(steps: Generator[Call, Any, T]) -> T:
    """Run ``steps`` synchronously: make each call, send its result back, and return
    the sequence's value. An exception of a call propagates."""
    try:
        method, args = next(steps)
        while True:
            method, args = steps.send(method(*args))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def bulk(store: Any, many: str, one: str, ids: tuple[str, ...]) -> list[Call]:
    """``store.<many>(ids)`` (a bounded number of round trips) where the store has that
    method, else ``store.<one>(id)`` for each id; no call for no ids."""
    if not ids:
        return []
    method = getattr(store, many, None)
    if method is not None:
        return [(method, (ids,))]
    method = getattr(store, one)
    return [(method, (session_id,)) for session_id in ids]


def run(calls: list[Call]) -> None:
    """Make ``calls`` (which need no results) in order, synchronously."""
    for method, args in calls:
        method(*args)
