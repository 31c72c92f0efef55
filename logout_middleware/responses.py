"""The logout endpoint's answers, as prebuilt WSGI status lines, headers and bodies.

Bodies follow CrafterCMS Studio's contract: JSON ``{"message": ...}``. Every answer
carries ``Cache-Control: no-store`` so no cache keeps a response that changes session
state.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable as _Iterable

    from ._wsgi import StartResponse

__all__ = ["Response", "json_response"]

_REASONS = {
    200: "OK",
    303: "See Other",
    403: "Forbidden",
    405: "Method Not Allowed",
    500: "Internal Server Error",
}

Header = tuple[str, str]


class Response:
    """A complete answer: status line, header list and body, built once."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[Header], body: bytes) -> None:
        self.status = f"{status} {_REASONS[status]}"
        self.body = body
        self.headers = [*headers, ("Content-Length", str(len(body)))]

    def send(self, start_response: StartResponse, extra: Iterable[Header] = ()) -> _Iterable[bytes]:
        """Start the response (with ``extra`` headers appended) and return the body."""
        start_response(self.status, [*self.headers, *extra] if extra else self.headers[:])
        return [self.body]


def json_response(status: int, message: str, headers: Iterable[Header] = ()) -> Response:
    """Build a JSON ``{"message": message}`` answer with ``no-store`` caching."""
    body = json.dumps({"message": message}).encode("utf-8")
    return Response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Cache-Control", "no-store"),
            *headers,
        ],
        body,
    )
