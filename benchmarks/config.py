"""How much to measure: the full run (``make bench``) and the smoke run (``--quick``)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

__all__ = ["Config", "log"]


@dataclass(frozen=True)
class Config:
    quick: bool
    #: Interleaved rounds for the in-process sections.
    rounds: int
    #: Target duration of one timed loop of one case, in seconds.
    loop_time: float
    #: Stored-session counts for the growth section.
    growth_sizes: tuple[int, ...]
    #: Stored-session counts for the log out everywhere section, and how many of them
    #: belong to the one user whose sessions it ends.
    everywhere_sizes: tuple[int, ...]
    everywhere_sessions: int
    #: Pass-through requests between the two tracemalloc snapshots.
    memory_requests: int
    #: wrk: seconds per run, interleaved rounds, threads, connections.
    wrk_seconds: int
    wrk_rounds: int
    wrk_threads: int = 2
    wrk_connections: int = 32
    #: Under CI a missing wrk or redis-server is an error, not a skip.
    strict_tools: bool = False

    @classmethod
    def make(cls, quick: bool) -> Config:
        strict = os.environ.get("CI", "").lower() == "true"
        if quick:
            return cls(
                quick=True,
                rounds=5,
                loop_time=0.01,
                growth_sizes=(1_000, 10_000, 100_000),
                everywhere_sizes=(2_000, 20_000),
                everywhere_sessions=100,
                memory_requests=100_000,
                wrk_seconds=1,
                wrk_rounds=1,
                strict_tools=strict,
            )
        return cls(
            quick=False,
            rounds=21,
            loop_time=0.04,
            growth_sizes=(1_000, 100_000, 1_000_000),
            everywhere_sizes=(10_000, 100_000, 1_000_000),
            everywhere_sessions=1_000,
            memory_requests=1_000_000,
            wrk_seconds=2,
            wrk_rounds=10,
            strict_tools=strict,
        )


def log(message: str) -> None:
    """Progress on stderr, so that stdout holds only the table."""
    print(message, file=sys.stderr, flush=True)
