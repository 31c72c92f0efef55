"""PasteDeploy: the ``egg:logout-middleware`` filter, its ini conversions and errors."""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import webtest
from example_apps import EXAMPLES, import_example
from paste.deploy import loadapp

from logout_middleware import (
    DEFAULT_LOGOUT_PATH,
    LogoutMiddleware,
    MemoryBackend,
    SQLiteBackend,
)
from logout_middleware.paste import OPTIONS, OWN_KEYS, filter_app_factory, middleware_options

LOGOUT = DEFAULT_LOGOUT_PATH


def ok_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


def build(**conf: str) -> LogoutMiddleware:
    return filter_app_factory(ok_app, {}, **conf)


def write_ini(tmp_path: Path, body: str) -> str:
    ini = tmp_path / "app.ini"
    ini.write_text(textwrap.dedent(body))
    return f"config:{ini}"


# -- the shipped example pipeline -------------------------------------------------


def load_example_ini(tmp_path: Path) -> Any:
    """Load a copy of examples/paste.ini, so that %(here)s (and the database) is tmp_path."""
    import_example("demo")  # puts examples/ on sys.path for `demo:paste_app_factory`
    shutil.copy(EXAMPLES / "paste.ini", tmp_path / "paste.ini")
    return loadapp("config:paste.ini", relative_to=str(tmp_path))


