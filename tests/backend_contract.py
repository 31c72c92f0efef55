"""The one contract every session backend and every revocation store must honour.

Mixins, not tests: ``stores/test_contract.py`` mixes them into one class
per backend. A class provides the ``make`` fixture (``make(prefix)`` returns a backend
that uses ``prefix``) and ``put``/``has``, which write and read the store *directly*
(raw Redis commands, raw SQL), so that the contract also checks the record layout.

* :class:`BackendContract` -- every backend, ``delete`` and ``delete_many``. A class
  may also provide ``round_trips(backend)``, a context manager that records each
  store round trip made inside it, and ``max_round_trips``, the most that
  ``delete_many`` of 1 200 ids may take.
* :class:`PrefixContract` -- backends with a ``key_prefix``.
* :class:`SharedContract` -- stores shared between processes (deletes from forked
  worker processes).
* :class:`FailureContract` -- stores that can fail: the ``broken`` fixture returns a
  backend whose store cannot be reached, and ``delete`` must raise.
* :class:`TransactionContract` -- SQL stores, whose ``delete_many`` is one
  transaction: ``refuse_deleting(backend, key)`` makes the store refuse to delete that
  record (a trigger), and a failing chunk must leave every record in place.
* :class:`RevocationContract` -- revocation stores (``revoke``/``is_revoked``).
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from logout_middleware.backends import SessionBackend, delete_sessions
from logout_middleware.revocation import RevocationStore


def store_token(name: str) -> str:
    """An opaque token as the stores receive them: a hex SHA-256 digest."""
    return hashlib.sha256(name.encode()).hexdigest()


#: Ids that would do damage if a backend used them as a pattern or pasted them into
#: a query, or that a store might not be able to hold.
HOSTILE_IDS = {
    "star": "*",
    "star-suffix": "abc*",
    "question": "ab?",
    "bracket": "[ab]c",
    "single-quote": "x' OR '1'='1",
    "double-quote": 'x" OR "1"="1',
    "semicolon": "x; DROP TABLE sessions; --",
    "newline": "x\r\nDEL session:abc\r\n",
    "nul": "ab\x00c",
    "non-ascii": "séssion-ключ-🍪",
    "percent": "%",
    "underscore": "_",
    "backslash": "a\\b",
    "4kb": "x" * 4096,
}

#: Records that must survive every hostile delete.
BYSTANDERS = ["abc", "abcd", "a", "b", "c", "ab", "xx", "x", "session", "a_b", "a%b", "A"]

_CTX = multiprocessing.get_context("fork")


class BackendContract:
    """What :class:`SessionBackend` promises, for any store."""

    prefix = "t:"

    @pytest.fixture
    def make(self) -> Callable[[str], Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    @pytest.fixture
    def backend(self, make: Callable[[str], Any]) -> Any:
        return make(self.prefix)

    def put(self, backend: Any, key: str) -> bool:  # pragma: no cover - overridden
        """Write a record at the raw ``key``; return False if the store cannot hold it."""
        raise NotImplementedError

    def has(self, backend: Any, key: str) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def put_id(self, backend: Any, session_id: str) -> bool:
        return self.put(backend, self.key_of(backend, session_id))

    def has_id(self, backend: Any, session_id: str) -> bool:
        return self.has(backend, self.key_of(backend, session_id))

    def key_of(self, backend: Any, session_id: str) -> str:
        return str(getattr(backend, "key_prefix", "")) + session_id

    def put_ids(self, backend: Any, session_ids: list[str]) -> None:
        """Write a record for each id; a store may override it to write them faster."""
        for sid in session_ids:
            assert self.put_id(backend, sid)

    #: The most round trips ``delete_many`` of 1 200 ids may take (``round_trips``).
    max_round_trips = 0

    @contextlib.contextmanager
    def round_trips(self, backend: Any) -> Iterator[list[str] | None]:
        """Record each store round trip made inside the block; ``None``: nothing to
        count (a store in this process's memory)."""
        yield None

    def test_backend_satisfies_session_backend(self, backend: Any) -> None:
        assert isinstance(backend, SessionBackend)

    def test_delete_removes_exactly_that_record(self, backend: Any) -> None:
        for sid in ("one", "two", "one-and-more", "ONE"):
            assert self.put_id(backend, sid)
        backend.delete("one")
        assert not self.has_id(backend, "one")
        for sid in ("two", "one-and-more", "ONE"):
            assert self.has_id(backend, sid), sid

    def test_deleting_twice_or_unknown_succeeds(self, backend: Any) -> None:
        self.put_id(backend, "twice")
        backend.delete("twice")
        backend.delete("twice")
        backend.delete("never-existed")
        backend.delete("")
        assert not self.has_id(backend, "twice")

    @pytest.mark.parametrize("name", sorted(HOSTILE_IDS))
    def test_hostile_ids_are_harmless(self, backend: Any, name: str) -> None:
        hostile = HOSTILE_IDS[name]
        for sid in BYSTANDERS:
            assert self.put_id(backend, sid)
        stored = self.put_id(backend, hostile)
        backend.delete(hostile)
        if stored:
            assert not self.has_id(backend, hostile)
        for sid in BYSTANDERS:
            assert self.has_id(backend, sid), f"{name} deleted {sid!r}"
        backend.delete(hostile)  # and again: still nothing to complain about

    def test_store_api_round_trips(self, backend: Any) -> None:
        if not hasattr(backend, "create"):  # pragma: no cover - all bundled ones have it
            return
        sid = backend.create({"user": "ada", "n": [1, 2]})
        assert backend.get(sid) == {"user": "ada", "n": [1, 2]}
        assert self.has_id(backend, sid)
        backend.delete(sid)
        assert backend.get(sid) is None

    def test_delete_many_deletes_every_given_record_and_nothing_else(self, backend: Any) -> None:
        doomed, kept = ["m1", "m2", "m3", "m1-and-more"], ["m4", "M1", "m", "m1 "]
        for sid in doomed + kept:
            assert self.put_id(backend, sid)
        backend.delete_many(doomed)
        assert not any(self.has_id(backend, sid) for sid in doomed)
        for sid in kept:
            assert self.has_id(backend, sid), sid

    def test_delete_many_with_unknown_repeated_or_no_ids_succeeds(self, backend: Any) -> None:
        for sid in ("r1", "r2", "survivor"):
            assert self.put_id(backend, sid)
        backend.delete_many(["r1", "never-existed", "r1", "", "r2", "r2"])
        backend.delete_many(iter(["r1", "r2"]))  # again, from an iterator: still fine
        backend.delete_many([])
        backend.delete_many(iter(()))
        assert not self.has_id(backend, "r1") and not self.has_id(backend, "r2")
        assert self.has_id(backend, "survivor")

    def test_delete_many_says_how_many_records_there_were(self, backend: Any) -> None:
        # What a log out everywhere reports as "ended": records deleted, not ids given.
        for sid in ("c1", "c2", "c-survivor"):
            assert self.put_id(backend, sid)
        assert backend.delete_many(["c1", "never-existed", "c1", "", "c2", "c2"]) == 2
        assert backend.delete_many(iter(["c1", "c2"])) == 0  # already gone
        assert backend.delete_many([]) == 0 and backend.delete_many(iter(())) == 0
        ids = [f"count-{i}" for i in range(1200)]
        self.put_ids(backend, ids[::2])  # half of them exist, across the chunks
        assert backend.delete_many(ids) == 600
        assert self.put_id(backend, "c3")
        assert delete_sessions(backend, ["c3", "c-none"]) == 1
        assert self.has_id(backend, "c-survivor")

    def test_delete_many_of_hostile_ids_is_harmless(self, backend: Any) -> None:
        for sid in BYSTANDERS:
            assert self.put_id(backend, sid)
        stored = [sid for sid in HOSTILE_IDS.values() if self.put_id(backend, sid)]
        backend.delete_many(HOSTILE_IDS.values())
        assert not any(self.has_id(backend, sid) for sid in stored)
        for sid in BYSTANDERS:
            assert self.has_id(backend, sid), sid

    def test_delete_many_of_1200_ids_crosses_the_chunks(self, backend: Any) -> None:
        ids = [f"bulk-{i}" for i in range(1200)]
        self.put_ids(backend, [*ids, "bulk-survivor"])
        backend.delete_many(ids)
        assert not any(self.has_id(backend, sid) for sid in ids[::97] + ids[-3:])
        assert self.has_id(backend, "bulk-survivor")
        if hasattr(backend, "get"):
            assert all(backend.get(sid) is None for sid in ids)

    def test_delete_many_takes_a_bounded_number_of_round_trips(self, backend: Any) -> None:
        few, many = ["few-1", "few-2", "few-3"], [f"many-{i}" for i in range(1200)]
        self.put_ids(backend, few + many)
        with self.round_trips(backend) as for_few:
            backend.delete_many(few)
        with self.round_trips(backend) as for_many:
            backend.delete_many(many)
        with self.round_trips(backend) as for_none:
            backend.delete_many([])
        assert not self.has_id(backend, "few-1") and not self.has_id(backend, "many-1199")
        if for_few is None or for_many is None:
            return  # in this process's memory: no round trip to count
        assert len(for_many) <= self.max_round_trips, for_many
        assert len(for_many) - len(for_few) <= 2, (for_few, for_many)  # 2 more chunks
        assert for_none == []

    def test_delete_sessions_uses_delete_many(self, backend: Any) -> None:
        for sid in ("h1", "h2", "h3"):
            assert self.put_id(backend, sid)
        with self.round_trips(backend) as trips:
            delete_sessions(backend, ["h1", "h2"])
        assert not self.has_id(backend, "h1") and not self.has_id(backend, "h2")
        assert self.has_id(backend, "h3")
        if trips is not None:
            assert len(trips) <= self.max_round_trips, trips

    def test_concurrent_deletes_from_threads(self, backend: Any) -> None:
        ids = [f"thread-{i}" for i in range(120)]
        for sid in [*ids, "survivor"]:
            self.put_id(backend, sid)

        def worker(n: int) -> None:
            for sid in ids[n % 3 :: 3]:  # every id is deleted by two threads at once
                backend.delete(sid)

        assert race_in_threads(worker, 6) == []
        assert not any(self.has_id(backend, sid) for sid in ids)
        assert self.has_id(backend, "survivor")


class PrefixContract(BackendContract):
    """Backends that put a prefix in front of the id."""

    def test_prefixes_isolate(self, make: Callable[[str], Any]) -> None:
        first, second = make("app1:"), make("app2:")
        for b in (first, second):
            self.put_id(b, "shared")
        self.put(first, "shared")  # the bare id, without any prefix
        first.delete("shared")
        assert not self.has_id(first, "shared")
        assert self.has_id(second, "shared")
        assert self.has(first, "shared")
        # An id cannot climb out of its prefix.
        self.put(first, "app2:x")
        first.delete("../app2:x")
        first.delete("*")
        assert self.has(first, "app2:x")

    def test_delete_many_stays_within_its_prefix(self, make: Callable[[str], Any]) -> None:
        first, second = make("app1:"), make("app2:")
        for b in (first, second):
            self.put_id(b, "one")
            self.put_id(b, "two")
        self.put(first, "one")  # the bare id, without any prefix
        self.put(first, "app2:x")
        first.delete_many(["one", "two", "../app2:x", "*"])
        assert not self.has_id(first, "one") and not self.has_id(first, "two")
        assert self.has_id(second, "one") and self.has_id(second, "two")
        assert self.has(first, "one") and self.has(first, "app2:x")


def race_in_threads(worker: Callable[[int], None], count: int) -> list[BaseException]:
    """Run ``worker(0..count-1)`` in threads released at the same instant; return what
    they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            worker(n)
        except BaseException as exc:  # pragma: no cover - returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


def race_in_processes(target: Callable[..., None], args: list[tuple[Any, ...]]) -> list[int | None]:
    """Run ``target(*a)`` for each ``a`` in forked processes at once; return exit codes."""
    procs = [_CTX.Process(target=target, args=a) for a in args]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    return [p.exitcode for p in procs]


def _delete_in_child(backend: Any, ids: list[str]) -> None:
    for sid in ids:
        backend.delete(sid)


class SharedContract(BackendContract):
    """Stores shared by processes: forked workers delete through the inherited backend."""

    def test_concurrent_deletes_from_processes(self, backend: Any) -> None:
        backend.delete("warm-up")  # the parent has a connection before the fork
        ids = [f"proc-{i}" for i in range(60)]
        for sid in [*ids, "survivor"]:
            self.put_id(backend, sid)
        exits = race_in_processes(_delete_in_child, [(backend, ids[n % 2 :: 2]) for n in range(4)])
        assert exits == [0, 0, 0, 0]
        assert not any(self.has_id(backend, sid) for sid in ids)
        assert self.has_id(backend, "survivor")
        backend.delete("survivor")  # the parent's own connection still works
        assert not self.has_id(backend, "survivor")


class FailureContract(BackendContract):
    """Stores that can be unreachable: a failure is an exception, never a silent OK."""

    @pytest.fixture
    def broken(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def test_failing_store_raises(self, broken: Any) -> None:
        with pytest.raises(Exception):  # noqa: B017 - each store has its own error types
            broken.delete("some-session")

    def test_failing_store_raises_from_delete_many(self, broken: Any) -> None:
        with pytest.raises(Exception):  # noqa: B017 - each store has its own error types
            broken.delete_many(["some-session", "another"])


class TransactionContract(BackendContract):
    """SQL stores: ``delete_many`` deletes all or, when a statement fails, nothing."""

    def refuse_deleting(self, backend: Any, key: str) -> None:  # pragma: no cover
        raise NotImplementedError

    def test_delete_many_deletes_nothing_when_a_later_chunk_fails(self, backend: Any) -> None:
        ids = [f"tx-{i}" for i in range(1200)]
        self.put_ids(backend, ids)
        self.refuse_deleting(backend, self.key_of(backend, "tx-1100"))  # the third chunk
        with pytest.raises(Exception, match="refused"):  # the driver's own error type
            backend.delete_many(ids)
        assert all(self.has_id(backend, sid) for sid in [*ids[::50], "tx-499", "tx-999"])
        backend.delete_many(ids[:1000])  # and the backend works on
        assert not any(self.has_id(backend, sid) for sid in ("tx-0", "tx-500", "tx-999"))
        assert self.has_id(backend, "tx-1000")


# --- revocation stores -------------------------------------------------------------


def _revoke_in_child(store: Any, tokens: list[str]) -> None:
    for token in tokens:
        store.revoke(token, 60)


class RevocationContract:
    """What :class:`RevocationStore` promises. ``make(namespace)`` returns a store;
    two namespaces must not see each other's tokens."""

    shared = True

    @pytest.fixture
    def make(self) -> Callable[[str], Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    @pytest.fixture
    def store(self, make: Callable[[str], Any]) -> Any:
        return make("ns1")

    def test_store_satisfies_revocation_store(self, store: Any) -> None:
        assert isinstance(store, RevocationStore)

    def test_revoke_marks_exactly_that_token(self, store: Any) -> None:
        token = store_token("cookie-value-1")
        store.revoke(token, 60)
        assert store.is_revoked(token)
        assert not store.is_revoked(store_token("cookie-value-2"))
        assert not store.is_revoked(token[:-1])

    def test_revoking_twice_and_unknown_tokens_succeed(self, store: Any) -> None:
        token = store_token("twice")
        store.revoke(token, 60)
        store.revoke(token, 60)
        assert store.is_revoked(token)
        assert not store.is_revoked(store_token("never"))
        assert not store.is_revoked("")

    def test_revocation_expires_after_its_ttl(self, store: Any) -> None:
        short, long_ = store_token("short"), store_token("long")
        store.revoke(short, 0.2)
        store.revoke(long_, 60)
        store.revoke(long_, 0.2)  # a shorter second revocation keeps the later expiry
        assert store.is_revoked(short)
        time.sleep(0.45)
        assert not store.is_revoked(short)
        assert store.is_revoked(long_)

    @pytest.mark.parametrize("ttl", [0, -1, float("nan"), float("inf"), "60", None, True])
    def test_nonsense_ttl_is_refused(self, store: Any, ttl: Any) -> None:
        with pytest.raises(ValueError, match="ttl"):
            store.revoke(store_token("x"), ttl)

    @pytest.mark.parametrize("name", sorted(HOSTILE_IDS))
    def test_hostile_tokens_are_harmless(self, store: Any, name: str) -> None:
        bystanders = [store_token(b) for b in BYSTANDERS] + BYSTANDERS
        store.revoke(HOSTILE_IDS[name], 60)
        assert store.is_revoked(HOSTILE_IDS[name])
        assert not any(store.is_revoked(b) for b in bystanders)

    def test_namespaces_isolate(self, make: Callable[[str], Any]) -> None:
        first, second = make("ns1"), make("ns2")
        token = store_token("isolated")
        first.revoke(token, 60)
        assert first.is_revoked(token)
        assert not second.is_revoked(token)

    def test_concurrent_revocations_from_threads(self, store: Any) -> None:
        tokens = [store_token(f"thread-{i}") for i in range(120)]

        def worker(n: int) -> None:
            for t in tokens[n % 2 :: 2]:  # every token is revoked by two threads at once
                store.revoke(t, 60)

        assert race_in_threads(worker, 4) == []
        assert all(store.is_revoked(t) for t in tokens)

    def test_concurrent_revocations_from_processes(self, store: Any) -> None:
        if not self.shared:
            # One process's memory: a revocation in a child never reaches the parent.
            token = store_token("child-only")
            p = _CTX.Process(target=_revoke_in_child, args=(store, [token]))
            p.start()
            p.join(60)
            assert p.exitcode == 0
            assert not store.is_revoked(token)
            return
        store.is_revoked("warm-up")
        tokens = [store_token(f"proc-{i}") for i in range(40)]
        exits = race_in_processes(_revoke_in_child, [(store, tokens[n % 2 :: 2]) for n in range(4)])
        assert exits == [0, 0, 0, 0]
        assert all(store.is_revoked(t) for t in tokens)
