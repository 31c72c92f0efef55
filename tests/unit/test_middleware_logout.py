"""The logout path's contract (Studio's endpoint): every row of the behaviour table."""

from __future__ import annotations

import json
import logging

import pytest
from wsgi_util import (
    LOGOUT,
    FailingBackend,
    RecordingBackend,
    client,
    cookie_attrs,
    login_app,
    set_cookies,
)

from logout_middleware import DEFAULT_LOGOUT_PATH, MemoryBackend


def test_default_path_is_studios_logout_endpoint() -> None:
    assert DEFAULT_LOGOUT_PATH == "/api/1/services/api/1/security/logout.json"


def test_post_with_session_deletes_record_once_and_answers_studios_ok() -> None:
    backend = RecordingBackend()
    sid = backend.create({"user": "ada"})
    other = backend.create({"user": "bob"})
    app, _ = client(backend)
    app.set_cookie("session", sid)
    response = app.post(LOGOUT)
    assert response.status_int == 200
    assert response.content_type == "application/json"
    assert json.loads(response.body) == {"message": "OK"}
    assert response.headers["Cache-Control"] == "no-store"
    assert backend.deleted == [sid]
    assert backend.get(sid) is None
    assert backend.get(other) == {"user": "bob"}


def test_logout_does_not_call_the_wrapped_app() -> None:
    called = []

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        called.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"app"]

    test_app, _ = client(MemoryBackend(), app=app)
    test_app.post(LOGOUT)
    assert called == []


def test_logout_expires_the_session_cookie() -> None:
    backend = MemoryBackend()
    app, _ = client(backend, app=login_app(backend))
    app.get("/login")
    assert "session" in app.cookies
    [header] = set_cookies(app.post(LOGOUT))
    first, attrs = cookie_attrs(header)
    assert first == "session="
    assert attrs["max-age"] == "0"
    assert attrs["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert attrs["path"] == "/"
    assert "httponly" in attrs
    assert attrs["samesite"] == "Lax"
    # The browser is left with no cookie.
    assert "session" not in app.cookies


@pytest.mark.parametrize("cookie", [None, ""], ids=["no-cookie", "empty-cookie"])
def test_logout_without_a_session_is_idempotent_ok_and_skips_backend(cookie: str | None) -> None:
    backend = RecordingBackend()
    app, _ = client(backend)
    headers = {"Cookie": f"session={cookie}"} if cookie is not None else {}
    response = app.post(LOGOUT, headers=headers)
    assert response.status_int == 200
    assert response.json == {"message": "OK"}
    assert backend.deleted == []
    assert set_cookies(response)  # the cookie is expired all the same


def test_logout_with_unknown_session_id_is_ok() -> None:
    backend = RecordingBackend()
    app, _ = client(backend)
    app.set_cookie("session", "never-issued")
    response = app.post(LOGOUT)
    assert response.json == {"message": "OK"}
    assert backend.deleted == ["never-issued"]


def test_logging_out_twice_answers_ok_both_times() -> None:
    backend = MemoryBackend()
    sid = backend.create({})
    app, _ = client(backend)
    for _ in range(2):
        response = app.post(LOGOUT, headers={"Cookie": f"session={sid}"})
        assert response.json == {"message": "OK"}


def test_other_cookies_in_the_request_are_not_deleted_as_sessions() -> None:
    backend = RecordingBackend()
    app, _ = client(backend)
    response = app.post(LOGOUT, headers={"Cookie": "theme=dark; sessionx=1; session=abc"})
    assert response.status_int == 200
    assert backend.deleted == ["abc"]


def test_backend_failure_answers_500_and_still_expires_cookie(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = FailingBackend("redis is down")
    app, _ = client(backend)
    with caplog.at_level(logging.ERROR, logger="logout_middleware"):
        response = app.post(LOGOUT, headers={"Cookie": "session=s3cr3t-id"}, status=500)
    message = response.json["message"]
    assert message.startswith("Internal server error. ")
    assert "redis is down" not in message
    assert response.headers["Cache-Control"] == "no-store"
    assert cookie_attrs(set_cookies(response)[0])[0] == "session="
    reference = message.rsplit(" ", 1)[-1]
    [record] = [r for r in caplog.records if r.name == "logout_middleware"]
    assert reference in record.getMessage()
    assert "Traceback" in record.getMessage() and "ConnectionError" in record.getMessage()
    assert "s3cr3t-id" not in record.getMessage()


def test_backend_failure_text_is_exposed_only_when_asked() -> None:
    app, _ = client(FailingBackend("redis is down"), expose_errors=True)
    response = app.post(LOGOUT, headers={"Cookie": "session=x"}, status=500)
    assert response.json["message"] == "Internal server error. ConnectionError: redis is down"


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"])
def test_other_methods_on_logout_path_get_405_and_delete_nothing(method: str) -> None:
    backend = RecordingBackend()
    sid = backend.create({})
    app, _ = client(backend)
    response = app.request(LOGOUT, method=method, headers={"Cookie": f"session={sid}"}, status=405)
    assert response.headers["Allow"] == "POST"
    assert response.content_type == "application/json"
    if method != "HEAD":
        assert "message" in response.json
    assert backend.deleted == []
    assert backend.get(sid) == {}
    assert not set_cookies(response)


def test_several_logout_paths_are_all_answered() -> None:
    backend = RecordingBackend()
    app, _ = client(backend, path=["/logout", "/api/logout"])
    app.post("/logout", headers={"Cookie": "session=a"})
    app.post("/api/logout", headers={"Cookie": "session=b"})
    assert app.post(LOGOUT).text.startswith("hello")  # no longer a logout path
    assert backend.deleted == ["a", "b"]


def test_duplicate_session_cookies_are_all_ended() -> None:
    backend = RecordingBackend()
    app, _ = client(backend)
    app.post(LOGOUT, headers={"Cookie": "session=a; session=b; session=a"})
    assert backend.deleted == ["a", "b"]


def test_session_id_is_derived_from_the_cookie_value_by_the_option() -> None:
    backend = RecordingBackend()
    app, _ = client(backend, session_id_from_cookie=lambda v: v.split(".")[0] or None)
    app.post(LOGOUT, headers={"Cookie": "session=abc.signature"})
    app.post(LOGOUT, headers={"Cookie": "session=.nothing"})
    assert backend.deleted == ["abc"]


def test_session_id_extractor_returning_none_means_no_session() -> None:
    backend = RecordingBackend()
    app, _ = client(backend, session_id_from_cookie=lambda v: None)
    response = app.post(LOGOUT, headers={"Cookie": "session=forged"})
    assert response.json == {"message": "OK"}
    assert backend.deleted == []
    assert set_cookies(response)


def test_several_paths_work_for_a_subclass_too() -> None:
    from logout_middleware import LogoutMiddleware

    class Custom(LogoutMiddleware):
        pass

    backend = RecordingBackend()
    from webtest import TestApp

    app = TestApp(Custom(lambda e, s: [], backend, path=["/a", "/b"]))
    app.post("/b", headers={"Cookie": "session=x"})
    assert backend.deleted == ["x"]
    assert isinstance(app.app, Custom)
