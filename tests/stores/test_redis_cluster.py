"""RedisBackend with a ready RedisCluster client, against a real three-node cluster."""

from __future__ import annotations

from typing import Any

import pytest
from redis.cluster import RedisCluster
from servers import RedisServer
from webtest import TestApp
from wsgi_util import LOGOUT

from logout_middleware import LogoutMiddleware
from logout_middleware.backends import RedisBackend


@pytest.fixture
def cluster_client(redis_cluster: list[RedisServer]) -> Any:
    client = RedisCluster(host="127.0.0.1", port=redis_cluster[0].port, socket_timeout=2)
    yield client
    client.flushall()
    client.close()


def test_sessions_spread_over_every_node_are_each_deleted_exactly(
    cluster_client: Any, redis_cluster: list[RedisServer]
) -> None:
    backend = RedisBackend(cluster_client)
    sessions = [backend.create({"n": i}) for i in range(60)]
    owners = {cluster_client.get_node_from_key(f"session:{sid}").port for sid in sessions}
    assert owners == {node.port for node in redis_cluster}, "ids land on every node"
    for sid in sessions[:30]:
        backend.delete(sid)
    assert [backend.get(sid) for sid in sessions[:30]] == [None] * 30
    assert [backend.get(sid) for sid in sessions[30:]] == [{"n": i} for i in range(30, 60)]
    assert cluster_client.exists(*(f"session:{sid}" for sid in sessions[30:32])) == 2


def test_logout_through_the_middleware_clears_the_record_on_the_cluster(
    cluster_client: Any,
) -> None:
    backend = RedisBackend(cluster_client, key_prefix="app:")
    sid = backend.create({"user": "ada"})
    app = TestApp(LogoutMiddleware(lambda e, s: [], backend))
    assert app.post(LOGOUT, headers={"Cookie": f"session={sid}"}).json == {"message": "OK"}
    assert cluster_client.get(f"app:{sid}") is None
    # Patterns are never used: a hostile id deletes nothing else.
    other = backend.create({"user": "bob"})
    backend.delete("*")
    assert backend.get(other) == {"user": "bob"}
