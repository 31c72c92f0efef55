"""The one contract every session index store must honour.

Mixins, not tests: ``stores/test_index_contract.py`` mixes them into one class per
store. A class provides the ``make`` fixture (``make(namespace)`` returns a store; two
namespaces -- key prefixes, tables -- must not see each other's entries), ``build``
(the constructor with chosen settings, for the refused ones) and ``bad_settings``.

* :class:`IndexContract` -- every store.
* :class:`SharedIndexContract` -- stores shared between processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from backend_contract import race_in_processes, race_in_threads

from logout_middleware import SessionIndex

#: Ids and values a store must hold as they are, never as patterns or markup.
ODD = ["*", "a:b", "{tag}", "x' OR '1'='1", "séssion-🍪", "%", "_", "a\\b", "label:user:ada"]


def eventually(check: Callable[[], bool], within: float = 5.0) -> bool:
    """Poll ``check`` every 50 ms until it holds or ``within`` seconds have passed."""
    deadline = time.monotonic() + within
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


class IndexContract:
    """What :class:`SessionIndex` promises, for any store."""

    #: (constructor keyword arguments, the setting the message must name)
    bad_settings: list[tuple[dict[str, Any], str]] = []

    @pytest.fixture
    def make(self) -> Callable[[str], Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def build(self, **settings: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    @pytest.fixture
    def index(self, make: Callable[[str], Any]) -> Any:
        return make("ns1")

    def test_store_satisfies_session_index(self, index: Any) -> None:
        assert isinstance(index, SessionIndex)
        assert callable(index.remove_many)

    def test_add_find_labels_remove(self, index: Any) -> None:
        index.add("s1", ttl=60, user="ada", device="phone")
        index.add("s2", ttl=60, user="ada")
        index.add("s3", ttl=60, user="bob")
        assert index.find("user", "ada") == {"s1", "s2"}
        assert index.find("user", "bob") == {"s3"}
        assert index.find("device", "phone") == {"s1"}
        assert index.find("user", "carol") == set()
        assert index.find("device", "ada") == set()
        assert index.labels("s1") == {"user": "ada", "device": "phone"}
        assert index.labels("s3") == {"user": "bob"}
        assert index.labels("unknown") == {}
        index.remove("s1")
        assert index.find("user", "ada") == {"s2"}
        assert index.find("device", "phone") == set()
        assert index.labels("s1") == {}

    def test_adding_again_replaces_the_labels(self, index: Any) -> None:
        index.add("s1", ttl=60, user="ada", device="phone")
        index.add("s1", ttl=60, user="bob")
        assert index.find("user", "ada") == set()
        assert index.find("device", "phone") == set()
        assert index.find("user", "bob") == {"s1"}
        assert index.labels("s1") == {"user": "bob"}
        index.add("s1", ttl=60)  # no labels: remembered under none
        assert index.find("user", "bob") == set()
        assert index.labels("s1") == {}

    def test_entries_expire_after_their_ttl(self, index: Any) -> None:
        ttl = 0.3
        start = time.monotonic()
        index.add("short", ttl=ttl, user="ada")
        found, labels = index.find("user", "ada"), index.labels("short")
        if time.monotonic() - start < ttl:  # still present immediately
            assert found == {"short"}
            assert labels == {"user": "ada"}
        index.add("long", ttl=60, user="ada")
        index.add("forever", user="ada")
        assert eventually(
            lambda: index.find("user", "ada") == {"long", "forever"}
            and index.labels("short") == {}
        ), "the short entry is gone within 5 s"
        assert index.labels("long") == {"user": "ada"}
        assert index.labels("forever") == {"user": "ada"}

    def test_adding_again_with_a_longer_ttl_keeps_the_entry(self, index: Any) -> None:
        index.add("s1", ttl=0.2, user="ada")
        index.add("s1", ttl=60, user="ada")
        time.sleep(0.4)
        assert index.find("user", "ada") == {"s1"}
        assert index.labels("s1") == {"user": "ada"}

    def test_remove_is_idempotent(self, index: Any) -> None:
        index.add("s1", ttl=60, user="ada")
        index.remove("s1")
        index.remove("s1")
        index.remove("never-added")
        index.remove("")
        assert index.find("user", "ada") == set()
        index.remove_many([])
        index.remove_many(["s1", "never-added", "s1"])

    def test_remove_many(self, index: Any) -> None:
        ids = [f"s{i}" for i in range(1200)]  # more than one DELETE ... IN chunk
        for sid in ids:
            index.add(sid, ttl=60, user="ada" if int(sid[1:]) % 2 else "bob")
        index.add("keep", ttl=60, user="ada")
        index.remove_many(iter(ids))
        assert index.find("user", "ada") == {"keep"}
        assert index.find("user", "bob") == set()
        assert index.labels("s1") == {}
        assert index.labels("keep") == {"user": "ada"}

    def test_remove_many_of_thousands_sharing_labels(self, index: Any) -> None:
        # More ids of one label than a store sends in one statement or script.
        ids = [f"bulk-{i}" for i in range(2500)]
        for sid in ids:
            index.add(sid, ttl=60, user="many", team="t")
        index.add("stays", ttl=60, user="many", team="t")
        index.remove_many(ids)
        assert index.find("user", "many") == {"stays"}
        assert index.find("team", "t") == {"stays"}
        assert index.labels(ids[-1]) == {}

    def test_odd_ids_and_values_are_held_as_they_are(self, index: Any) -> None:
        for n, odd in enumerate(ODD):
            index.add(odd, ttl=60, user=odd, n=str(n))
        index.add("bystander", ttl=60, user="ada")
        for n, odd in enumerate(ODD):
            assert index.find("user", odd) == {odd}, odd
            assert index.labels(odd) == {"user": odd, "n": str(n)}
        index.remove_many(ODD)
        assert all(index.find("user", odd) == set() for odd in ODD)
        assert index.find("user", "ada") == {"bystander"}

    def test_namespaces_isolate(self, make: Callable[[str], Any]) -> None:
        first, second = make("ns1"), make("ns2")
        first.add("shared", ttl=60, user="ada")
        second.add("shared", ttl=60, user="bob")
        second.add("other", ttl=60, user="ada")
        assert first.find("user", "ada") == {"shared"}
        assert second.find("user", "ada") == {"other"}
        first.remove("shared")
        assert first.labels("shared") == {}
        assert second.labels("shared") == {"user": "bob"}

    def test_concurrent_adds_and_removes_leave_a_consistent_index(self, index: Any) -> None:
        ids = [f"s{i}" for i in range(15)]

        def worker(n: int) -> None:
            for i in range(45):
                sid = ids[(n * 7 + i) % len(ids)]  # the threads overlap on every id
                if i % 3 == 2:
                    index.remove(sid)
                else:
                    index.add(sid, ttl=60, user="ada" if (i + n) % 2 else "bob", device=f"d{n}")

        assert race_in_threads(worker, 4) == []
        by_user = {user: index.find("user", user) for user in ("ada", "bob")}
        for sid in ids:
            labels = index.labels(sid)
            for user, found in by_user.items():
                assert (sid in found) == (labels.get("user") == user), (sid, labels, user)
            for n in range(4):
                assert (sid in index.find("device", f"d{n}")) == (labels.get("device") == f"d{n}")

    @pytest.mark.parametrize("ttl", [0, -1, float("nan"), float("inf"), "60", True])
    def test_nonsense_ttl_is_refused(self, index: Any, ttl: Any) -> None:
        with pytest.raises(ValueError, match="ttl"):
            index.add("s1", ttl=ttl, user="ada")
        assert index.labels("s1") == {}

    def test_bad_labels_are_refused(self, index: Any) -> None:
        with pytest.raises(ValueError, match="label user must be a string"):
            index.add("s1", ttl=60, user=42)
        with pytest.raises(ValueError, match="label name"):
            index.add("s1", ttl=60, **{"a:b": "x"})
        assert index.labels("s1") == {}

    def test_bad_settings_name_the_setting(self, index: Any) -> None:
        for settings, setting in self.bad_settings:
            with pytest.raises(ValueError, match=f"^{setting} must"):
                self.build(**settings)


def _add_in_child(index: Any, ids: list[str]) -> None:
    for sid in ids:
        index.add(sid, ttl=60, user="ada")


class SharedIndexContract(IndexContract):
    """Stores shared by processes: forked workers add through the inherited store."""

    def test_concurrent_adds_from_processes(self, index: Any) -> None:
        index.labels("warm-up")  # the parent has a connection before the fork
        ids = [f"proc-{i}" for i in range(40)]
        exits = race_in_processes(_add_in_child, [(index, ids[n % 2 :: 2]) for n in range(4)])
        assert exits == [0, 0, 0, 0]
        assert index.find("user", "ada") == set(ids)
        index.remove_many(ids)  # the parent's own connection still works
        assert index.find("user", "ada") == set()
