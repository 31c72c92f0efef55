"""Every request that is not a logout reaches the app untouched, at no cost."""

from __future__ import annotations

from typing import Any
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

from webtest import TestApp
from wsgi_util import LOGOUT, ClosingBody, RecordingBackend, client, set_cookies

from logout_middleware import LogoutMiddleware, MemoryBackend


def environ_for(path: str, method: str = "GET", **extra: Any) -> dict[str, Any]:
    environ: dict[str, Any] = {"PATH_INFO": path, "REQUEST_METHOD": method, **extra}
    setup_testing_defaults(environ)
    return environ


def test_pass_through_hands_over_the_same_environ_start_response_and_iterable() -> None:
    seen: dict[str, Any] = {}
    body = ClosingBody([b"x"])

    def app(environ: Any, start_response: Any) -> Any:
        seen["environ"], seen["start_response"] = environ, start_response
        return body

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        return lambda data: None

    middleware = LogoutMiddleware(app, MemoryBackend())
    environ = environ_for("/anything", HTTP_COOKIE="session=abc")
    result = middleware(environ, start_response)
    assert result is body
    assert seen["environ"] is environ
    assert seen["start_response"] is start_response
    assert environ["HTTP_COOKIE"] == "session=abc"


def test_pass_through_does_not_touch_the_backend_even_with_a_session_cookie() -> None:
    backend = RecordingBackend()
    app, _ = client(backend)
    response = app.post("/other", headers={"Cookie": "session=abc"})
    assert response.text == "hello session=abc"
    assert backend.deleted == []


def test_pass_through_keeps_every_set_cookie_of_the_app() -> None:
    app, _ = client()
    response = app.get("/page")
    assert set_cookies(response) == ["a=1; Path=/", "b=2; Path=/"]


def test_streaming_body_close_is_called_through_the_middleware() -> None:
    body = ClosingBody([b"one ", b"two"])

    def app(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    test_app = TestApp(validator(LogoutMiddleware(app, MemoryBackend())))
    assert test_app.get("/stream").text == "one two"
    assert body.closed


def test_file_wrapper_result_is_returned_as_is() -> None:
    class Wrapped(ClosingBody):
        pass

    def app(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return environ["wsgi.file_wrapper"](b"data")

    middleware = LogoutMiddleware(app, MemoryBackend())
    environ = environ_for("/file")
    environ["wsgi.file_wrapper"] = lambda data, blksize=8192: Wrapped([data])
    result = middleware(environ, lambda s, h, e=None: None)  # type: ignore[arg-type,return-value]
    assert isinstance(result, Wrapped)


def test_logout_path_is_matched_on_path_info_under_a_script_name_mount() -> None:
    backend = RecordingBackend()
    app, _ = client(backend)
    response = app.post(
        "/studio" + LOGOUT, headers={"Cookie": "session=abc"},
        extra_environ={"SCRIPT_NAME": "/studio"},
    )
    assert response.json == {"message": "OK"}
    assert backend.deleted == ["abc"]


def test_full_url_path_under_a_mount_is_not_mistaken_for_the_logout_path() -> None:
    # PATH_INFO is what counts: "/studio/api/..." without SCRIPT_NAME is another path.
    backend = RecordingBackend()
    app, _ = client(backend)
    assert app.post("/studio" + LOGOUT).text.startswith("hello")
    assert backend.deleted == []


def test_near_miss_paths_pass_through() -> None:
    app, _ = client()
    for path in (LOGOUT + "/", LOGOUT.upper(), LOGOUT[:-1], "/"):
        assert app.post(path).text.startswith("hello")


def test_request_without_path_info_passes_through() -> None:
    middleware = LogoutMiddleware(lambda e, s: [b"ok"], MemoryBackend())
    environ = environ_for("/")
    del environ["PATH_INFO"]
    assert middleware(environ, lambda s, h, e=None: None) == [b"ok"]  # type: ignore[arg-type,return-value]
