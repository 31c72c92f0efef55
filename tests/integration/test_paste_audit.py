"""Audit of the PasteDeploy filter through real ini files loaded with ``loadapp``.

Each ini file is written as a user would (spaces, continuation lines, commas, ``%%``
for ConfigParser's interpolation, booleans in any case), loaded with
``paste.deploy.loadapp``, and the middleware it builds is compared, setting by
setting, with the one built from the equivalent Python arguments. Defects are
``xfail(strict=True)``.
"""

from __future__ import annotations

import re
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import webtest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paste.deploy import loadapp

from logout_middleware import (
    DEFAULT_LOGOUT_PATH,
    LogoutMiddleware,
    MemoryBackend,
    SQLiteBackend,
)
from logout_middleware.backends.memory_index import MemorySessionIndex
from logout_middleware.backends.memory_revocation import MemoryRevocationStore

LOGOUT = DEFAULT_LOGOUT_PATH
HERE = sys.modules[__name__].__name__


def ok_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


def ok_app_factory(global_conf: dict[str, str], **local_conf: str) -> Any:
    return ok_app


def write_ini(directory: Path, filter_body: str, defaults: str = "") -> str:
    ini = directory / "audit.ini"
    ini.write_text(
        "[DEFAULT]\n"
        + defaults
        + "\n\n[pipeline:main]\npipeline = logout app\n\n"
        + "[filter:logout]\nuse = egg:logout-middleware\n"
        + filter_body
        + f"\n\n[app:app]\npaste.app_factory = {HERE}:ok_app_factory\n"
    )
    return f"config:{ini}"


def load(directory: Path, filter_body: str, defaults: str = "") -> Any:
    return loadapp(write_ini(directory, filter_body, defaults))


def load_error(directory: Path, filter_body: str) -> str:
    with pytest.raises(Exception) as info:
        load(directory, filter_body)
    return f"{type(info.value).__name__}: {info.value}"


# -- a snapshot of every setting, comparable between two middlewares ------------------

_ADDRESS = re.compile(r" at 0x[0-9a-f]+")


def _fields(obj: Any) -> dict[str, Any]:
    if hasattr(obj, "__dict__"):
        return dict(vars(obj))
    return {s: getattr(obj, s) for s in getattr(type(obj), "__slots__", ()) if hasattr(obj, s)}


def snapshot(obj: Any, depth: int = 0) -> Any:
    if isinstance(obj, (str, bytes, int, float, bool, type(None))):
        return obj
    if isinstance(obj, (tuple, list)):
        return tuple(snapshot(x, depth) for x in obj)
    if isinstance(obj, (set, frozenset)):
        return tuple(sorted(repr(snapshot(x, depth)) for x in obj))
    if isinstance(obj, dict):
        return tuple(sorted((repr(k), repr(snapshot(v, depth))) for k, v in obj.items()))
    module = type(obj).__module__ or ""
    if module.startswith("logout_middleware") and depth < 5 and not callable(obj):
        return (type(obj).__name__, snapshot(_fields(obj), depth + 1))
    if module.startswith("logout_middleware") and depth < 5 and _fields(obj):
        return (type(obj).__name__, snapshot(_fields(obj), depth + 1))
    return _ADDRESS.sub("", repr(obj))


def settings_of(mw: LogoutMiddleware) -> dict[str, Any]:
    """Every setting of the middleware (the stores by their type and settings)."""
    return {
        "paths": mw.paths,
        "methods": mw.methods,
        "cookie": mw.cookie,
        "expired_cookies": mw.expired_cookies,
        "origin_guard": snapshot(mw.origin_guard),
        "csrf_guard": snapshot(mw.csrf_guard),
        "redirect_to": mw.redirect_to,
        "everywhere_path": mw.everywhere_path,
        "backend": type(mw.backend).__name__,
        "index": type(mw.index).__name__,
        "revocation": type(mw.revocation).__name__,
        "core": snapshot(mw.core),
    }


# -- generated ini values and their Python equivalents ---------------------------------

