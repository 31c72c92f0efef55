"""Log out everywhere: ending one user's sessions at once, beside ending them one by one.

Issue 12's benchmark. For SQLite and Redis, and for each size ``S`` (10 000, 100 000
and 1 000 000 stored sessions; 2 000 and 20 000 in ``--quick``), one store holds ``S``
sessions, every one recorded in the backend and labelled ``user=...`` in the session
index: ``S - k`` of them spread over many users (10 each), and ``k`` (1 000; 100 in
``--quick``) of one user. Then, in interleaved rounds:

* **end at once**: one :meth:`LogoutMiddleware.end_user_sessions` call ends the
  user's ``k`` sessions (one ``find``, one ``delete_many``, one ``remove_many``);
* **one by one**: ``k`` plain logouts, each a ``POST`` to the logout path with one of
  the sessions' cookies, through the same middleware (a ``delete`` and an index
  ``remove`` each).

Before each loop (untimed) the user's ``k`` sessions are created again with fresh
ids in the same places, so every loop starts from ``S`` stored sessions. The targets
are same-run ratios: ending ``k`` at once costs at most 1/20 of ``k`` single logouts
(at the largest size), and its cost stays flat (<= 1.3x) from the smallest size to
the largest.

On the largest store the section also times a plain logout with and without the
index (same backend, same run), next to one bare store round trip, and counts the
store round trips of each (SQLite: transactions and statements, from the connections'
trace callback; Redis: writes to the socket, a pipeline being one, and the commands
the server processed, those inside the index's Lua scripts included). The limit of
one extra round trip is judged as a count and in time. Last, pass-through with and
without ``index=`` and ``everywhere_path=``, which must not change.

The stores are filled in bulk, **writing directly into the layouts the stores
create**: for SQLite, ``executemany`` with explicit rowids into the backend's
``sessions`` table and the index's ``session_index`` table (one row per label), in a
few big transactions, the user's rows spread evenly over the tables as a real user's
would be; for Redis, pipelines of about 10 000 commands that write the records and
the index's keys as :mod:`logout_middleware.backends.redis_index` documents them (a
hash per session, a sorted set per user, every key with its expiry). The stores' own
``add`` costs a transaction or four round trips per session: hours for a million.
Then the stores settle (:meth:`_Stores.settle`: the SQLite WAL checkpointed,
redis-server done rehashing) before anything is timed.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from logout_middleware import (
    LogoutMiddleware,
    MemoryBackend,
    MemorySessionIndex,
    SQLiteBackend,
    SQLiteSessionIndex,
)

from .apps import bare_app, consume, logout_environ, new_ids, page_environ, start_response
from .config import Config, log
from .report import Report, Row, Target
from .servers import optional_redis
from .stores import answer_of, fill_redis, fill_sqlite
from .timing import Case, Measured, interleave, paired_cost

__all__ = ["AT_ONCE", "FLAT", "PASS_THROUGH", "run"]

#: Ending k sessions at once costs at most this share of k single logouts.
AT_ONCE = 1 / 20
#: "Flat": ending k at once among the most sessions costs at most this much more than
#: among the fewest.
FLAT = 1.30
#: Extra store round trips the index may add to a plain logout.
EXTRA_ROUND_TRIPS = 1
#: Pass-through with the index configured: its cost over the bare app within this
#: factor of the cost without (the run-to-run noise of the pass-through rows).
PASS_THROUGH = 1.10
#: Sessions of every other user.
PER_USER = 10
#: The user whose sessions are ended.
USER = "everywhere-user"
EVERYWHERE_PATH = "/logout/everywhere"
#: Index entries live a day or more (every key and row expires, as in production).
TTL = 24 * 3600.0
#: A session record's data.
RECORD = '{"user_id": 1, "roles": ["author"]}'


def _label(size: int) -> str:
    return f"{size:,}".replace(",", " ")


def _other_user(i: int) -> str:
    return f"user-{i:07d}"


# -- the stores, filled in bulk ------------------------------------------------------


class _Stores:
    """One backend and one index on one store, with bulk writes and round-trip counts."""

    kind = ""
    #: The sessions the store holds, once filled.
    size = 1
    backend: Any
    index: Any

    def put(self, pairs: list[tuple[str, str]], slots: list[int] | None = None) -> None:
        """Store a record and an index entry ``user=...`` for each (id, user); SQLite
        puts them at the given row positions (``slots``), else at the end."""
        raise NotImplementedError

    def settle(self, window: float = 3.0) -> None:
        """Wait until the store is done with the work a bulk fill leaves behind."""

    def put_records(self, ids: list[str]) -> None:
        """Store records only (no index entries)."""
        raise NotImplementedError

    def delete_alone(self, session_id: str) -> None:
        """One bare store round trip that deletes a record: the time reference."""
        raise NotImplementedError

    def exists(self, session_ids: list[str]) -> int:
        """How many of ``session_ids`` still have a record."""
        raise NotImplementedError

    def count(self, action: Callable[[], object]) -> tuple[int, int]:
        """Run ``action`` and return (store round trips, statements or commands)."""
        raise NotImplementedError

    def close(self) -> None:
        self.index.close()
        self.backend.close()


class _SQLite(_Stores):
    """The backend and the index in one file: the ``sessions`` and ``session_index``
    tables, each reached through its store's own connection.

    Rows are written with explicit rowids: a user's sessions, made over months between
    everyone else's, sit all over both tables (and their expiries all over the
    ``expires_at`` index), not in one run of rows at the end. Slot ``r`` of ``size``
    expires ``TTL * (1 + r / size)`` from now, so nothing expires during the run.
    """

    kind = "SQLite"

    def __init__(self, path: str) -> None:
        self.path = path
        self.backend = SQLiteBackend(path)
        self.index = SQLiteSessionIndex(path)
        self._now = time.time()
        self._bulk = sqlite3.connect(path, isolation_level=None)
        self._bulk.execute("PRAGMA cache_size = -262144")  # 256 MB for the fill
        self._alone = sqlite3.connect(path, isolation_level=None)
        self._records_sql = (
            'INSERT OR REPLACE INTO "sessions" (rowid, id, data, created_at) VALUES (?, ?, ?, ?)'
        )
        self._index_sql = (
            f'INSERT OR REPLACE INTO "{self.index.table}" (rowid, session_id, name, value, '
            "expires_at) VALUES (?, ?, 'user', ?, ?)"
        )

    def put(
        self, pairs: list[tuple[str, str]], slots: list[int] | None = None, batch: int = 50_000
    ) -> None:
        rows: list[int | None] = list(slots) if slots is not None else [None] * len(pairs)
        start, span, conn = self._now + TTL, TTL / self.size, self._bulk
        for i in range(0, len(pairs), batch):
            chunk = list(zip(rows[i : i + batch], pairs[i : i + batch], strict=True))
            conn.execute("BEGIN")
            conn.executemany(
                self._records_sql, ((r, sid, RECORD, self._now) for r, (sid, _) in chunk)
            )
            conn.executemany(
                self._index_sql,
                (
                    (r, sid, user, start + span * (self.size if r is None else r))
                    for r, (sid, user) in chunk
                ),
            )
            conn.execute("COMMIT")

    def put_records(self, ids: list[str]) -> None:
        fill_sqlite(self.path, ids)

    def settle(self, window: float = 3.0) -> None:
        # The fill's transactions went through the WAL: move them into the database
        # file now, so that no logout pays for that checkpoint.
        self._bulk.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def delete_alone(self, session_id: str) -> None:
        self._alone.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def exists(self, session_ids: list[str]) -> int:
        marks = ", ".join("?" * len(session_ids))
        row = self._alone.execute(
            f"SELECT count(*) FROM sessions WHERE id IN ({marks})", session_ids
        ).fetchone()
        return int(row[0])

    def count(self, action: Callable[[], object]) -> tuple[int, int]:
        # A transaction is the SQLite round trip: one commit, one write (and sync) of
        # the WAL. Autocommit statements are one each; BEGIN ... COMMIT is one.
        statements: list[str] = []
        conns = [self.backend.db.connection(), self.index.db.connection()]
        for conn in conns:
            conn.set_trace_callback(statements.append)
        try:
            action()
        finally:
            for conn in conns:
                conn.set_trace_callback(None)
        transactions, open_tx = 0, False
        for sql in statements:
            verb = sql.lstrip().split(None, 1)[0].upper()
            if verb == "BEGIN":
                open_tx = True
            elif verb in ("COMMIT", "END", "ROLLBACK"):
                open_tx, transactions = False, transactions + 1
            elif not open_tx:
                transactions += 1
        return transactions, len(statements)

    def close(self) -> None:
        self._bulk.close()
        self._alone.close()
        super().close()


class _Redis(_Stores):
    """The backend and the index on one Redis database, each with its own client."""

    kind = "Redis"

    def __init__(self, url: str) -> None:
        from logout_middleware.backends import RedisBackend, RedisSessionIndex

        self.backend = RedisBackend(url)
        self.index = RedisSessionIndex(url)
        self.client = self.backend.client
        self._expires_ms = int((time.time() + TTL) * 1000)

    def put(
        self, pairs: list[tuple[str, str]], slots: list[int] | None = None, batch: int = 10_000
    ) -> None:
        # The layout of redis_index: P+"session:"+id is a hash {label: value}; the
        # sorted set P+"label:user:"+user holds the ids scored by their expiry (ms);
        # every key expires (the set with its last member: here all expire together).
        fill_redis(self.client, [sid for sid, _ in pairs], prefix=self.backend.key_prefix)
        index, expires = self.index, self._expires_ms
        pipe = self.client.pipeline(transaction=False)
        users: dict[str, dict[str, int]] = {}
        queued = 0
        for sid, user in pairs:
            key = index.session_key(sid)
            pipe.hset(key, "user", user)
            pipe.pexpireat(key, expires)
            users.setdefault(user, {})[sid] = expires
            queued += 2
            if queued >= batch:
                pipe.execute()
                queued = 0
        for user, members in users.items():
            key = index.label_key("user", user)
            pipe.zadd(key, members)
            pipe.pexpireat(key, expires)
            queued += 2
            if queued >= batch:
                pipe.execute()
                queued = 0
        pipe.execute()

    def put_records(self, ids: list[str]) -> None:
        fill_redis(self.client, ids, prefix=self.backend.key_prefix)

    def settle(self, window: float = 3.0, limit: float = 120.0) -> None:
        # A bulk fill leaves the server rehashing: the keyspace (and the dict of keys
        # with an expiry) outgrew a power of two, and redis-server moves the keys to
        # the new table 1 ms per tick, ten ticks a second. Until it is done every
        # lookup searches both tables: ending 1 000 sessions among a million took 1.8x
        # as long for the first ~45 s after the fill, then as long as among 10 000.
        # A store that has held its sessions for a while is past that, so the
        # benchmark waits for it: ticks at 500/s (then back to the default) until the
        # hash tables' sizes in MEMORY STATS hold still for `window` seconds.
        client = self.client
        hz = client.config_get("hz")["hz"]
        client.config_set("hz", 500)
        try:
            started = stable = time.monotonic()
            last: dict[str, Any] = {}
            while time.monotonic() - stable < window and time.monotonic() - started < limit:
                time.sleep(0.25)
                stats = {k: v for k, v in client.memory_stats().items() if k.startswith("db.")}
                if stats != last:
                    last, stable = stats, time.monotonic()
        finally:
            client.config_set("hz", hz)

    def delete_alone(self, session_id: str) -> None:
        self.client.delete(self.backend.key_prefix + session_id)

    def exists(self, session_ids: list[str]) -> int:
        return int(self.client.exists(*(self.backend.key_prefix + s for s in session_ids)))

    def count(self, action: Callable[[], object]) -> tuple[int, int]:
        # A round trip is one write of commands to the socket before reading the
        # answers: one per plain command, one per pipeline. The server's own count of
        # processed commands comes from INFO (which counts the first INFO too).
        # Both clients connect first: a new connection's handshake (CLIENT SETINFO,
        # SELECT) is not the action's.
        self.client.ping()
        self.index.client.ping()
        counted = self.client.connection_pool.connection_class
        original = counted.send_packed_command
        sent = [0]

        def send_packed_command(conn: Any, *args: Any, **kwargs: Any) -> Any:
            sent[0] += 1
            return original(conn, *args, **kwargs)

        before = int(self.client.info("stats")["total_commands_processed"])
        setattr(counted, "send_packed_command", send_packed_command)  # noqa: B010
        try:
            action()
        finally:
            setattr(counted, "send_packed_command", original)  # noqa: B010
        after = int(self.client.info("stats")["total_commands_processed"])
        return sent[0], after - before - 1


# -- the cases -----------------------------------------------------------------------


@dataclass
class _Store:
    """One store of one size and its cases."""

    stores: _Stores
    size: int
    k: int
    users: int
    middleware: LogoutMiddleware
    fill_seconds: float
    #: Where the user's sessions go (SQLite rowids spread over the tables).
    slots: list[int]
    at_once: Case = field(init=False)
    one_by_one: Case = field(init=False)

    @property
    def name(self) -> str:
        return f"{self.stores.kind}, {_label(self.size)} stored"

    def __post_init__(self) -> None:
        self.at_once = self._at_once_case()
        self.one_by_one = self._one_by_one_case()

    def user_sessions(self, n: int) -> list[str]:
        """Give the user ``n`` new sessions: the ``k`` of a round in the user's slots."""
        ids = new_ids(n)
        self.stores.put([(sid, USER) for sid in ids], self.slots if n == self.k else None)
        return ids

    def _at_once_case(self) -> Case:
        k, middleware = self.k, self.middleware

        def run(n: int) -> None:
            middleware.end_user_sessions(USER)

        def check() -> None:
            ids = self.user_sessions(k)
            ended = middleware.end_user_sessions(USER)
            left = self.stores.exists(ids)
            if ended != k or left or self.stores.index.find("user", USER):
                raise RuntimeError(f"{self.name}: ended {ended} of {k}, {left} records left")

        return Case(
            f"{self.name}: end {self.k} at once",
            run,
            setup=lambda n: self.user_sessions(self.k),
            number=1,
            check=check,
        )

    def _one_by_one_case(self) -> Case:
        app = self.middleware
        pending: list[dict[str, Any]] = []

        def setup(n: int) -> None:
            pending[:] = [logout_environ(sid) for sid in self.user_sessions(n)]

        def run(n: int) -> None:
            sr = start_response
            for env in pending:
                consume(app(env, sr))

        def check() -> None:
            sid = self.user_sessions(1)[0]
            status, headers = answer_of(app, logout_environ(sid))
            cookie = any(k.lower() == "set-cookie" for k, _ in headers)
            if status[:3] != "200" or not cookie or self.stores.exists([sid]):
                raise RuntimeError(f"{self.name}: a logout answered {status}")
            if self.stores.index.labels(sid):
                raise RuntimeError(f"{self.name}: a logout left its session in the index")

        return Case(
            f"{self.name}: {self.k} single logouts",
            run,
            setup=setup,
            number=self.k,
            check=check,
        )


