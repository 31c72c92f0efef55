"""Helpers for the reliability tests: a strictly checked WSGI call, a seedable store,
a tiny login/browse app for real servers, and an HTTP client for load and races.

Nothing here fakes a server: the stores are the package's own backends on real files
or real servers, and :func:`serve` runs the app in a real gunicorn.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import threading
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from wsgiref.validate import WSGIWarning, validator

from werkzeug.middleware.lint import HTTPWarning, LintMiddleware
from werkzeug.middleware.lint import WSGIWarning as WerkzeugWSGIWarning

from logout_middleware import DEFAULT_LOGOUT_PATH

LOGOUT = DEFAULT_LOGOUT_PATH

_LINT_WARNINGS = (WSGIWarning, WerkzeugWSGIWarning, HTTPWarning)

#: The statuses the logout path may answer (middleware.py's behaviour table).
LOGOUT_STATUSES = frozenset({200, 303, 403, 405, 500})

#: Environ keys a fuzzed request may set; the rest is a plain, valid server environ.
_BASE_ENVIRON: dict[str, Any] = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "PATH_INFO": "/",
    "QUERY_STRING": "",
    "SERVER_NAME": "localhost",
    "SERVER_PORT": "80",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "http",
    "wsgi.multithread": True,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
}


class BrokenInput(io.RawIOBase):
    """A request body whose client went away: reading raises after ``good`` bytes."""

    def __init__(self, data: bytes, good: int) -> None:
        self._data = data
        self._good = good
        self._pos = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._pos >= self._good:
            raise ConnectionResetError("client disconnected while sending the body")
        end = self._good if size is None or size < 0 else min(self._good, self._pos + size)
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


@dataclass
class Answer:
    """What a WSGI application answered, fully consumed and closed."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    lint: list[str] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