Pair = tuple[str, Any]  # (the ini text, the Python value)


def any_case(word: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda flags: "".join(
            c.upper() if f else c.lower() for c, f in zip(word, flags, strict=True)
        )
    )


def padded(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    # Leading spaces are eaten by ConfigParser; trailing spaces and tabs stay.
    return st.tuples(text, st.sampled_from(["", " ", "  ", "\t"])).map(lambda t: t[0] + t[1])


def bools() -> st.SearchStrategy[Pair]:
    words = [(w, True) for w in ("true", "yes", "on", "1")]
    words += [(w, False) for w in ("false", "no", "off", "0")]
    return st.sampled_from(words).flatmap(
        lambda pair: padded(any_case(pair[0])).map(lambda text: (text, pair[1]))
    )


def optional_bools() -> st.SearchStrategy[Pair]:
    nones = st.sampled_from(["", "none", "auto"]).flatmap(any_case).map(lambda t: (t, None))
    return st.one_of(bools(), nones)


def nones() -> st.SearchStrategy[Pair]:
    return st.sampled_from(["", "none"]).flatmap(any_case).map(lambda t: (t, None))


def lists(items: list[str], min_size: int = 0) -> st.SearchStrategy[Pair]:
    """Items joined by spaces, commas or continuation lines, as an ini user writes them."""
    separators = st.sampled_from([" ", ",", ", ", " , ", "\n    ", ",\n    ", "\t"])
    return st.lists(st.sampled_from(items), min_size=min_size, max_size=3, unique=True).flatmap(
        lambda chosen: st.lists(separators, min_size=len(chosen), max_size=len(chosen)).map(
            lambda seps: (
                "".join(
                    ("\n    " if i == 0 and s.startswith("\n") else "")
                    + item.replace("%", "%%")
                    + s
                    if i < len(chosen) - 1
                    else item.replace("%", "%%")
                    for i, (item, s) in enumerate(zip(chosen, seps, strict=True))
                ),
                list(chosen),
            )
        )
    )


def strings(values: list[str]) -> st.SearchStrategy[Pair]:
    return st.sampled_from(values).flatmap(
        lambda v: padded(st.just(v.replace("%", "%%"))).map(lambda t: (t, v))
    )


def ints(values: list[int]) -> st.SearchStrategy[Pair]:
    spellings = [str, lambda n: f"+{n}" if n >= 0 else str(n), lambda n: f"{n:_}"]
    return st.tuples(st.sampled_from(values), st.sampled_from(spellings)).map(
        lambda t: (t[1](t[0]), t[0])
    )


def floats(values: list[float]) -> st.SearchStrategy[Pair]:
    return st.sampled_from(values).flatmap(
        lambda v: st.sampled_from([repr(v), f"{v:g}", f"{v:_}"]).map(lambda text: (text, v))
    )


OPTION_VALUES: dict[str, st.SearchStrategy[Pair]] = {
    "path": lists(["/logout", "/api/logout", "/bye.json", "/a/b/c"], min_size=1).map(
        lambda p: (p[0], p[1][0] if len(p[1]) == 1 else p[1])
    ),
    "methods": st.one_of(
        lists(["POST", "post", "Put", "DELETE", "patch"], min_size=1),
        st.just(("", [])),
    ),
    "cookie_name": strings(["session", "sid", "__Host-sid", "__Secure-s", "a.b", ""]),
    "cookie_path": strings(["/", "/app", "/a b", "", "/100%"]),
    "cookie_domain": st.one_of(strings(["example.com", ".example.com", "bad domain"]), nones()),
    "cookie_secure": optional_bools(),
    "cookie_httponly": bools(),
    "cookie_samesite": st.one_of(
        st.sampled_from(["Lax", "Strict", "None"]).flatmap(any_case).map(lambda t: (t, t)),
        st.just(("", None)),
    ),
    "cookie_partitioned": bools(),
    "session_id_from_cookie": st.one_of(
        st.just(("builtins:str.upper", str.upper)), st.just(("  builtins:str.strip", str.strip)),
        nones(),
    ),
    "also_expire": lists(["remember_me", "csrftoken", "XSRF-TOKEN", "a%b"]),
    "sweep_domains": lists(["example.com", "app.example.com", "localhost"]),
    "cross_site_protection": bools(),
    "trusted_origins": lists(["https://a.example.com", "http://b.example:8080",
                              "https://*.example.org"]),
    "clear_site_data": st.one_of(lists(["cache", "cookies", "storage", "*"], 1), nones()),
    "redirect_to": st.one_of(
        strings(["/login", "/bye?msg=100%25", "https://sso.example.com/out", "bye"]), nones()
    ),
    "next_param": strings(["next", "continue", "n%"]),
    "allowed_redirect_hosts": lists(["a.example.com", "b.example.com:8443"]),
    "max_form_size": ints([0, 1, 1024, 8192, -1]),
    "on_logout": lists(["builtins:print", "logging:debug", "builtins:repr"]),
    "revocation_max_age": floats([1.0, 3600.5, 86400.0, 0.0, 1e12]),
    "expose_errors": bools(),
    "everywhere_path": st.one_of(strings(["/logout/everywhere", "/e%20x", "nope"]), nones()),
}
CSRF_NAMES = st.tuples(
    st.one_of(strings(["XSRF-TOKEN", "csrftoken"]), nones()),
    st.one_of(strings(["X-XSRF-TOKEN", "X-CSRFToken"]), nones()),
)


def python_value(key: str, value: Any) -> Any:
    if key == "on_logout":
        import logging

        table = {"builtins:print": print, "logging:debug": logging.debug, "builtins:repr": repr}
        return [table[v] for v in value]
    return value


def build_python(kwargs: dict[str, Any]) -> Any:
    try:
        return LogoutMiddleware(ok_app, MemoryBackend(), **kwargs)
    except ValueError as exc:
        return f"ValueError: {exc}"


def build_ini(body: str) -> Any:
    with tempfile.TemporaryDirectory() as directory:
        try:
            return load(Path(directory), body)
        except ValueError as exc:
            return f"ValueError: {exc}"


def ini_line(key: str, text: str) -> str:
    return f"{key} = {text}"


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
@given(
    chosen=st.dictionaries(st.sampled_from(sorted(OPTION_VALUES)), st.just(None), max_size=6)
    .flatmap(lambda d: st.fixed_dictionaries({k: OPTION_VALUES[k] for k in d})),
    csrf=st.one_of(st.none(), CSRF_NAMES),
)
def test_generated_ini_sections_build_what_the_python_arguments_build(
    chosen: dict[str, Pair], csrf: tuple[Pair, Pair] | None
) -> None:
    lines = ["backend = memory:"]
    kwargs: dict[str, Any] = {}
    for key, (text, value) in chosen.items():
        lines.append(ini_line(key, text))
        kwargs[key] = python_value(key, value)
    if csrf is not None:
        for key, (text, value) in zip(("csrf_cookie_name", "csrf_header_name"), csrf, strict=True):
            lines.append(ini_line(key, text))
            kwargs[key] = value
    if "revocation_max_age" in chosen:
        lines.append("revocation = memory:")
        kwargs["revocation"] = MemoryRevocationStore()
    if "everywhere_path" in chosen:
        lines.append("index = memory:")
        kwargs["index"] = MemorySessionIndex()
    ini = build_ini("\n".join(lines))
    python = build_python(kwargs)
    if isinstance(python, str) or isinstance(ini, str):
        assert ini == python, "\n".join(lines)
    else:
        assert settings_of(ini) == settings_of(python), "\n".join(lines)


# -- converters: what the ini file refuses, and how it says so -------------------------


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("cookie_httponly = maybe", "cookie_httponly"),
        ("cookie_partitioned = 2", "cookie_partitioned"),
        ("cross_site_protection = enabled", "cross_site_protection"),
        ("expose_errors = y", "expose_errors"),
        ("cookie_secure = secure", "cookie_secure"),
        ("max_form_size = 8k", "max_form_size"),
        ("max_form_size = 1e3", "max_form_size"),
        ("max_form_size = 8192.0", "max_form_size"),
        ("revocation = memory:\nrevocation_max_age = a day", "revocation_max_age"),
        ("on_logout = logging:DEBUG", "on_logout"),
        ("on_logout = builtins", "on_logout"),
        ("on_logout = builtins:", "on_logout"),
        ("on_logout = :print", "on_logout"),
        ("on_logout = nowhere_at_all:x", "on_logout"),
        ("on_logout = os..path:join", "on_logout"),
        ("session_id_from_cookie = os:path", "session_id_from_cookie"),
        ("session_id_from_cookie = builtins:str..upper", "session_id_from_cookie"),
        ("session_id_from_cookie = builtins:print:x", "session_id_from_cookie"),
        ("index = memory:\nrevocation = memory:\nuser_from_cookie = builtins:None",
         "user_from_cookie"),
        ("index = memory:\nrevocation = memory:\nuser_from_cookie = nowhere:x",
         "user_from_cookie"),
    ],
)
def test_bad_ini_values_are_refused_naming_the_key(tmp_path: Path, line: str, key: str) -> None:
    message = load_error(tmp_path, f"backend = memory:\n{line}")
    assert message.startswith("ValueError: ") and repr(key) in message


