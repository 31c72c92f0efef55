"""The claims of a logout token, checked as Back-Channel Logout 1.0 section 2.6 says,
once its signature has been verified.

Each failed rule raises :class:`InvalidLogoutToken` with a fixed description: never a
value read from the token.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from . import labels
from .errors import InvalidLogoutToken

__all__ = ["BACKCHANNEL_LOGOUT_EVENT", "LogoutClaims", "check_claims"]

#: The member of ``events`` that makes a JWT a logout token.
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


@dataclass(frozen=True)
class LogoutClaims:
    """A valid logout token: who and what to log out.

    ``index.find(*claims.lookup)`` gives the sessions to end.
    """

    #: ``iss``: the configured issuer.
    issuer: str
    #: ``sid``: the provider's session, or ``None``.
    sid: str | None
    #: ``sub``: the provider's user, or ``None`` (then ``sid`` is set).
    sub: str | None
    #: ``jti``: the token's unique id.
    jti: str
    #: ``iat``, Unix time.
    issued_at: float
    #: ``exp``, Unix time, or ``None`` when the token has none.
    expires_at: float | None
    #: Unix time after which this token is refused anyway (expired or too old): the
    #: replay cache keeps its ``jti`` until then.
    valid_until: float
    #: Every claim of the token, read-only.
    claims: Mapping[str, Any]

    @property
    def lookup(self) -> tuple[str, str]:
        """The session index label to find the sessions to end, as ``(name, value)``:
        ``("oidc_sid", "<iss> <sid>")`` when the token has a ``sid`` (that provider
        session only), else ``("oidc_sub", "<iss> <sub>")`` (every session of the user).
        """
        if self.sid is not None:
            return labels.SID, labels.label_value(self.issuer, self.sid)
        assert self.sub is not None
        return labels.SUB, labels.label_value(self.issuer, self.sub)


def _time(payload: Mapping[str, Any], name: str) -> float | None:
    value = payload.get(name)
    if value is None and name not in payload:
        return None
    refusal = InvalidLogoutToken(f"the {name} claim must be a number (seconds since 1970)")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise refusal
    try:
        seconds = float(value)  # an integer past a float's range overflows
    except OverflowError:
        raise refusal from None
    if not math.isfinite(seconds):
        raise refusal
    return seconds


def _optional_string(payload: Mapping[str, Any], name: str) -> str | None:
    if name not in payload:
        return None
    value = payload[name]
    if not isinstance(value, str) or not value:
        raise InvalidLogoutToken(f"the {name} claim must be a non-empty string")
    if not value.isascii():
        try:  # JSON may escape a lone surrogate, which no store can hold (RFC 7493)
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidLogoutToken(f"the {name} claim is not Unicode text") from None
    return value


def _check_audience(payload: Mapping[str, Any], client_id: str) -> None:
    aud = payload.get("aud")
    if aud is None:
        raise InvalidLogoutToken("the aud claim is missing")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise InvalidLogoutToken("the aud claim must be a string or a list of strings")
    if client_id not in audiences:
        raise InvalidLogoutToken("the aud claim does not hold this client's client_id")


def _check_times(
    payload: Mapping[str, Any], now: float, skew: float, max_age: float
) -> tuple[float, float | None, float]:
    issued_at = _time(payload, "iat")
    if issued_at is None:
        raise InvalidLogoutToken("the iat claim is missing")
    if issued_at > now + skew:
        raise InvalidLogoutToken("the iat claim is in the future (beyond the clock skew)")
    if issued_at + max_age + skew < now:
        raise InvalidLogoutToken("the token was issued too long ago (iat before max_token_age)")
    expires_at = _time(payload, "exp")
    if expires_at is not None and expires_at + skew <= now:
        raise InvalidLogoutToken("the token has expired (exp, beyond the clock skew)")
    not_before = _time(payload, "nbf")
    if not_before is not None and not_before > now + skew:
        raise InvalidLogoutToken("the token is not valid yet (nbf, beyond the clock skew)")
    valid_until = min(issued_at + max_age, math.inf if expires_at is None else expires_at) + skew
    return issued_at, expires_at, valid_until


def _check_event(payload: Mapping[str, Any]) -> None:
    events = payload.get("events")
    if not isinstance(events, dict):
        raise InvalidLogoutToken("the events claim is missing or not a JSON object")
    if BACKCHANNEL_LOGOUT_EVENT not in events:
        raise InvalidLogoutToken(f"the events claim does not hold {BACKCHANNEL_LOGOUT_EVENT}")
    if not isinstance(events[BACKCHANNEL_LOGOUT_EVENT], dict):
        raise InvalidLogoutToken(
            f"the value of {BACKCHANNEL_LOGOUT_EVENT} in events must be a JSON object"
        )


def check_claims(
    payload: dict[str, Any],
    *,
    issuer: str,
    client_id: str,
    now: float,
    skew: float,
    max_age: float,
) -> LogoutClaims:
    """Check the claims of a token whose signature was verified (section 2.6, steps 3
    to 6): ``iss`` is ``issuer``; ``aud`` holds ``client_id``; ``iat`` is present, not
    in the future and at most ``max_age`` seconds old; ``exp`` and ``nbf``, when
    present, hold; ``jti`` is present; ``events`` holds the back-channel logout event
    with an object value; ``sid`` or ``sub`` is present; ``nonce`` is absent. Every
    time comparison allows ``skew`` seconds.

    ``payload`` becomes the read-only :attr:`LogoutClaims.claims`: the caller must not
    change it afterwards.

    :raises InvalidLogoutToken: naming the first rule that fails.
    """
    if payload.get("iss") is None:
        raise InvalidLogoutToken("the iss claim is missing")
    if payload["iss"] != issuer:
        raise InvalidLogoutToken("the iss claim is not the configured issuer")
    _check_audience(payload, client_id)
    issued_at, expires_at, valid_until = _check_times(payload, now, skew, max_age)
    jti = _optional_string(payload, "jti")
    if jti is None:
        raise InvalidLogoutToken("the jti claim is missing")
    _check_event(payload)
    sid, sub = _optional_string(payload, "sid"), _optional_string(payload, "sub")
    if sid is None and sub is None:
        raise InvalidLogoutToken("the token has neither a sid nor a sub claim")
    if "nonce" in payload:
        raise InvalidLogoutToken("a logout token must not hold a nonce claim")
    return LogoutClaims(
        issuer=issuer,
        sid=sid,
        sub=sub,
        jti=jti,
        issued_at=issued_at,
        expires_at=expires_at,
        valid_until=valid_until,
        claims=MappingProxyType(payload),
    )
