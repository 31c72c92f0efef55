"""The WSGI apps gunicorn serves for the HTTP section (``benchmarks.gunicorn_apps:NAME``).

* ``bare``: the bare app; ``wrapped``: the same behind ``LogoutMiddleware`` on the
  memory backend (one worker, so one store);
* ``floor``: the hand-written logout, the HTTP floor for logouts.
"""

from __future__ import annotations

from typing import Any

from logout_middleware import LogoutMiddleware, MemoryBackend

from .apps import bare_app, floor_logout

__all__ = ["bare", "floor", "wrapped"]

bare = bare_app
wrapped = LogoutMiddleware(bare_app, MemoryBackend())
_floor_sessions: dict[str, Any] = {}
floor = floor_logout(_floor_sessions)