def test_unknown_keys_and_keys_in_another_case_are_named(tmp_path: Path) -> None:
    for line, key in [
        ("Cookie_Name = sid", "Cookie_Name"),
        ("COOKIE_NAME = sid", "COOKIE_NAME"),
        ("cookie-name = sid", "cookie-name"),
        ("backend . table = x", "backend . table"),
    ]:
        message = load_error(tmp_path, f"backend = memory:\n{line}")
        assert f"unknown logout middleware option {key!r}" in message
        assert "cookie_name" in message
    message = load_error(tmp_path, "backend = memory:\nbackend.TABLE = x")
    assert "unknown backend option 'TABLE'" in message


def test_a_duplicate_key_is_refused_by_the_ini_parser(tmp_path: Path) -> None:
    message = load_error(tmp_path, "backend = memory:\ncookie_name = a\ncookie_name = b")
    assert "DuplicateOptionError" in message and "cookie_name" in message


def test_percent_must_be_doubled_and_doubled_percent_is_one(tmp_path: Path) -> None:
    from itsdangerous import Signer

    mw = load(tmp_path, "backend = memory:\nsigned_secret_key = 100%%secret")
    signed = Signer(b"100%secret", salt="flask-session", key_derivation="hmac").sign(b"abc")
    assert mw.session_id_from_cookie(signed.decode()) == "abc"
    message = load_error(tmp_path, "backend = memory:\nsigned_secret_key = 100%secret")
    assert "InterpolationSyntaxError" in message


