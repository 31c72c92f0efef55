"""Log out everywhere under concurrency: logins, plain logouts, logouts everywhere (with
and without ``?keep_current=1``) and ``end_user_sessions`` on the same users at once,
from threads in one process and from gunicorn worker processes, on real stores (an
SQLite file, Redis, PostgreSQL through SQLAlchemy).

The invariant checked at quiescence (:func:`reliability_util.check_index_matches_sessions`):
for each user, the sessions in the store carrying that user are exactly those the index
finds -- no live session outside the index, no index entry for a deleted session -- and
the raw index holds nothing else. Bob never logs out everywhere, so every bob session
he did not log out himself must be alive at the end: alice's calls never reach his.

Where an interleaving matters it is forced, not hoped for: :class:`Gate` stops one
thread just before a chosen store call (the index's ``labels``/``find``/``remove``, the
backend's ``delete``) until the test has done its part (a login's ``create``, its
``index.add``, a plain logout) and lets it go on. Everything is bounded by counts of
operations and by events; no test depends on how much work fits in a time window.
"""

from __future__ import annotations

import io
import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from gunicorn_util import start
from reliability_util import (
    EVERYWHERE,
    INDEX_TTL,
    LOGOUT,
    Client,
    EverywhereStores,
    check_index_matches_sessions,
    logout_ok,
    make_index_app,
    report,
    run_threads,
)

from logout_middleware import LogoutMiddleware

TESTS = Path(__file__).resolve().parents[1]  # where reliability_util.py lives
#: A thread blocked at a gate, or waiting for another to reach one, has hung.
HANG = 60.0


# -- the stores -------------------------------------------------------------------------


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:{tmp_path / 'sessions.sqlite3'}"
    if request.param == "redis":
        return f"redis:{request.getfixturevalue('redis_server').url}"
    return f"postgresql:{request.getfixturevalue('postgres_server').url}"


@pytest.fixture
def stores(spec: str) -> Iterator[EverywhereStores]:
    opened = EverywhereStores.open(spec)
    opened.clear()
    yield opened
    opened.clear()
    opened.close()


def login(stores: EverywhereStores, user: str) -> str:
    sid: str = stores.backend.create({"user": user})
    stores.index.add(sid, INDEX_TTL, user=user)
    return sid


def call(
    app: Any, method: str, target: str, sid: str | None = None
) -> tuple[int, list[str], bytes]:
    """One request through ``app`` in this thread: status, Set-Cookie headers, body."""
    path, _, query = target.partition("?")
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_LENGTH": "0", "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    if sid is not None:
        environ["HTTP_COOKIE"] = f"session={sid}"
    seen: list[tuple[str, list[tuple[str, str]]]] = []
    body = b"".join(app(environ, lambda s, h, exc_info=None: seen.append((s, h))))
    status, headers = seen[0]
    return int(status[:3]), [v for k, v in headers if k.lower() == "set-cookie"], body


# -- many threads, many operations, then the invariant ------------------------------------

#: A request: method, path with query, cookie -> status, Set-Cookie headers, body.
Send = Callable[[str, str, "str | None"], tuple[int, list[str], bytes]]


