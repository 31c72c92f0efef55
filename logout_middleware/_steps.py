"""Store calls as data: lists and generators that say which calls to make, and the
drivers that make them.

Calls that need no results are a list (:func:`run` makes them). A *steps* generator,
for a sequence whose later calls depend on earlier results, yields each store call as a
``(bound_method, args)`` pair and is sent back its result. Neither does I/O itself, so
one sequence serves the WSGI middleware and Python callers (:func:`drive`, synchronous)
and the ASGI middleware (:func:`drive_async`, which awaits a coroutine method, calls a
method of a store that declares it never blocks on the event loop, and runs any other
in a worker thread).

A call that raises has its exception thrown into the generator at its ``yield``: a
sequence may catch it (the revocation check does: a failing store strips the cookie);
otherwise it ends the sequence and the driver lets the exception out.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator
from functools import partial
from typing import Any, TypeVar

__all__ = ["Call", "bulk", "drive", "drive_async", "nonblocking", "run", "run_async"]

#: One store call: a bound method of a store and its positional arguments.
Call = tuple[Callable[..., Any], tuple[Any, ...]]
T = TypeVar("T")


def drive(steps: Generator[Call, Any, T]) -> T:
    """Run ``steps`` synchronously: make each call, send its result back, and return
    the sequence's value. An exception of a call is thrown into ``steps``; if the
    sequence does not catch it, it propagates."""
    try:
        method, args = next(steps)
        while True:
            try:
                result = method(*args)
            except Exception as exc:
                method, args = steps.throw(exc)
            else:
                method, args = steps.send(result)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def nonblocking(store: object) -> bool:
    """Whether ``store`` declares that its methods never block (its class attribute
    ``nonblocking = True``, as the memory stores have): an asynchronous driver then
    calls them on the event loop instead of in a worker thread."""
    return getattr(store, "nonblocking", False) is True


def _owner(method: Callable[..., Any]) -> object:
    while isinstance(method, partial):
        method = method.func
    return getattr(method, "__self__", None)


async def call_async(method: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """Make one store call from a coroutine: awaited when ``method`` is a coroutine
    function, made on the event loop when its store is :func:`nonblocking`, else made
    in a worker thread (:func:`asyncio.to_thread`): never a blocking call on the loop."""
    if inspect.iscoroutinefunction(method):
        return await method(*args)
    if nonblocking(_owner(method)):
        return method(*args)
    import asyncio

    return await asyncio.to_thread(method, *args)


async def drive_async(steps: Generator[Call, Any, T]) -> T:
    """Run ``steps`` from a coroutine, each call made by :func:`call_async`; the same
    protocol as :func:`drive` (an exception of a call is thrown into ``steps``)."""
    try:
        method, args = next(steps)
        while True:
            try:
                result = await call_async(method, args)
            except Exception as exc:
                method, args = steps.throw(exc)
            else:
                method, args = steps.send(result)
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


async def run_async(calls: list[Call]) -> None:
    """Make ``calls`` (which need no results) in order, each by :func:`call_async`."""
    for method, args in calls:
        await call_async(method, args)
