"""The ASGI twin in front of real Starlette and FastAPI apps: ``add_middleware`` builds
it, a mount point is honoured, and a revoked Starlette cookie session (its real
``SessionMiddleware``: itsdangerous-signed JSON in the cookie) is refused over http
and cannot open a websocket either -- under every variant of its cookie that
Starlette itself accepts (``cookie_variants.py``, with Starlette's shape).

Requests are raw ASGI calls through the whole Starlette stack: the ``Cookie`` header
goes in as the bytes it is (a latin-1 string here, one character per byte).
"""

from __future__ import annotations

import collections
import json
import secrets
from typing import Any

import pytest
from asgi_util import LOGOUT, Receive, Sent, http_scope, request, run, websocket_scope
from cookie_variants import KINDS, STARLETTE, Variant, variants
from starlette.applications import Starlette
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket

from logout_middleware import MemoryBackend, MemoryRevocationStore
from logout_middleware.asgi import LogoutMiddleware

SECRET = "asgi-variants-test-secret-not-for-production"
ANONYMOUS = "anonymous"
REFUSED = "refused"

#: The least number of variants of each kind Starlette must accept, so that no test
#: passes for lack of variants (itsdangerous decodes the signature as Flask does).
MIN_ACCEPTED = {"spelling": 60, "whitespace": 100, "padding": 8, "alphabet": 10, "non-ascii": 20}


async def login(request: Request) -> PlainTextResponse:
    request.session["user"] = request.query_params["user"]
    request.session["nonce"] = secrets.token_hex(4)
    return PlainTextResponse("ok")


async def whoami(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.session.get("user", ANONYMOUS))


async def chat(websocket: WebSocket) -> None:
    # A websocket for logged-in users only, as an app writes it.
    user = websocket.session.get("user")
    if user is None:
        await websocket.close(code=1008)
        return
    await websocket.accept()
    await websocket.send_text(user)
    await websocket.close()


def starlette_app(**options: Any) -> Starlette:
    """Starlette with its cookie sessions, the logout in front with revocation."""
    app = Starlette(
        routes=[Route("/login", login), Route("/whoami", whoami), WebSocketRoute("/ws", chat)]
    )
    app.add_middleware(SessionMiddleware, secret_key=SECRET)
    app.add_middleware(
        LogoutMiddleware, backend=None, revocation=MemoryRevocationStore(), **options
    )
    return app


def cookie_of(app: Any, user: str) -> str:
    answer = request(app, http_scope("/login", query=f"user={user}"))
    assert answer.status == 200
    [header] = answer.all("Set-Cookie")
    name, _, rest = header.partition("=")
    assert name == "session"
    return rest.split(";", 1)[0]


def over_http(app: Any, header: str | None) -> str:
    """The user the app sees over http with this ``Cookie`` header."""
    headers = [] if header is None else [("cookie", header)]
    answer = request(app, http_scope("/whoami", headers=headers))
    return answer.body.decode() if answer.status == 200 else f"error {answer.status}"


def over_websocket(app: Any, header: str) -> str:
    """The user the app greets on its websocket, or ``refused``."""
    sent = Sent()
    run(app(websocket_scope(headers=[("cookie", header)]), Receive([{"type": "websocket.connect"}]),
            sent))
    kinds = [m["type"] for m in sent.messages]
    if kinds[0] == "websocket.close":
        return REFUSED
    assert kinds[:2] == ["websocket.accept", "websocket.send"], sent.messages
    return str(sent.messages[1]["text"])


def log_out(app: Any, header: str) -> None:
    answer = request(app, http_scope(LOGOUT, "POST", headers=[("cookie", header)]))
    assert answer.status == 200 and json.loads(answer.body) == {"message": "OK"}, answer


