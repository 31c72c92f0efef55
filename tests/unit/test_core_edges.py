"""Edges of the decision core (logout_middleware.core), driven through the WSGI adapter
and directly: the cap on session cookies per request, refusals and what they log,
an exception raised inside the error path, what is deleted and revoked."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import pytest
from wsgi_util import LOGOUT, FailingBackend, RecordingBackend, client, set_cookies

from logout_middleware import LogoutMiddleware, MemoryBackend, MemoryRevocationStore
from logout_middleware.core import MAX_SESSIONS, EndSessions, ReadBody, Respond
from logout_middleware.events import LogoutEvent, fingerprint
from logout_middleware.request import Request
from logout_middleware.sessionref import session_tokens


def core(**options: Any) -> Any:
    # An on_logout callback: every answer carries its report (see Reporter.wants).
    backend = options.pop("backend", MemoryBackend())
    options.setdefault("on_logout", [lambda event: None])
    return LogoutMiddleware(lambda e, s: [], backend, **options).core


def post(cookie: str | None = None, **headers: str) -> Request:
    h = dict(headers)
    if cookie is not None:
        h["cookie"] = cookie
    return Request("POST", LOGOUT, headers=h)


def test_at_most_max_sessions_session_cookies_are_ended_per_request() -> None:
    assert MAX_SESSIONS == 8
    backend = RecordingBackend()
    app, _ = client(backend)
    cookie = "; ".join(f"session=s{i:02d}" for i in range(MAX_SESSIONS + 4))
    app.post(LOGOUT, headers={"Cookie": cookie})
    assert backend.deleted == [f"s{i:02d}" for i in range(MAX_SESSIONS)]


def test_the_cap_counts_distinct_values_and_skips_empty_ones() -> None:
    cookie = "session=; " + "; ".join(f"session=a; session=s{i}" for i in range(MAX_SESSIONS))
    plan = core().decide(post(cookie))
    assert isinstance(plan, EndSessions)
    assert plan.session_ids == ("a", *(f"s{i}" for i in range(MAX_SESSIONS - 1)))


def test_a_cookie_header_without_the_name_ends_no_session() -> None:
    plan = core().decide(post("other=1; sess=2"))
    assert isinstance(plan, EndSessions)
    assert plan.session_ids == () and plan.subject is None
    assert core().done(plan).report.outcome == "anonymous"  # type: ignore[union-attr]


def test_the_cookie_is_found_by_the_one_reader_not_by_substring() -> None:
    plan = core().decide(post("xsession=1; session_x=2"))
    assert isinstance(plan, EndSessions) and plan.session_ids == ()


def test_other_methods_get_405_without_reading_the_cookie() -> None:
    decision = core().decide(Request("GET", LOGOUT, headers={"cookie": "session=a"}))
    assert isinstance(decision, Respond)
    assert decision.response.status == 405 and decision.report is None


def test_a_refusal_reports_forbidden_with_the_reason_and_the_cookies_fingerprint() -> None:
    decision = core().decide(post("session=abc", **{"sec-fetch-site": "cross-site"}))
    assert isinstance(decision, Respond)
    assert decision.response.status == 403
    report = decision.report
    assert report is not None
    assert (report.outcome, report.status, report.reason) == (
        "forbidden", 403, "Sec-Fetch-Site is 'cross-site'")
    assert report.session == fingerprint("abc")


def test_a_refusal_without_a_cookie_reports_no_session() -> None:
    decision = core().decide(post(None, origin="null"))
    assert isinstance(decision, Respond) and decision.report is not None
    assert decision.report.session is None
    assert decision.report.reason == "Origin is null or malformed"


def test_a_token_refusal_answers_the_token_message() -> None:
    c = core(csrf_cookie_name="XSRF-TOKEN", csrf_header_name="X-XSRF-TOKEN")
    decision = c.decide(post("session=a"))
    assert isinstance(decision, Respond)
    assert decision.response is c.answers.bad_token
    assert decision.report is not None and decision.report.reason == "double-submit token missing"


def test_the_origin_guard_decides_before_the_token() -> None:
    c = core(csrf_cookie_name="XSRF-TOKEN", csrf_header_name="X-XSRF-TOKEN")
    decision = c.decide(post("session=a", origin="null"))
    assert isinstance(decision, Respond) and decision.response is c.answers.forbidden


def test_without_cross_site_protection_a_foreign_origin_logs_out() -> None:
    decision = core(cross_site_protection=False).decide(post("session=a", origin="null"))
    assert isinstance(decision, EndSessions)


def test_refusals_are_logged_with_their_origin_and_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = RecordingBackend()
    app, _ = client(backend)
    with caplog.at_level(logging.INFO, logger="logout_middleware"):
        app.post(LOGOUT, headers={"Cookie": "session=abc", "Origin": "http://evil.example",
                                  "Host": "app.example"}, status=403)
    assert backend.deleted == []
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    message = record.getMessage()
    assert message.startswith("logout refused (Origin is not this site's): ")
    assert f"cookie={fingerprint('abc')}" in message
    assert "origin='http://evil.example'" in message
    assert "remote=" in message


def test_a_refusal_without_origin_logs_a_dash(caplog: pytest.LogCaptureFixture) -> None:
    app, _ = client()
    with caplog.at_level(logging.INFO, logger="logout_middleware"):
        app.post(LOGOUT, headers={"Sec-Fetch-Site": "cross-site"}, status=403,
                 extra_environ={"REMOTE_ADDR": "203.0.113.9"})
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert record.getMessage() == (
        "logout refused (Sec-Fetch-Site is 'cross-site'): cookie=- remote=203.0.113.9 "
        "origin='-'"
    )


def test_a_long_origin_is_logged_cut_and_quoted(caplog: pytest.LogCaptureFixture) -> None:
    app, _ = client()
    origin = "http://" + "e" * 300 + "\nX"
    with caplog.at_level(logging.INFO, logger="logout_middleware"):
        app.post(LOGOUT, headers={"Origin": origin}, status=403)
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert f"origin={origin[:200]!r}" in record.getMessage()
    assert "\n" not in record.getMessage()


def test_a_refusal_emits_a_forbidden_event() -> None:
    events: list[LogoutEvent] = []
    app, _ = client(on_logout=[events.append])
    app.post(LOGOUT, headers={"Origin": "null", "Cookie": "session=s", "User-Agent": "UA/1"},
             status=403)
    [event] = events
    assert (event.outcome, event.status, event.session, event.user_agent) == (
        "forbidden", 403, fingerprint("s"), "UA/1")


class Unformattable(Exception):
    """An exception whose traceback cannot be formatted."""


def test_an_exception_raised_while_formatting_the_error_still_answers_500(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> list[str]:
        raise RuntimeError("cannot format")

    monkeypatch.setattr(traceback, "format_exception", broken)
    app, _ = client(FailingBackend("store down"))
    with caplog.at_level(logging.ERROR, logger="logout_middleware"):
        response = app.post(LOGOUT, headers={"Cookie": "session=abc"}, status=500)
    assert response.json["message"].startswith("Internal server error. Error reference: ")
    assert set_cookies(response)[0].startswith("session=;")
    [record] = caplog.records
    assert "ConnectionError (its traceback could not be formatted)" in record.getMessage()


def test_failed_masks_secrets_in_the_traceback_and_exposed_body() -> None:
    c = core(expose_errors=True)
    plan = c.decide(post("session=SECRETSESSIONVALUE"))
    assert isinstance(plan, EndSessions)
    try:
        raise RuntimeError("no row for SECRETSESSIONVALUE")
    except RuntimeError as exc:
        decision = c.failed(plan, exc)
    body = decision.response.body.decode()
    assert "SECRET" not in body and "Internal server error. RuntimeError: no row for <" in body
    assert decision.report is not None
    assert "SECRET" not in decision.report.details
    assert decision.report.details.startswith("Traceback")
    assert decision.report.details == decision.report.details.rstrip()
    assert (decision.report.outcome, decision.report.status) == ("error", 500)
    assert decision.report.session == fingerprint("SECRETSESSIONVALUE")
    assert decision.report.reference is not None and len(decision.report.reference) == 12
    assert ("Set-Cookie", c.expiry.headers(False)[0][1]) in decision.response.headers


def test_without_expose_errors_the_body_holds_only_the_reference() -> None:
    c = core()
    plan = c.decide(post("session=abc"))
    assert isinstance(plan, EndSessions)
    decision = c.failed(plan, RuntimeError("detail"))
    assert decision.report is not None
    assert decision.response.body.decode() == (
        '{"message": "Internal server error. Error reference: '
        f'{decision.report.reference}"}}'
    )


def test_an_exception_whose_str_raises_is_described_by_its_type() -> None:
    class Mute(Exception):
        def __str__(self) -> str:
            raise ValueError

    c = core(expose_errors=True)
    plan = c.decide(post("session=abc"))
    assert isinstance(plan, EndSessions)
    body = c.failed(plan, Mute()).response.body.decode()
    assert body == '{"message": "Internal server error. Mute"}'


def test_an_id_extractor_that_raises_answers_500_and_expires_the_cookie() -> None:
    def extract(value: str) -> str:
        raise KeyError(value)

    c = core(session_id_from_cookie=extract, expose_errors=True)
    decision = c.decide(post("session=abc"))
    assert isinstance(decision, Respond)
    assert decision.response.status == 500
    assert decision.response.body.startswith(b'{"message": "Internal server error. KeyError')
    assert decision.report is not None and decision.report.outcome == "error"
    assert ("Set-Cookie", c.expiry.headers(False)[0][1]) in decision.response.headers


def test_ids_from_the_extractor_are_distinct_and_non_empty() -> None:
    c = core(session_id_from_cookie=lambda v: {"a": "x", "b": "x", "c": "", "d": None}[v])
    plan = c.decide(post("session=a; session=b; session=c; session=d"))
    assert isinstance(plan, EndSessions)
    assert plan.session_ids == ("x",)
    assert plan.subject == "x"
    assert plan.secrets == ("a", "b", "c", "d", "x")


def test_the_cookie_value_is_decoded_as_utf8_before_it_becomes_an_id() -> None:
    plan = core().decide(post("session=caf\xc3\xa9"))
    assert isinstance(plan, EndSessions)
    assert "caf\u00e9" in plan.session_ids and "caf\xc3\xa9" not in plan.session_ids


def test_with_revocation_the_tokens_of_every_value_are_revoked() -> None:
    c = core(backend=None, revocation=MemoryRevocationStore())
    plan = c.decide(post("session=one; session=two"))
    assert isinstance(plan, EndSessions)
    assert plan.session_ids == ()  # no backend: nothing to delete
    assert plan.tokens == (*session_tokens("one"), *session_tokens("two"))
    assert plan.subject == "one"  # named by the cookie: there is no id
    assert c.done(plan).report.outcome == "ok"  # type: ignore[union-attr]


def test_with_revocation_and_an_extractor_that_finds_nothing_the_cookie_names_it() -> None:
    c = core(backend=None, revocation=MemoryRevocationStore(),
             session_id_from_cookie=lambda v: None)
    plan = c.decide(post("session=forged"))
    assert isinstance(plan, EndSessions)
    assert plan.subject == "forged" and plan.tokens


def test_with_a_backend_and_revocation_both_happen() -> None:
    c = core(revocation=MemoryRevocationStore())
    plan = c.decide(post("session=abc"))
    assert isinstance(plan, EndSessions)
    assert plan.session_ids == ("abc",) and plan.tokens == session_tokens("abc")


def test_done_answers_the_success_with_the_expiry() -> None:
    c = core()
    plan = c.decide(Request("POST", LOGOUT, scheme="https", headers={"cookie": "session=a"}))
    assert isinstance(plan, EndSessions)
    assert plan.end_headers == c.expiry.headers(True)
    decision = c.done(plan)
    assert decision.response.status == 200
    assert decision.response.headers[-len(plan.end_headers):] == plan.end_headers
    assert decision.report is not None
    assert (decision.report.outcome, decision.report.status, decision.report.session) == (
        "ok", 200, fingerprint("a"))


def test_in_redirect_mode_the_core_asks_for_the_form_body_then_redirects() -> None:
    c = core(redirect_to="/bye")
    request = Request("POST", LOGOUT, headers={
        "host": "app", "content-type": "application/x-www-form-urlencoded",
        "content-length": "10"})
    decision = c.decide(request)
    assert isinstance(decision, ReadBody) and decision.limit == 10
    plan = c.decide(request.with_body(b"next=%2Fhi"))
    assert isinstance(plan, EndSessions)
    assert plan.success.status == 303
    assert ("Location", "http://app/hi") in plan.success.headers


def test_in_redirect_mode_an_empty_body_falls_back_to_redirect_to() -> None:
    c = core(redirect_to="/bye")
    plan = c.decide(Request("POST", LOGOUT, headers={"host": "app"}, body=b""))
    assert isinstance(plan, EndSessions)
    assert ("Location", "http://app/bye") in plan.success.headers


def test_in_redirect_mode_without_a_usable_host_the_answer_is_json() -> None:
    c = core(redirect_to="/bye")
    plan = c.decide(Request("POST", LOGOUT, headers={"host": "bad host"}, server_name="x y"))
    assert isinstance(plan, EndSessions) and plan.success.status == 200


def test_a_successful_logout_has_a_report_only_when_something_reads_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # No callback and the INFO line off: no report is built. Either one on: it is.
    quiet = core(on_logout=())
    plan = quiet.decide(post("session=a"))
    with caplog.at_level(logging.WARNING, "logout_middleware"):
        assert quiet.done(plan).report is None
    with caplog.at_level(logging.INFO, "logout_middleware"):
        assert quiet.done(plan).report.outcome == "ok"  # type: ignore[union-attr]
    with caplog.at_level(logging.WARNING, "logout_middleware"):
        assert core().done(plan).report.outcome == "ok"  # type: ignore[union-attr]
        # A failure is always reported (its line is an error).
        assert quiet.failed(plan, RuntimeError("x")).report is not None
