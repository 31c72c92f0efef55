"""on_logout events and log lines: fingerprints only, never a raw id or cookie value."""

from __future__ import annotations

import logging

import pytest
from wsgi_util import LOGOUT, FailingBackend, RecordingBackend, client

from logout_middleware import LogoutEvent, fingerprint

SID = "Raw-Session-Id-0123456789abcdef"
XSRF = "Raw-Xsrf-Token-fedcba9876543210"


def test_event_carries_fingerprint_remote_address_agent_time_and_outcome() -> None:
    events: list[LogoutEvent] = []
    app, _ = client(RecordingBackend(), on_logout=[events.append])
    app.post(LOGOUT, headers={"Cookie": f"session={SID}", "User-Agent": "ua/1"},
             extra_environ={"REMOTE_ADDR": "192.0.2.7"})
    [event] = events
    assert event.session == fingerprint(SID) and SID not in repr(event)
    assert event.remote_addr == "192.0.2.7"
    assert event.user_agent == "ua/1"
    assert event.outcome == "ok" and event.status == 200
    assert event.time > 0


@pytest.mark.parametrize(
    "options,headers,outcome,status",
    [
        ({}, {}, "anonymous", 200),
        ({"backend": FailingBackend()}, {"Cookie": "session=x"}, "error", 500),
        ({}, {"Cookie": "session=x", "Origin": "http://evil.example"}, "forbidden", 403),
    ],
)
def test_event_outcomes(options: dict[str, object], headers: dict[str, str], outcome: str,
                        status: int) -> None:
    events: list[LogoutEvent] = []
    app, _ = client(on_logout=[events.append], **options)  # type: ignore[arg-type]
    app.post(LOGOUT, headers=headers, status=status)
    [event] = events
    assert (event.outcome, event.status) == (outcome, status)
    if outcome == "error":
        assert event.error_reference


def test_callback_that_raises_is_logged_and_changes_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[LogoutEvent] = []

    def broken(event: LogoutEvent) -> None:
        raise RuntimeError("callback bug")

    backend = RecordingBackend()
    app, _ = client(backend, on_logout=[broken, seen.append])
    with caplog.at_level(logging.ERROR, logger="logout_middleware"):
        response = app.post(LOGOUT, headers={"Cookie": f"session={SID}"})
    assert response.json == {"message": "OK"}
    assert backend.deleted == [SID]
    assert len(seen) == 1  # later callbacks still run
    assert any("callback" in r.getMessage() and r.exc_info for r in caplog.records)


def test_every_logout_is_logged_at_info_with_the_fingerprint(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, _ = client(RecordingBackend())
    with caplog.at_level(logging.INFO, logger="logout_middleware"):
        app.post(LOGOUT, headers={"Cookie": f"session={SID}"})
    [record] = caplog.records
    assert record.levelno == logging.INFO
    assert fingerprint(SID) in record.getMessage()


def test_no_log_line_ever_holds_a_raw_session_id_or_cookie_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Drive every outcome, with a backend whose error text echoes the id."""
    csrf = {"csrf_cookie_name": "XSRF-TOKEN", "csrf_header_name": "X-XSRF-TOKEN"}
    cookie = f"session={SID}; XSRF-TOKEN={XSRF}"

    def broken(event: LogoutEvent) -> None:
        raise ValueError(f"callback saw {event!r}")

    class EchoingBackend(FailingBackend):
        def delete(self, session_id: str) -> None:
            raise ConnectionError(f"could not delete session:{session_id}")

    scenarios = [
        (client(RecordingBackend(), on_logout=[broken], **csrf),
         {"Cookie": cookie, "X-XSRF-TOKEN": XSRF}, 200),
        (client(RecordingBackend(), **csrf), {"Cookie": cookie, "X-XSRF-TOKEN": "wrong"}, 403),
        (client(RecordingBackend()), {"Cookie": cookie, "Origin": "http://evil.example"}, 403),
        (client(EchoingBackend(), on_logout=[broken]), {"Cookie": cookie}, 500),
        (client(EchoingBackend(), expose_errors=True), {"Cookie": cookie}, 500),
        (client(EchoingBackend(), session_id_from_cookie=lambda v: v[:20]),
         {"Cookie": cookie}, 500),
        (client(RecordingBackend(), redirect_to="/bye"), {"Cookie": cookie}, 303),
    ]
    with caplog.at_level(logging.DEBUG):
        for (app, _), headers, status in scenarios:
            app.post(LOGOUT, headers=headers, status=status)
            app.get(LOGOUT, headers=headers, status=405)
    assert len(caplog.records) >= len(scenarios)
    text = "\n".join(
        caplog.handler.format(r) for r in caplog.records  # includes tracebacks
    )
    for secret in (SID, SID[:20], XSRF):
        assert secret not in text
    assert fingerprint(SID) in text


class TruncatingBackend:
    """Raises the way SQLAlchemy reports a statement: long parameters shortened to
    their first and last characters, the rest elided."""

    def __init__(self, shown: int) -> None:
        self.shown = shown

    def delete(self, session_id: str) -> None:
        head, tail = session_id[: self.shown], session_id[-self.shown :]
        elided = len(session_id) - 2 * self.shown
        raise RuntimeError(
            f"(psycopg.OperationalError) server closed the connection\n"
            f"[SQL: DELETE FROM sessions WHERE sessions.session_id = %(id)s]\n"
            f"[parameters: {{'id': '{head}... ({elided} characters truncated) ...{tail}'}}]"
        )


def fragments(secret: str, size: int = 6) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


@pytest.mark.parametrize("shown", [6, 7, 20, 150])
@pytest.mark.parametrize("expose_errors", [False, True])
def test_no_fragment_of_a_long_session_id_reaches_the_log_or_the_body(
    caplog: pytest.LogCaptureFixture, shown: int, expose_errors: bool
) -> None:
    long_id = "".join(f"{i:03d}Zq" for i in range(100))  # 500 characters, no repeats of 6
    app, _ = client(TruncatingBackend(shown), expose_errors=expose_errors)
    with caplog.at_level(logging.DEBUG):
        response = app.post(LOGOUT, headers={"Cookie": f"session={long_id}"}, status=500)
    text = "\n".join(caplog.handler.format(r) for r in caplog.records)
    assert "characters truncated" in text  # the error was logged...
    body = response.body.decode()
    for piece in fragments(long_id):  # ...with no run of 6 characters of the id
        assert piece not in text, piece
        assert piece not in body, piece
    assert fingerprint(long_id) in text
    if expose_errors:
        assert "characters truncated" in body and fingerprint(long_id) in body


def test_an_exception_whose_text_cannot_be_made_still_answers_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise ValueError("no text")

    class Backend:
        def delete(self, session_id: str) -> None:
            raise Unprintable

    for expose in (False, True):
        app, _ = client(Backend(), expose_errors=expose)
        with caplog.at_level(logging.ERROR):
            response = app.post(LOGOUT, headers={"Cookie": f"session={SID}"}, status=500)
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Set-Cookie"].startswith("session=;")  # still expired
        assert response.json["message"].startswith("Internal server error.")
