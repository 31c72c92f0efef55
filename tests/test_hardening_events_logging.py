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
