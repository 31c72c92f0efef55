"""Log out everywhere for cookie-only sessions (``revocation`` + ``user_from_cookie``),
against real Flask (itsdangerous) and Pyramid (``SignedCookieSessionFactory``) apps.

A cookie-only session has no record: the middleware records, per user, the time of
the log out everywhere in the session index, and refuses every cookie of that user
whose signature is older, read by the framework's own serializer through the
``user_from_cookie`` hook. Checked here: every other device of the user is logged out,
and so is every spelling of their cookies that the framework accepts; other users are
not; ``keep_current`` spares the current cookie; a login after it works; the Python
call does the same.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from cookie_variants import (
    ANONYMOUS,
    FLASK,
    PYRAMID,
    SECRET,
    Shape,
    WSGIApp,
    flask_app,
    login_cookie,
    pyramid_app,
    variants,
    whoami,
    wsgi_call,
)

from logout_middleware import LogoutMiddleware, MemoryRevocationStore, MemorySessionIndex
from logout_middleware.revocation import not_before_key

EVERYWHERE = "/logout/everywhere"


def flask_user(app: WSGIApp) -> Callable[[str], tuple[str, float] | None]:
    """The hook for Flask's default session: its own serializer, with the timestamp."""
    from flask.sessions import SecureCookieSessionInterface
    from itsdangerous import BadSignature

    serializer = SecureCookieSessionInterface().get_signing_serializer(app.__self__)  # type: ignore[attr-defined]
    assert serializer is not None

    def user_from_cookie(value: str) -> tuple[str, float] | None:
        try:
            data, signed_at = serializer.loads(value, return_timestamp=True)
        except BadSignature:
            return None
        user = data.get("user")
        return (user, signed_at.timestamp()) if user else None

    return user_from_cookie


def pyramid_user(app: WSGIApp) -> Callable[[str], tuple[str, float] | None]:
    """The hook for Pyramid's ``SignedCookieSessionFactory(SECRET)``: ``(accessed,
    created, state)`` read by the same ``SignedSerializer``."""
    from pyramid.session import JSONSerializer
    from webob.cookies import SignedSerializer

    serializer = SignedSerializer(SECRET, "pyramid.session.", "sha512", JSONSerializer())

    def user_from_cookie(value: str) -> tuple[str, float] | None:
        try:
            accessed, _created, state = serializer.loads(value.encode("latin-1"))
        except ValueError:
            return None
        user = state.get("user")
        return (user, float(accessed)) if user else None

    return user_from_cookie


@dataclass
class Case:
    name: str
    make_app: Callable[[], WSGIApp]
    hook: Callable[[WSGIApp], Callable[[str], tuple[str, float] | None]]
    shape: Shape


CASES = [
    Case("flask", flask_app, flask_user, FLASK),
    Case("pyramid", pyramid_app, pyramid_user, PYRAMID),
]


@dataclass
class Setup:
    app: LogoutMiddleware
    bare: WSGIApp
    shape: Shape
    index: MemorySessionIndex

    def login(self, user: str) -> str:
        return login_cookie(self.bare, self.shape, user)

    def header(self, value: str) -> str:
        return f"{self.shape.name}={value}"

    def who(self, value: str) -> str:
        return whoami(self.app, self.header(value))

    def everywhere(self, value: str | None, query: str = "") -> Any:
        answer = wsgi_call(
            self.app,
            EVERYWHERE,
            method="POST",
            cookie=None if value is None else self.header(value),
            query=query,
        )
        assert answer.status.startswith("200"), answer
        return answer


@pytest.fixture(params=CASES, ids=[c.name for c in CASES])
def setup(request: Any) -> Setup:
    case: Case = request.param
    bare = case.make_app()
    index = MemorySessionIndex()
    app = LogoutMiddleware(
        bare,
        None,
        cookie_name=case.shape.name,
        revocation=MemoryRevocationStore(),
        index=index,
        everywhere_path=EVERYWHERE,
        user_from_cookie=case.hook(bare),
    )
    return Setup(app, bare, case.shape, index)


def wait_for_the_next_second(after: float) -> None:
    """Signers stamp whole seconds: a cookie signed in the second of the log out
    everywhere is older than it. Wait (an event, not a duration) for the next one."""
    while int(time.time()) <= after:
        time.sleep(0.05)


def test_every_other_device_is_logged_out_and_other_users_are_not(setup: Setup) -> None:
    phone, laptop, stolen_copy = (setup.login("alice") for _ in range(3))
    bob = setup.login("bob")
    assert [setup.who(v) for v in (phone, laptop, stolen_copy, bob)] == [
        "alice", "alice", "alice", "bob"
    ]
    answer = setup.everywhere(phone)
    assert json.loads(answer.body) == {"message": "OK", "ended": 1}
    assert any(
        k.lower() == "set-cookie" and v.startswith(f"{setup.shape.name}=;")
        for k, v in answer.headers
    ), "the current cookie must be expired"
    assert [setup.who(v) for v in (phone, laptop, stolen_copy)] == [ANONYMOUS] * 3
    assert setup.who(bob) == "bob"


def test_every_accepted_spelling_of_another_devices_cookie_is_refused(setup: Setup) -> None:
    phone, laptop = setup.login("alice"), setup.login("alice")
    accepted = [v for v in variants(setup.shape, laptop) if whoami(setup.bare, v.header) == "alice"]
    assert len(accepted) > 100, "too few accepted variants to prove anything"
    setup.everywhere(phone)
    alive = [v.header for v in accepted if whoami(setup.app, v.header) != ANONYMOUS]
    assert not alive, f"{len(alive)} of {len(accepted)} spellings still log in: {alive[:3]!r}"


def test_keep_current_spares_the_current_cookie_only(setup: Setup) -> None:
    phone, laptop = setup.login("alice"), setup.login("alice")
    answer = setup.everywhere(phone, "keep_current=1")
    assert json.loads(answer.body) == {"message": "OK", "ended": 0}
    assert not any(k.lower() == "set-cookie" for k, _ in answer.headers)
    assert setup.who(phone) == "alice"
    assert setup.who(laptop) == ANONYMOUS


def test_a_login_after_the_log_out_everywhere_works(setup: Setup) -> None:
    phone = setup.login("alice")
    setup.everywhere(phone)
    not_before = float(setup.index.labels(not_before_key("alice"))["not_before"])
    wait_for_the_next_second(not_before)
    fresh = setup.login("alice")
    assert setup.who(fresh) == "alice"
    assert setup.who(phone) == ANONYMOUS


def test_end_user_sessions_from_python_reaches_cookie_only_sessions(setup: Setup) -> None:
    phone, laptop = setup.login("alice"), setup.login("alice")
    bob = setup.login("bob")
    assert setup.app.end_user_sessions("alice", keep=phone) == 0  # no record to count
    assert setup.who(phone) == "alice"
    assert setup.who(laptop) == ANONYMOUS
    assert setup.who(bob) == "bob"


def test_a_forged_cookie_is_no_ones_and_costs_no_lookup(setup: Setup) -> None:
    class Counting(MemorySessionIndex):
        lookups = 0

        def labels(self, session_id: str) -> dict[str, str]:
            Counting.lookups += 1
            return super().labels(session_id)

    phone = setup.login("alice")
    setup.everywhere(phone)
    counting = Counting()
    setup.app.core.revocation.index = counting  # type: ignore[union-attr]
    assert whoami(setup.app, setup.header("forged." + phone[7:])) == ANONYMOUS
    assert Counting.lookups == 0
