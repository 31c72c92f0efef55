"""WSGI type aliases, shared by the modules of the package.

They come from :mod:`wsgiref.types` on Python 3.11+ and from ``_typeshed.wsgi``
before that; both exist only for type checkers, so nothing is imported at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import sys

    if sys.version_info >= (3, 11):
        from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment
    else:
        from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    __all__ = ["StartResponse", "WSGIApplication", "WSGIEnvironment"]