def test_a_full_line_comment_inside_a_continued_list_is_dropped(tmp_path: Path) -> None:
    mw = load(
        tmp_path,
        "backend = memory:\ntrusted_origins =\n    https://a.example.com\n"
        "    # https://b.example.com\n    https://c.example.com",
    )
    python = LogoutMiddleware(
        ok_app, MemoryBackend(), trusted_origins=["https://a.example.com", "https://c.example.com"]
    )
    assert settings_of(mw)["origin_guard"] == settings_of(python)["origin_guard"]


def test_an_inline_comment_in_a_list_does_not_become_items(tmp_path: Path) -> None:
    try:
        mw = load(tmp_path, "backend = memory:\nalso_expire = remember_me  # legacy cookie")
    except ValueError as exc:
        assert "also_expire" in str(exc)
        return
    assert [c.name for c in mw.expired_cookies] == ["session", "remember_me"]


def test_a_relative_import_path_is_refused_naming_the_key(tmp_path: Path) -> None:
    message = load_error(tmp_path, "backend = memory:\non_logout = .hooks:done")
    assert message.startswith("ValueError: ") and "'on_logout'" in message


# -- signed_secret_key ------------------------------------------------------------------


def test_an_empty_signed_secret_key_is_refused_naming_the_ini_key(tmp_path: Path) -> None:
    message = load_error(tmp_path, "backend = memory:\nsigned_secret_key =")
    assert "signed_secret_key" in message