def test_a_logged_out_starlette_session_is_refused_over_http_and_websocket() -> None:
    app = starlette_app()
    value = cookie_of(app, "alice")
    header = f"session={value}"
    assert over_http(app, header) == "alice" and over_websocket(app, header) == "alice"
    log_out(app, header)
    answer = request(app, http_scope("/whoami", headers=[("cookie", header)]))
    assert answer.body == ANONYMOUS.encode()
    [expiry] = answer.all("Set-Cookie")
    assert expiry.startswith("session=;") and "Max-Age=0" in expiry
    assert over_websocket(app, header) == REFUSED
    # Another user's session lives on, on both.
    bob = f"session={cookie_of(app, 'bob')}"
    assert over_http(app, bob) == "bob" and over_websocket(app, bob) == "bob"


def accepted(app: Any, value: str, user: str) -> list[Variant]:
    """The generated variants of ``value`` that Starlette reads as ``user``."""
    generated = variants(STARLETTE, value)
    ok = [v for v in generated if over_http(app, v.header) == user]
    assert ok and ok[0] is generated[0], "Starlette refuses its own cookie"
    counts = collections.Counter(v.kind for v in ok)
    short = {k: counts[k] for k, least in MIN_ACCEPTED.items() if counts[k] < least}
    assert not short, f"Starlette accepts too few variants to prove anything: {short}"
    return ok


@pytest.mark.parametrize("logout_with", ["as set", *KINDS])
def test_a_revoked_starlette_session_stays_dead_under_every_accepted_variant(
    logout_with: str,
) -> None:
    app = starlette_app()
    value = cookie_of(app, "alice")
    ok = accepted(app, value, "alice")
    if logout_with == "as set":
        header = f"session={value}"
    else:
        of_kind = [v for v in ok if v.kind == logout_with]
        header = of_kind[len(of_kind) // 2].header
    log_out(app, header)
    alive = [
        (v.kind, v.how, v.header, seen)
        for v in ok
        if (seen := over_http(app, v.header)) != ANONYMOUS
        or (seen := over_websocket(app, v.header)) != REFUSED
    ]
    assert not alive, f"logged out with {header!r}; {len(alive)} of {len(ok)} still in: {alive[:5]}"


def test_a_distinct_starlette_session_is_not_revoked_with_it() -> None:
    app = starlette_app()
    log_out(app, f"session={cookie_of(app, 'alice')}")
    live = cookie_of(app, "bob")
    ok = accepted(app, live, "bob")
    blocked = [v.header for v in ok if over_websocket(app, v.header) != "bob"]
    assert not blocked, blocked[:5]


def test_fastapi_add_middleware_builds_the_twin_with_server_side_sessions() -> None:
    from fastapi import FastAPI

    backend = MemoryBackend()
    sid = backend.create({"user": "ada"})
    api = FastAPI()

    @api.get("/me")
    async def me() -> dict[str, str]:
        return {"me": "here"}

    api.add_middleware(LogoutMiddleware, backend=backend, cookie_name="sid")
    assert request(api, http_scope("/me")).body == b'{"me":"here"}'
    answer = request(api, http_scope(LOGOUT, "POST", headers=[("cookie", f"sid={sid}")]))
    assert answer.status == 200 and sid not in backend
    assert answer.header("Set-Cookie").startswith("sid=;")  # type: ignore[union-attr]


def test_a_mounted_twin_answers_below_its_mount_point() -> None:
    backend = MemoryBackend()
    sid = backend.create({})
    inner = Starlette(routes=[Route("/page", lambda request: PlainTextResponse("page"))])
    outer = Starlette(routes=[Mount("/sub", app=LogoutMiddleware(inner, backend))])
    assert request(outer, http_scope("/sub/page")).body == b"page"
    answer = request(outer, http_scope("/sub" + LOGOUT, "POST",
                                       headers=[("cookie", f"session={sid}")]))
    assert answer.status == 200 and sid not in backend
    assert request(outer, http_scope(LOGOUT, "POST")).status == 404  # not mounted there
