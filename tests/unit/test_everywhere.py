"""Log out everywhere: the everywhere path, keep_current, end_user_sessions, and the
index kept in step with every logout (in memory; the stores run the same code)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from wsgi_util import LOGOUT, FailingBackend, client, set_cookies

from logout_middleware import (
    LogoutEvent,
    LogoutMiddleware,
    MemoryBackend,
    MemoryRevocationStore,
    MemorySessionIndex,
)

EVERYWHERE = "/logout/everywhere"


def setup(**options: Any) -> tuple[Any, LogoutMiddleware, MemoryBackend, MemorySessionIndex]:
    backend, index = MemoryBackend(), MemorySessionIndex()
    app, middleware = client(backend, index=index, everywhere_path=EVERYWHERE, **options)
    return app, middleware, backend, index


def login(backend: MemoryBackend, index: MemorySessionIndex, user: str | None) -> str:
    sid = backend.create({"user": user})
    if user is not None:
        index.add(sid, 3600, user=user)
    return sid


def body(response: Any) -> Any:
    return json.loads(response.body)


def test_everywhere_ends_every_session_of_the_user_and_only_theirs() -> None:
    app, _, backend, index = setup()
    alice = [login(backend, index, "alice") for _ in range(5)]
    bob = [login(backend, index, "bob") for _ in range(3)]
    app.set_cookie("session", alice[2])
    response = app.post(EVERYWHERE)
    assert response.status_int == 200
    assert body(response) == {"message": "OK", "ended": 5}
    assert response.headers["Cache-Control"] == "no-store"
    assert response.content_type == "application/json"
    assert all(sid not in backend for sid in alice)
    assert all(sid in backend for sid in bob)
    assert index.find("user", "alice") == set()
    assert index.find("user", "bob") == set(bob)
    [expiry] = set_cookies(response)
    assert expiry.startswith("session=;") and "Max-Age=0" in expiry


def test_keep_current_ends_the_others_and_leaves_the_cookie_alone() -> None:
    app, _, backend, index = setup()
    alice = [login(backend, index, "alice") for _ in range(4)]
    app.set_cookie("session", alice[0])
    for flag in ("1", "true", "yes", "on", "TRUE"):
        response = app.post(f"{EVERYWHERE}?keep_current={flag}")
        assert response.status_int == 200
        assert set_cookies(response) == []
    assert alice[0] in backend
    assert all(sid not in backend for sid in alice[1:])
    assert index.find("user", "alice") == {alice[0]}
    # The first call ended the three others; later ones found nothing more.
    assert body(response) == {"message": "OK", "ended": 0}


@pytest.mark.parametrize("flag", ["0", "false", "no", "off", ""])
def test_keep_current_false_values_end_the_current_session_too(flag: str) -> None:
    app, _, backend, index = setup()
    alice = [login(backend, index, "alice") for _ in range(2)]
    app.set_cookie("session", alice[0])
    response = app.post(f"{EVERYWHERE}?keep_current={flag}")
    assert body(response) == {"message": "OK", "ended": 2}
    assert not any(sid in backend for sid in alice)


@pytest.mark.parametrize(
    "query", ["keep_current=2", "keep_current=maybe", "keep_current=1&keep_current=0"]
)
def test_an_unreadable_keep_current_is_400_and_ends_nothing(query: str) -> None:
    app, _, backend, index = setup()
    alice = [login(backend, index, "alice") for _ in range(2)]
    app.set_cookie("session", alice[0])
    response = app.post(f"{EVERYWHERE}?{query}", status=400)
    assert "keep_current" in body(response)["message"]
    assert response.headers["Cache-Control"] == "no-store"
    assert all(sid in backend for sid in alice)


def test_a_session_with_no_user_in_the_index_ends_alone() -> None:
    app, _, backend, index = setup()
    lone = login(backend, index, None)
    other = login(backend, index, "alice")
    app.set_cookie("session", lone)
    assert body(app.post(EVERYWHERE)) == {"message": "OK", "ended": 1}
    assert lone not in backend and other in backend


def test_no_cookie_ends_nothing() -> None:
    app, _, backend, index = setup()
    kept = login(backend, index, "alice")
    assert body(app.post(EVERYWHERE)) == {"message": "OK", "ended": 0}
    assert kept in backend


def test_other_methods_get_405_with_allow() -> None:
    app, _, backend, index = setup()
    sid = login(backend, index, "alice")
    app.set_cookie("session", sid)
    for method in ("GET", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"):
        response = app.request(EVERYWHERE, method=method, status=405)
        assert response.headers["Allow"] == "POST"
    assert sid in backend


def test_cross_site_is_refused_like_the_logout() -> None:
    app, _, backend, index = setup()
    sid = login(backend, index, "alice")
    app.set_cookie("session", sid)
    app.post(EVERYWHERE, headers={"Origin": "https://evil.example"}, status=403)
    app.post(EVERYWHERE, headers={"Sec-Fetch-Site": "cross-site"}, status=403)
    assert sid in backend and index.find("user", "alice") == {sid}


def test_a_store_failure_is_500_and_keeps_the_index() -> None:
    index = MemorySessionIndex()
    index.add("s1", 3600, user="alice")
    index.add("s2", 3600, user="alice")
    app, _ = client(FailingBackend(), index=index, everywhere_path=EVERYWHERE)
    app.set_cookie("session", "s1")
    response = app.post(EVERYWHERE, status=500)
    assert body(response)["message"].startswith("Internal server error.")
    assert "ended" not in body(response)
    assert index.find("user", "alice") == {"s1", "s2"}  # a retry finds them
    assert set_cookies(response)  # the cookie is still expired


class HalfwayBackend(MemoryBackend):
    """Deletes the first ``n`` sessions, then the store goes down."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.left = n

    def delete(self, session_id: str) -> None:
        if self.left <= 0:
            raise ConnectionError("store went away")
        self.left -= 1
        super().delete(session_id)

    def delete_many(self, session_ids: Any) -> int:
        existed = 0
        for session_id in session_ids:
            existed += session_id in self
            self.delete(session_id)
        return existed


