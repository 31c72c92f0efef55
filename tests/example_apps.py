"""Where the runnable examples live, and how the tests import them.

The examples are plain files in ``examples/`` (not a package), run the way their
docstrings say: ``gunicorn --chdir examples demo:app`` and so on. The tests put that
directory on ``sys.path`` so that ``import demo`` works the same way.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import webtest

from logout_middleware import SessionIndex, SessionStore

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
ARTIFACTS = ROOT / "test-artifacts"


def import_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` (or a package) as the module ``name``."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


# -- log out everywhere, the way a user does it in every example --------------------


@dataclass
class Devices:
    """One example app, driven the way a user drives it, for
    :func:`check_sign_out_of_other_devices`.

    Every example shows ``<strong id="user">NAME</strong>`` (``anonymous`` without a
    login) and, to a logged-in user, the buttons ``logout``, ``sign-out-others`` and
    ``sign-out-everywhere``.
    """

    #: The example's WSGI application (each client is a browser of its own).
    app: object
    #: The session index the example links each login in.
    index: SessionIndex
    #: Whether the framework's own record of a session still exists.
    exists: Callable[[str], bool]
    #: Press one of the buttons on the client's page, as its page does.
    click: Callable[[webtest.TestApp, str], object]
    #: Log the client in as the user through the example's own login; the session id.
    log_in: Callable[[webtest.TestApp, str], str] = field(
        default_factory=lambda: log_in_with_form
    )
    #: The index label of a user, by name (the name itself, or the user's id).
    label: Callable[[str], str] = str

    def new_client(self) -> webtest.TestApp:
        return webtest.TestApp(self.app)

    def linked(self, username: str) -> set[str]:
        """The session ids the index links to the user."""
        return set(self.index.find("user", self.label(username)))


def stored(sessions: SessionStore) -> Callable[[str], bool]:
    """Whether a session's record is in a bundled store (the demo's)."""
    return lambda session_id: sessions.get(session_id) is not None


def shown_user(client: webtest.TestApp) -> str:
    """The user the example's page shows to this client."""
    page = client.get("/")
    return str(page.html.find(id="user").text)


def button_url(client: webtest.TestApp, button: str) -> str:
    """Where a button of the client's page posts: a form's action or a ``data-url``."""
    element = client.get("/").html.find(id=button)
    if element.name == "form":
        return str(element["action"])
    return str(element["data-url"])


def log_in_with_form(client: webtest.TestApp, username: str, cookie: str = "session") -> str:
    """Log in through the login form of the example's page; the session cookie's value."""
    form = client.get("/").forms[0]
    form["username"] = username
    form.submit(status="3*")
    assert shown_user(client) == username
    return str(client.cookies[cookie])


def click_with_token(cookie: str, header: str) -> Callable[[webtest.TestApp, str], object]:
    """A click on a button whose script posts ``{}`` with the double-submit token: the
    ``header`` repeating the ``cookie`` (the demo's and the Django example's buttons)."""

    def click(client: webtest.TestApp, button: str) -> object:
        return client.post(
            button_url(client, button),
            "{}",
            content_type="application/json",
            headers={header: client.cookies[cookie]},
        )

    return click


def click_form(client: webtest.TestApp, button: str) -> object:
    """A click on a button of a plain HTML form; the middleware redirects back (303)."""
    return client.get("/").forms[button].submit(status=303).follow()


def check_sign_out_of_other_devices(site: Devices) -> None:
    """Alice on a phone and a laptop, Bob on a third client: "sign out of other
    devices" on the phone ends the laptop's session only; "sign out everywhere" then
    ends the phone's; Bob's plain logout ends his. Each ended session leaves the
    framework's store and the index."""
    phone, laptop, other = site.new_client(), site.new_client(), site.new_client()
    phone_sid, laptop_sid = site.log_in(phone, "alice"), site.log_in(laptop, "alice")
    bob_sid = site.log_in(other, "bob")
    assert site.linked("alice") == {phone_sid, laptop_sid}, "the login did not link the session"
    assert site.linked("bob") == {bob_sid}

    site.click(phone, "sign-out-others")
    assert shown_user(phone) == "alice", "the current session must survive keep_current"
    assert shown_user(laptop) == "anonymous", "the other device is still logged in"
    assert shown_user(other) == "bob"
    assert [site.exists(s) for s in (phone_sid, laptop_sid, bob_sid)] == [True, False, True]
    assert site.linked("alice") == {phone_sid}
    assert site.linked("bob") == {bob_sid}

    site.click(phone, "sign-out-everywhere")
    assert shown_user(phone) == "anonymous"
    assert not site.exists(phone_sid)
    assert site.linked("alice") == set()
    assert shown_user(other) == "bob"

    site.click(other, "logout")
    assert shown_user(other) == "anonymous"
    assert not site.exists(bob_sid)
    assert site.linked("bob") == set(), "the plain logout left its session in the index"