def checked_call(
    app: Callable[..., Iterable[bytes]],
    request: dict[str, Any],
    body: bytes | io.RawIOBase = b"",
) -> Answer:
    """Call ``app`` behind ``wsgiref.validate.validator`` and werkzeug's
    ``LintMiddleware`` and return its answer.

    The validators see a plain, valid server environ; the keys in ``request`` (which
    may be anything a client or a lax server could produce: unknown methods, an odd
    ``CONTENT_LENGTH``, a ``PATH_INFO`` without its slash) are put in place between
    the validators and ``app``, so that ``app`` gets them while its answer is still
    checked in full. The body is iterated and ``close()``-d as a server would.

    Every lint warning is collected in :attr:`Answer.lint` (and not raised), so a
    caller can assert there were none and say which; a validator assertion or any
    exception from ``app`` propagates.
    """
    stream = body if isinstance(body, io.RawIOBase) else io.BytesIO(body)
    environ = dict(_BASE_ENVIRON)
    environ["wsgi.input"] = stream
    environ["wsgi.errors"] = io.StringIO()

    def inject(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        environ.update(request)
        return app(environ, start_response)

    stack = validator(LintMiddleware(inject))
    seen: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.append((status, list(headers)))
        return lambda data: None

    with warnings.catch_warnings(record=True) as caught:
        # Lint findings are collected; any other warning stays an error.
        for category in _LINT_WARNINGS:
            warnings.simplefilter("always", category)
        result = stack(environ, start_response)
        try:
            chunks = list(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        del result
    assert len(seen) == 1, f"start_response called {len(seen)} times"
    status, headers = seen[0]
    return Answer(
        int(status[:3]),
        headers,
        b"".join(chunks),
        [f"{w.category.__name__}: {w.message}" for w in caught],
    )


class SeededBackend:
    """A dictionary store whose records the test names itself (any string id).

    It is a plain :class:`~logout_middleware.SessionBackend` (only ``delete``), so the
    fuzzer can seed the exact ids its cookies carry, odd characters included.
    """

    def __init__(self) -> None:
        self.records: dict[str, str] = {}
        self.deleted: list[str] = []

    def seed(self, ids: Iterable[str]) -> None:
        self.records = {i: "data" for i in ids}
        self.deleted = []

    def delete(self, session_id: str) -> None:
        self.deleted.append(session_id)
        self.records.pop(session_id, None)


class RaisingBackend:
    """A store that is down: every ``delete`` raises (after recording the call)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def seed(self, ids: Iterable[str]) -> None:
        self.calls = []

    def delete(self, session_id: str) -> None:
        self.calls.append(session_id)
        raise ConnectionError("session store unreachable")


# -- a tiny application for real servers ----------------------------------------------


def make_app(store: Any) -> Callable[..., Iterable[bytes]]:
    """A bare WSGI app that logs in, shows who is logged in, and nothing else.

    * ``POST /login?user=NAME``: creates a session with ``store.create`` and sets the
      ``session`` cookie; the body is the session id.
    * ``GET /me``: ``200`` with the user name of the session in the cookie, or
      ``anonymous``; reads the store.
    * anything else: ``200 hello``, without touching the store.
    """
    from urllib.parse import parse_qs

    from werkzeug.http import dump_cookie, parse_cookie

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/login" and environ["REQUEST_METHOD"] == "POST":
            user = parse_qs(environ.get("QUERY_STRING", "")).get("user", ["someone"])[0]
            sid = store.create({"user": user})
            body = sid.encode()
            start_response(
                "200 OK",
                [
                    ("Content-Type", "text/plain"),
                    ("Content-Length", str(len(body))),
                    ("Set-Cookie", dump_cookie("session", sid, httponly=True, samesite="Lax")),
                ],
            )
            return [body]
        if path == "/me":
            sid = parse_cookie(environ).get("session")
            data = store.get(sid) if sid else None
            body = (data["user"] if data else "anonymous").encode()
        else:
            body = b"hello"
        start_response(
            "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return app


def build_app() -> Callable[..., Iterable[bytes]]:
    """The app that :func:`serve` runs in gunicorn, configured from the environment:
    ``RELIABILITY_STORE`` is ``sqlite:PATH`` or ``redis:URL``."""
    from logout_middleware import LogoutMiddleware, SQLiteBackend
    from logout_middleware.backends import RedisBackend

    kind, _, where = os.environ["RELIABILITY_STORE"].partition(":")
    store: Any = SQLiteBackend(where) if kind == "sqlite" else RedisBackend(where)
    return LogoutMiddleware(make_app(store), store)


class Client:
    """One keep-alive HTTP/1.1 connection to a real server, with a cookie."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.conn: http.client.HTTPConnection | None = None
        self.cookie: str | None = None

    def request(
        self, method: str, path: str, *, cookie: str | None = None, body: bytes = b""
    ) -> tuple[int, dict[str, str], list[str], bytes]:
        """Send one request (reconnecting once if the server closed the connection)."""
        headers = {"Content-Length": str(len(body))}
        cookie = cookie if cookie is not None else self.cookie
        if cookie:
            headers["Cookie"] = f"session={cookie}"
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A sync worker closes after each response; a fresh connection is normal.
                self.close()
                if attempt:
                    raise
                continue
            if response.will_close:
                self.close()
            return (
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.headers.get_all("Set-Cookie") or [],
                data,
            )
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def logout_ok(status: int, body: bytes) -> bool:
    return status == 200 and json.loads(body) == {"message": "OK"}


def run_threads(target: Callable[[int], None], count: int, timeout: float = 120.0) -> None:
    """Run ``target(i)`` in ``count`` threads started together; re-raise the first error."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout)
            target(i)
        except BaseException as exc:  # collected and re-raised in the caller
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a client thread did not finish in time"
    if errors:
        raise errors[0]


def report(name: str, **figures: Any) -> None:
    """Append one line of figures to the file named by ``$RELIABILITY_REPORT``, if set
    (docs-fragments/reliability.md quotes them); a no-op otherwise."""
    target = os.environ.get("RELIABILITY_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as f:
            f.write(json.dumps({"test": name, **figures}) + "\n")


# -- log out everywhere: an app that links sessions to users, and its stores ------------

#: The log out everywhere path of :func:`build_everywhere_app`.
EVERYWHERE = "/logout/everywhere"
#: Seconds an index entry lives in the everywhere tests: longer than any run.
INDEX_TTL = 3600.0
#: Where the everywhere tests keep sessions and the index (tables, key prefixes):
#: names no other test uses, so a shared server's other data is never read or cleared.
EVERYWHERE_TABLE = "everywhere_sessions"
EVERYWHERE_INDEX_TABLE = "everywhere_index"
EVERYWHERE_SESSION_PREFIX = "everywhere:s:"
EVERYWHERE_INDEX_PREFIX = "everywhere:i:"


def make_index_app(store: Any, index: Any) -> Callable[..., Iterable[bytes]]:
    """:func:`make_app` whose login also links the session to its user in ``index``
    (``store.create`` then ``index.add(sid, INDEX_TTL, user=NAME)``, as the docs show
    an application doing it), so that log out everywhere can find it."""

    class _Linking:
        def create(self, data: dict[str, Any]) -> str:
            sid: str = store.create(data)
            index.add(sid, INDEX_TTL, user=data["user"])
            return sid

        def get(self, session_id: str) -> Any:
            return store.get(session_id)

    return make_app(_Linking())


@dataclass
class EverywhereStores:
    """A session store and a session index on real files or servers, plus raw reads of
    both (straight from the file, the keys or the table, not through the stores'
    methods) so that a test sees what is really there.

    A spec is ``sqlite:PATH``, ``redis:URL`` or ``postgresql:URL`` (a SQLAlchemy URL);
    the index may live elsewhere than the sessions (``index_spec``).
    """

    backend: Any
    index: Any
    backend_spec: str
    index_spec: str
    engines: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(
        cls,
        spec: str,
        index_spec: str | None = None,
        *,
        redis_options: dict[str, Any] | None = None,
        engine_options: dict[str, Any] | None = None,
    ) -> EverywhereStores:
        index_spec = index_spec or spec
        engines: dict[str, Any] = {}

        def engine(url: str) -> Any:  # one engine per database, shared by both stores
            import sqlalchemy as sa

            if url not in engines:
                engines[url] = sa.create_engine(url, pool_pre_ping=True, **(engine_options or {}))
            return engines[url]

        kind, _, where = spec.partition(":")
        backend: Any
        if kind == "sqlite":
            from logout_middleware import SQLiteBackend

            backend = SQLiteBackend(where)
        elif kind == "redis":
            from logout_middleware.backends import RedisBackend

            backend = RedisBackend(
                where, key_prefix=EVERYWHERE_SESSION_PREFIX, **(redis_options or {})
            )
        else:
            from logout_middleware.backends import SQLAlchemyBackend

            backend = SQLAlchemyBackend(engine(where), table=EVERYWHERE_TABLE, create_table=True)
        kind, _, where = index_spec.partition(":")
        index: Any
        if kind == "sqlite":
            from logout_middleware import SQLiteSessionIndex

            index = SQLiteSessionIndex(where)
        elif kind == "redis":
            from logout_middleware import RedisSessionIndex

            index = RedisSessionIndex(
                where, key_prefix=EVERYWHERE_INDEX_PREFIX, **(redis_options or {})
            )
        else:
            from logout_middleware import SQLAlchemySessionIndex

            index = SQLAlchemySessionIndex(engine(where), table=EVERYWHERE_INDEX_TABLE)
        return cls(backend, index, spec, index_spec, engines)

    @property
    def engine(self) -> Any:
        """The SQLAlchemy engine of the stores on PostgreSQL."""
        return next(iter(self.engines.values()))

    # -- raw reads ---------------------------------------------------------------------

    def _redis(self, url: str) -> Any:
        import redis

        return redis.Redis.from_url(url, socket_timeout=10)

    def _sql(self, spec: str, query: str) -> list[tuple[Any, ...]]:
        kind, _, where = spec.partition(":")
        if kind == "sqlite":
            import sqlite3

            conn = sqlite3.connect(where, timeout=30)
            try:
                return list(conn.execute(query))
            finally:
                conn.close()
        import sqlalchemy as sa

        with self.engines[where].connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(query))]

    def live(self) -> dict[str, str]:
        """Every session record in the store: its id and its user."""
        kind, _, where = self.backend_spec.partition(":")
        if kind == "redis":
            client = self._redis(where)
            try:
                found: dict[str, str] = {}
                for key in client.scan_iter(match=EVERYWHERE_SESSION_PREFIX + "*", count=1000):
                    raw = client.get(key)
                    if raw is not None:
                        sid = key.decode()[len(EVERYWHERE_SESSION_PREFIX) :]
                        found[sid] = json.loads(raw)["user"]
                return found
            finally:
                client.close()
        table = "sessions" if kind == "sqlite" else EVERYWHERE_TABLE
        column = "id" if kind == "sqlite" else "session_id"
        rows = self._sql(self.backend_spec, f"SELECT {column}, data FROM {table}")
        return {sid: json.loads(data)["user"] for sid, data in rows}

    def links(self) -> tuple[dict[str, dict[str, str]], set[tuple[str, str, str]]]:
        """What the index holds: each session's labels, and each (name, value, session)
        link a label lookup reads (in SQL the same rows; in Redis the sorted sets'
        members, stale ones included)."""
        kind, _, where = self.index_spec.partition(":")
        labels: dict[str, dict[str, str]] = {}
        links: set[tuple[str, str, str]] = set()
        if kind == "redis":
            client = self._redis(where)
            try:
                prefix = EVERYWHERE_INDEX_PREFIX + "session:"
                for key in client.scan_iter(match=prefix + "*", count=1000):
                    raw = client.hgetall(key)
                    labels[key.decode()[len(prefix) :]] = {
                        k.decode(): v.decode() for k, v in raw.items()
                    }
                prefix = EVERYWHERE_INDEX_PREFIX + "label:"
                for key in client.scan_iter(match=prefix + "*", count=1000):
                    name, _, value = key.decode()[len(prefix) :].partition(":")
                    for member in client.zrange(key, 0, -1):
                        links.add((name, value, member.decode()))
            finally:
                client.close()
            return labels, links
        table = "session_index" if kind == "sqlite" else EVERYWHERE_INDEX_TABLE
        for sid, name, value in self._sql(
            self.index_spec, f"SELECT session_id, name, value FROM {table}"
        ):
            labels.setdefault(sid, {})[name] = value
            links.add((name, value, sid))
        return labels, links

    def clear(self) -> None:
        """Forget every session and index entry of the everywhere tests."""
        for spec, what in ((self.backend_spec, "sessions"), (self.index_spec, "index")):
            kind, _, where = spec.partition(":")
            if kind == "redis":
                client = self._redis(where)
                try:
                    prefix = (
                        EVERYWHERE_SESSION_PREFIX if what == "sessions" else EVERYWHERE_INDEX_PREFIX
                    )
                    keys = list(client.scan_iter(match=prefix + "*", count=1000))
                    if keys:
                        client.delete(*keys)
                finally:
                    client.close()
            elif kind == "postgresql":
                import sqlalchemy as sa

                table = EVERYWHERE_TABLE if what == "sessions" else EVERYWHERE_INDEX_TABLE
                with self.engines[where].begin() as conn:
                    conn.execute(sa.text(f"DELETE FROM {table}"))

    def close(self) -> None:
        for store in (self.backend, self.index):
            close = getattr(store, "close", None)
            if close is not None:
                close()
        for engine in self.engines.values():
            engine.dispose()


def check_index_matches_sessions(
    stores: EverywhereStores, users: Iterable[str], seen: Iterable[str] = ()
) -> dict[str, str]:
    """Assert the invariant of log out everywhere at quiescence and return the live
    sessions (id -> user).

    For each user, the sessions in the store carrying that user are exactly the ones
    ``index.find("user", user)`` returns (no live session outside the index, no index
    entry for a deleted one); the raw index holds exactly the live sessions, each with
    its user, and no stale link; every session id in ``seen`` has labels in the index
    if and only if its record exists.
    """
    live = stores.live()
    for user in users:
        mine = {sid for sid, owner in live.items() if owner == user}
        found = stores.index.find("user", user)
        assert mine == found, (
            f"{user}: {len(mine - found)} live session(s) outside the index, "
            f"{len(found - mine)} index entr(y/ies) for deleted sessions"
        )
    labels, links = stores.links()
    expected = {sid: {"user": owner} for sid, owner in live.items()}
    assert labels == expected, (
        f"raw index: {len(set(labels) - set(live))} entr(y/ies) for deleted sessions, "
        f"{len(set(live) - set(labels))} live session(s) missing, "
        f"{sum(1 for s in labels if s in live and labels[s] != expected[s])} wrong label(s)"
    )
    assert links == {("user", owner, sid) for sid, owner in live.items()}, (
        f"stale links: {len(links - {('user', o, s) for s, o in live.items()})}"
    )
    for sid in seen:
        assert bool(stores.index.labels(sid)) == (sid in live), sid
    return live


def build_everywhere_app() -> Callable[..., Iterable[bytes]]:
    """The app that the everywhere tests run in gunicorn: :func:`make_index_app` behind
    ``LogoutMiddleware`` with ``index=`` and ``everywhere_path=EVERYWHERE``, on the
    stores ``RELIABILITY_EVERYWHERE`` names (a spec of :class:`EverywhereStores`).
    Every answer says which worker gave it (``X-Worker-Pid``)."""
    from logout_middleware import LogoutMiddleware

    stores = EverywhereStores.open(os.environ["RELIABILITY_EVERYWHERE"])
    middleware = LogoutMiddleware(
        make_index_app(stores.backend, stores.index),
        stores.backend,
        index=stores.index,
        everywhere_path=EVERYWHERE,
    )
    pid = ("X-Worker-Pid", str(os.getpid()))

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        def tagged(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, pid], exc_info)

        return middleware(environ, tagged)

    return app
