"""signed_session_id reads Flask-Session's SESSION_USE_SIGNER cookies; a bad signature
is "no session". (The real Flask-Session with SESSION_USE_SIGNER is exercised end to
end in stores/test_framework_tables.py.)"""

from __future__ import annotations

import sys

import pytest
from itsdangerous import Signer
from webtest import TestApp

from logout_middleware import DEFAULT_LOGOUT_PATH, LogoutMiddleware, MemoryBackend
from logout_middleware.signing import signed_session_id

KEY = "app-secret"


def flask_session_sign(secret: str, sid: str) -> str:
    """Sign exactly as Flask-Session 0.8 does (ServerSideSessionInterface._sign)."""
    signer = Signer(secret, salt="flask-session", key_derivation="hmac")
    return signer.sign(sid.encode()).decode("utf-8")


def test_round_trip_with_flask_sessions_signer() -> None:
    extract = signed_session_id(KEY)
    assert extract(flask_session_sign(KEY, "abc-DEF_123")) == "abc-DEF_123"


@pytest.mark.parametrize(
    "cookie",
    [
        "abc",  # not signed at all
        "abc.",  # empty signature
        ".",
        "",
        "abc.AAAAAAAAAAAAAAAAAAAAAAAAAAA",  # a wrong signature
        flask_session_sign("another-key", "abc"),
        flask_session_sign(KEY, "abc")[:-1],  # truncated
        flask_session_sign(KEY, "abc").replace("abc", "abd"),  # id changed
        "séssion.🍪",
        "\udcff.x",
    ],
)
def test_bad_signatures_mean_no_session(cookie: str) -> None:
    assert signed_session_id(KEY)(cookie) is None


def test_other_salt_is_refused_unless_configured() -> None:
    signed = Signer(KEY, salt="other", key_derivation="hmac").sign(b"sid").decode()
    assert signed_session_id(KEY)(signed) is None
    assert signed_session_id(KEY, salt="other")(signed) == "sid"


def test_retired_keys_are_still_accepted_when_listed() -> None:
    old = flask_session_sign("old-key", "sid-old")
    new = flask_session_sign(KEY, "sid-new")
    extract = signed_session_id(["old-key", KEY])
    assert (extract(old), extract(new)) == ("sid-old", "sid-new")
    assert signed_session_id(KEY)(old) is None


def test_bytes_key_signs_like_the_str_key() -> None:
    assert signed_session_id(KEY.encode())(flask_session_sign(KEY, "s")) == "s"


@pytest.mark.parametrize("key", ["", b"", [], None, 42, ["ok", ""]])
def test_missing_secret_key_is_refused(key: object) -> None:
    with pytest.raises(ValueError, match="secret_key"):
        signed_session_id(key)  # type: ignore[arg-type]


def test_missing_itsdangerous_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "itsdangerous", None)
    with pytest.raises(ImportError, match=r"logout-middleware\[signed\]"):
        signed_session_id(KEY)


def _app(environ: object, start_response: object) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
    return [b"app"]


def test_middleware_deletes_the_unsigned_id() -> None:
    backend = MemoryBackend({"sid-1": {"user": "ada"}, "sid-2": {"user": "bob"}})
    client = TestApp(LogoutMiddleware(_app, backend, session_id_from_cookie=signed_session_id(KEY)))
    client.set_cookie("session", flask_session_sign(KEY, "sid-1"))
    client.post(DEFAULT_LOGOUT_PATH, status=200)
    assert "sid-1" not in backend
    assert "sid-2" in backend


def test_middleware_with_a_forged_cookie_deletes_nothing_but_expires_it() -> None:
    backend = MemoryBackend({"sid-1": {"user": "ada"}})
    client = TestApp(LogoutMiddleware(_app, backend, session_id_from_cookie=signed_session_id(KEY)))
    client.set_cookie("session", flask_session_sign("guessed-key", "sid-1"))
    response = client.post(DEFAULT_LOGOUT_PATH, status=200)
    assert "sid-1" in backend
    assert any(v.startswith("session=;") for v in response.headers.getall("Set-Cookie"))
