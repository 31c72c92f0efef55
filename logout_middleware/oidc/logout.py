"""``OIDCLogout``: the settings of OpenID Connect logout, checked once, and the three
things the middleware asks of it -- is this logout token valid, which labels does a new
session get, and where does the browser go to log out at the provider."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .._validation import MAX_SECONDS, positive_seconds, printable_path, store_instance
from ..backends.base import RevocationStore
from . import labels as label_names
from ._urls import checked_url
from .algorithms import DEFAULT_ALGORITHMS, checked_algorithms
from .claims import LogoutClaims, check_claims
from .discovery import Discovery
from .endsession import end_session_url
from .errors import InvalidLogoutToken, ProviderError
from .replay import MemoryReplayCache, ReplayCache, RevocationReplayCache, replay_key

if TYPE_CHECKING:  # pragma: no cover
    from .jwks import KeySet

__all__ = ["OIDCLogout"]


def _seconds(value: Any, what: str, low: float, high: float, example: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not low <= value <= high  # NaN fails both comparisons
    ):
        raise ValueError(f"{what} must be {example}; got {value!r}")
    return float(value)


def _client_id(value: Any) -> str:
    if (
        not isinstance(value, str)
        or not value
        or len(value) > 255
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)
    ):
        raise ValueError(
            "client_id must be the client id registered at the provider, a non-empty "
            f"string of at most 255 characters without control characters; got {value!r}"
        )
    return value


def _replay_cache(value: Any) -> ReplayCache:
    if value is None:
        return MemoryReplayCache()
    store_instance(value, "replay_cache")
    if isinstance(value, ReplayCache):
        return value
    if isinstance(value, RevocationStore):
        return RevocationReplayCache(value)
    raise ValueError(
        "replay_cache must have seen(key) and remember(key, ttl) (MemoryReplayCache), or "
        "be a revocation store such as RedisRevocationStore; got " + type(value).__name__
    )


class OIDCLogout:
    """OpenID Connect logout for one provider (issuer) and one client of it.

    :param issuer: the provider's issuer, exactly as its tokens' ``iss``
        (``https://login.example.com/realms/main``; Auth0's ends with ``/``).
    :param client_id: this application's client id at the provider.
    :param jwks_url: the provider's key set; by default the discovery document's
        ``jwks_uri``.
    :param end_session_endpoint: the provider's RP-initiated logout endpoint; by
        default the discovery document's (none there: no RP-initiated logout).
    :param post_logout_redirect_uri: where the provider sends the browser back after
        its logout (registered at the provider); ``None``: not sent.
    :param backchannel_path: the path of the back-channel logout endpoint, the URL to
        register at the provider.
    :param algorithms: the signature algorithms accepted (asymmetric only: never
        ``none``, never ``HS*``); by default every one of
        :data:`~logout_middleware.oidc.DEFAULT_ALGORITHMS`.
    :param clock_skew: seconds of clock difference allowed in every time check
        (``iat``, ``exp``, ``nbf``), 0 to 300.
    :param timeout: seconds one fetch from the provider may take, above 0 and at
        most 30: a provider that is down or frozen fails a request within it.
    :param max_token_age: a logout token issued (``iat``) longer ago than this is
        refused, whatever its ``exp``; its ``jti`` is remembered that long at most.
    :param refetch_interval: the least number of seconds between two fetches of the
        key set (an unknown ``kid``) or of the discovery document (after a failure).
    :param jwks_max_age: seconds after which the key set is fetched again on next use.
    :param replay_cache: where the ``jti`` of received tokens are kept: a
        :class:`ReplayCache`, or a revocation store (wrapped in
        :class:`RevocationReplayCache`) to share it between workers and hosts; by
        default a :class:`MemoryReplayCache` (this process only).
    :param ssl_context: for the https fetches, instead of the system's default.

    URLs must be https; http is accepted on loopback hosts only (127.0.0.1, ``::1``,
    ``localhost``). Nothing is fetched before the first need; everything fetched is
    cached, and every method is thread-safe.

    :raises ValueError: for any setting out of its range, saying what to write.
    :raises ImportError: when PyJWT is missing, naming the ``oidc`` extra.
    """

    def __init__(
        self,
        issuer: str,
        client_id: str,
        *,
        jwks_url: str | None = None,
        end_session_endpoint: str | None = None,
        post_logout_redirect_uri: str | None = None,
        backchannel_path: str = "/oidc/backchannel-logout",
        algorithms: Iterable[str] = DEFAULT_ALGORITHMS,
        clock_skew: float = 60.0,
        timeout: float = 5.0,
        max_token_age: float = 600.0,
        refetch_interval: float = 10.0,
        jwks_max_age: float = 3600.0,
        replay_cache: ReplayCache | RevocationStore | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        from .jwks import KeySet  # imports PyJWT, with a message naming the extra
        from .verify import verified_payload

        self._verified_payload = verified_payload
        #: The issuer: every token's ``iss`` must equal it.
        self.issuer = checked_url(issuer, "issuer", query=False)
        #: This client's id: every logout token's ``aud`` must hold it.
        self.client_id = _client_id(client_id)
        self._jwks_url = None if jwks_url is None else checked_url(jwks_url, "jwks_url")
        self._end_session = (
            None
            if end_session_endpoint is None
            else checked_url(end_session_endpoint, "end_session_endpoint")
        )
        #: Sent to the end-session endpoint when set.
        self.post_logout_redirect_uri = (
            None
            if post_logout_redirect_uri is None
            else checked_url(post_logout_redirect_uri, "post_logout_redirect_uri")
        )
        #: The back-channel logout endpoint's path.
        self.backchannel_path = printable_path(backchannel_path, "backchannel_path")
        #: The accepted signature algorithms.
        self.algorithms = checked_algorithms(algorithms)
        self.clock_skew = _seconds(clock_skew, "clock_skew", 0, 300, "0 to 300 seconds such as 60")
        self.timeout = _seconds(timeout, "timeout", 0.001, 30, "above 0 and at most 30 seconds")
        self.max_token_age = positive_seconds(max_token_age, "max_token_age")
        interval = positive_seconds(refetch_interval, "refetch_interval")
        max_age = positive_seconds(jwks_max_age, "jwks_max_age")
        #: Where the ``jti`` of the tokens received are kept.
        self.replay_cache = _replay_cache(replay_cache)
        if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
            raise ValueError(f"ssl_context must be an ssl.SSLContext; got {ssl_context!r}")
        self.discovery = Discovery(
            self.issuer, timeout=self.timeout, interval=interval, ssl_context=ssl_context
        )
        self.keys: KeySet = KeySet(
            self._jwks_uri, timeout=self.timeout, interval=interval, max_age=max_age,
            ssl_context=ssl_context,
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"OIDCLogout(issuer={self.issuer!r}, client_id={self.client_id!r})"

    def _jwks_uri(self) -> str:
        if self._jwks_url is not None:
            return self._jwks_url
        found = self.discovery.metadata().jwks_uri
        if found is None:
            raise ProviderError(f"the discovery document at {self.discovery.url} has no jwks_uri")
        return found

    @property
    def jwks_fetches(self) -> int:
        """How many fetches of the key set were attempted so far."""
        return self.keys.fetches

    @property
    def discovery_fetches(self) -> int:
        """How many fetches of the discovery document were attempted so far."""
        return self.discovery.fetches

    def end_session_endpoint(self) -> str | None:
        """The provider's end-session endpoint: configured, or from the discovery
        document (fetched on first need); ``None`` when the provider offers none.

        :raises ProviderError: when the discovery document is needed and unavailable.
        """
        if self._end_session is not None:
            return self._end_session
        return self.discovery.metadata().end_session_endpoint

    def validate_logout_token(self, token: str, *, remember: bool = True) -> LogoutClaims:
        """Validate a back-channel logout token exactly as Back-Channel Logout 1.0
        section 2.6 says, and return its claims.

        The checks, in order: a signed JWT (JWE is not supported); ``alg`` in
        :attr:`algorithms` (never ``none`` or ``HS*``); ``typ``, when present,
        ``logout+jwt`` (or ``JWT``); the signature, by the key of the provider's key set
        that the header's ``kid`` names, which must fit ``alg``; ``iss`` is the
        issuer; ``aud`` holds the client id; ``iat`` present, not in the future, at most
        :attr:`max_token_age` old; ``exp`` and ``nbf`` when present (all with
        :attr:`clock_skew`); ``jti`` present; ``events`` holds the back-channel logout
        event with a JSON object value; ``sid`` or ``sub`` present; no ``nonce``; and
        the ``jti`` not received before (the :attr:`replay_cache`).

        :param remember: remember the ``jti`` now. Pass ``False`` to remember it with
            :meth:`remember` once the sessions are ended, so that a provider retrying
            after a failed attempt is not refused as a replay.
        :raises InvalidLogoutToken: naming the rule that failed (never token content).
        :raises ProviderError: when the key set or discovery document is unavailable.
        :raises Exception: what the replay cache raises when its store fails.
        """
        payload = self._verified_payload(token, self.algorithms, self.keys.key)
        claims = check_claims(
            payload,
            issuer=self.issuer,
            client_id=self.client_id,
            now=time.time(),
            skew=self.clock_skew,
            max_age=self.max_token_age,
        )
        key = replay_key(claims.issuer, claims.jti)
        if self.replay_cache.seen(key):
            raise InvalidLogoutToken("this logout token was received before (its jti is known)")
        if remember:
            self.replay_cache.remember(key, _replay_ttl(claims))
        return claims

    def remember(self, claims: LogoutClaims) -> None:
        """Remember the ``jti`` of a validated token until it could no longer be
        accepted, so that the same token is refused next time."""
        self.replay_cache.remember(replay_key(claims.issuer, claims.jti), _replay_ttl(claims))

    def session_labels(
        self, claims: Mapping[str, Any], *, id_token: str | None = None
    ) -> dict[str, str]:
        """The session index labels of a new session, from its ID token's claims:
        pass them to ``index.add(session_id, user=..., **labels)`` at login.

        ``oidc_sub`` (``"<iss> <sub>"``) always, ``oidc_sid`` (``"<iss> <sid>"``) when
        the claims have a ``sid``, and with ``id_token`` the ID token itself, for the
        ``id_token_hint`` of :meth:`logout_url` (``oidc_id_token``, split in parts of
        255 characters: see :mod:`logout_middleware.oidc.labels`).

        :param claims: the validated ID token's claims (``iss``, ``sub``, ``sid``).
        :param id_token: the ID token as received (its compact form).
        :raises ValueError: when ``iss`` is not this issuer, or ``sub`` is missing.
        """
        if claims.get("iss") != self.issuer:
            raise ValueError(
                f"the ID token's iss must be this OIDCLogout's issuer {self.issuer!r}; "
                f"got {claims.get('iss')!r}"
            )
        found = {label_names.ISS: label_names.label_value(self.issuer, None)}
        for name, label in (("sub", label_names.SUB), ("sid", label_names.SID)):
            value = claims.get(name)
            if value is None and name == "sid":
                continue
            if not isinstance(value, str) or not value:
                raise ValueError(f"the ID token's {name} must be a non-empty string")
            found[label] = label_names.label_value(self.issuer, value)
        if id_token is not None:
            if not isinstance(id_token, str):
                raise ValueError("id_token must be the ID token as received, a string")
            found.update(label_names.id_token_labels(id_token))
        return found

    def _labels_ours(self, labels: Mapping[str, str]) -> bool:
        # "<iss> <value>" says whose it is; a digest does not, the oidc_iss label does
        # (a session labelled before that label existed, with digests: not known ours).
        values = [v for v in (labels.get(label_names.SID), labels.get(label_names.SUB))
                  if isinstance(v, str)]
        if any(v.startswith(self.issuer + " ") for v in values):
            return True
        return any(v.startswith("sha256:") for v in values) and labels.get(
            label_names.ISS
        ) == label_names.label_value(self.issuer, None)

    def logout_url(self, labels: Mapping[str, str], *, state: str | None = None) -> str | None:
        """The RP-initiated logout URL of a session, from its index labels: the
        end-session endpoint with ``client_id``, ``post_logout_redirect_uri`` when set,
        ``id_token_hint`` when the session kept its ID token, and ``state``.

        :param labels: the session's labels (``index.labels(session_id)``).
        :param state: the ``state`` to send; by default a new random one.
        :returns: ``None`` when the session has no OIDC labels of this issuer, or the
            provider has no end-session endpoint.
        :raises ProviderError: when the endpoint comes from the discovery document and
            that is unavailable (the local logout stands; only the redirect is lost).
        """
        if not self._labels_ours(labels):
            return None
        endpoint = self.end_session_endpoint()
        if endpoint is None:
            return None
        return end_session_url(
            endpoint,
            client_id=self.client_id,
            post_logout_redirect_uri=self.post_logout_redirect_uri,
            id_token_hint=label_names.id_token_of(labels),
            state=state,
        )


def _replay_ttl(claims: LogoutClaims) -> float:
    # Until the token could no longer be accepted: at least a second, and no longer
    # than a store keeps anything (max_token_age plus the clock skew may pass it).
    return min(max(claims.valid_until - time.time(), 1.0), MAX_SECONDS)