def test_example_paste_ini_pipeline_logs_in_and_out(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite3"
    wsgi = load_example_ini(tmp_path)
    assert isinstance(wsgi, LogoutMiddleware)
    app = webtest.TestApp(wsgi, lint=True)

    app.post("/login", {"username": "paula"}, status=303)
    session_id = app.cookies["session"]
    store = SQLiteBackend(db)
    assert store.get(session_id) == {"username": "paula"}
    assert "paula" in app.get("/").text

    response = app.post(
        LOGOUT,
        "{}",
        content_type="application/json",
        headers={"X-XSRF-TOKEN": app.cookies["XSRF-TOKEN"]},
    )
    assert response.json == {"message": "OK"}
    assert store.get(session_id) is None
    assert "session" not in app.cookies and "XSRF-TOKEN" not in app.cookies
    assert "anonymous" in app.get("/").text


def test_example_paste_ini_refuses_logout_without_the_xsrf_header(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite3"
    app = webtest.TestApp(load_example_ini(tmp_path))
    app.post("/login", {"username": "paula"}, status=303)
    session_id = app.cookies["session"]
    app.post(LOGOUT, "{}", content_type="application/json", status=403)
    assert SQLiteBackend(db).get(session_id) == {"username": "paula"}


def test_example_paste_ini_sends_clear_site_data_over_https_only(tmp_path: Path) -> None:
    app = webtest.TestApp(load_example_ini(tmp_path))
    headers = {"X-XSRF-TOKEN": "t", "Cookie": "XSRF-TOKEN=t"}
    plain = app.post(LOGOUT, headers=headers)
    assert "Clear-Site-Data" not in plain.headers
    secure = app.post(LOGOUT, headers=headers, extra_environ={"wsgi.url_scheme": "https"})
    assert secure.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'


def test_egg_entry_point_main_is_the_filter_factory() -> None:
    (entry,) = entry_points(group="paste.filter_app_factory", name="main")
    assert entry.dist is not None and entry.dist.name == "logout-middleware"
    assert entry.load() is filter_app_factory


def test_loadapp_builds_the_filter_from_use_egg(tmp_path: Path) -> None:
    uri = write_ini(
        tmp_path,
        f"""
        [pipeline:main]
        pipeline = logout app

        [filter:logout]
        use = egg:logout-middleware
        backend = sqlite:///%(here)s/s.sqlite3
        cookie_name = sid

        [app:app]
        paste.app_factory = {__name__}:ok_app_factory
        """,
    )
    wsgi = loadapp(uri)
    assert isinstance(wsgi, LogoutMiddleware)
    assert isinstance(wsgi.backend, SQLiteBackend)
    assert wsgi.backend.path == str(tmp_path / "s.sqlite3")
    assert wsgi.cookie.name == "sid"
    assert webtest.TestApp(wsgi).get("/").text == "app"


def ok_app_factory(global_conf: dict[str, str], **local_conf: str) -> Any:
    return ok_app


# -- conversions ---------------------------------------------------------------------


def test_ini_strings_become_the_constructors_types() -> None:
    mw = build(
        backend="memory:",
        path="/logout, /api/logout\n/bye",
        methods="post put",
        cookie_name="sid",
        cookie_path="/app",
        cookie_domain="example.com",
        cookie_secure="yes",
        cookie_httponly="off",
        cookie_samesite="Strict",
        cookie_partitioned="false",
        also_expire="remember_me  csrftoken",
        sweep_domains="example.com",
        cross_site_protection="0",
        trusted_origins="https://a.example.com,https://b.example.com",
        clear_site_data="cache cookies",
        redirect_to="/login",
        next_param="continue",
        allowed_redirect_hosts="a.example.com",
        max_form_size="1024",
        revocation_max_age="3600.5",
        expose_errors="TRUE",
    )
    assert isinstance(mw.backend, MemoryBackend)
    assert mw.paths == ("/logout", "/api/logout", "/bye")
    assert mw.core.methods == ("POST", "PUT")
    assert mw.cookie.name == "sid" and mw.cookie.path == "/app"
    assert mw.cookie.domain == "example.com"
    assert mw.cookie.secure is True and mw.cookie.httponly is False
    assert mw.cookie.samesite == "Strict" and mw.cookie.partitioned is False
    assert [c.name for c in mw.expired_cookies] == ["sid", "remember_me", "csrftoken"]
    assert mw.core.expiry.sweep_domains == ("example.com",)
    assert mw.origin_guard is None
    redirects = mw.core.redirects
    assert redirects is not None
    assert mw.redirect_to == "/login" and redirects.next_param == "continue"
    assert redirects.allowed_hosts == {"a.example.com"} and redirects.max_form_size == 1024
    assert mw.core.expose_errors is True


def test_single_path_stays_a_string_and_defaults_apply() -> None:
    options = middleware_options({"backend": "memory:", "path": "/logout"})
    assert options["path"] == "/logout"
    mw = build(backend="memory:")
    assert mw.paths == (DEFAULT_LOGOUT_PATH,)
    assert mw.cookie.samesite == "Lax" and mw.cookie.secure is None
    assert mw.origin_guard is not None


@pytest.mark.parametrize("text", ["none", "None", ""])
def test_none_word_or_empty_value_means_none(text: str) -> None:
    mw = build(backend="memory:", cookie_domain=text, cookie_secure=text, redirect_to=text)
    assert mw.cookie.domain is None and mw.cookie.secure is None and mw.redirect_to is None


def test_cookie_secure_auto_means_none() -> None:
    assert build(backend="memory:", cookie_secure="auto").cookie.secure is None


def test_cookie_samesite_none_is_the_attribute_and_empty_is_no_attribute() -> None:
    attribute = build(backend="memory:", cookie_samesite="None", cookie_secure="true")
    assert attribute.cookie.samesite == "None"
    assert "SameSite=None" in attribute.cookie.headers[0]
    omitted = build(backend="memory:", cookie_samesite="")
    assert omitted.cookie.samesite is None
    assert "SameSite" not in omitted.cookie.headers[0]


def test_callables_are_named_as_module_colon_name() -> None:
    mw = build(
        backend="memory:",
        session_id_from_cookie="builtins:str.upper",
        on_logout="builtins:print, logging:debug",
    )
    assert mw.session_id_from_cookie is str.upper
    assert len(mw.core.reporter.callbacks) == 2


def sign(key: str, value: bytes = b"abc") -> str:
    from itsdangerous import Signer

    return Signer(key.encode(), salt="flask-session", key_derivation="hmac").sign(value).decode()


def test_signed_secret_key_builds_the_flask_session_extractor() -> None:
    mw = build(backend="memory:", signed_secret_key="new-key")
    extract = mw.session_id_from_cookie
    assert extract is not None
    assert extract(sign("new-key")) == "abc"
    assert extract("abc.forged") is None


@pytest.mark.parametrize("secret", ["two words", "a,b,c", " padded secret ", "x" * 80])
def test_signed_secret_key_is_one_secret_taken_whole(secret: str) -> None:
    mw = build(backend="memory:", signed_secret_key=secret)
    extract = mw.session_id_from_cookie
    assert extract is not None
    assert extract(sign(secret.strip())) == "abc"
    for part in secret.replace(",", " ").split():  # never a fragment of it
        if part != secret.strip():
            assert extract(sign(part)) is None


def test_signed_secret_key_fallbacks_rotate_keys_one_per_line() -> None:
    mw = build(
        backend="memory:",
        signed_secret_key="current key",
        **{"signed_secret_key.fallbacks": "\n  oldest key\n  old, key\n"},
    )
    extract = mw.session_id_from_cookie
    assert extract is not None
    for key in ("current key", "oldest key", "old, key"):
        assert extract(sign(key)) == "abc"
    assert extract(sign("old")) is None and extract(sign("current")) is None
    with pytest.raises(ValueError, match="needs signed_secret_key"):
        build(backend="memory:", **{"signed_secret_key.fallbacks": "k"})


def test_the_ini_table_has_exactly_the_constructors_keywords() -> None:
    params = list(inspect.signature(LogoutMiddleware).parameters)[2:]
    assert sorted(OPTIONS) == sorted(params)
    assert not set(OWN_KEYS) & set(params)


@pytest.mark.parametrize("key", sorted(OPTIONS))
def test_every_constructor_option_can_be_written_in_an_ini_file(key: str) -> None:
    samples = {
        "session_id_from_cookie": "builtins:str.upper",
        "on_logout": "builtins:print",
        "revocation": "memory:",
        "csrf_cookie_name": "XSRF-TOKEN",
        "csrf_header_name": "X-XSRF-TOKEN",
        "path": "/a /b",
        "methods": "POST",
        "cookie_name": "sid",
        "cookie_path": "/",
        "csrf_cookie_path": "/",
        "csrf_cookie_domain": "example.com",
        "cookie_domain": "example.com",
        "cookie_samesite": "Strict",
        "also_expire": "a b",
        "sweep_domains": "example.com",
        "trusted_origins": "https://a.example",
        "clear_site_data": "cache",
        "redirect_to": "/bye",
        "next_param": "n",
        "allowed_redirect_hosts": "a.example",
        "max_form_size": "10",
        "revocation_max_age": "1.5",
        "index": "memory:",
        "everywhere_path": "/logout/everywhere",
        "user_from_cookie": "builtins:len",
        "csrf_field_name": "_csrf",
    }
    value = samples.get(key, "true")
    conf = {"backend": "memory:", key: value}
    if key.startswith("csrf_"):  # the token cookie's settings go with its name and header
        conf.update(csrf_cookie_name="XSRF-TOKEN", csrf_header_name="X-XSRF-TOKEN")
    if key == "everywhere_path":
        conf["index"] = "memory:"
    if key == "user_from_cookie":
        conf.update(index="memory:", revocation="memory:")
    if key == "oidc":
        conf.update(
            index="memory:", oidc="http://127.0.0.1:9/realm", **{"oidc.client_id": "app"}
        )
    assert isinstance(build(**conf), LogoutMiddleware)


def test_the_oidc_logout_from_an_ini_file(tmp_path: Path) -> None:
    from logout_middleware.oidc import OIDCLogout, RevocationReplayCache
    from logout_middleware.paste import OIDC_OPTIONS

    middleware = build(
        backend="memory:",
        index="memory:",
        oidc="https://login.example.com/realms/main",
        **{
            "oidc.client_id": "studio",
            "oidc.post_logout_redirect_uri": "https://studio.example.com/",
            "oidc.backchannel_path": "/bcl",
            "oidc.algorithms": "RS256 ES256",
            "oidc.clock_skew": "30",
            "oidc.replay_cache": f"sqlite:///{tmp_path}/replay.sqlite3",
        },
    )
    oidc = middleware.ender.oidc
    assert isinstance(oidc, OIDCLogout)
    assert (oidc.issuer, oidc.client_id) == ("https://login.example.com/realms/main", "studio")
    assert oidc.backchannel_path == "/bcl" and "/bcl" in middleware._paths
    assert set(oidc.algorithms) == {"RS256", "ES256"} and oidc.clock_skew == 30
    assert isinstance(oidc.replay_cache, RevocationReplayCache)
    keywords = set(inspect.signature(OIDCLogout).parameters) - {"issuer", "ssl_context"}
    assert set(OIDC_OPTIONS) == keywords


@pytest.mark.parametrize(
    ("conf", "expected"),
    [
        ({"oidc": "https://op.example"}, "needs oidc.client_id"),
        ({"oidc": "https://op.example", "oidc.client_id": "a", "oidc.clokc_skew": "1"},
         "unknown oidc option 'clokc_skew'"),
        ({"oidc.client_id": "a"}, "no 'oidc = URL'"),
        ({"oidc": "http://op.example", "oidc.client_id": "a"}, "https"),
    ],
)
def test_bad_oidc_settings_in_an_ini_file(conf: dict[str, str], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        build(backend="memory:", index="memory:", **conf)


def test_the_index_and_everywhere_path_from_an_ini_file(tmp_path: Path) -> None:
    from logout_middleware import SQLiteSessionIndex

    middleware = build(
        backend="memory:",
        index=f"sqlite:///{tmp_path}/index.sqlite3",
        **{"index.table": "who_has_what"},
        everywhere_path="/logout/everywhere",
    )
    assert isinstance(middleware.index, SQLiteSessionIndex)
    assert middleware.index.table == "who_has_what"
    assert middleware.everywhere_path == "/logout/everywhere"


# -- errors ---------------------------------------------------------------------------


def test_unknown_key_is_named_and_the_valid_ones_listed() -> None:
    with pytest.raises(ValueError) as info:
        build(backend="memory:", cookie_nmae="sid")
    message = str(info.value)
    assert "'cookie_nmae'" in message
    for valid in ("cookie_name", "cookie_path", "backend", "trusted_origins"):
        assert valid in message


def test_unknown_backend_option_is_named_and_the_valid_ones_listed(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as info:
        build(backend=f"sqlite:///{tmp_path}/s.sqlite3", **{"backend.tabel": "x"})
    assert "'tabel'" in str(info.value) and "table" in str(info.value)


@pytest.mark.parametrize(
    ("conf", "expected"),
    [
        ({"backend": "memory:", "expose_errors": "maybe"}, "'expose_errors' must be true or false"),
        ({"backend": "memory:", "max_form_size": "8k"}, "max_form_size"),
        ({"backend": "memory:", "revocation_max_age": "a day"}, "revocation_max_age"),
        ({"backend": "memory:", "on_logout": "print"}, "package.module:name"),
        ({"backend": "memory:", "on_logout": "nowhere.at_all:x"}, "cannot import"),
        ({}, "needs 'backend = URL'"),
        ({"backend": "mysql"}, "not a store URL"),
        ({"backend": "sqlite://"}, "an SQLite URL needs a file"),
        ({"backend": "memory:", "revocation.table": "x"}, "no 'revocation = URL'"),
        ({"backend.table": "x"}, "no 'backend = URL'"),
        ({"backend": "memory:", "revocation": "ftp://x"}, "not a revocation store URL"),
        ({"backend": "memory:", "index.table": "x"}, "no 'index = URL'"),
        ({"backend": "memory:", "everywhere_path": "/e"}, "everywhere_path needs index"),
        ({"backend": "memory:", "index": "memory:", "index.tabel": "x"}, "'tabel'"),
    ],
)
def test_bad_values_raise_value_error_that_says_what_to_change(
    conf: dict[str, str], expected: str
) -> None:
    with pytest.raises(ValueError, match=expected):
        build(**conf)


def test_middleware_validation_still_applies_to_ini_values() -> None:
    with pytest.raises(ValueError, match="SameSite=None"):
        build(backend="memory:", cookie_samesite="None", cookie_secure="false")


# -- backends by URL ------------------------------------------------------------------


def test_sqlite_url_with_relative_path_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    mw = build(backend="sqlite:///rel.sqlite3", **{"backend.table": "my_sessions"})
    assert isinstance(mw.backend, SQLiteBackend)
    assert mw.backend.path == "rel.sqlite3" and mw.backend.table == "my_sessions"


def test_sqlite_backend_deletes_the_record_on_logout(tmp_path: Path) -> None:
    mw = build(backend=f"sqlite:///{tmp_path}/s.sqlite3", **{"backend.timeout": "2.5"})
    assert isinstance(mw.backend, SQLiteBackend) and mw.backend.timeout == 2.5
    session_id = mw.backend.create({"user": "u"})
    webtest.TestApp(mw).post(LOGOUT, headers={"Cookie": f"session={session_id}"})
    assert mw.backend.get(session_id) is None


def test_other_sqlalchemy_urls_get_a_sqlalchemy_backend(tmp_path: Path) -> None:
    from logout_middleware.backends.sqlalchemy import SQLAlchemyBackend

    mw = build(
        backend=f"sqlite+pysqlite:///{tmp_path}/sa.sqlite3",
        **{"backend.table": "sessions", "backend.create_table": "true"},
    )
    assert isinstance(mw.backend, SQLAlchemyBackend)
    session_id = mw.backend.create({"user": "u"})
    webtest.TestApp(mw).post(LOGOUT, headers={"Cookie": f"session={session_id}"})
    assert mw.backend.get(session_id) is None


def test_call_factory_builds_a_custom_backend() -> None:
    CUSTOM_CALLS.clear()  # the suite may run twice in one process (make mutate)
    mw = build(backend=f"call:{__name__}:custom_backend", **{"backend.label": "x"})
    assert isinstance(mw.backend, MemoryBackend)
    assert CUSTOM_CALLS == [{"label": "x"}]


CUSTOM_CALLS: list[dict[str, str]] = []


def custom_backend(**options: str) -> MemoryBackend:
    CUSTOM_CALLS.append(options)
    return MemoryBackend()


@pytest.mark.redis
def test_redis_url_builds_a_redis_backend_that_deletes_on_logout(redis_server: Any) -> None:
    from logout_middleware.backends.redis import RedisBackend

    mw = build(
        backend=redis_server.url,
        **{"backend.key_prefix": "paste:", "backend.socket_timeout": "1", "backend.retries": "0"},
    )
    assert isinstance(mw.backend, RedisBackend)
    session_id = mw.backend.create({"user": "u"})
    assert mw.backend.client.exists(f"paste:{session_id}") == 1
    webtest.TestApp(mw).post(LOGOUT, headers={"Cookie": f"session={session_id}"})
    assert mw.backend.client.exists(f"paste:{session_id}") == 0
    mw.backend.close()


@pytest.mark.postgres
def test_postgresql_url_builds_a_sqlalchemy_backend_that_deletes_on_logout(
    postgres_server: Any,
) -> None:
    from logout_middleware.backends.sqlalchemy import SQLAlchemyBackend

    mw = build(
        backend=postgres_server.url,
        **{"backend.table": "paste_sessions", "backend.create_table": "yes"},
    )
    assert isinstance(mw.backend, SQLAlchemyBackend)
    session_id = mw.backend.create({"user": "u"})
    webtest.TestApp(mw).post(LOGOUT, headers={"Cookie": f"session={session_id}"})
    assert mw.backend.get(session_id) is None
    mw.backend.engine.dispose()


def test_revocation_url_builds_a_shared_store(tmp_path: Path) -> None:
    from logout_middleware.revocation import SQLiteRevocationStore

    mw = build(revocation=f"sqlite:///{tmp_path}/revoked.sqlite3")
    assert mw.backend is None
    assert isinstance(mw.revocation, SQLiteRevocationStore)


def test_sqlite_filter_imports_neither_redis_nor_sqlalchemy(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        from logout_middleware.paste import filter_app_factory
        filter_app_factory(lambda e, s: [], {{}}, backend="sqlite:///{tmp_path}/s.sqlite3")
        filter_app_factory(lambda e, s: [], {{}}, backend="memory:")
        loaded = sorted(m for m in ("redis", "sqlalchemy") if m in sys.modules)
        assert not loaded, loaded
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
