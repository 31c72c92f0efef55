"""ASGI: the twin's pass-through and logout next to the least an ASGI app can do, and
uvicorn with and without it under ``wrk``.

Issue 14's targets, same-run ratios:

* **pass-through**: the ``GET`` of an ordinary page (the session cookie among others)
  through each wrapper around the same bare ASGI app; a wrapper's *cost* is its time
  per request minus the bare app's, paired round by round, divided by the cost of the
  **null ASGI middleware**, an ``async def`` that only awaits the app. At most 1.25x.
* **logout**: a ``POST`` of the logout path with a stored session's cookie (sessions
  created untimed before each loop, one fresh scope per request), through the twin on
  the memory backend; beside a **hand-written ASGI logout** that parses the cookie
  (werkzeug's ``parse_cookie``), deletes the record from a dict and builds its headers
  and JSON body on every request, and beside the same logout written with Starlette's
  ``Request``/``JSONResponse`` in a ``BaseHTTPMiddleware``. The twin at most 1.0x the
  hand-written one, and at least 10x faster than ``BaseHTTPMiddleware``; both judged on
  the median of the per-round ratios.
* **uvicorn + wrk**: one uvicorn worker (uvloop, httptools, no access log) serving the
  bare app, another the app behind the twin, a third the app behind an empty class
  middleware (the floor of any class), on 127.0.0.1, all pinned to CPU 0, with
  ``wrk`` on CPU 1 (the HTTP section's settings). Each round loads the servers *at
  the same time* for the same bounded run, so they share their CPU and any other load
  on the machine slows all alike (run one after the other, rounds on a shared 2-core
  machine ranged from 0.62x to 1.11x), twice as many rounds as the HTTP section in
  the same time. The rounds are spread over 5 fresh sets of server processes: two
  processes running the same code differ by up to 2.5% in requests/s (measured: the
  same middleware in two processes gave 0.967x and 0.991x the bare app), as much as
  the difference to measure, so one set cannot decide. Wrapped at least 0.99x the
  bare requests/s, on the median of the sets' median round ratios. Beside it, each
  server's CPU time per request (``/proc/PID/task/*/schedstat``), and the ratio of
  requests per CPU-second, which the scheduler's share of the CPU does not sway.

Every coroutine runs on one asyncio event loop, a loop's worth of requests awaited in
one ``run_until_complete``; ``send`` is a coroutine that keeps nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import statistics
import tempfile
from collections.abc import Callable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from itertools import repeat
from typing import Any

from werkzeug.http import dump_cookie, parse_cookie

from logout_middleware import MemoryBackend
from logout_middleware.asgi import ASGIApp, LogoutMiddleware, Receive, Scope, Send
from logout_middleware.revocation import MemoryRevocationStore

from .apps import COOKIE, LOGOUT_PATH, PAGE_PATH, new_ids
from .config import Config, log
from .harness import UvicornServer, start_uvicorn
from .http import _PAGE, _wrk
from .oidc import paired_ratio
from .report import Report, Row, Target
from .servers import pin
from .stores import memory_store
from .timing import Case, Measured, interleave, paired_cost

__all__ = ["bare", "run", "wrapped"]

Message = MutableMapping[str, Any]

#: Pass-through cost at most this many times the null ASGI middleware's.
PASS_THROUGH = 1.25
#: The memory-backend logout at most this many times the hand-written ASGI logout.
LOGOUT = 1.0
#: The BaseHTTPMiddleware logout at least this many times slower than the twin's.
STARLETTE = 10.0
#: Wrapped requests/s under uvicorn, at least this share of the bare app's.
HTTP = 0.99
#: Fresh pairs of uvicorn processes the HTTP rounds are spread over.
PROCESS_PAIRS = 5

BARE = "bare ASGI app"
NULL = "null ASGI middleware"
EMPTY_CLASS = "empty class middleware"
ONE_COMPARISON = "null middleware + one path comparison"
OURS = "LogoutMiddleware (ASGI), defaults"
HANDWRITTEN = "hand-written ASGI logout"
MEMORY = "LogoutMiddleware (ASGI), memory"
BASEHTTP = "Starlette BaseHTTPMiddleware logout"

_START: Message = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"2")],
}
_BODY: Message = {"type": "http.response.body", "body": b"ok"}


async def bare(scope: Scope, receive: Receive, send: Send) -> None:
    """The application behind every wrapper: a constant answer (``lifespan`` ignored)."""
    if scope["type"] == "http":
        await send(_START)
        await send(_BODY)


class EmptyClassMiddleware:
    """The cheapest *class* ASGI middleware, as Starlette writes its own: an ``async
    def __call__`` that only awaits the app. Calling an instance costs CPython a
    method lookup and a bound call the ``async def`` function does not pay: the floor
    under any middleware that is a class, as the twin must be (its constructor is the
    public interface, and ``app.add_middleware`` instantiates it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def one_comparison_middleware(app: ASGIApp) -> ASGIApp:
    """The least a middleware that answers one path can do: an ``async def`` that
    compares the scope's ``path`` with that path once (no ``root_path``, no scope
    type), then awaits the app. The floor under any middleware that reads the scope."""

    async def compare(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("path") == LOGOUT_PATH:
            return
        await app(scope, receive, send)

    return compare


def null_middleware(app: ASGIApp) -> ASGIApp:
    """The cheapest ASGI middleware: an ``async def`` that only awaits the app."""

    async def null(scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope, receive, send)

    return null


#: The twin on the memory backend around :func:`bare`, for uvicorn
#: (``benchmarks.asgi:wrapped``).
wrapped = LogoutMiddleware(bare, MemoryBackend())
#: The floor of any class middleware around :func:`bare`, for uvicorn.
empty_class_wrapped = EmptyClassMiddleware(bare)


async def _send(message: Message) -> None:
    pass


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def http_scope(method: str, path: str, cookie: str | None) -> Scope:
    """The scope uvicorn makes for a browser's request (the headers of the WSGI
    benchmarks' ``environ``)."""
    headers = [
        (b"host", b"localhost:8000"),
        (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
        (b"accept", b"application/json, text/plain, */*"),
        (b"accept-language", b"en-US,en;q=0.5"),
        (b"accept-encoding", b"gzip, deflate"),
        (b"connection", b"keep-alive"),
        (b"content-length", b"0"),
    ]
    if cookie is not None:
        headers.append((b"cookie", cookie.encode("latin-1")))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": method,
        "root_path": "",
        "path": path,
        "raw_path": path.encode("ascii"),
        "query_string": b"",
        "headers": headers,
        "state": {},
    }


def page_scope() -> Scope:
    session_id = new_ids(1)[0]
    return http_scope("GET", PAGE_PATH, f"{COOKIE}={session_id}; theme=dark; _ga=GA1.1.12345")


def logout_scope(session_id: str) -> Scope:
    return http_scope("POST", LOGOUT_PATH, f"{COOKIE}={session_id}")


# -- the logouts compared --------------------------------------------------------------


def handwritten_logout(sessions: dict[str, Any]) -> ASGIApp:
    """The least a correct ASGI logout does, by hand: route on path and method, parse
    the cookie, delete the record, build the headers and the JSON body: every request."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != LOGOUT_PATH:
            await bare(scope, receive, send)
            return
        if scope["method"] != "POST":
            await send({"type": "http.response.start", "status": 405,
                        "headers": [(b"allow", b"POST")]})
            await send({"type": "http.response.body", "body": b""})
            return
        cookie = "; ".join(v.decode("latin-1") for k, v in scope["headers"] if k == b"cookie")
        session_id = parse_cookie(cookie).get(COOKIE)
        if session_id:
            sessions.pop(session_id, None)
        body = json.dumps({"message": "OK"}).encode("utf-8")
        expiry = dump_cookie(COOKIE, "", max_age=0, expires=0, path="/", httponly=True,
                             samesite="Lax")
        headers = [
            (b"content-type", b"application/json"),
            (b"cache-control", b"no-store"),
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"set-cookie", expiry.encode("latin-1")),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def starlette_logout(sessions: dict[str, Any]) -> ASGIApp:
    """The same logout as a Starlette ``BaseHTTPMiddleware``, as the framework's docs
    write a middleware: ``Request``, ``request.cookies``, ``JSONResponse``,
    ``delete_cookie``."""
    from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response

    class Logout(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            if request.url.path != LOGOUT_PATH:
                return await call_next(request)
            if request.method != "POST":
                return Response(status_code=405, headers={"Allow": "POST"})
            session_id = request.cookies.get(COOKIE)
            if session_id:
                sessions.pop(session_id, None)
            response = JSONResponse({"message": "OK"}, headers={"Cache-Control": "no-store"})
            response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
            return response

    return Logout(bare)


# -- in process ----------------------------------------------------------------------


def _answer(loop: asyncio.AbstractEventLoop, app: ASGIApp, scope: Scope) -> tuple[int, bool]:
    """One call: the status, and whether a ``Set-Cookie`` expired the session cookie."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    loop.run_until_complete(app(scope, _receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    expired = any(  # Starlette writes session=""; ... Max-Age=0
        k.lower() == b"set-cookie"
        and v.startswith(COOKIE.encode() + b"=")
        and b"max-age=0" in v.lower()
        for k, v in start["headers"]
    )
    return int(start["status"]), expired


def _passthrough_case(loop: asyncio.AbstractEventLoop, name: str, app: ASGIApp) -> Case:
    scope = page_scope()

    async def batch(n: int) -> None:
        receive, send = _receive, _send
        for _ in repeat(None, n):
            await app(scope, receive, send)

    def run(n: int) -> None:
        loop.run_until_complete(batch(n))

    def check() -> None:
        if _answer(loop, app, page_scope()) != (200, False):
            raise RuntimeError(f"{name}: the page was not the app's")

    return Case(name, run, check=check)


def _logout_case(
    loop: asyncio.AbstractEventLoop,
    name: str,
    app: ASGIApp,
    store: Callable[[int], list[str]],
    exists: Callable[[str], bool],
) -> Case:
    pending: list[Scope] = []

    def setup(n: int) -> None:
        pending[:] = [logout_scope(sid) for sid in store(n)]

    async def batch(n: int) -> None:
        receive, send = _receive, _send
        for scope in pending:
            await app(scope, receive, send)

    def run(n: int) -> None:
        loop.run_until_complete(batch(n))

    def check() -> None:
        (session_id,) = store(1)
        answer = _answer(loop, app, logout_scope(session_id))
        if answer != (200, True) or exists(session_id):
            raise RuntimeError(f"{name}: a logout answered {answer} or left its session")

    return Case(name, run, setup=setup, check=check)


async def _call_next(request: Any, call_next: Any) -> Any:
    return await call_next(request)


def _cases(loop: asyncio.AbstractEventLoop) -> tuple[list[Case], list[Case], dict[str, str]]:
    from starlette.middleware.base import BaseHTTPMiddleware

    revocation = LogoutMiddleware(bare, MemoryBackend(), revocation=MemoryRevocationStore())
    for session_id in new_ids(1000):  # a store that is not empty
        _answer(loop, revocation, logout_scope(session_id))
    passthrough = [
        _passthrough_case(loop, BARE, bare),
        _passthrough_case(loop, NULL, null_middleware(bare)),
        _passthrough_case(loop, ONE_COMPARISON, one_comparison_middleware(bare)),
        _passthrough_case(loop, EMPTY_CLASS, EmptyClassMiddleware(bare)),
        _passthrough_case(loop, OURS, LogoutMiddleware(bare, MemoryBackend())),
        _passthrough_case(loop, "LogoutMiddleware (ASGI) + revocation, cookie", revocation),
        _passthrough_case(
            loop, "Starlette BaseHTTPMiddleware", BaseHTTPMiddleware(bare, dispatch=_call_next)
        ),
    ]
    backend = MemoryBackend()
    floor: dict[str, Any] = {}
    peer: dict[str, Any] = {}
    logout = [
        _logout_case(loop, HANDWRITTEN, handwritten_logout(floor), memory_store(floor),
                     floor.__contains__),
        _logout_case(
            loop,
            MEMORY,
            LogoutMiddleware(bare, backend),
            lambda n: [backend.create({"user_id": 1, "roles": ["author"]}) for _ in range(n)],
            lambda sid: backend.get(sid) is not None,
        ),
        _logout_case(loop, BASEHTTP, starlette_logout(peer), memory_store(peer),
                     peer.__contains__),
    ]
    notes = {
        "LogoutMiddleware (ASGI) + revocation, cookie": "1000 revoked; this one is not",
        "Starlette BaseHTTPMiddleware": "dispatch() only awaits call_next",
        EMPTY_CLASS: "async def __call__ that only awaits the app: a class's floor",
        ONE_COMPARISON: "scope.get('path') == the logout path: the floor of reading the scope",
        HANDWRITTEN: "parse_cookie, dict.pop, dump_cookie, json.dumps",
        MEMORY: "POST with the session cookie only",
        BASEHTTP: "Request, request.cookies, JSONResponse, delete_cookie",
    }
    return passthrough, logout, notes


def _in_process(config: Config, report: Report) -> None:
    loop = asyncio.new_event_loop()
    try:
        passthrough, logout, notes = _cases(loop)
        for case in (*passthrough, *logout):
            assert case.check is not None
            case.check()
        log("asgi: pass-through, interleaved rounds ...")
        rounds = config.rounds if config.quick else config.rounds * 2
        through = interleave(passthrough, rounds=rounds, loop_time=config.loop_time,
                             progress=log)
        log("asgi: logout, interleaved rounds ...")
        logouts = interleave(logout, rounds=config.rounds, loop_time=config.loop_time,
                             progress=log)
    finally:
        loop.close()
    _passthrough_rows(report, through, notes)
    _logout_rows(report, logouts, notes)


def _passthrough_rows(report: Report, results: dict[str, Measured], notes: dict[str, str]) -> None:
    null_cost = paired_cost(results, NULL, BARE)
    for name, measured in results.items():
        row = Row("asgi pass-through", name, measured.median, 1 / measured.median)
        if name == BARE:
            row.note = f"baseline; noise +-{measured.spread():.0%}"
        else:
            cost = paired_cost(results, name, BARE)
            row.ratio, row.ratio_to = cost / null_cost, "null"
            row.note = f"+{cost * 1e9:.0f} ns over bare app"
            if name in notes:
                row.note += f"; {notes[name]}"
            row.extra["cost_over_bare_s"] = cost
        row.extra["samples"] = measured.samples
        report.rows.append(row)
    ours = paired_cost(results, OURS, BARE)
    empty = paired_cost(results, EMPTY_CLASS, BARE)
    compare = paired_cost(results, ONE_COMPARISON, BARE)
    report.targets.append(
        Target(
            "ASGI pass-through cost / null ASGI middleware's",
            ours / null_cost,
            f"<= {PASS_THROUGH}",
            ours / null_cost <= PASS_THROUGH,
            f"(+{ours * 1e9:.0f} ns vs +{null_cost * 1e9:.0f} ns over the bare app; one "
            f"path comparison alone costs {compare / null_cost:.2f}x, an empty class "
            f"middleware {empty / null_cost:.2f}x, the twin {ours / empty:.2f}x that)",
        )
    )


def _logout_rows(report: Report, results: dict[str, Measured], notes: dict[str, str]) -> None:
    floor, ours, peer = results[HANDWRITTEN], results[MEMORY], results[BASEHTTP]
    for measured, ratio, to in (
        (floor, None, ""),
        (ours, paired_ratio(ours, floor), "hand-written"),
        (peer, paired_ratio(peer, ours), "ours"),
    ):
        report.rows.append(
            Row(
                "asgi logout",
                measured.name,
                measured.median,
                1 / measured.median,
                ratio,
                to,
                f"{notes[measured.name]}; noise +-{measured.spread():.0%}",
                {"samples": measured.samples},
            )
        )
    mine, slower = paired_ratio(ours, floor), paired_ratio(peer, ours)
    report.targets.append(
        Target(
            "ASGI memory-backend logout / hand-written ASGI logout",
            mine,
            f"<= {LOGOUT:.2f}",
            mine <= LOGOUT,
            f"({ours.median * 1e6:.2f} us vs {floor.median * 1e6:.2f} us; median of round ratios)",
        )
    )
    report.targets.append(
        Target(
            "Starlette BaseHTTPMiddleware logout / ASGI memory-backend logout",
            slower,
            f">= {STARLETTE:g}",
            slower >= STARLETTE,
            f"({peer.median * 1e6:.1f} us vs {ours.median * 1e6:.2f} us; median of round ratios)",
        )
    )


# -- uvicorn + wrk -----------------------------------------------------------------------

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_HTTP_RUNS = [
    ("pass-through, bare ASGI app", "bare"),
    ("pass-through, LogoutMiddleware", "wrapped"),
    ("pass-through, empty class middleware", "empty_class_wrapped"),
]


@contextlib.contextmanager
def _uvicorn(app: str) -> Iterator[UvicornServer]:
    """``uvicorn benchmarks.asgi:APP``, one worker pinned to CPU 0, no access log."""
    server = start_uvicorn(
        f"benchmarks.asgi:{app}",
        workers=1,
        env={"PYTHONPATH": _ROOT},
        app_dir=_ROOT,
        args=["--lifespan", "off", "--backlog", "2048", "--timeout-keep-alive", "30"],
        timeout=20.0,
        ready_path="/__ready",
        access_log=False,
        prefix=pin(0),
    )
    with server:
        yield server


def _load_all(
    pool: ThreadPoolExecutor, config: Config, urls: list[str], script: str, seconds: int
) -> list[dict[str, Any]]:
    """``wrk`` on every URL at once, for ``seconds``."""
    return list(pool.map(lambda url: _wrk(config, url, script, seconds), urls))


def _cpu_seconds(pid: int) -> float | None:
    """CPU time a process's threads have run so far (``/proc/PID/task/*/schedstat``,
    nanoseconds), or ``None`` where the kernel does not say."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat", encoding="ascii") as f:
                total += int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total / 1e9


def _over_http(config: Config, report: Report) -> None:
    if shutil.which("wrk") is None:
        if config.strict_tools:
            raise FileNotFoundError("wrk is not installed (Debian: apt-get install wrk)")
        report.notes.append("ASGI over HTTP skipped: wrk is not installed (apt-get install wrk)")
        return
    # Twice the HTTP section's rounds, in the time it takes: the servers run at once.
    # They are spread over fresh sets of server processes: one process may run a
    # couple of percent faster or slower than another running the same code (memory
    # layout, hash seed), as much as the difference measured, so no one set decides.
    rounds = config.wrk_rounds * 2
    sets = 1 if config.quick else PROCESS_PAIRS
    workdir = tempfile.mkdtemp(prefix="bench-asgi-")
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in _HTTP_RUNS}
    set_of_round: list[int] = []
    try:
        script = os.path.join(workdir, "page.lua")
        with open(script, "w", encoding="utf-8") as f:
            f.write(_PAGE.replace("@PATH@", PAGE_PATH))
        for k in range(sets):
            with contextlib.ExitStack() as stack, ThreadPoolExecutor(len(_HTTP_RUNS)) as pool:
                servers = [stack.enter_context(_uvicorn(app)) for _, app in _HTTP_RUNS]
                urls = [server.url + PAGE_PATH for server in servers]
                pids = [server.worker_pids()[0] for server in servers]
                log(f"asgi: {len(servers)} uvicorn servers up (set {k + 1}/{sets})")
                if not config.quick:  # one untimed second: imports, caches, connections
                    _load_all(pool, config, urls, script, 1)
                for r in range(k * rounds // sets, (k + 1) * rounds // sets):
                    # Every server loaded at once, sharing their CPU: whatever else the
                    # machine does meanwhile slows all alike.
                    before = [_cpu_seconds(pid) for pid in pids]
                    results = _load_all(pool, config, urls, script, config.wrk_seconds)
                    for (name, _), result, pid, start in zip(
                        _HTTP_RUNS, results, pids, before, strict=True
                    ):
                        end = _cpu_seconds(pid)
                        result["cpu_s"] = None if start is None or end is None else end - start
                        samples[name].append(result)
                    set_of_round.append(k)
                    log(f"asgi: wrk round {r + 1}/{rounds}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _http_rows(report, samples, set_of_round, rounds, config.wrk_seconds)


def _http_rows(
    report: Report,
    samples: dict[str, list[dict[str, Any]]],
    set_of_round: list[int],
    rounds: int,
    seconds: int,
) -> None:
    (bare_name, _), (ours_name, _), (empty_name, _) = _HTTP_RUNS

    def by_set(ratios: list[float]) -> list[float]:
        return [
            statistics.median(r for r, k in zip(ratios, set_of_round, strict=True) if k == s)
            for s in sorted(set(set_of_round))
        ]

    def rps_ratios(name: str) -> list[float]:
        pairs = zip(samples[name], samples[bare_name], strict=True)
        return [o["rps"] / b["rps"] for o, b in pairs]

    def capacity_ratios(name: str) -> list[float] | None:
        # CPU per request, bare over wrapped: requests per CPU-second, whatever share
        # of the CPU the scheduler gave each server in the round.
        pairs = list(zip(samples[name], samples[bare_name], strict=True))
        if any(o["cpu_s"] is None or b["cpu_s"] is None for o, b in pairs):
            return None
        return [(b["cpu_s"] / b["requests"]) / (o["cpu_s"] / o["requests"]) for o, b in pairs]

    figures: dict[str, tuple[float, list[float], float | None]] = {}
    for name, runs in samples.items():
        errors = sum(s["socket_errors"] + s["non_2xx_3xx"] for s in runs)
        cpu = [s["cpu_s"] / s["requests"] for s in runs if s["cpu_s"] is not None]
        row = Row(
            "asgi http (uvicorn + wrk)",
            name,
            None,
            statistics.median(s["rps"] for s in runs),
            note=f"p50 {statistics.median(s['p50_us'] for s in runs) / 1000:.2f} ms, "
            f"p99 {statistics.median(s['p99_us'] for s in runs) / 1000:.2f} ms"
            + (f", {statistics.median(cpu) * 1e6:.2f} us CPU/request" if cpu else "")
            + (f", {errors} errors" if errors else ""),
            extra={"runs": runs},
        )
        if name != bare_name:
            sets = by_set(rps_ratios(name))
            capacities = capacity_ratios(name)
            capacity_median = (
                None if capacities is None else statistics.median(by_set(capacities))
            )
            figures[name] = (statistics.median(sets), sets, capacity_median)
            row.ratio, row.ratio_to = figures[name][0], "bare req/s"
            row.note += "; process sets " + ", ".join(f"{r:.3f}" for r in sets)
            if capacity_median is not None:
                row.note += f"; per CPU-second {capacity_median:.3f}x"
        report.rows.append(row)
    ratio, _, capacity = figures[ours_name]
    floor, _, floor_capacity = figures[empty_name]
    per_cpu = "" if capacity is None else (
        f"; requests per CPU-second {capacity:.3f}x, an empty class middleware's "
        f"{floor_capacity:.3f}x"
    )
    report.targets.append(
        Target(
            "ASGI pass-through req/s under uvicorn, wrapped / bare",
            ratio,
            f">= {HTTP}",
            ratio >= HTTP,
            f"({rounds} x {seconds} s runs, the servers at once, over "
            f"{len(figures[ours_name][1])} fresh process sets: the median of the sets' "
            f"medians; an empty class middleware {floor:.3f}x{per_cpu})",
        )
    )


def run(config: Config, report: Report) -> None:
    _in_process(config, report)
    _over_http(config, report)