def test_a_deletion_failing_part_way_leaves_every_session_findable() -> None:
    backend, index = HalfwayBackend(3), MemorySessionIndex()
    app, middleware = client(backend, index=index, everywhere_path=EVERYWHERE)
    alice = [login(backend, index, "alice") for _ in range(6)]  # type: ignore[arg-type]
    app.set_cookie("session", alice[0])
    app.post(EVERYWHERE, status=500)
    live = {sid for sid in alice if sid in backend}
    assert len(live) == 3
    assert live <= index.find("user", "alice")  # every live one is still indexed
    backend.left = 100
    # The retry finds all six (the three deleted before the failure were kept in the
    # index too, and deleting them again is harmless), finishes the work, and counts
    # the three that were still there: the backend says how many records it deleted.
    assert middleware.end_user_sessions("alice") == 3
    assert not any(sid in backend for sid in alice)
    assert index.find("user", "alice") == set()


class DeleteOnlyBackend:
    """A backend of one's own with ``delete`` alone: it cannot say what existed."""

    def __init__(self) -> None:
        self.records: set[str] = set()

    def delete(self, session_id: str) -> None:
        self.records.discard(session_id)


class UncountingBackend(MemoryBackend):
    """``delete_many`` that returns ``None``, as a driver without a row count."""

    def delete_many(self, session_ids: Any) -> None:  # type: ignore[override]
        super().delete_many(session_ids)


def test_ended_counts_the_records_deleted_not_stale_index_entries() -> None:
    # Sessions that expired or were deleted elsewhere leave their index entries until
    # those expire: a log out everywhere does not count them as ended.
    app, middleware, backend, index = setup()
    alice = [login(backend, index, "alice") for _ in range(5)]
    backend.delete_many(alice[3:])  # gone from the store, still in the index
    app.set_cookie("session", alice[0])
    assert body(app.post(EVERYWHERE)) == {"message": "OK", "ended": 3}
    assert index.find("user", "alice") == set()
    bob = [login(backend, index, "bob") for _ in range(3)]
    backend.delete(bob[0])
    assert middleware.end_user_sessions("bob") == 2


@pytest.mark.parametrize("make", [DeleteOnlyBackend, UncountingBackend])
def test_a_backend_that_cannot_count_reports_every_id_it_was_given(make: Any) -> None:
    backend, index = make(), MemorySessionIndex()
    _, middleware = client(backend, index=index, everywhere_path=EVERYWHERE)
    for sid in ("a1", "a2", "a3"):
        index.add(sid, 3600, user="alice")
    assert middleware.end_user_sessions("alice") == 3
    assert index.find("user", "alice") == set()


