"""The logout endpoint's answers, prebuilt: integer status, headers and body.

Bodies follow CrafterCMS Studio's contract: JSON ``{"message": ...}``. Every answer
carries ``Cache-Control: no-store`` so no cache keeps a response that changes session
state. :class:`Answers` builds the fixed ones once, from the settings that shape them
(the allowed methods); a server adapter only sends them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable

__all__ = ["Answers", "Header", "Response", "json_response", "oauth_error"]

_REASONS = {
    200: "OK",
    303: "See Other",
    400: "Bad Request",
    403: "Forbidden",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

Header = tuple[str, str]


class Response:
    """A complete answer: status, headers (``Content-Length`` included) and body."""

    __slots__ = ("_asgi", "body", "headers", "status", "status_line")

    def __init__(self, status: int, headers: Iterable[Header], body: bytes) -> None:
        #: The HTTP status code.
        self.status = status
        #: The body, bytes.
        self.body = body
        #: The headers, ``Content-Length`` last.
        self.headers: tuple[Header, ...] = (*headers, ("Content-Length", str(len(body))))
        #: ``"200 OK"``: the WSGI status string.
        self.status_line = f"{status} {_REASONS[status]}"
        self._asgi: tuple[tuple[bytes, bytes], ...] | None = None

    def asgi_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers as ASGI sends them: lower-case names, both sides latin-1 bytes.

        Encoded once per answer (the prebuilt answers are encoded once in all); each call
        returns a new list, which whoever wraps ``send`` may extend."""
        encoded = self._asgi
        if encoded is None:
            encoded = self._asgi = tuple(
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in self.headers
            )
        return list(encoded)

    def start_message(self) -> dict[str, object]:
        """The ASGI ``http.response.start`` message of this answer (a new one each
        call, with a new header list, which whoever wraps ``send`` may change)."""
        return {"type": "http.response.start", "status": self.status,
                "headers": self.asgi_headers()}

    def with_headers(self, extra: Iterable[Header]) -> Response:
        """This answer with ``extra`` headers appended."""
        extra = tuple(extra)
        if not extra:
            return self
        response = Response.__new__(Response)
        response.status, response.body = self.status, self.body
        response.status_line = self.status_line
        response.headers = (*self.headers, *extra)
        response._asgi = None
        return response


def json_response(
    status: int, message: str | None, headers: Iterable[Header] = (), **fields: object
) -> Response:
    """Build a JSON ``{"message": message, **fields}`` answer with ``no-store`` caching
    (``message`` ``None``: the fields alone)."""
    document = fields if message is None else {"message": message, **fields}
    body = json.dumps(document).encode("utf-8")
    return Response(
        status,
        [("Content-Type", "application/json"), ("Cache-Control", "no-store"), *headers],
        body,
    )


def oauth_error(
    status: int, error: str, description: str, headers: Iterable[Header] = ()
) -> Response:
    """``{"error": error, "error_description": description}``, the OAuth error answer
    of the back-channel logout endpoint, with ``no-store``."""
    return json_response(status, None, headers, error=error, error_description=description)


class Answers:
    """The prebuilt answers of the logout path.

    :param methods: the methods that log out, for ``405``'s ``Allow`` header.
    """

    def __init__(self, methods: Iterable[str]) -> None:
        allow = ", ".join(methods)
        #: ``200`` ``{"message": "OK"}``: Studio's success.
        self.ok = json_response(200, "OK")
        #: ``405`` with ``Allow``.
        self.not_allowed = json_response(
            405, f"Method not allowed. Use {allow}.", [("Allow", allow)]
        )
        #: ``403``: a cross-site request.
        self.forbidden = json_response(403, "Forbidden. Cross-site logout request refused.")
        #: ``403``: a missing or wrong double-submit token.
        self.bad_token = json_response(403, "Forbidden. Missing or invalid CSRF token.")
        #: ``400``: a log out everywhere with an unreadable ``keep_current``.
        self.bad_keep_current = json_response(
            400, "Bad request. keep_current must be 1 or 0 (also true/false, yes/no, on/off)."
        )
        #: ``405`` on the back-channel logout path (``POST`` only), OAuth style.
        self.backchannel_not_allowed = oauth_error(
            405, "invalid_request", "Method not allowed. Use POST.", [("Allow", "POST")]
        )
        self._redirect = Response(
            303, [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")], b""
        )

    def redirect(self, location: str) -> Response:
        """``303 See Other`` to ``location`` (an absolute URL), empty body."""
        return self._redirect.with_headers([("Location", location)])

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def ended(count: int) -> Response:
        """``200`` ``{"message": "OK", "ended": count}``: a log out everywhere or a
        back-channel logout (the usual small counts built once)."""
        return json_response(200, "OK", ended=count)

    @staticmethod
    def provider_logout(url: str) -> Response:
        """``200`` ``{"message": "OK", "logoutUrl": url}``: the page goes on to the
        identity provider's end-session endpoint (RP-initiated logout)."""
        return json_response(200, "OK", logoutUrl=url)

    @staticmethod
    def error(message: str) -> Response:
        """``500`` ``{"message": "Internal server error. ..."}``."""
        return json_response(500, f"Internal server error. {message}")
