"""OIDC sessions in the shared stores, on real servers: the labels (the ID token kept
in parts) in the SQL index on PostgreSQL and in the Redis index, found again from a
validated logout token; and the replay cache in a Redis revocation store shared by two
"workers"."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from oidc_provider import (
    OpenIDProvider,
    oidc_provider_fixture,  # noqa: F401 - the oidc_provider fixture
)
from servers import RedisServer

from logout_middleware.oidc import InvalidLogoutToken, OIDCLogout


def logout_for(provider: OpenIDProvider, **settings: Any) -> OIDCLogout:
    return OIDCLogout(provider.issuer, provider.client_id, timeout=3, **settings)


def log_in(
    oidc: OIDCLogout, provider: OpenIDProvider, index: Any, session_id: str, **kw: Any
) -> str:
    id_token, claims = provider.id_token(**kw)
    index.add(
        session_id, ttl=3600, user=claims["sub"], **oidc.session_labels(claims, id_token=id_token)
    )
    return id_token


def the_round_trip(provider: OpenIDProvider, index: Any) -> None:
    oidc = logout_for(provider)
    id_token = log_in(oidc, provider, index, "s-phone", sid="op-1", sub="ada")
    log_in(oidc, provider, index, "s-laptop", sid="op-2", sub="ada")
    log_in(oidc, provider, index, "s-bob", sid="op-3", sub="bob")
    assert len(id_token) > 2 * 255  # three parts at least

    by_sid = oidc.validate_logout_token(provider.logout_token(sid="op-1", sub="ada"))
    assert index.find(*by_sid.lookup) == {"s-phone"}
    by_sub = oidc.validate_logout_token(provider.logout_token(sid=None, sub="ada"))
    assert index.find(*by_sub.lookup) == {"s-phone", "s-laptop"}

    url = oidc.logout_url(index.labels("s-phone"), state="st")
    assert url is not None and f"id_token_hint={id_token}" in url


@pytest.fixture
def pg_index(pg_engine: Any) -> Iterator[Any]:
    import sqlalchemy as sa

    from logout_middleware.backends import SQLAlchemySessionIndex

    table = f"oidc_index_{secrets.token_hex(4)}"
    yield SQLAlchemySessionIndex(pg_engine, table=table)
    with pg_engine.begin() as conn:
        conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}"'))


@pytest.mark.postgres
def test_oidc_labels_round_trip_through_the_sql_index_on_postgresql(
    oidc_provider: OpenIDProvider, pg_index: Any
) -> None:
    the_round_trip(oidc_provider, pg_index)


@pytest.mark.postgres
def test_a_whole_id_token_would_not_fit_one_sql_label(
    oidc_provider: OpenIDProvider, pg_index: Any
) -> None:
    # Why the ID token is split: the index's value column is VARCHAR(255).
    import sqlalchemy as sa

    id_token, _ = oidc_provider.id_token()
    with pytest.raises(sa.exc.DataError):
        pg_index.add("s", oidc_id_token=id_token)


@pytest.mark.redis
def test_oidc_labels_round_trip_through_the_redis_index(
    oidc_provider: OpenIDProvider, redis_server: RedisServer
) -> None:
    from logout_middleware.backends import RedisSessionIndex

    index = RedisSessionIndex(redis_server.url, key_prefix=f"oidc-{secrets.token_hex(4)}:")
    try:
        the_round_trip(oidc_provider, index)
    finally:
        index.close()


@pytest.mark.redis
def test_a_token_replayed_to_another_worker_is_refused_through_redis(
    oidc_provider: OpenIDProvider, redis_server: RedisServer
) -> None:
    from logout_middleware.backends import RedisRevocationStore

    prefix = f"oidc-replay-{secrets.token_hex(4)}:"
    stores = [RedisRevocationStore(redis_server.url, key_prefix=prefix) for _ in range(2)]
    try:
        worker_a, worker_b = (logout_for(oidc_provider, replay_cache=s) for s in stores)
        token = oidc_provider.logout_token()
        worker_a.validate_logout_token(token)
        with pytest.raises(InvalidLogoutToken, match="received before"):
            worker_b.validate_logout_token(token)
        (key,) = stores[0].client.keys(prefix + "*")
        ttl = stores[0].client.pttl(key) / 1000
        assert 110 < ttl <= 180  # exp (120 s) plus the skew, never forever
    finally:
        for store in stores:
            store.close()