@dataclass
class Ledger:
    """What the threads did, for the checks at quiescence."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    created: dict[str, str] = field(default_factory=dict)  # sid -> user
    bob_logged_out: set[str] = field(default_factory=set)
    alice_endings: int = 0  # sessions reported ended by alice's calls
    ops: Counter[str] = field(default_factory=Counter)
    logins_in_flight: int = 0
    overlaps: int = 0  # everywhere calls that started while a login was in flight


def play(send: Send, end_user: Callable[[str], int], seed: int, ops: int, ledger: Ledger) -> None:
    """``ops`` operations chosen by ``random.Random(seed)``; each thread works with the
    sessions it logged in itself, so its sequence is the same on every run."""
    rng = random.Random(seed)
    mine: dict[str, list[str]] = {"alice": [], "bob": []}

    def log_in(user: str) -> None:
        with ledger.lock:
            ledger.logins_in_flight += 1
        try:
            status, cookies, body = send("POST", f"/login?user={user}", None)
        finally:
            with ledger.lock:
                ledger.logins_in_flight -= 1
        assert status == 200 and cookies, (status, body)
        sid = body.decode()
        mine[user].append(sid)
        with ledger.lock:
            ledger.created[sid] = user
            ledger.ops[f"login {user}"] += 1

    for _ in range(ops):
        r = rng.random()
        own = mine["alice"] + mine["bob"]
        if r < 0.30 or (r >= 0.50 and r < 0.90 and not mine["alice"]):
            log_in("alice")
        elif r < 0.50:
            log_in("bob")
        elif r < 0.65:
            sid = rng.choice(own)
            user = "alice" if sid in mine["alice"] else "bob"
            mine[user].remove(sid)
            status, cookies, body = send("POST", LOGOUT, sid)
            assert logout_ok(status, body) and cookies, (status, body)
            with ledger.lock:
                ledger.ops[f"logout {user}"] += 1
                if user == "bob":
                    ledger.bob_logged_out.add(sid)
                else:
                    ledger.alice_endings += 1
        elif r < 0.90:
            keep = r >= 0.78
            sid = rng.choice(mine["alice"])
            with ledger.lock:
                ledger.overlaps += ledger.logins_in_flight > 0
            status, cookies, body = send(
                "POST", EVERYWHERE + ("?keep_current=1" if keep else ""), sid
            )
            answer = json.loads(body)
            assert status == 200 and answer["message"] == "OK", (status, body)
            # Records really deleted: 0 when another thread's log out everywhere (of
            # the same user) deleted this session's record first.
            assert isinstance(answer["ended"], int) and answer["ended"] >= 0
            # keep_current leaves the cookie alone; otherwise it is expired.
            assert bool(cookies) is not keep, cookies
            if not keep:
                mine["alice"].remove(sid)
            with ledger.lock:
                ledger.alice_endings += answer["ended"]
                ledger.ops["everywhere keep_current" if keep else "everywhere"] += 1
        elif r < 0.95:
            ended = end_user("alice")
            assert isinstance(ended, int) and ended >= 0
            with ledger.lock:
                ledger.alice_endings += ended
                ledger.ops["end_user_sessions"] += 1
        else:
            sid = rng.choice(own) if own else None
            status, _, body = send("GET", "/me", sid)
            assert status == 200 and body in (b"alice", b"bob", b"anonymous"), (status, body)
            with ledger.lock:
                ledger.ops["me"] += 1


def check_after(stores: EverywhereStores, ledger: Ledger) -> dict[str, str]:
    live = check_index_matches_sessions(stores, ("alice", "bob"), seen=ledger.created)
    bob = {sid for sid, user in ledger.created.items() if user == "bob"}
    bob_live = {sid for sid, user in live.items() if user == "bob"}
    assert bob_live == bob - ledger.bob_logged_out, (
        f"{len(bob - ledger.bob_logged_out - bob_live)} bob session(s) ended by alice's calls"
    )
    alice = {sid for sid, user in ledger.created.items() if user == "alice"}
    alice_ended = alice - set(live)
    # Every alice session that is gone was reported ended by some call (concurrent
    # calls may both count one session, so the reports can only be more).
    assert ledger.alice_endings >= len(alice_ended)
    assert set(live) <= set(ledger.created), "a session nobody logged in"
    every = ("login alice", "login bob", "logout alice", "logout bob", "everywhere",
             "everywhere keep_current", "end_user_sessions")
    assert all(ledger.ops[kind] for kind in every), ledger.ops
    return live


THREADS, OPS = 6, 50


def test_threads_logging_in_and_out_everywhere_keep_the_index_exact(
    stores: EverywhereStores, spec: str
) -> None:
    middleware = LogoutMiddleware(
        make_index_app(stores.backend, stores.index), stores.backend,
        index=stores.index, everywhere_path=EVERYWHERE,
    )

    def send(method: str, target: str, sid: str | None) -> tuple[int, list[str], bytes]:
        return call(middleware, method, target, sid)

    ledger = Ledger()
    run_threads(
        lambda i: play(send, middleware.end_user_sessions, 100 + i, OPS, ledger), THREADS
    )
    live = check_after(stores, ledger)
    report(f"everywhere_races[threads,{spec.partition(':')[0]}]", operations=THREADS * OPS,
           sessions=len(ledger.created), live=len(live), overlaps=ledger.overlaps,
           **{k.replace(" ", "_"): v for k, v in ledger.ops.items()})


@pytest.mark.gunicorn
def test_gunicorn_workers_logging_in_and_out_everywhere_keep_the_index_exact(
    stores: EverywhereStores, spec: str
) -> None:
    # The test process opened the stores first: their tables exist before the
    # workers boot, and it ends alice's sessions from Python meanwhile.
    local = LogoutMiddleware(
        make_index_app(stores.backend, stores.index), stores.backend,
        index=stores.index, everywhere_path=EVERYWHERE,
    )
    ledger = Ledger()
    pids: set[str] = set()
    with start(
        "reliability_util:build_everywhere_app()", workers=3, worker_class="sync",
        chdir=TESTS, env={"RELIABILITY_EVERYWHERE": spec}, access_log=False,
    ) as server:

        def run(i: int) -> None:
            client = Client("127.0.0.1", server.port)

            def send(method: str, target: str, sid: str | None) -> tuple[int, list[str], bytes]:
                status, headers, cookies, body = client.request(method, target, cookie=sid or "")
                with ledger.lock:
                    pids.add(headers.get("x-worker-pid", "?"))
                return status, cookies, body

            try:
                play(send, local.end_user_sessions, 200 + i, OPS, ledger)
            finally:
                client.close()

        run_threads(run, 4)
        log = server.log()
    assert server.returncode == 0
    assert log.count("Booting worker") == 3 and "Traceback" not in log, log[-3000:]
    # Sync workers answer one request at a time and four clients send at once, so
    # more than one worker process served them.
    assert len(pids) >= 2 and "?" not in pids, pids
    live = check_after(stores, ledger)
    report(f"everywhere_races[gunicorn,{spec.partition(':')[0]}]", operations=4 * OPS,
           sessions=len(ledger.created), live=len(live), workers_seen=len(pids),
           **{k.replace(" ", "_"): v for k, v in ledger.ops.items()})


# -- forced interleavings ------------------------------------------------------------------


class Gate:
    """Stops one thread (the one that calls :meth:`own`) just before the first store call
    of each named step, until the test :meth:`release`-s it."""

    def __init__(self, steps: tuple[str, ...]) -> None:
        self.owner: int | None = None
        self.reached = {step: threading.Event() for step in steps}
        self.go = {step: threading.Event() for step in steps}

    def own(self) -> None:
        self.owner = threading.get_ident()

    def checkpoint(self, step: str) -> None:
        if threading.get_ident() != self.owner or step not in self.reached:
            return
        if self.reached[step].is_set():  # only the first call of a step stops
            return
        self.reached[step].set()
        assert self.go[step].wait(HANG), f"the test never released step {step}"

    def hold(self, step: str, thread: threading.Thread) -> None:
        """Wait until the gated thread stands before ``step`` (fail if it ended first)."""
        while not self.reached[step].wait(0.01):
            assert thread.is_alive(), f"the gated thread ended before reaching {step}"

    def release(self, step: str) -> None:
        self.go[step].set()


class GatedBackend:
    def __init__(self, inner: Any, gate: Gate) -> None:
        self.inner, self.gate = inner, gate

    def delete(self, session_id: str) -> None:
        self.gate.checkpoint("delete")
        self.inner.delete(session_id)

    def delete_many(self, session_ids: Any) -> None:
        ids = list(session_ids)
        self.gate.checkpoint("delete")
        self.inner.delete_many(ids)


class GatedIndex:
    def __init__(self, inner: Any, gate: Gate) -> None:
        self.inner, self.gate = inner, gate

    def add(self, session_id: str, ttl: float | None = None, **labels: str) -> None:
        self.inner.add(session_id, ttl, **labels)

    def labels(self, session_id: str) -> dict[str, str]:
        self.gate.checkpoint("labels")
        result: dict[str, str] = self.inner.labels(session_id)
        return result

    def find(self, name: str, value: str) -> set[str]:
        self.gate.checkpoint("find")
        result: set[str] = self.inner.find(name, value)
        return result

    def remove(self, session_id: str) -> None:
        self.gate.checkpoint("remove")
        self.inner.remove(session_id)

    def remove_many(self, session_ids: Any) -> None:
        ids = list(session_ids)
        self.gate.checkpoint("remove")
        self.inner.remove_many(ids)


def gated(stores: EverywhereStores, gate: Gate) -> LogoutMiddleware:
    def hello(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello"]

    return LogoutMiddleware(
        hello, GatedBackend(stores.backend, gate), index=GatedIndex(stores.index, gate),
        everywhere_path=EVERYWHERE,
    )


def in_thread(gate: Gate, work: Callable[[], Any], out: list[Any]) -> threading.Thread:
    def run() -> None:
        gate.own()
        out.append(work())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


#: The everywhere's store calls in order (over HTTP it first reads the cookie
#: session's labels; end_user_sessions starts with find), then "after": done.
SLOTS = {"http": ("labels", "find", "delete", "remove", "after"),
         "python": ("find", "delete", "remove", "after")}


def race_once(
    stores: EverywhereStores, via: str, user: str, at_create: str, at_add: str
) -> tuple[list[str], str]:
    """Alice-like ``user`` has two sessions; while the everywhere for ``user`` runs,
    a login's ``create`` lands before step ``at_create`` and its ``add`` before step
    ``at_add``. Returns the old sessions and the new one."""
    slots = SLOTS[via]
    old = [login(stores, user), login(stores, user)]
    gate = Gate(slots[:-1])
    middleware = gated(stores, gate)
    out: list[Any] = []
    if via == "http":
        thread = in_thread(gate, lambda: call(middleware, "POST", EVERYWHERE, old[0]), out)
    else:
        thread = in_thread(gate, lambda: middleware.end_user_sessions(user), out)
    new = ""
    for slot in slots:
        if slot == "after":
            thread.join(HANG)
            assert not thread.is_alive()
        else:
            gate.hold(slot, thread)
        if slot == at_create:
            new = stores.backend.create({"user": user})
        if slot == at_add:
            stores.index.add(new, INDEX_TTL, user=user)
        if slot != "after":
            gate.release(slot)
    thread.join(HANG)
    ended_new = slots.index(at_add) <= slots.index("find")
    expected = 2 + ended_new
    if via == "http":
        status, _, body = out[0]
        assert (status, json.loads(body)) == (200, {"message": "OK", "ended": expected})
    else:
        assert out == [expected]
    where = f"create before {at_create}, add before {at_add}"
    assert (stores.backend.get(new) is None) is ended_new, where
    assert (stores.index.find("user", user) == {new}) is not ended_new, where
    assert all(stores.backend.get(sid) is None for sid in old), where
    return old, new


@pytest.mark.parametrize("via", ["http", "python"])
def test_a_login_racing_an_everywhere_is_ended_and_unindexed_or_live_and_indexed(
    stores: EverywhereStores, via: str
) -> None:
    """Every placement of a login's two writes (``create``, then ``index.add``) among
    the everywhere's store calls. The login is ended exactly when its ``add`` came
    before the everywhere's ``find``; otherwise it survives, indexed."""
    slots = SLOTS[via]
    placements = [(c, a) for i, c in enumerate(slots) for a in slots[i:]]
    bob = login(stores, "bob")
    users, seen = ["bob"], [bob]
    for n, (at_create, at_add) in enumerate(placements):
        user = f"alice{n}"
        old, new = race_once(stores, via, user, at_create, at_add)
        users.append(user)
        seen += [*old, new]
        check_index_matches_sessions(stores, users, seen)
    assert stores.backend.get(bob) == {"user": "bob"}
    report(f"everywhere_races[placements,{via}]", placements=len(placements))


