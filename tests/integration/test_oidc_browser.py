"""OIDC in a real browser (issue 13): headless Debian Chromium signs in to
examples/oidc_app.py (under gunicorn, 2 workers, sessions in SQLite) through a real
OpenID Provider on loopback (the authorization-code flow: the provider's authorization
endpoint, the example's callback redeeming the code and validating the ID token with
PyJWT against the provider's key set), then presses "Log out": the page posts to the
logout path as Studio does, the middleware ends the session and answers the provider's
end-session URL, and the page goes there.

The browser must land on the provider's end-session page with ``client_id``, the
``post_logout_redirect_uri``, the very ID token the provider issued as
``id_token_hint``, and a ``state``; the session cookie must be gone from Chromium's
store and the session's record and index entry from the store.

The example is on ``http://localhost:PORT`` and the provider on
``http://127.0.0.1:PORT2``: two hosts, two cookie jars, as an application and its
provider are. Screenshots go to ``test-artifacts/browser/oidc-*``. Without
``/usr/bin/chromium`` the test skips locally and fails under ``CI=true``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from oidc_example_server import open_stores, serve
from oidc_provider import OpenIDProvider
from servers import free_port
from test_browser import (  # the module-scoped Chromium of the browser tests
    Shots,
    browser,  # noqa: F401 - the browser fixture
    cookies,
    new_page,
)

from logout_middleware import DEFAULT_LOGOUT_PATH
from logout_middleware.oidc import SID

pytestmark = [pytest.mark.browser, pytest.mark.gunicorn]


@pytest.fixture
def provider() -> Iterator[OpenIDProvider]:
    with OpenIDProvider() as running:
        running.login_sub = "ada"
        yield running


def test_chromium_logs_in_through_the_provider_logs_out_and_lands_on_its_end_session_page(
    browser: Any,  # noqa: F811 - the fixture imported above
    provider: OpenIDProvider,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    port = free_port()
    base = f"http://localhost:{port}"
    db = f"sqlite:///{tmp_path / 'oidc.sqlite3'}"
    environ = {"OIDC_TEST_STORE": db, "OIDC_TEST_REPLAY": db, "OIDC_TEST_NAME": "browser"}
    with (
        serve(provider.issuer, base, environ, bind_port=port) as server,
        open_stores(environ) as (backend, index, _),
    ):
        context, page = new_page(browser)
        shot = Shots(page, "oidc")
        try:
            page.goto(base + "/")
            expect(page.locator("#user")).to_have_text("anonymous")
            shot("anonymous")
            page.click("#login")  # to the provider and back, redirects only
            expect(page.locator("#user")).to_have_text("ada")
            assert page.url == base + "/"
            shot("logged-in")
            assert provider.requests["authorize"] == 1 and provider.requests["token"] == 1
            (id_token,) = provider.issued
            (session,) = cookies(context, "session")
            assert session["domain"] == "localhost" and session["httpOnly"] is True
            assert backend.get(session["value"]) is not None
            assert index.labels(session["value"])[SID].startswith(provider.issuer + " op-")

            with page.expect_response(lambda r: r.url.endswith(DEFAULT_LOGOUT_PATH)) as info:
                page.click("#logout")
            answer = info.value
            # (its body, with "logoutUrl", is gone once the page navigated away)
            assert answer.status == 200 and answer.request.post_data == "{}"
            page.wait_for_url(provider.end_session_endpoint + "?*")
            expect(page.locator("#signed-out")).to_have_text("Signed out")
            shot("at-the-provider")

            (visit,) = provider.end_sessions
            assert visit["client_id"] == [provider.client_id]
            assert visit["post_logout_redirect_uri"] == [base + "/"]
            assert visit["id_token_hint"] == [id_token]
            assert len(visit["state"]) == 1 and len(visit["state"][0]) >= 16
            assert set(visit) == {"client_id", "post_logout_redirect_uri", "id_token_hint", "state"}

            assert cookies(context, "session") == [], "the browser kept the session cookie"
            assert backend.get(session["value"]) is None
            assert index.labels(session["value"]) == {}
            page.goto(base + "/")
            expect(page.locator("#user")).to_have_text("anonymous")
            shot("back-anonymous")
        finally:
            context.close()
    assert server.returncode == 0
    assert "Traceback" not in server.log()
