"""Over HTTP: gunicorn with and without the middleware, loaded by ``wrk``.

All servers (one gthread worker with 4 threads each, on 127.0.0.1) are started
first and stay up, then ``wrk`` runs against them in interleaved rounds (bare,
wrapped, bare, wrapped, ...), each run bounded (``-d``), with 2 threads and 32
keep-alive connections. A Lua ``done()`` hook prints requests, errors and latency
percentiles as JSON. Logout runs POST the logout path with a session cookie that
changes on every request (ids that are not stored: deleting an absent key from a
dict costs the same as deleting a present one), against the middleware on the
memory backend and against the hand-written floor.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
from typing import Any

from .apps import LOGOUT_PATH, PAGE_PATH
from .config import Config, log
from .report import Report, Row, Target
from .servers import gunicorn, pin

__all__ = ["run"]

_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "socket_errors": %d, "non_2xx_3xx": %d, '
    .. '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout,
    e.status, latency:percentile(50), latency:percentile(99)))
end
"""

_PAGE = (
    r"""
wrk.method = "GET"
wrk.path = "@PATH@"
wrk.headers["Cookie"] = "session=wrk-page-cookie-0000000000000000000000000; theme=dark"
"""
    + _DONE
)

_LOGOUT = (
    r"""
local counter = 0
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
request = function()
  counter = counter + 1
  return wrk.format("POST", "@PATH@", {
    ["Cookie"] = string.format("session=wrk%d-%040d", tid or 0, counter),
    ["Content-Length"] = "0",
  }, "")
end
"""
    + _DONE
)

# (row name, gunicorn app, script, path): in the order of each round.
_RUNS = [
    ("pass-through, bare app", "bare", _PAGE, PAGE_PATH),
    ("pass-through, LogoutMiddleware", "wrapped", _PAGE, PAGE_PATH),
    ("logout, hand-written floor", "floor", _LOGOUT, LOGOUT_PATH),
    ("logout, LogoutMiddleware (memory)", "wrapped", _LOGOUT, LOGOUT_PATH),
]


def _wrk(config: Config, url: str, script: str, seconds: int) -> dict[str, Any]:
    cmd = [
        *pin(1),
        "wrk",
        f"-t{config.wrk_threads}",
        f"-c{config.wrk_connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        script,
        url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=True)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1]
    result: dict[str, Any] = json.loads(line)
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def run(config: Config, report: Report) -> None:
    if shutil.which("wrk") is None:
        if config.strict_tools:
            raise FileNotFoundError("wrk is not installed (Debian: apt-get install wrk)")
        report.notes.append("HTTP section skipped: wrk is not installed (apt-get install wrk)")
        return
    workdir = tempfile.mkdtemp(prefix="bench-http-")
    try:
        scripts: dict[str, str] = {}
        for name, _app, template, path in _RUNS:
            scripts[name] = os.path.join(workdir, f"{len(scripts)}.lua")
            with open(scripts[name], "w", encoding="utf-8") as f:
                f.write(template.replace("@PATH@", path))
        with contextlib.ExitStack() as stack:
            urls = {}
            for app in dict.fromkeys(a for _, a, _, _ in _RUNS):
                server = stack.enter_context(gunicorn(f"benchmarks.gunicorn_apps:{app}"))
                urls[app] = server.url
            log(f"http: {len(urls)} gunicorn servers up")
            if not config.quick:  # one untimed second each: imports, caches, pools
                for name, app, _, path in _RUNS:
                    _wrk(config, urls[app] + path, scripts[name], 1)
            samples: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in _RUNS}
            for r in range(config.wrk_rounds):
                order = _RUNS if r % 2 == 0 else list(reversed(_RUNS))
                for name, app, _, path in order:
                    samples[name].append(
                        _wrk(config, urls[app] + path, scripts[name], config.wrk_seconds)
                    )
                log(f"http: round {r + 1}/{config.wrk_rounds}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _rows(config, report, samples)


def _rows(config: Config, report: Report, samples: dict[str, list[dict[str, Any]]]) -> None:
    medians = {}
    for name, runs in samples.items():
        rps = statistics.median(s["rps"] for s in runs)
        p99 = statistics.median(s["p99_us"] for s in runs)
        p50 = statistics.median(s["p50_us"] for s in runs)
        errors = sum(s["socket_errors"] + s["non_2xx_3xx"] for s in runs)
        medians[name] = rps
        report.rows.append(
            Row(
                "http (gunicorn + wrk)",
                name,
                None,
                rps,
                note=f"p50 {p50 / 1000:.2f} ms, p99 {p99 / 1000:.2f} ms"
                + (f", {errors} errors" if errors else ""),
                extra={"runs": runs},
            )
        )
    pairs = [
        ("pass-through, LogoutMiddleware", "pass-through, bare app", "bare"),
        ("logout, LogoutMiddleware (memory)", "logout, hand-written floor", "floor"),
    ]
    # Ratios are paired round by round (the two servers ran back to back in each
    # round), then the median is taken: the machine's drift over the run cancels.
    paired: dict[str, list[float]] = {}
    for ours, base, _ in pairs:
        paired[ours] = sorted(
            o["rps"] / b["rps"] for o, b in zip(samples[ours], samples[base], strict=True)
        )
    for row in report.rows:
        for ours, _, label in pairs:
            if row.section.startswith("http") and row.name == ours:
                row.ratio, row.ratio_to = statistics.median(paired[ours]), f"{label} req/s"
                row.note += f"; round ratios {paired[ours][0]:.2f} to {paired[ours][-1]:.2f}"
    ratio = statistics.median(paired[pairs[0][0]])
    report.targets.append(
        Target(
            "pass-through req/s under gunicorn, wrapped / bare",
            ratio,
            ">= 0.99",
            ratio >= 0.99,
            f"({config.wrk_rounds} x {config.wrk_seconds} s runs per server, median of "
            "the round-by-round ratios)",
        )
    )
    report.raw["http"] = {
        "wrk": f"-t{config.wrk_threads} -c{config.wrk_connections} -d{config.wrk_seconds}s",
        "samples": samples,
    }