def test_signed_secret_key_fallbacks_on_continuation_lines(tmp_path: Path) -> None:
    from itsdangerous import Signer

    mw = load(
        tmp_path,
        "backend = memory:\nsigned_secret_key = current, key %%1\n"
        "signed_secret_key.fallbacks =\n    old key #1\n    older;key",
    )
    for key in ("current, key %1", "old key #1", "older;key"):
        signed = Signer(key.encode(), salt="flask-session", key_derivation="hmac").sign(b"abc")
        assert mw.session_id_from_cookie(signed.decode()) == "abc"


# -- stores named by URLs --------------------------------------------------------------


def test_store_options_from_the_ini_file_reach_the_stores(tmp_path: Path) -> None:
    from logout_middleware import SQLiteSessionIndex
    from logout_middleware.revocation import SQLiteRevocationStore

    mw = load(
        tmp_path,
        "backend = sqlite:///%(here)s/s.sqlite3\nbackend.table = my_sessions\n"
        "backend.timeout = 2.5\nbackend.key_prefix = p:\nbackend.create_table = OFF\n"
        "backend.id_column = sid\nbackend.data_column = blob\n"
        "revocation = sqlite:///%(here)s/r.sqlite3\nrevocation.table = revoked\n"
        "revocation.timeout = 3\n"
        "index = sqlite:///%(here)s/i.sqlite3\nindex.table = who\nindex.timeout = 4",
    )
    backend = mw.backend
    assert isinstance(backend, SQLiteBackend)
    assert (backend.path, backend.table, backend.timeout, backend.key_prefix) == (
        str(tmp_path / "s.sqlite3"), "my_sessions", 2.5, "p:"
    )
    assert (backend.id_column, backend.data_column) == ("sid", "blob")
    assert isinstance(mw.revocation, SQLiteRevocationStore)
    assert isinstance(mw.index, SQLiteSessionIndex) and mw.index.table == "who"


def test_redis_options_and_percent_encoded_passwords(tmp_path: Path) -> None:
    pytest.importorskip("redis")
    mw = load(
        tmp_path,
        "backend = redis://:p%%40ss%%2Fw%%25rd@127.0.0.1:6399/3\n"
        "backend.key_prefix = app:session:\nbackend.socket_timeout = 1.5\n"
        "backend.socket_connect_timeout = none\nbackend.retries = 0\nbackend.ttl = 60\n"
        "revocation = redis://127.0.0.1:6399/4\nrevocation.key_prefix = revoked:\n"
        "index = rediss://127.0.0.1:6399/5\nindex.key_prefix = idx:\nindex.retries = 2",
    )
    kwargs = mw.backend.client.connection_pool.connection_kwargs
    assert kwargs["password"] == "p@ss/w%rd" and kwargs["db"] == 3
    assert kwargs["socket_timeout"] == 1.5 and kwargs["socket_connect_timeout"] is None
    assert mw.backend.key_prefix == "app:session:"


def test_sqlalchemy_url_password_percent_encoding(tmp_path: Path) -> None:
    pytest.importorskip("sqlalchemy")
    mw = load(
        tmp_path,
        "backend = sqlite+pysqlite:///%(here)s/sa.sqlite3\nbackend.table = t\n"
        "backend.schema = none\nbackend.create_table = Yes",
    )
    assert type(mw.backend).__name__ == "SQLAlchemyBackend"


SECRET = "s3cr3tPW"


