"""``python -m benchmarks [--quick] [--only SECTION,...] [--strict]``.

The full run (``make bench``) takes a few minutes; ``--quick`` (``make
bench-quick``, run by CI) takes well under a minute, uses small counts and always
exits 0: it checks that the benchmark runs, not how fast the machine is. A section
whose tool is missing (``wrk``, ``redis-server``) is skipped with a note, except
under ``CI=true``, where that is an error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

from . import asgi, everywhere, growth, http, logout, memory, oidc, passthrough
from .config import Config, log
from .harness import Unavailable
from .report import Report, machine

SECTIONS = {
    "passthrough": passthrough.run,
    "logout": logout.run,
    "growth": growth.run,
    "everywhere": everywhere.run,
    "oidc": oidc.run,
    "asgi": asgi.run,
    "http": http.run,
    "memory": memory.run,
}

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "latest.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small counts; a smoke run")
    parser.add_argument(
        "--only", default="", help=f"comma-separated sections: {', '.join(SECTIONS)}"
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a target is missed (full run)"
    )
    parser.add_argument("--json", default=RESULTS, help="where to write the JSON results")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()] or list(SECTIONS)
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {sorted(unknown)}; choose from {list(SECTIONS)}")

    config = Config.make(args.quick)
    report = Report(quick=args.quick)
    m = machine()
    log(
        f"benchmarks ({'quick' if args.quick else 'full'}): {m['nproc']} CPUs, {m['cpu']}, "
        f"Python {m['python']}; code {m['code']}"
    )
    report.raw["load_average_start"] = os.getloadavg()
    started = time.monotonic()
    failed = []
    for name in only:
        t0 = time.monotonic()
        try:
            SECTIONS[name](config, report)
        except Exception as exc:
            if config.strict_tools and isinstance(exc, (FileNotFoundError, Unavailable)):
                raise
            failed.append(name)
            report.notes.append(f"section {name} failed: {type(exc).__name__}: {exc}")
            traceback.print_exc()
        log(f"{name}: {time.monotonic() - t0:.1f} s")
    report.raw["seconds"] = time.monotonic() - started

    print(report.table())
    print()
    print("Targets (ratios from this run):")
    print(report.target_lines())
    for note in report.notes:
        print(f"note: {note}")
    report.raw["load_average_end"] = os.getloadavg()
    report.write_json(args.json)
    with open(os.path.splitext(args.json)[0] + ".md", "w", encoding="utf-8") as f:
        f.write(report.table(markdown=True) + "\n\n" + report.target_lines(markdown=True) + "\n")
    load = report.raw["load_average_start"][0], report.raw["load_average_end"][0]
    print(
        f"\n{len(report.rows)} rows in {report.raw['seconds']:.0f} s on {m['nproc']} CPUs "
        f"(load average {load[0]:.1f} at start, {load[1]:.1f} at end); JSON: "
        f"{os.path.relpath(args.json)}"
    )
    if failed:
        return 2  # a section crashed: that is a bug, in quick mode too
    if args.quick:
        return 0  # a smoke check: it ran; targets are not judged on CI machines
    if args.strict and any(t.passed is False for t in report.targets):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
