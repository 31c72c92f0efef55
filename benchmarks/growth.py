"""Growth: does a logout get slower as the store holds more sessions?

For each size, a separate store (one SQLite file each; one Redis database each, so
that the keyspaces are really of that size) is filled in bulk, then the sizes are
timed in interleaved rounds. Each loop logs out sessions picked at random among the
stored ones and puts them back afterwards (untimed), so the size stays put.
"""

from __future__ import annotations

import functools
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import Any

from logout_middleware import LogoutMiddleware, SQLiteBackend

from .apps import bare_app, consume, logout_environ, new_ids, start_response
from .config import Config, log
from .report import Report, Row, Target
from .servers import optional_redis
from .stores import fill_redis, fill_sqlite
from .timing import Case, interleave

__all__ = ["FLAT", "run"]

#: "Flat": the largest store's logout costs at most this much more than the smallest's.
FLAT = 1.30


def _sampling_case(
    name: str,
    app: Any,
    ids: list[str],
    refill: Callable[[list[str]], None],
) -> Case:
    rng = random.Random(6)
    picked: list[str] = []
    pending: list[dict[str, Any]] = []

    def setup(n: int) -> None:
        picked[:] = rng.sample(ids, n)
        pending[:] = [logout_environ(sid) for sid in picked]

    def run(n: int) -> None:
        sr = start_response
        for env in pending:
            consume(app(env, sr))

    def teardown() -> None:
        refill(picked)

    return Case(name, run, setup=setup, teardown=teardown, max_number=max(10, len(ids) // 10))


def _sizes_label(size: int) -> str:
    return f"{size:,}".replace(",", " ")


def run(config: Config, report: Report) -> None:
    workdir = tempfile.mkdtemp(prefix="bench-growth-")
    cases: list[Case] = []
    backends: list[Any] = []
    try:
        for size in config.growth_sizes:
            path = os.path.join(workdir, f"s{size}.sqlite3")
            backend = SQLiteBackend(path)
            backends.append(backend)
            ids = new_ids(size)
            t0 = time.perf_counter()
            fill_sqlite(path, sorted(ids))  # in key order: the index grows at its end
            log(f"growth: {size} SQLite rows in {time.perf_counter() - t0:.1f} s")
            cases.append(
                _sampling_case(
                    f"SQLite, {_sizes_label(size)} sessions",
                    LogoutMiddleware(bare_app, backend),
                    ids,
                    functools.partial(fill_sqlite, path),
                )
            )
        _with_redis(config, report, cases, backends)
    finally:
        for backend in backends:
            backend.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _with_redis(config: Config, report: Report, cases: list[Case], backends: list[Any]) -> None:
    with optional_redis(config.strict_tools, report.notes, "growth") as url:
        if url is not None:
            from logout_middleware.backends import RedisBackend

            for db, size in enumerate(config.growth_sizes, start=1):
                backend = RedisBackend(url.rsplit("/", 1)[0] + f"/{db}")
                backends.append(backend)
                ids = new_ids(size)
                t0 = time.perf_counter()
                fill_redis(backend.client, ids)
                log(f"growth: {size} Redis keys in {time.perf_counter() - t0:.1f} s")
                cases.append(
                    _sampling_case(
                        f"Redis, {_sizes_label(size)} sessions",
                        LogoutMiddleware(bare_app, backend),
                        ids,
                        functools.partial(fill_redis, backend.client),
                    )
                )
        _measure(config, report, cases)


def _measure(config: Config, report: Report, cases: list[Case]) -> None:
    log("growth: interleaved rounds ...")
    results = interleave(cases, rounds=config.rounds, loop_time=config.loop_time, progress=log)
    raw = {}
    for store in ("SQLite", "Redis"):
        mine = [c for c in cases if c.name.startswith(store + ",")]
        if not mine:
            continue
        smallest = results[mine[0].name].median
        for case in mine:
            m = results[case.name]
            report.rows.append(
                Row(
                    "growth",
                    case.name,
                    m.median,
                    1 / m.median,
                    m.median / smallest,
                    "smallest",
                    f"noise +-{m.spread():.0%}",
                )
            )
            raw[case.name] = {"median_s": m.median, "number": m.number, "samples": m.samples}
        largest = results[mine[-1].name].median / smallest
        report.targets.append(
            Target(
                f"{store} logout, {mine[-1].name.split(', ')[1]} / {mine[0].name.split(', ')[1]}",
                largest,
                f"<= {FLAT:.2f} (flat)",
                largest <= FLAT,
            )
        )
    report.raw["growth"] = raw
