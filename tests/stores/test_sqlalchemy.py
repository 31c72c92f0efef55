"""SQLAlchemyBackend: settings checked at construction, ids that cannot exist, and
recovery after a real PostgreSQL restart."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from servers import PostgresServer

from logout_middleware.backends import SessionStore, SQLAlchemyBackend


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    e = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield e
    e.dispose()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"table": "sessions; DROP TABLE x"},
        {"table": 'a"b'},
        {"table": "1sessions"},
        {"table": ""},
        {"id_column": "session id"},
        {"id_column": "x" * 64},
        {"data_column": "data--"},
        {"schema": "public.x"},
    ],
)
def test_names_that_are_not_plain_identifiers_are_refused(
    engine: sa.Engine, kwargs: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match="plain SQL identifier"):
        SQLAlchemyBackend(engine, **kwargs)  # type: ignore[arg-type]


def test_something_else_than_an_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="SQLAlchemy Engine"):
        SQLAlchemyBackend("sqlite:///x.db")  # type: ignore[arg-type]


def test_missing_sqlalchemy_names_the_extra(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    with pytest.raises(ImportError, match=r"logout-middleware\[sql\]"):
        SQLAlchemyBackend(engine)


def test_construction_does_not_touch_the_database(tmp_path: Path) -> None:
    e = sa.create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite'}")
    SQLAlchemyBackend(e)  # the directory does not even exist: no query was run
    e.dispose()


def test_table_is_created_only_when_asked(engine: sa.Engine) -> None:
    backend = SQLAlchemyBackend(engine)
    with pytest.raises(sa.exc.OperationalError):
        backend.delete("abc")  # a misspelt table fails loudly
    backend = SQLAlchemyBackend(engine, create_table=True)
    assert isinstance(backend, SessionStore)
    sid = backend.create({"user": "ada"})
    assert backend.get(sid) == {"user": "ada"}
    SQLAlchemyBackend(engine, create_table=True)  # already there: nothing happens
    assert backend.get(sid) == {"user": "ada"}


def test_custom_names_and_prefix_are_used(engine: sa.Engine) -> None:
    backend = SQLAlchemyBackend(
        engine, table="web_sessions", id_column="k", data_column="v", key_prefix="p:",
        create_table=True,
    )
    sid = backend.create({"a": 1})
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT k FROM web_sessions")).scalar_one() == "p:" + sid
    backend.delete(sid)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM web_sessions")).scalar_one() == 0


@pytest.mark.postgres
def test_nul_id_is_nothing_to_delete_on_postgresql(pg_engine: sa.Engine) -> None:
    backend = SQLAlchemyBackend(pg_engine, create_table=True)
    sid = backend.create({"user": "ada"})
    # PostgreSQL itself refuses NUL in text: without the check this would be an error.
    with pytest.raises(sa.exc.DataError), pg_engine.connect() as conn:
        conn.execute(sa.text("SELECT 1 FROM sessions WHERE session_id = :k"), {"k": "a\x00"})
    backend.delete(sid + "\x00")
    backend.delete("\x00")
    assert backend.get("\x00") is None
    assert backend.get(sid) == {"user": "ada"}


@pytest.mark.postgres
def test_logouts_work_again_after_a_postgresql_restart(
    pg_engine: sa.Engine, postgres_server: PostgresServer
) -> None:
    backend = SQLAlchemyBackend(pg_engine, create_table=True)
    first = backend.create({"n": 1})
    backend.delete(first)  # the pool now holds a connection that the restart cuts
    with postgres_server.stopped():
        with pytest.raises(sa.exc.OperationalError):
            backend.delete("during-outage")
    second = backend.create({"n": 2})
    backend.delete(second)
    assert backend.get(second) is None


@pytest.mark.postgres
def test_unreachable_postgresql_fails_with_the_connect_timeout(
    postgres_server: PostgresServer,
) -> None:
    import time

    e = sa.create_engine(postgres_server.url, connect_args={"connect_timeout": 2})
    backend = SQLAlchemyBackend(e)
    with postgres_server.stopped():
        started = time.monotonic()
        with pytest.raises(sa.exc.OperationalError):
            backend.delete("x")
        assert time.monotonic() - started < 3
    e.dispose()
