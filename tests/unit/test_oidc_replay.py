"""The replay cache: in memory, or in any revocation store, keyed by a hash of the
issuer and the jti."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from logout_middleware.backends import MemoryRevocationStore, SQLiteRevocationStore
from logout_middleware.oidc import (
    MemoryReplayCache,
    ReplayCache,
    RevocationReplayCache,
    replay_key,
)
from logout_middleware.revocation import cookie_tokens


def test_keys_hash_the_issuer_and_the_jti() -> None:
    key = replay_key("https://idp.example", "jti-1")
    assert key.startswith("oidc-jti:") and len(key) == 9 + 64
    assert "jti-1" not in key and "idp" not in key
    assert key == replay_key("https://idp.example", "jti-1")
    assert key != replay_key("https://idp.example", "jti-2")
    assert key != replay_key("https://other.example", "jti-1")
    # The separator keeps (iss, jti) pairs apart.
    assert replay_key("a", "b\nc") != replay_key("a\nb", "c")


def test_keys_never_collide_with_revoked_cookie_fingerprints() -> None:
    key = replay_key("https://idp.example", "jti-1")
    for value in (key, key[9:], "session-id"):
        assert key not in cookie_tokens(value)


def caches(tmp_path: Path) -> list[ReplayCache]:
    return [
        MemoryReplayCache(),
        RevocationReplayCache(MemoryRevocationStore()),
        RevocationReplayCache(SQLiteRevocationStore(str(tmp_path / "revoked.sqlite3"))),
    ]


def test_every_cache_remembers_then_forgets(tmp_path: Path) -> None:
    for cache in caches(tmp_path):
        assert isinstance(cache, ReplayCache)
        assert not cache.seen("oidc-jti:a")
        cache.remember("oidc-jti:a", 0.3)
        assert cache.seen("oidc-jti:a") and not cache.seen("oidc-jti:b")
        time.sleep(0.35)
        assert not cache.seen("oidc-jti:a"), type(cache).__name__


def test_remembering_again_keeps_the_later_expiry() -> None:
    cache = MemoryReplayCache()
    cache.remember("k", 60)
    cache.remember("k", 0.01)
    time.sleep(0.02)
    assert cache.seen("k") and len(cache) == 1


def test_the_memory_cache_purges_expired_keys() -> None:
    cache = MemoryReplayCache()
    for n in range(100):
        cache.remember(f"k{n}", 0.01)
    time.sleep(0.02)
    cache._next_purge = 0.0
    cache.remember("last", 60)
    assert len(cache._expiry) == 1 and len(cache) == 1


def test_the_memory_cache_is_thread_safe() -> None:
    cache = MemoryReplayCache()

    def work(n: int) -> None:
        for i in range(500):
            cache.remember(f"{n}-{i}", 60)
            assert cache.seen(f"{n}-{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 4000


def test_the_revocation_adapter_needs_a_revocation_store() -> None:
    with pytest.raises(ValueError, match="revoke"):
        RevocationReplayCache(object())  # type: ignore[arg-type]


def test_a_token_is_remembered_no_longer_than_a_store_keeps_anything(tmp_path: Path) -> None:
    # max_token_age at its bound plus the clock skew passes it: the ttl is clamped,
    # so a store that refuses longer times to live still remembers the token.
    import dataclasses

    from logout_middleware._validation import MAX_SECONDS
    from logout_middleware.oidc import BACKCHANNEL_LOGOUT_EVENT as EVENT
    from logout_middleware.oidc import OIDCLogout
    from logout_middleware.oidc.claims import check_claims
    from logout_middleware.oidc.logout import _replay_ttl

    oidc = OIDCLogout("https://idp.example", "app", jwks_url="https://idp.example/jwks",
                      replay_cache=SQLiteRevocationStore(str(tmp_path / "r.sqlite3")))
    now = time.time()
    claims = check_claims(
        {"iss": "https://idp.example", "aud": "app", "iat": now, "jti": "j", "sid": "s",
         "events": {EVENT: {}}},
        issuer="https://idp.example", client_id="app", now=now, skew=60, max_age=600,
    )
    far = dataclasses.replace(claims, valid_until=now + 2 * MAX_SECONDS)
    assert _replay_ttl(far) == MAX_SECONDS
    oidc.remember(far)  # refused by the store before the clamp
    assert oidc.replay_cache.seen(replay_key("https://idp.example", "j"))