@pytest.mark.parametrize(
    ("gated_call", "step"),
    [("everywhere", "delete"), ("everywhere", "remove"), ("logout", "delete"),
     ("logout", "remove")],
)
def test_a_plain_logout_crossing_an_everywhere_on_one_session(
    stores: EverywhereStores, gated_call: str, step: str
) -> None:
    """One thread is stopped before ``step`` of its call while the other call runs to
    its end over the same session: both answer 200 and nothing is left behind."""
    user = "alice"
    a0, a1, a2 = (login(stores, user) for _ in range(3))
    bob = login(stores, "bob")
    gate = Gate((step,))
    middleware = gated(stores, gate)
    everywhere = lambda: call(middleware, "POST", EVERYWHERE + "?keep_current=1", a0)  # noqa: E731
    logout = lambda: call(middleware, "POST", LOGOUT, a1)  # noqa: E731
    first, second = (everywhere, logout) if gated_call == "everywhere" else (logout, everywhere)
    out: list[Any] = []
    thread = in_thread(gate, first, out)
    gate.hold(step, thread)
    other = second()
    gate.release(step)
    thread.join(HANG)
    assert not thread.is_alive()
    ungated = "logout" if gated_call == "everywhere" else "everywhere"
    answers = {gated_call: out[0], ungated: other}
    status, _, body = answers["logout"]
    assert logout_ok(status, body)
    status, cookies, body = answers["everywhere"]
    assert status == 200 and cookies == []
    # a1 and a2 ended; a1 is counted when the everywhere found it still indexed.
    assert json.loads(body)["ended"] in (1, 2)
    live = check_index_matches_sessions(stores, (user, "bob"), (a0, a1, a2, bob))
    assert live == {a0: user, bob: "bob"}