@pytest.mark.parametrize(
    "body",
    [
        f"backend = redis://:{SECRET}@127.0.0.1:notaport/0",
        f"backend = redis://user:{SECRET}@127.0.0.1:6379/zero",
        f"backend = redis://:p@{SECRET}@127.0.0.1:bad/0",
        f"backend = redis://:p/{SECRET}@127.0.0.1:bad/0",
        f"backend = redis://:x%%2F{SECRET}@127.0.0.1:bad/0",
        f"backend = nosuchdb://u:{SECRET}@db/app",
        f"backend = mysql+nosuch://u:{SECRET}@db/app",
        f"backend = memory:\nrevocation = postgresql://u:{SECRET}@db/app",
        f"backend = memory:\nrevocation = redis://u:{SECRET}@db:xx/0",
        f"backend = memory:\nindex = redis://:{SECRET}@db:xx/0",
        f"backend = memory:\nindex = ftp://u:{SECRET}@db/x",
        f"backend = redis://:{SECRET}@127.0.0.1:6379/0\nbackend.tabel = x",
        f"backend = redis://:{SECRET}@127.0.0.1:6379/0\nbackend.ttl = -1",
        f"backend = redis://127.0.0.1:6379/0?password={SECRET}&db=x\nbackend.retries = x",
        f"backend = postgresql://u:{SECRET}@db/app\nbackend.table = bad table",
        "backend = memory:\nindex = memory:\noidc = https://op.example\noidc.client_id = a\n"
        f"oidc.replay_cache = redis://:{SECRET}@h:bad/0",
    ],
)
def test_passwords_in_store_urls_never_appear_in_messages(tmp_path: Path, body: str) -> None:
    message = load_error(tmp_path, body)
    assert SECRET not in message and "s3cr" not in message, message


def test_an_sqlite_url_query_is_not_part_of_the_file_name(tmp_path: Path) -> None:
    try:
        mw = load(tmp_path, "backend = sqlite:///%(here)s/s.sqlite3?timeout=30")
    except ValueError as exc:
        assert "backend" in str(exc)
        return
    assert mw.backend.path == str(tmp_path / "s.sqlite3")


def test_a_store_refusing_an_option_names_the_ini_key(tmp_path: Path) -> None:
    message = load_error(
        tmp_path, "backend = memory:\nindex = sqlite:///%(here)s/i.sqlite3\nindex.timeout = 0"
    )
    assert "index" in message.replace("index = ", "")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("backend = memory:\nindex.table = x", "no 'index = URL'"),
        ("backend = memory:\nindex = none\nindex.table = x", "no 'index = URL'"),
        ("backend = NONE\nrevocation = none", "needs 'backend = URL'"),
        ("backend = memory:\nrevocation = redis://h:6379/0\nrevocation.ttl = 5",
         "unknown revocation option 'ttl'"),
        ("backend = memory:\nbackend.x = 1", "valid options: none"),
        ("backend = Memory:", "is not a store URL"),
        ("backend = sqlite://", "needs a file"),
        ("backend = call:logging:DEBUG", "not callable"),
        ("backend = memory:\nindex = call:builtins:dict", "not a session index"),
        ("backend = memory:\nindex = memory:\noidc = https://op.example\n"
         "oidc.client_id = a\noidc.replay_cache.key_prefix = x",
         "unknown oidc option 'replay_cache.key_prefix'"),
    ],
)
def test_store_keys_without_their_url_or_with_bad_options(
    tmp_path: Path, body: str, expected: str
) -> None:
    assert expected in load_error(tmp_path, body)


# -- [DEFAULT], get/set, filter-with, filter-app ---------------------------------------


def test_get_reads_a_default_and_a_default_alone_is_not_a_filter_key(tmp_path: Path) -> None:
    mw = load(
        tmp_path,
        "get backend = shared_backend\ncookie_name = sid",
        defaults="shared_backend = sqlite:///%(here)s/shared.sqlite3\nunrelated = 1",
    )
    assert isinstance(mw.backend, SQLiteBackend)
    assert mw.backend.path == str(tmp_path / "shared.sqlite3") and mw.cookie.name == "sid"