def test_end_user_sessions_from_python() -> None:
    _, middleware, backend, index = setup()
    alice = [login(backend, index, "alice") for _ in range(3)]
    bob = login(backend, index, "bob")
    assert middleware.end_user_sessions("alice", keep=alice[1]) == 2
    assert [sid in backend for sid in alice] == [False, True, False]
    assert index.find("user", "alice") == {alice[1]}
    assert middleware.end_user_sessions("alice") == 1
    assert middleware.end_user_sessions("nobody") == 0
    assert bob in backend


@pytest.mark.parametrize("user", ["", None, 3, b"alice"])
def test_end_user_sessions_refuses_a_bad_user(user: Any) -> None:
    _, middleware, _, _ = setup()
    with pytest.raises(ValueError, match="user must be a non-empty string"):
        middleware.end_user_sessions(user)


def test_end_user_sessions_needs_an_index() -> None:
    _, middleware = client(MemoryBackend())
    with pytest.raises(ValueError, match="needs index"):
        middleware.end_user_sessions("alice")


def test_the_plain_logout_forgets_its_session_in_the_index() -> None:
    app, _, backend, index = setup()
    one, two = login(backend, index, "alice"), login(backend, index, "alice")
    app.set_cookie("session", one)
    app.post(LOGOUT)
    assert index.find("user", "alice") == {two}
    assert index.labels(one) == {}


def test_the_plain_logout_keeps_the_index_when_the_backend_fails() -> None:
    index = MemorySessionIndex()
    index.add("s1", 3600, user="alice")
    app, _ = client(FailingBackend(), index=index)
    app.set_cookie("session", "s1")
    app.post(LOGOUT, status=500)
    assert index.find("user", "alice") == {"s1"}


def test_signed_cookies_are_read_as_on_the_logout_path() -> None:
    from itsdangerous import Signer

    from logout_middleware import signed_session_id

    signer = Signer("k", salt="flask-session", key_derivation="hmac")
    app, _, backend, index = setup(session_id_from_cookie=signed_session_id("k"))
    alice = [login(backend, index, "alice") for _ in range(2)]
    app.set_cookie("session", signer.sign(alice[0]).decode())
    assert body(app.post(EVERYWHERE)) == {"message": "OK", "ended": 2}
    assert not any(sid in backend for sid in alice)


def test_events_and_log_carry_the_count_and_no_secret(caplog: Any) -> None:
    events: list[LogoutEvent] = []
    app, _, backend, index = setup(on_logout=[events.append])
    alice = [login(backend, index, "alice") for _ in range(3)]
    app.set_cookie("session", alice[0])
    with caplog.at_level(logging.INFO, logger="logout_middleware"):
        app.post(EVERYWHERE)
        app.post(LOGOUT)
    assert [e.ended for e in events] == [3, None]
    assert events[0].outcome == "ok" and events[0].status == 200
    assert "ended=3" in caplog.text
    for sid in alice:
        for i in range(len(sid) - 5):
            assert sid[i : i + 6] not in caplog.text


