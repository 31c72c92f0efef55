"""The ending sequence as data: the store calls a plan makes, driven synchronously and
by a driver of one's own (as the ASGI twin drives it), give the same result."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest

from logout_middleware import (
    LogoutMiddleware,
    MemoryBackend,
    MemoryRevocationStore,
    MemorySessionIndex,
)
from logout_middleware._steps import bulk, drive, run
from logout_middleware.core import EndSessions
from logout_middleware.ending import SessionEnder
from logout_middleware.request import Request

EVERYWHERE = "/logout/everywhere"
LOGOUT = "/api/1/services/api/1/security/logout.json"


class Recorder:
    """Wraps a store and records every call made on it, by name."""

    def __init__(self, name: str, store: Any, log: list[tuple[str, str, tuple[Any, ...]]]):
        self._name, self._store, self._log = name, store, log

    def __getattr__(self, attr: str) -> Any:
        method = getattr(self._store, attr)
        if not callable(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            self._log.append((self._name, attr, args))
            return method(*args, **kwargs)

        call.__name__ = attr
        return call


def world(*, revocation: bool = False) -> tuple[Any, MemoryBackend, MemorySessionIndex, list[Any]]:
    log: list[Any] = []
    backend, index = MemoryBackend(), MemorySessionIndex()
    for user in ("alice", "alice", "alice", "bob"):
        sid = backend.create({"user": user})
        index.add(sid, 3600, user=user)
    options: dict[str, Any] = {}
    if revocation:
        options["revocation"] = Recorder("revocation", MemoryRevocationStore(), log)
    middleware = LogoutMiddleware(
        lambda e, s: [],
        Recorder("backend", backend, log),
        index=Recorder("index", index, log),  # type: ignore[arg-type]
        everywhere_path=EVERYWHERE,
        **options,
    )
    return middleware, backend, index, log


def plan_for(middleware: LogoutMiddleware, path: str, cookie: str, query: str = "") -> EndSessions:
    request = Request("POST", path, headers={"cookie": f"session={cookie}"}, query=query)
    plan = middleware.core.decide(request)
    assert isinstance(plan, EndSessions)
    return plan


@pytest.mark.parametrize("revocation", [False, True])
def test_the_plain_logout_makes_exactly_the_calls_it_lists(revocation: bool) -> None:
    middleware, _, index, log = world(revocation=revocation)
    sid = sorted(index.find("user", "alice"))[0]
    plan = plan_for(middleware, LOGOUT, sid)
    listed = [(getattr(m, "__name__", "?"), a) for m, a in middleware.ender.calls(plan)]
    log.clear()
    assert middleware.ender.run(plan) == 1
    assert [(attr, args) for _, attr, args in log] == listed
    expected = [("delete", (sid,))]
    if revocation:
        expected += [("revoke", (t, middleware.core.revocation.max_age)) for t in plan.tokens]  # type: ignore[union-attr]
    expected += [("remove_many", ((sid,),))]
    assert [(attr, args) for _, attr, args in log] == expected


async def drive_async(steps: Any) -> Any:
    """A driver of one's own: awaits coroutine methods, runs the others in a thread."""
    try:
        method, args = next(steps)
        while True:
            if inspect.iscoroutinefunction(method):
                result = await method(*args)
            else:
                result = await asyncio.to_thread(method, *args)
            method, args = steps.send(result)
    except StopIteration as done:
        return done.value


@pytest.mark.parametrize("keep", [False, True])
@pytest.mark.parametrize("driver", ["sync", "async"])
def test_log_out_everywhere_gives_the_same_result_whoever_drives_it(
    keep: bool, driver: str
) -> None:
    middleware, backend, index, log = world()
    alice = sorted(index.find("user", "alice"))
    bob = index.find("user", "bob")
    plan = plan_for(middleware, EVERYWHERE, alice[0], "keep_current=1" if keep else "")
    steps = middleware.ender.steps(plan)
    ended = drive(steps) if driver == "sync" else asyncio.run(drive_async(steps))
    assert ended == (2 if keep else 3)
    assert index.find("user", "alice") == ({alice[0]} if keep else set())
    assert index.find("user", "bob") == bob
    assert (alice[0] in backend) is keep
    # The order that keeps the index truthful: every deletion before any removal.
    names = [attr for _, attr, _ in log]
    assert names.index("delete_many") < names.index("remove_many")


class DownBackend(MemoryBackend):
    def delete_many(self, session_ids: Any) -> None:
        raise ConnectionError("store down")


def test_a_failing_call_stops_the_sequence_before_the_index_forgets() -> None:
    backend, index = DownBackend(), MemorySessionIndex()
    for _ in range(3):
        index.add(backend.create({}), 3600, user="alice")
    ender = SessionEnder(backend, index, None)
    with pytest.raises(ConnectionError):
        drive(ender.user_steps("alice"))
    with pytest.raises(ConnectionError):
        asyncio.run(drive_async(ender.user_steps("alice")))
    assert len(index.find("user", "alice")) == 3  # nothing forgotten


def test_drive_returns_the_value_and_lets_exceptions_out() -> None:
    def steps() -> Any:
        first = yield (lambda x: x * 2), (21,)
        return first

    assert drive(steps()) == 42

    def failing() -> Any:
        yield (lambda: 1 / 0), ()

    with pytest.raises(ZeroDivisionError):
        drive(failing())


class OneByOne:
    def __init__(self) -> None:
        self.removed: list[str] = []

    def remove(self, session_id: str) -> None:
        self.removed.append(session_id)


def test_bulk_uses_the_bulk_method_or_falls_back_one_by_one() -> None:
    index = MemorySessionIndex()
    assert bulk(index, "remove_many", "remove", ()) == []
    [(method, args)] = bulk(index, "remove_many", "remove", ("a", "b"))
    assert method == index.remove_many and args == (("a", "b"),)
    store = OneByOne()
    run(bulk(store, "remove_many", "remove", ("a", "b")))
    assert store.removed == ["a", "b"]


def test_an_ender_without_stores_ends_nothing() -> None:
    ender = SessionEnder(None, None, None)
    plan = EndSessions(("x",), (), None, (), None, ())
    assert ender.calls(plan) == []
    assert ender.run(plan) == 1  # the ids of the plan, as told: no store to call
