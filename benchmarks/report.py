"""Rows, targets, the printed table and the JSON file."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Report", "Row", "Target", "machine"]


@dataclass
class Row:
    """One line of the table."""

    section: str
    name: str
    #: Median seconds per request (in-process rows), or None.
    per_request: float | None = None
    #: Requests per second (1 / per_request in process; wrk's figure over HTTP).
    rate: float | None = None
    #: The row's ratio and what it is relative to, e.g. (1.04, "null middleware").
    ratio: float | None = None
    ratio_to: str = ""
    #: Free-form detail: p99 latency, noise, bytes grown, ...
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Target:
    """One target of issue 6, checked against figures from this run."""

    name: str
    value: float | None
    limit: str
    passed: bool | None  # None: not measured in this run
    detail: str = ""

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "MISS", None: "SKIP"}[self.passed]


def _fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} us"
    return f"{seconds * 1e3:.2f} ms"


def _fmt_rate(rate: float | None) -> str:
    if rate is None:
        return "-"
    if rate >= 1e6:
        return f"{rate / 1e6:.2f} M/s"
    if rate >= 1e3:
        return f"{rate / 1e3:.1f} k/s"
    return f"{rate:.0f} /s"


def _provenance(package_dir: str) -> dict[str, Any]:
    """Which code was measured: the commit, and whether the package had local edits."""
    root = os.path.dirname(package_dir)
    info: dict[str, Any] = {"package": package_dir, "commit": os.environ.get("BENCH_COMMIT")}
    try:
        info["commit"] = subprocess.run(
            ["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        info["dirty"] = bool(
            subprocess.run(
                ["git", "-C", root, "status", "--porcelain", "--", "logout_middleware"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError):
        info["dirty"] = None  # not a git checkout (e.g. a git archive of BENCH_COMMIT)
    return info


def machine() -> dict[str, Any]:
    """nproc, the CPU model, the Python version: what the README quotes."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import logout_middleware

    return {
        "code": _provenance(os.path.dirname(os.path.abspath(logout_middleware.__file__))),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
    }


@dataclass
class Report:
    quick: bool
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def table(self, markdown: bool = False) -> str:
        head = ["section", "case", "per request", "rate", "ratio", "note"]
        lines: list[list[str]] = []
        for r in self.rows:
            ratio = "-" if r.ratio is None else f"{r.ratio:.2f}x {r.ratio_to}".rstrip()
            lines.append(
                [r.section, r.name, _fmt_time(r.per_request), _fmt_rate(r.rate), ratio, r.note]
            )
        if not lines:
            return "(no rows)"
        if markdown:
            out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            out += ["| " + " | ".join(c.replace("|", "/") for c in line) + " |" for line in lines]
            return "\n".join(out)
        widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(head)]
        fmt = "  ".join(f"{{:{'<' if i < 2 else '>'}{w}}}" for i, w in enumerate(widths[:-1]))
        out = [fmt.format(*head[:-1]) + "  " + head[-1]]
        out.append("-" * (sum(widths[:-1]) + 2 * (len(widths) - 1) + len(head[-1])))
        section = None
        for line in lines:
            if section is not None and line[0] != section:
                out.append("")
            section = line[0]
            out.append(fmt.format(*line[:-1]) + "  " + line[-1])
        return "\n".join(out)

    def target_lines(self, markdown: bool = False) -> str:
        out = []
        for t in self.targets:
            value = "-" if t.value is None else f"{t.value:.3g}"
            if markdown:
                out.append(f"| {t.verdict} | {t.name} | {value} | {t.limit} | {t.detail} |")
            else:
                out.append(f"{t.verdict:4}  {t.name}: {value} (target {t.limit}) {t.detail}")
        if markdown:
            head = "| verdict | target | measured | limit | detail |\n|---|---|---|---|---|"
            out = [head, *out]
        return "\n".join(out)

    def to_json(self) -> dict[str, Any]:
        return {
            "quick": self.quick,
            "machine": machine(),
            "rows": [asdict(r) for r in self.rows],
            "targets": [{**asdict(t), "verdict": t.verdict} for t in self.targets],
            "notes": self.notes,
            "raw": self.raw,
        }

    def write_json(self, path: str) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_json(), f, indent=2, sort_keys=False)
            f.write("\n")
