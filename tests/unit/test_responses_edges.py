"""The logout endpoint's answers (logout_middleware.responses), header by header:
the exact status lines, headers and bodies a client receives."""

from __future__ import annotations

import json

import pytest

from logout_middleware.responses import Answers, Response, json_response


def test_json_response_headers_and_body_exactly() -> None:
    r = json_response(200, "OK", [("X-A", "1")])
    body = b'{"message": "OK"}'
    assert r.body == body
    assert r.headers == (("Content-Type", "application/json"), ("Cache-Control", "no-store"),
                         ("X-A", "1"), ("Content-Length", str(len(body))))
    assert r.status_line == "200 OK"


def test_json_bodies_are_utf8() -> None:
    r = json_response(500, "caf\u00e9")
    assert json.loads(r.body.decode("utf-8")) == {"message": "caf\u00e9"}
    assert r.headers[-1] == ("Content-Length", str(len(r.body)))


@pytest.mark.parametrize(("status", "line"), [
    (200, "200 OK"), (303, "303 See Other"), (403, "403 Forbidden"),
    (405, "405 Method Not Allowed"), (500, "500 Internal Server Error")])
def test_status_lines(status: int, line: str) -> None:
    assert Response(status, [], b"").status_line == line


def test_with_headers_appends_and_keeps_the_original() -> None:
    r = Response(200, [("A", "1")], b"xy")
    s = r.with_headers([("B", "2")])
    assert s.headers == (("A", "1"), ("Content-Length", "2"), ("B", "2"))
    assert (s.status, s.body) == (200, b"xy")
    assert r.headers == (("A", "1"), ("Content-Length", "2"))
    assert r.with_headers([]) is r
    assert r.with_headers(iter([])) is r


def test_the_fixed_answers() -> None:
    answers = Answers(("POST", "DELETE"))
    assert answers.ok.status == 200 and answers.ok.body == b'{"message": "OK"}'
    assert answers.not_allowed.status == 405
    assert json.loads(answers.not_allowed.body) == {
        "message": "Method not allowed. Use POST, DELETE."}
    assert ("Allow", "POST, DELETE") in answers.not_allowed.headers
    assert answers.forbidden.status == 403
    assert json.loads(answers.forbidden.body) == {
        "message": "Forbidden. Cross-site logout request refused."}
    assert answers.bad_token.status == 403
    assert json.loads(answers.bad_token.body) == {
        "message": "Forbidden. Missing or invalid CSRF token."}
    for r in (answers.ok, answers.not_allowed, answers.forbidden, answers.bad_token):
        assert ("Cache-Control", "no-store") in r.headers
        assert ("Content-Type", "application/json") in r.headers


def test_the_redirect_answer_exactly() -> None:
    r = Answers(("POST",)).redirect("https://app/bye")
    assert r.status == 303 and r.body == b""
    assert r.headers == (("Content-Type", "text/plain; charset=utf-8"),
                         ("Cache-Control", "no-store"), ("Content-Length", "0"),
                         ("Location", "https://app/bye"))


def test_the_error_answer() -> None:
    r = Answers.error("Error reference: abc")
    assert r.status == 500
    assert json.loads(r.body) == {"message": "Internal server error. Error reference: abc"}
    assert ("Cache-Control", "no-store") in r.headers
