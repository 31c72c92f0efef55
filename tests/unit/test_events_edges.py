"""Events and log safety (logout_middleware.events): the fingerprint, the scrub of every
fragment of a secret, and what the reporter logs and emits."""

from __future__ import annotations

import hashlib
import logging

import pytest

from logout_middleware.events import (
    FRAGMENT,
    LogoutEvent,
    Report,
    Reporter,
    fingerprint,
    log_safe,
    scrub,
)
from logout_middleware.request import Request


def test_fingerprint_is_16_hex_digits_of_a_prefixed_sha256() -> None:
    expected = hashlib.sha256(b"logout-middleware:abc").hexdigest()[:16]
    assert fingerprint("abc") == expected


def test_fingerprint_of_a_lone_surrogate_does_not_raise() -> None:
    expected = hashlib.sha256(b"logout-middleware:" + "\ud800".encode("utf-8", "surrogatepass"))
    assert fingerprint("\ud800") == expected.hexdigest()[:16]


def mask(secret: str) -> str:
    return f"<{fingerprint(secret)}>"


def test_a_whole_secret_is_masked_wherever_it_appears() -> None:
    secret = "S3cretValue"
    assert scrub(f"a {secret} b {secret}", [secret]) == f"a {mask(secret)} b {mask(secret)}"


def test_every_run_of_six_characters_of_a_secret_is_masked() -> None:
    assert FRAGMENT == 6
    secret = "ABCDEFGHIJ"
    assert scrub("x ABCDEF y", [secret]) == f"x {mask(secret)} y"
    assert scrub("x EFGHIJ y", [secret]) == f"x {mask(secret)} y"
    assert scrub("x ABCDE y", [secret]) == "x ABCDE y"  # five: no fragment


def test_a_secret_of_exactly_six_characters_is_masked() -> None:
    assert scrub("<ABCDEF>", ["ABCDEF"]) == f"<{mask('ABCDEF')}>"


def test_a_fragment_at_the_very_end_of_the_text_is_masked() -> None:
    secret = "ABCDEFGHIJ"
    assert scrub("tail:DEFGHI", [secret]) == f"tail:{mask(secret)}"
    assert scrub("FGHIJ", [secret]) == "FGHIJ"


@pytest.mark.parametrize("secret", ["abcd", "abcde"])
def test_short_secrets_of_four_or_five_characters_are_masked_whole(secret: str) -> None:
    text = f"{secret}-{secret}!"
    assert scrub(text, [secret]) == f"{mask(secret)}-{mask(secret)}!"


def test_secrets_shorter_than_four_are_left_alone() -> None:
    assert scrub("abc abc", ["abc"]) == "abc abc"


def test_overlapping_occurrences_of_a_short_secret_are_masked_as_one_run() -> None:
    assert scrub("xaaaaay", ["aaaa"]) == f"x{mask('aaaa')}y"
    assert scrub("aaaa.aaaa", ["aaaa"]) == f"{mask('aaaa')}.{mask('aaaa')}"


def test_adjacent_runs_of_two_secrets_are_named_by_the_first() -> None:
    one, two = "ABCDEFGH", "12345678"
    assert scrub(f"[{one}{two}]", [one, two]) == f"[{mask(one)}]"


def test_a_text_without_secrets_is_returned_unchanged() -> None:
    text = "nothing to hide here"
    assert scrub(text, ["ABCDEFGH", "wxyz"]) is text
    assert scrub("", ["ABCDEFGH"]) == ""


def test_the_first_character_of_the_text_is_kept_when_it_is_not_secret() -> None:
    assert scrub("a1234567", ["12345678"]) == f"a{mask('12345678')}"
    assert scrub("ab12345", ["12345"]) == f"ab{mask('12345')}"
    assert scrub("zz", ["zzzz"]) == "zz"


def test_log_safe_quotes_and_cuts_at_200_characters() -> None:
    assert log_safe("a\nb") == "'a\\nb'"
    assert log_safe("x" * 250) == repr("x" * 200)


def request(**headers: str) -> Request:
    return Request("POST", "/logout", headers=headers, remote_addr="198.51.100.4")


def test_reporter_logs_each_outcome_at_its_level(caplog: pytest.LogCaptureFixture) -> None:
    reporter = Reporter(())
    with caplog.at_level(logging.DEBUG, logger="logout_middleware"):
        reporter.report(Report("ok", 200, "fp"), request())
        reporter.report(Report("anonymous", 200), Request("POST", "/"))
        reporter.report(Report("forbidden", 403, None, "why"), request(origin="http://o"))
        reporter.report(Report("error", 500, "fp", None, "ref1", "Traceback..."), request())
    messages = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert messages == [
        (logging.INFO, "logout ok: session=fp remote=198.51.100.4"),
        (logging.INFO, "logout anonymous: session=- remote=-"),
        (logging.WARNING, "logout refused (why): cookie=- remote=198.51.100.4 "
                          "origin='http://o'"),
        (logging.ERROR, "logout failed: error reference ref1, session=fp "
                        "remote=198.51.100.4\nTraceback..."),
    ]


def test_reporter_emits_the_event_to_every_callback() -> None:
    seen: list[LogoutEvent] = []
    reporter = Reporter((seen.append, seen.append))
    reporter.report(Report("error", 500, "fp", None, "ref"),
                    Request("POST", "/", headers={"user-agent": "UA"}, remote_addr="r"))
    assert len(seen) == 2
    event = seen[0]
    assert (event.session, event.remote_addr, event.user_agent, event.outcome, event.status,
            event.error_reference) == ("fp", "r", "UA", "error", 500, "ref")
    assert event.time > 0


def test_an_event_without_user_agent_or_remote_has_none() -> None:
    seen: list[LogoutEvent] = []
    Reporter((seen.append,)).report(Report("ok", 200), Request("POST", "/"))
    assert seen[0].user_agent is None and seen[0].remote_addr is None


def test_a_raising_callback_is_logged_and_the_next_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[LogoutEvent] = []

    def broken(event: LogoutEvent) -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="logout_middleware"):
        Reporter((broken, seen.append)).report(Report("ok", 200), request())
    assert len(seen) == 1
    [record] = caplog.records
    assert "raised; the answer is unchanged" in record.getMessage()
    assert record.exc_info is not None


def test_every_occurrence_of_a_short_secret_is_masked() -> None:
    m = mask("abcd")
    assert scrub("abcd abcd abcd abcd", ["abcd"]) == f"{m} {m} {m} {m}"


def test_the_fingerprint_is_made_only_when_a_log_line_or_a_callback_reads_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from logout_middleware import events

    made: list[str] = []
    real = events.fingerprint
    monkeypatch.setattr(events, "fingerprint", lambda v: made.append(v) or real(v))
    with caplog.at_level(logging.WARNING, logger="logout_middleware"):
        Reporter(()).report(Report("ok", 200, subject="raw-session-id"), request())
        assert made == []  # nothing reads it: no hashing on the hot path
    with caplog.at_level(logging.INFO, logger="logout_middleware"):
        Reporter(()).report(Report("ok", 200, subject="raw-session-id"), request())
    assert made == ["raw-session-id"]
    assert real("raw-session-id") in caplog.text and "raw-session-id" not in caplog.text
    seen: list[LogoutEvent] = []
    Reporter((seen.append,)).report(Report("ok", 200, subject="raw-session-id"), request())
    assert seen[0].session == real("raw-session-id")
    assert "raw-session-id" not in repr(Report("ok", 200, subject="raw-session-id"))