def _pipeline_ini(tmp_path: Path, layout: str) -> str:
    filter_keys = "backend = sqlite:///%(here)s/s.sqlite3\ncookie_name = sid\n"
    sections = {
        "pipeline": f"""
            [pipeline:main]
            pipeline = logout app

            [filter:logout]
            use = egg:logout-middleware
            {filter_keys}
            [app:app]
            paste.app_factory = {HERE}:ok_app_factory
            """,
        "filter-with": f"""
            [app:main]
            paste.app_factory = {HERE}:ok_app_factory
            filter-with = logout

            [filter:logout]
            use = egg:logout-middleware
            {filter_keys}""",
        "filter-app": f"""
            [filter-app:main]
            use = egg:logout-middleware
            next = app
            {filter_keys}
            [app:app]
            paste.app_factory = {HERE}:ok_app_factory
            """,
    }
    text = re.sub(r"^ +", "", sections[layout], flags=re.MULTILINE)
    (tmp_path / "p.ini").write_text(text)
    return f"config:{tmp_path / 'p.ini'}"


@pytest.mark.parametrize("layout", ["pipeline", "filter-with", "filter-app"])
def test_every_pastedeploy_layout_logs_out(tmp_path: Path, layout: str) -> None:
    mw = loadapp(_pipeline_ini(tmp_path, layout))
    assert isinstance(mw, LogoutMiddleware)
    session_id = mw.backend.create({"user": "u"})
    app = webtest.TestApp(mw, lint=True)
    assert app.get("/").text == "app"
    response = app.post(LOGOUT, headers={"Cookie": f"sid={session_id}"})
    assert response.json == {"message": "OK"}
    assert mw.backend.get(session_id) is None
    assert any(
        h.startswith("sid=;") and "Max-Age=0" in h for h in response.headers.getall("Set-Cookie")
    )


# -- the docs' own production.ini, end to end ------------------------------------------

MYAPP = '''
def make_app(global_conf, **settings):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"Hello from myapp\\n"]

    return app
'''

PRODUCTION_INI = """
[pipeline:main]
pipeline = logout myapp

[filter:logout]
use = egg:logout-middleware
backend = sqlite:///%(here)s/sessions.sqlite3
backend.timeout = 5
cookie_name = session
cookie_samesite = Lax
csrf_cookie_name = XSRF-TOKEN
csrf_header_name = X-XSRF-TOKEN
trusted_origins = https://admin.example.com https://app.example.com

[app:myapp]
use = call:myapp:make_app
"""


def test_the_docs_production_ini_logs_in_and_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = (Path(__file__).parents[2] / "docs" / "deployment.rst").read_text()
    assert textwrap.indent(PRODUCTION_INI.strip(), "   ") in docs  # the docs' own example
    (tmp_path / "myapp.py").write_text(MYAPP)
    (tmp_path / "production.ini").write_text(PRODUCTION_INI)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("myapp", None)
    mw = loadapp("config:production.ini", relative_to=str(tmp_path))
    assert isinstance(mw, LogoutMiddleware)
    assert isinstance(mw.backend, SQLiteBackend) and mw.backend.timeout == 5
    app = webtest.TestApp(mw, lint=True)
    assert app.get("/").text == "Hello from myapp\n"

    # log in: the session the app would have created, its cookie in the browser
    session_id = SQLiteBackend(tmp_path / "sessions.sqlite3").create({"user": "ada"})
    app.set_cookie("session", session_id)
    app.set_cookie("XSRF-TOKEN", "t0k3n")
    app.post(LOGOUT, status=403)  # no header: nothing ended
    assert mw.backend.get(session_id) == {"user": "ada"}
    app.post(LOGOUT, headers={"Origin": "https://evil.example"}, status=403)
    response = app.post(
        LOGOUT, headers={"X-XSRF-TOKEN": "t0k3n", "Origin": "https://admin.example.com"}
    )
    assert response.json == {"message": "OK"}
    assert mw.backend.get(session_id) is None
    deleted = response.headers.getall("Set-Cookie")
    for name in ("session", "XSRF-TOKEN"):  # both cookies expired
        assert any(h.startswith(f"{name}=;") and "Max-Age=0" in h for h in deleted), deleted
    assert any(h.startswith("session=;") and "SameSite=Lax" in h for h in deleted)
    sys.modules.pop("myapp", None)
