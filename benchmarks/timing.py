"""Interleaved timing: every case runs once per round, rounds repeat, medians win.

Absolute times drift on a shared machine (other processes, frequency scaling), so
the cases that are compared run side by side: round 1 runs A, B, C, round 2 runs
C, B, A, and so on, and each case's figure is the median of its rounds. A case is
a timeit-like loop: ``run(n)`` does ``n`` requests, ``setup(n)`` prepares them
(untimed: fresh sessions, fresh ``environ`` dicts) and ``teardown()`` puts the
store back, also untimed. The garbage collector is off while a loop runs, as in
:mod:`timeit`.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = ["Case", "Measured", "interleave"]


@dataclass
class Case:
    """One thing to time: ``run(n)`` performs ``n`` requests."""

    name: str
    run: Callable[[int], object]
    setup: Callable[[int], object] | None = None
    teardown: Callable[[], object] | None = None
    #: Requests per loop; ``None``: calibrated so that one loop takes ``loop_time``.
    number: int | None = None
    #: Upper bound for the calibrated ``number`` (e.g. the sessions a store can hold).
    max_number: int | None = None
    #: An untimed sanity check run before timing (raises when the case is broken).
    check: Callable[[], object] | None = None


@dataclass
class Measured:
    """Seconds per request of one case, one value per round."""

    name: str
    number: int
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def spread(self) -> float:
        """Half the interquartile range relative to the median (a noise figure)."""
        if len(self.samples) < 4:
            return 0.0
        q = statistics.quantiles(self.samples, n=4)
        return (q[2] - q[0]) / 2 / self.median if self.median else 0.0


def _loop(case: Case, n: int) -> float:
    if case.setup is not None:
        case.setup(n)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        case.run(n)
        elapsed = time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()
    if case.teardown is not None:
        case.teardown()
    return elapsed


def _calibrate(case: Case, loop_time: float) -> int:
    if case.number is not None:
        return case.number
    limit = case.max_number or 10**9
    n = 1
    while True:
        n = min(n, limit)
        elapsed = _loop(case, n)
        if n >= limit or elapsed >= loop_time / 5:
            break
        n *= 10 if elapsed < loop_time / 50 else 2
    per_call = elapsed / n
    return max(1, min(limit, math.ceil(loop_time / per_call) if per_call > 0 else limit))


def interleave(
    cases: Sequence[Case],
    *,
    rounds: int,
    loop_time: float,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Measured]:
    """Time ``cases`` in ``rounds`` interleaved rounds; return per-request samples.

    Each round runs every case once, in alternating order (forwards, then
    backwards) so that slow drift does not favour the cases that come first.
    """
    numbers = {c.name: _calibrate(c, loop_time) for c in cases}
    for c in cases:  # one untimed warm-up loop each, at the calibrated size
        _loop(c, numbers[c.name])
    results = {c.name: Measured(c.name, numbers[c.name]) for c in cases}
    order = list(cases)
    for r in range(rounds):
        for c in order if r % 2 == 0 else reversed(order):
            n = numbers[c.name]
            results[c.name].samples.append(_loop(c, n) / n)
        if progress is not None:
            progress(f"round {r + 1}/{rounds}")
    return results


def paired_cost(results: dict[str, Measured], name: str, baseline: str) -> float:
    """Median over rounds of ``name - baseline``: the cost added on top of ``baseline``."""
    a, b = results[name].samples, results[baseline].samples
    return statistics.median(x - y for x, y in zip(a, b, strict=True))
