"""A fetched document, cached and fetched again at most once per interval."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from .errors import ProviderError

__all__ = ["Fetched"]

T = TypeVar("T")


class Fetched(Generic[T]):
    """A value fetched from the provider, kept until :meth:`refresh` replaces it.

    Thread-safe: one thread fetches while the others wait for its result (each fetch is
    bounded by the provider timeout). A fetch is attempted at most once per
    ``interval`` seconds, failed or not, so neither an outage nor forged key ids can
    make the application hammer the provider: in between, :meth:`refresh` keeps the
    value it has, or without one raises the last failure again at once.

    :param fetch: returns a new value or raises :class:`ProviderError`.
    :param interval: the least number of seconds between two attempts.
    """

    def __init__(self, fetch: Callable[[], T], interval: float) -> None:
        self._fetch = fetch
        self._interval = interval
        self._lock = threading.Lock()
        self._last_attempt = -float("inf")
        self._failure: ProviderError | None = None
        #: The value of the last successful fetch, or ``None`` before it.
        self.value: T | None = None
        #: When that value was fetched (``time.monotonic()``).
        self.fetched_at = -float("inf")
        #: How many fetches were attempted (successful or not).
        self.attempts = 0

    @property
    def failure(self) -> ProviderError | None:
        """Why the last attempt failed, or ``None`` when it succeeded (or none was made)."""
        return self._failure

    def get(self) -> T:
        """The cached value, fetched on first need."""
        value = self.value
        return value if value is not None else self.refresh(None)

    def refresh(self, seen: T | None) -> T:
        """A value newer than ``seen`` (the one the caller found wanting), fetched now
        unless another thread just did, or unless the last attempt was less than
        ``interval`` ago: then the value there is (possibly ``seen`` itself).

        :raises ProviderError: when there is no value at all and the fetch failed now
            or failed last time, less than ``interval`` ago.
        """
        with self._lock:
            if self.value is not None and self.value is not seen:
                return self.value  # another thread fetched while this one waited
            now = time.monotonic()
            if now - self._last_attempt >= self._interval:
                self._last_attempt = now
                self.attempts += 1
                try:
                    self.value = self._fetch()
                    self.fetched_at = time.monotonic()
                    self._failure = None
                except ProviderError as exc:
                    self._failure = exc
            if self.value is not None:
                return self.value
            wait = self._interval - (time.monotonic() - self._last_attempt)
            failure = self._failure or ProviderError("the provider was not asked yet")
            raise ProviderError(f"{failure} (next attempt in {max(wait, 0):.0f} s)")