def _fill(stores: _Stores, size: int, k: int) -> _Store:
    """Fill ``stores`` with ``size - k`` sessions of other users; the user's ``k`` are
    made by each loop's setup, in ``k`` slots spread evenly over rows 1 to ``size``."""
    others = size - k
    users = max(1, others // PER_USER)
    slots = [size * j // k + size // (2 * k) + 1 for j in range(k)]
    taken = set(slots)
    t0 = time.perf_counter()
    stores.size = size
    ids = new_ids(others)
    ids.sort()  # in key order: the primary-key B-trees fill from left to right
    stores.put(
        [(sid, _other_user(i % users)) for i, sid in enumerate(ids)],
        [r for r in range(1, size + 1) if r not in taken],
    )
    del ids
    seconds = time.perf_counter() - t0
    log(f"everywhere: {stores.kind}, {size} sessions and index entries in {seconds:.1f} s")
    middleware = LogoutMiddleware(
        bare_app, stores.backend, index=stores.index, everywhere_path=EVERYWHERE_PATH
    )
    return _Store(stores, size, k, users, middleware, seconds, slots)


def _plain_cases(store: _Store) -> tuple[Case, Case, Case]:
    """A plain logout without and with the index, and one bare store deletion, on the
    largest store. The sessions belong to random users among the stored ones."""
    stores = store.stores
    rng = random.Random(12)
    without = LogoutMiddleware(bare_app, stores.backend)
    kind = stores.kind

    def indexed(n: int) -> list[str]:
        ids = new_ids(n)
        stores.put([(sid, _other_user(rng.randrange(store.users))) for sid in ids])
        return ids

    def records(n: int) -> list[str]:
        ids = new_ids(n)
        stores.put_records(ids)
        return ids

    def logouts(name: str, app: LogoutMiddleware, make: Callable[[int], list[str]]) -> Case:
        pending: list[dict[str, Any]] = []

        def setup(n: int) -> None:
            pending[:] = [logout_environ(sid) for sid in make(n)]

        def run(n: int) -> None:
            sr = start_response
            for env in pending:
                consume(app(env, sr))

        return Case(name, run, setup=setup, max_number=5_000)

    alone_ids: list[str] = []

    def alone_setup(n: int) -> None:
        alone_ids[:] = records(n)

    def alone_run(n: int) -> None:
        delete = stores.delete_alone
        for sid in alone_ids:
            delete(sid)

    return (
        logouts(f"{kind} plain logout, no index", without, records),
        logouts(f"{kind} plain logout, with index", store.middleware, indexed),
        Case(f"{kind} one bare delete", alone_run, setup=alone_setup, max_number=5_000),
    )


@dataclass
class _Counts:
    """Store round trips and statements (SQLite) or commands (Redis) of each action."""

    plain: tuple[int, int]
    plain_indexed: tuple[int, int]
    at_once: tuple[int, int]


def _count(store: _Store) -> _Counts:
    stores, without = store.stores, LogoutMiddleware(bare_app, store.stores.backend)
    sid = new_ids(1)[0]
    stores.put_records([sid])
    plain = stores.count(lambda: consume(without(logout_environ(sid), start_response)))
    sid = store.user_sessions(1)[0]
    indexed = stores.count(lambda: consume(store.middleware(logout_environ(sid), start_response)))
    store.user_sessions(store.k)
    at_once = stores.count(lambda: store.middleware.end_user_sessions(USER))
    return _Counts(plain, indexed, at_once)


# -- the section ---------------------------------------------------------------------


def run(config: Config, report: Report) -> None:
    workdir = tempfile.mkdtemp(prefix="bench-everywhere-")
    opened: list[_Stores] = []
    try:
        stores: list[_Store] = []
        for size in config.everywhere_sizes:
            sqlite = _SQLite(os.path.join(workdir, f"s{size}.sqlite3"))
            opened.append(sqlite)
            stores.append(_fill(sqlite, size, config.everywhere_sessions))
            sqlite.settle()
        with _redis_stores(config, report, opened) as redis_stores:
            stores += redis_stores
            _measure(config, report, stores)
    finally:
        for s in opened:
            s.close()
        shutil.rmtree(workdir, ignore_errors=True)
    _pass_through(config, report)


@contextlib.contextmanager
def _redis_stores(config: Config, report: Report, opened: list[_Stores]) -> Iterator[list[_Store]]:
    with optional_redis(config.strict_tools, report.notes, "everywhere") as url:
        if url is None:
            yield []
            return
        stores = []
        for db, size in enumerate(config.everywhere_sizes, start=1):
            redis = _Redis(url.rsplit("/", 1)[0] + f"/{db}")
            opened.append(redis)
            stores.append(_fill(redis, size, config.everywhere_sessions))
        if stores:  # one server: its MEMORY STATS cover every database
            t0 = time.perf_counter()
            stores[-1].stores.settle(window=1.0 if config.quick else 3.0)
            seconds = time.perf_counter() - t0
            log(f"everywhere: redis-server settled (rehashing done) in {seconds:.1f} s")
            report.raw.setdefault("everywhere", {})["redis_settle_seconds"] = seconds
        yield stores


def _measure(config: Config, report: Report, stores: list[_Store]) -> None:
    cases: list[Case] = []
    plain: dict[str, tuple[Case, Case, Case]] = {}
    counts: dict[str, _Counts] = {}
    for kind in ("SQLite", "Redis"):
        mine = [s for s in stores if s.stores.kind == kind]
        if not mine:
            continue
        for s in mine:
            cases += [s.at_once, s.one_by_one]
        plain[kind] = _plain_cases(mine[-1])
        cases += plain[kind]
        counts[kind] = _count(mine[-1])
    for case in cases:
        if case.check is not None:
            case.check()
    log(f"everywhere: {len(cases)} cases, interleaved rounds ...")
    results = interleave(cases, rounds=config.rounds, loop_time=config.loop_time, progress=log)
    report.raw.setdefault("everywhere", {}).update(
        {
            "cases": {
                c.name: {"median_s": m.median, "number": m.number, "samples": m.samples}
                for c in cases
                for m in [results[c.name]]
            },
            "fill_seconds": {s.name: s.fill_seconds for s in stores},
            "round_trips": {k: vars(v) for k, v in counts.items()},
        }
    )
    for kind in ("SQLite", "Redis"):
        mine = [s for s in stores if s.stores.kind == kind]
        if mine:
            _report_store(report, results, mine)
            _report_plain(report, results, kind, plain[kind], counts[kind], mine[-1].k)


def _report_store(report: Report, results: dict[str, Measured], mine: list[_Store]) -> None:
    smallest = results[mine[0].at_once.name].median
    for s in mine:
        at_once = results[s.at_once.name]
        single = results[s.one_by_one.name]
        singles = single.median * s.k
        report.rows.append(
            Row(
                "everywhere",
                s.at_once.name,
                at_once.median,
                s.k / at_once.median,
                at_once.median / singles,
                "one by one",
                f"one call; {at_once.median / smallest:.2f}x the smallest store; "
                f"noise +-{at_once.spread():.0%}; filled in {s.fill_seconds:.1f} s",
            )
        )
        report.rows.append(
            Row(
                "everywhere",
                s.one_by_one.name,
                singles,
                1 / single.median,
                note=f"{single.median * 1e6:.0f} us per POST; noise +-{single.spread():.0%}",
            )
        )
    largest, first = mine[-1], mine[0]
    a = results[largest.at_once.name].median
    b = results[largest.one_by_one.name].median * largest.k
    kind, k = largest.stores.kind, largest.k
    report.targets.append(
        Target(
            f"{kind}: end {k} at once / {k} single logouts, {_label(largest.size)} stored",
            a / b,
            f"<= {AT_ONCE:.3f} (1/20)",
            a / b <= AT_ONCE,
            f"({a * 1e3:.2f} ms vs {b * 1e3:.1f} ms; 1/{b / a:.0f})",
        )
    )
    flat = a / smallest
    report.targets.append(
        Target(
            f"{kind}: end {k} at once, {_label(largest.size)} stored / {_label(first.size)}",
            flat,
            f"<= {FLAT:.2f} (flat)",
            flat <= FLAT,
            f"({a * 1e3:.2f} ms vs {smallest * 1e3:.2f} ms)",
        )
    )


def _report_plain(
    report: Report,
    results: dict[str, Measured],
    kind: str,
    cases: tuple[Case, Case, Case],
    counts: _Counts,
    k: int,
) -> None:
    without, with_index, alone = (results[c.name] for c in cases)
    extra = paired_cost(results, cases[1].name, cases[0].name)
    unit = "transactions" if kind == "SQLite" else "round trips"
    parts = "statements" if kind == "SQLite" else "commands"

    def trips(c: tuple[int, int]) -> str:
        return f"{c[0]} {unit} ({c[1]} {parts})"

    report.rows += [
        Row(
            "everywhere",
            cases[0].name,
            without.median,
            1 / without.median,
            note=f"{trips(counts.plain)}; largest store",
        ),
        Row(
            "everywhere",
            cases[1].name,
            with_index.median,
            1 / with_index.median,
            with_index.median / without.median,
            "no index",
            f"+{extra * 1e6:.0f} us; {trips(counts.plain_indexed)}",
        ),
        Row(
            "everywhere",
            cases[2].name,
            alone.median,
            1 / alone.median,
            note="one store round trip, no WSGI: the time reference",
        ),
    ]
    added = counts.plain_indexed[0] - counts.plain[0]
    report.targets.append(
        Target(
            f"{kind}: store round trips the index adds to a plain logout",
            added,
            f"<= {EXTRA_ROUND_TRIPS}",
            added <= EXTRA_ROUND_TRIPS,
            f"({trips(counts.plain_indexed)} vs {trips(counts.plain)}; ending {k} at once "
            f"takes {trips(counts.at_once)})",
        )
    )
    # The same limit read in time: what the index adds, in bare store round trips.
    report.targets.append(
        Target(
            f"{kind}: time the index adds to a plain logout / one bare store round trip",
            extra / alone.median,
            f"<= {EXTRA_ROUND_TRIPS}",
            extra <= EXTRA_ROUND_TRIPS * alone.median,
            f"(+{extra * 1e6:.0f} us vs {alone.median * 1e6:.0f} us)",
        )
    )


def _pass_through(config: Config, report: Report) -> None:
    def case(name: str, app: Any, environ: dict[str, Any]) -> Case:
        def run(n: int) -> None:
            sr, env = start_response, environ
            for _ in range(n):
                app(env, sr)

        return Case(name, run)

    page = page_environ(cookie=new_ids(1)[0])
    names = ("bare app", "no index", "index only", "index + everywhere_path")
    apps: list[Any] = [
        bare_app,
        LogoutMiddleware(bare_app, MemoryBackend()),
        LogoutMiddleware(bare_app, MemoryBackend(), index=MemorySessionIndex()),
        LogoutMiddleware(
            bare_app,
            MemoryBackend(),
            index=MemorySessionIndex(),
            everywhere_path=EVERYWHERE_PATH,
        ),
    ]
    cases = [case(f"pass-through, {n}", a, page) for n, a in zip(names, apps, strict=True)]
    log("everywhere: pass-through, interleaved rounds ...")
    rounds = config.rounds if config.quick else config.rounds * 2
    results = interleave(cases, rounds=rounds, loop_time=config.loop_time, progress=log)
    bare = cases[0].name
    base = paired_cost(results, cases[1].name, bare)
    for c in cases:
        m = results[c.name]
        row = Row("everywhere", c.name, m.median, 1 / m.median)
        if c.name == bare:
            row.note = f"baseline; noise +-{m.spread():.0%}"
        else:
            cost = paired_cost(results, c.name, bare)
            row.ratio, row.ratio_to = cost / base, "no index"
            row.note = f"+{cost * 1e9:.0f} ns over bare app"
        report.rows.append(row)
    worst = max(paired_cost(results, c.name, bare) for c in cases[2:])
    report.targets.append(
        Target(
            "pass-through cost with index= and everywhere_path= / without",
            worst / base,
            f"<= {PASS_THROUGH:.2f} (noise)",
            worst / base <= PASS_THROUGH,
            f"(+{worst * 1e9:.0f} ns vs +{base * 1e9:.0f} ns over the bare app)",
        )
    )
    report.raw.setdefault("everywhere", {})["pass_through"] = {
        c.name: results[c.name].samples for c in cases
    }