def test_redirect_mode_applies_to_the_everywhere_path() -> None:
    app, _, backend, index = setup(redirect_to="/signed-out")
    sid = login(backend, index, "alice")
    app.set_cookie("session", sid)
    response = app.post(EVERYWHERE, status=303)
    assert response.headers["Location"].endswith("/signed-out")
    assert sid not in backend


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"everywhere_path": EVERYWHERE}, "everywhere_path needs index"),
        ({"index": object()}, "index must be a SessionIndex"),
        (
            {"index": MemorySessionIndex(), "everywhere_path": "logout/everywhere"},
            "everywhere_path must start with '/'",
        ),
        (
            {"index": MemorySessionIndex(), "everywhere_path": ["/a", "/b"]},
            "everywhere_path must be one path",
        ),
        (
            {"index": MemorySessionIndex(), "everywhere_path": LOGOUT},
            "also a logout path",
        ),
        ({"user_from_cookie": lambda v: None}, "user_from_cookie is for cookie-only"),
    ],
)
def test_bad_settings_fail_at_construction(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LogoutMiddleware(lambda e, s: [], MemoryBackend(), **options)


def test_user_from_cookie_needs_an_index() -> None:
    with pytest.raises(ValueError, match="user_from_cookie needs index"):
        LogoutMiddleware(
            lambda e, s: [], None, revocation=MemoryRevocationStore(),
            user_from_cookie=lambda v: None,
        )


def test_pass_through_requests_never_touch_the_index() -> None:
    class Untouchable(MemorySessionIndex):
        def __getattribute__(self, name: str) -> Any:
            if name in ("add", "find", "labels", "remove", "remove_many"):
                raise AssertionError(f"pass-through touched index.{name}")
            return super().__getattribute__(name)

    app, _ = client(MemoryBackend(), index=Untouchable(), everywhere_path=EVERYWHERE)
    app.set_cookie("session", "abc")
    for path in ("/", "/logout/everywhere/", "/logout", EVERYWHERE.upper()):
        assert app.get(path).status_int == 200


@pytest.mark.parametrize("redirect", [False, True])
@pytest.mark.parametrize(
    ("form", "query", "kept"),
    [
        ("keep_current=1", "", True),
        ("csrf=x&keep_current=yes&next=%2Faccount", "", True),
        ("keep_current=0", "", False),
        ("other=1", "", False),
        ("keep_current=1", "keep_current=1", True),
    ],
)
def test_keep_current_in_a_form_field_is_read_like_the_query(
    form: str, query: str, kept: bool, redirect: bool
) -> None:
    options = {"redirect_to": "/bye"} if redirect else {}
    app, _, backend, index = setup(**options)
    alice = [login(backend, index, "alice") for _ in range(3)]
    app.set_cookie("session", alice[0])
    url = f"{EVERYWHERE}?{query}" if query else EVERYWHERE
    response = app.post(url, form, content_type="application/x-www-form-urlencoded")
    assert response.status_int == (303 if redirect else 200)
    assert (alice[0] in backend) is kept
    assert not any(sid in backend for sid in alice[1:])
    assert (set_cookies(response) == []) is kept


@pytest.mark.parametrize(
    ("form", "query"),
    [
        ("keep_current=1", "keep_current=0"),
        ("keep_current=maybe", ""),
        ("keep_current=1&keep_current=no", ""),
    ],
)
def test_keep_current_disagreeing_between_query_and_form_is_400(form: str, query: str) -> None:
    app, _, backend, index = setup()
    alice = [login(backend, index, "alice") for _ in range(2)]
    app.set_cookie("session", alice[0])
    url = f"{EVERYWHERE}?{query}" if query else EVERYWHERE
    app.post(url, form, content_type="application/x-www-form-urlencoded", status=400)
    assert all(sid in backend for sid in alice)


def test_a_cross_site_form_is_refused_before_its_body_is_read() -> None:
    app, _, backend, index = setup()
    sid = login(backend, index, "alice")
    app.set_cookie("session", sid)
    read: list[int] = []

    class Input:
        def read(self, n: int = -1) -> bytes:
            read.append(n)
            return b"keep_current=1"

    app.post(
        EVERYWHERE,
        "keep_current=1",
        content_type="application/x-www-form-urlencoded",
        headers={"Origin": "https://evil.example"},
        extra_environ={"wsgi.input": Input()},
        status=403,
    )
    assert read == [] and sid in backend


class AsyncBackend:
    async def delete(self, session_id: str) -> None:  # pragma: no cover - never awaited
        pass


class AsyncIndex(MemorySessionIndex):
    async def find(self, name: str, value: str) -> set[str]:  # type: ignore[override]
        return set()  # pragma: no cover - never awaited


class AsyncRevocation(MemoryRevocationStore):
    async def is_revoked(self, token: str) -> bool:  # type: ignore[override]
        return False  # pragma: no cover - never awaited


@pytest.mark.parametrize(
    ("options", "kind"),
    [
        ({"backend": AsyncBackend()}, "backend AsyncBackend"),
        ({"index": AsyncIndex()}, "index AsyncIndex"),
        ({"revocation": AsyncRevocation()}, "revocation AsyncRevocation"),
    ],
)
def test_the_wsgi_middleware_refuses_asynchronous_stores(
    options: dict[str, Any], kind: str
) -> None:
    backend = options.pop("backend", MemoryBackend())
    with pytest.raises(ValueError, match=f"{kind} is asynchronous .*asgi.LogoutMiddleware"):
        LogoutMiddleware(lambda e, s: [], backend, **options)
