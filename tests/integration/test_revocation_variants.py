"""Issue 10, items 1 and 2: a revoked session stays dead under every variant of its cookie
that the real framework accepts, and the filter removes exactly the revoked pair.

Against real apps (``cookie_variants.py``): Flask's default session (itsdangerous),
Django's ``signed_cookies`` engine (in a child process: Django's settings are
process-wide) and Pyramid's ``SignedCookieSessionFactory``. For each, log in, generate
``Cookie`` headers that carry the session value in other spellings (whitespace around
name and ``=``, separators, other cookies, duplicates, quoting and backslash escapes),
with ASCII or Unicode whitespace, extra base64 padding, characters outside the base64
alphabet, or non-ASCII bytes; keep those the framework itself reads as the logged-in
session; log out through the middleware (with the cookie as set, or with one of the
accepted variants); then every accepted variant must be refused.

Requests are raw WSGI calls with a hand-made ``HTTP_COOKIE``: WSGI header strings are
the header's bytes decoded as latin-1, so ``"\\xc2\\xa0"`` is the UTF-8 encoding of
U+00A0 and ``"\\xa0"`` is the raw byte 0xA0.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cookie_variants import (
    ANONYMOUS,
    DJANGO,
    FLASK,
    KINDS,
    PARSERS,
    PYRAMID,
    DjangoProxy,
    Shape,
    Variant,
    WSGIApp,
    flask_app,
    login_cookie,
    pyramid_app,
    variants,
    werkzeug_values,
    whoami,
    wsgi_call,
)

from logout_middleware import DEFAULT_LOGOUT_PATH, LogoutMiddleware, MemoryRevocationStore

#: The least number of variants of each kind the framework must accept, so that no test
#: here passes for lack of variants. Django compares its signature as a string, so it
#: accepts no padding, alphabet or non-ASCII variant of the value (only of the header).
MIN_ACCEPTED: dict[str, dict[str, int]] = {
    "flask": {"spelling": 50, "whitespace": 50, "padding": 8, "alphabet": 10, "non-ascii": 20},
    "django": {"spelling": 50, "whitespace": 80},
    "pyramid": {"spelling": 50, "whitespace": 50, "padding": 4, "alphabet": 10, "non-ascii": 8},
}


@dataclass
class Framework:
    name: str
    app: WSGIApp
    shape: Shape

    def wrapped(self) -> LogoutMiddleware:
        """The app behind the middleware, with a fresh revocation store."""
        return LogoutMiddleware(
            self.app, None, revocation=MemoryRevocationStore(), cookie_name=self.shape.name
        )

    def accepted(self, value: str, user: str) -> list[Variant]:
        """The generated variants of ``value`` that the framework reads as ``user``.

        Asserts that enough of each kind are accepted (see ``MIN_ACCEPTED``).
        """
        generated = variants(self.shape, value)
        assert generated[0].header == f"{self.shape.name}={value}"
        ok = [v for v in generated if whoami(self.app, v.header) == user]
        assert ok and ok[0] is generated[0], "the framework refuses its own cookie"
        counts = collections.Counter(v.kind for v in ok)
        totals = collections.Counter(v.kind for v in generated)
        print(
            f"{self.name}: accepted/generated "
            + ", ".join(f"{k} {counts[k]}/{totals[k]}" for k in KINDS)
        )
        short = {
            kind: f"{counts[kind]} < {least}"
            for kind, least in MIN_ACCEPTED[self.name].items()
            if counts[kind] < least
        }
        assert not short, f"{self.name} accepts too few variants to prove anything: {short}"
        return ok


@pytest.fixture(scope="module")
def frameworks() -> Iterator[dict[str, Framework]]:
    django = DjangoProxy()
    try:
        yield {
            "flask": Framework("flask", flask_app(), FLASK),
            "django": Framework("django", django, DJANGO),
            "pyramid": Framework("pyramid", pyramid_app(), PYRAMID),
        }
    finally:
        django.close()


def log_out(app: WSGIApp, header: str) -> None:
    answer = wsgi_call(app, DEFAULT_LOGOUT_PATH, method="POST", cookie=header)
    assert answer.status.startswith("200"), (answer.status, answer.body, header)


def family(variant: Variant) -> str:
    """The kind and description of a variant without its particular characters."""
    how = re.sub(r" ?['\"].*", "", variant.how)
    return f"{variant.kind}: {re.sub(r'( at| x)? ?[0-9]+$', '', how)}"


def report(title: str, bad: list[tuple[Variant, str]], accepted: int) -> str:
    """An assertion message: how many per kind and family, and up to three headers
    (their repr) of each family."""
    per_kind = collections.Counter(v.kind for v, _ in bad)
    per_family = collections.Counter(family(v) for v, _ in bad)
    lines = [
        f"{title}: {len(bad)} of {accepted} accepted variants "
        f"({', '.join(f'{k} {n}' for k, n in per_kind.items())})",
        "  by family: " + ", ".join(f"[{f}] {n}" for f, n in per_family.items()),
    ]
    shown: collections.Counter[str] = collections.Counter()
    for variant, seen in bad:
        fam = family(variant)
        shown[fam] += 1
        if shown[fam] <= 3:
            lines.append(f"  [{variant.kind}: {variant.how}] {variant.header!r} -> {seen!r}")
    return "\n".join(lines)


def logout_variant(accepted: list[Variant], kind: str, name: str, value: str) -> Variant:
    """An accepted variant of ``kind`` to log out with: preferably one in which werkzeug
    (the middleware's reading today) does not find the value as set, else one in which
    it finds something else too."""
    of_kind = [v for v in accepted if v.kind == kind]
    assert of_kind, f"no accepted {kind} variant to log out with"
    readings = [(v, werkzeug_values(v.header, name)) for v in of_kind]
    missing = [v for v, seen in readings if value not in seen]
    differing = [v for v, seen in readings if seen != [value]]
    choice = missing or differing or of_kind
    return choice[len(choice) // 2]


CASES = [
    (framework, logout_with)
    for framework, kinds in MIN_ACCEPTED.items()
    for logout_with in ("as set", *kinds)
]


@pytest.mark.parametrize(
    ("framework", "logout_with"), CASES, ids=[f"{f}-logout-{k}" for f, k in CASES]
)
def test_a_revoked_session_stays_dead_under_every_accepted_variant(
    frameworks: dict[str, Framework], framework: str, logout_with: str
) -> None:
    fw = frameworks[framework]
    name = fw.shape.name
    value = login_cookie(fw.app, fw.shape, "alice")
    accepted = fw.accepted(value, "alice")
    app = fw.wrapped()
    # Before the logout the middleware changes nothing.
    assert whoami(app, accepted[0].header) == "alice"

    if logout_with == "as set":
        logout_header = f"{name}={value}"
    else:
        logout_header = logout_variant(accepted, logout_with, name, value).header
    log_out(app, logout_header)

    # The harness works: the cookie as set is refused after a logout with it.
    if logout_with == "as set":
        assert whoami(app, f"{name}={value}") == ANONYMOUS, "the revoked cookie still works"

    alive = [(v, seen) for v in accepted if (seen := whoami(app, v.header)) != ANONYMOUS]
    if alive:
        pytest.fail(
            report(
                f"{framework}: logged out with {logout_header!r}; still logged in with",
                alive,
                len(accepted),
            )
        )


@pytest.mark.parametrize("framework", list(MIN_ACCEPTED))
def test_a_distinct_session_is_not_revoked_with_it(
    frameworks: dict[str, Framework], framework: str
) -> None:
    fw = frameworks[framework]
    name = fw.shape.name
    revoked = login_cookie(fw.app, fw.shape, "alice")
    live = login_cookie(fw.app, fw.shape, "bob")
    assert live != revoked
    accepted = fw.accepted(live, "bob")
    app = fw.wrapped()
    log_out(app, f"{name}={revoked}")
    assert whoami(app, f"{name}={revoked}") == ANONYMOUS

    blocked = [(v, seen) for v in accepted if (seen := whoami(app, v.header)) != "bob"]
    if blocked:
        pytest.fail(
            report(f"{framework}: another session was revoked, and refused", blocked, len(accepted))
        )


# -- item 2: the filter removes exactly the revoked pair -------------------------------------

REVOKED = "eyJ1c2VyIjoiYWRhIn0.ZxYw.revoked-signature"
LIVE = "eyJ1c2VyIjoiYm9iIn0.ZxYw.live-signature"


class SeenApp:
    """Answers 200 and remembers the ``HTTP_COOKIE`` it was called with."""

    def __init__(self) -> None:
        self.cookie: str | None = None
        self.called = False

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.called = True
        self.cookie = environ.get("HTTP_COOKIE")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


def received_after_revocation(header: str) -> str | None:
    """The ``HTTP_COOKIE`` the app receives for ``header`` once REVOKED is revoked."""
    seen = SeenApp()
    app = LogoutMiddleware(seen, None, revocation=MemoryRevocationStore(), cookie_name="session")
    log_out(app, f"session={REVOKED}")
    wsgi_call(app, "/", cookie=header)
    assert seen.called
    return seen.cookie


def revoked_found(header: str | None) -> dict[str, list[str]]:
    """Which parsers still find REVOKED as the session cookie in ``header``."""
    if not header:
        return {}
    found = {}
    for parser, values_of in PARSERS.items():
        values = values_of(header, "session")
        if REVOKED in values:
            found[parser] = values
    return found


#: (header sent, the raw other cookies it holds, in order)
EXACT_CASES = [
    ('prefs="a;b"; session=REVOKED; theme=dark', ['prefs="a;b"', "theme=dark"]),
    ('session=REVOKED;prefs="a;b";theme=dark', ['prefs="a;b"', "theme=dark"]),
    ("a=1; b=2; session=REVOKED", ["a=1", "b=2"]),
    ("theme=dark;  session=REVOKED ;\tlang=en", ["theme=dark", "lang=en"]),
    ('q="x y"; session="REVOKED"; prefs="a;b"', ['q="x y"', 'prefs="a;b"']),
    ('x="q\\"uote;d"; session=REVOKED; y="a b"', ['x="q\\"uote;d"', 'y="a b"']),
    ("name=caf\xc3\xa9; session=REVOKED; z=\xe9", ["name=caf\xc3\xa9", "z=\xe9"]),
    ("flag; session=REVOKED; empty=", ["flag", "empty="]),
    ("session=REVOKED; session=LIVE; x=1", ["session=LIVE", "x=1"]),
    ('session=LIVE; prefs="a;b"; session=REVOKED', ["session=LIVE", 'prefs="a;b"']),
]


def fill(text: str) -> str:
    return text.replace("REVOKED", REVOKED).replace("LIVE", LIVE)


@pytest.mark.parametrize(("sent", "others"), EXACT_CASES, ids=[c[0] for c in EXACT_CASES])
def test_the_filter_removes_exactly_the_revoked_pair(sent: str, others: list[str]) -> None:
    sent, others = fill(sent), [fill(o) for o in others]
    got = received_after_revocation(sent)
    assert got is not None, f"every cookie of {sent!r} was removed"
    assert not revoked_found(got), (got, revoked_found(got))
    # Every other cookie arrives byte for byte, in order; only separators go.
    rest, pos = got, 0
    for raw in others:
        at = rest.find(raw, pos)
        assert at >= 0, f"{raw!r} was not passed on as sent: {sent!r} became {got!r}"
        rest = rest[:at] + rest[at + len(raw) :]
        pos = at
    assert not rest.strip("; \t"), f"{sent!r} became {got!r}: {rest!r} is not a separator"
    # And each framework's parser reads the other cookies as it read them before.
    from werkzeug.sansio.http import parse_cookie

    before = [(k, v) for k, v in parse_cookie(sent).items(multi=True)]
    before = [(k, v) for k, v in before if (k, v) != ("session", REVOKED)]
    assert list(parse_cookie(got).items(multi=True)) == before, (sent, got)


#: A revoked pair inside another cookie's quoted value: Django splits on ';' and reads it.
HIDDEN_CASES = [
    'x="a;session=REVOKED;b"; theme=dark',
    'theme=dark; x="a; session=REVOKED; b"',
    'x=";session=REVOKED;"; theme=dark',
    'x="a;session = REVOKED ;b"; theme=dark',
    'x="a\\";session=REVOKED;"; theme=dark',
    'theme=dark; x="a;session=REVOKED',
]


@pytest.mark.parametrize("sent", HIDDEN_CASES)
def test_a_revoked_pair_hidden_in_a_quoted_value_reaches_no_parser(sent: str) -> None:
    sent = fill(sent)
    before = revoked_found(sent)
    assert before, f"no parser reads a session in {sent!r}: the case proves nothing"
    got = received_after_revocation(sent)
    assert not revoked_found(got), (
        f"{sent!r} became {got!r}, in which these parsers still read the revoked "
        f"session: {revoked_found(got)}"
    )
    assert got is not None and "theme=dark" in got, f"{sent!r} became {got!r}"
