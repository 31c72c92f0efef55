"""The claims of a logout token, checked as Back-Channel Logout 1.0 section 2.6 says,
once the signature is verified: every rule, broken in many ways, and the refusal never
quotes the token."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from oidc_provider import ACCEPTED, BREACHES, EVENT, Breach

from logout_middleware.oidc import BACKCHANNEL_LOGOUT_EVENT, InvalidLogoutToken
from logout_middleware.oidc.claims import LogoutClaims, check_claims

ISSUER = "https://idp.example/realms/main"


def payload() -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": "app",
        "iat": now,
        "exp": now + 120,
        "jti": "jti-5f1c3d2a",
        "events": {EVENT: {}},
        "sid": "op-session-1",
        "sub": "user-1",
    }


def check(claims: dict[str, Any]) -> LogoutClaims:
    return check_claims(
        claims, issuer=ISSUER, client_id="app", now=time.time(), skew=60, max_age=600
    )


def test_the_event_name_is_the_specifications() -> None:
    assert BACKCHANNEL_LOGOUT_EVENT == EVENT == "http://schemas.openid.net/event/backchannel-logout"


@pytest.mark.parametrize("breach", BREACHES, ids=lambda b: b.id)
def test_each_broken_rule_is_refused_with_its_own_description(breach: Breach) -> None:
    claims = payload()
    breach.change(claims)
    with pytest.raises(InvalidLogoutToken, match=breach.message) as caught:
        check(claims)
    assert caught.value.description == str(caught.value)
    # The description names the rule; no claim value of the token is quoted in it.
    for value in ("jti-5f1c3d2a", "op-session-1", "user-1", "evil", "n-0S6"):
        assert value not in caught.value.description


@pytest.mark.parametrize("change", ACCEPTED.values(), ids=list(ACCEPTED))
def test_tokens_within_every_rule_are_accepted(change: Any) -> None:
    claims = payload()
    change(claims)
    result = check(claims)
    assert result.issuer == ISSUER and result.jti == "jti-5f1c3d2a"
    assert result.claims == claims
    with pytest.raises(TypeError):
        result.claims["sid"] = "x"  # type: ignore[index]


def test_the_claims_carry_sid_sub_and_times() -> None:
    claims = payload()
    result = check(claims)
    assert (result.sid, result.sub) == ("op-session-1", "user-1")
    assert result.issued_at == claims["iat"] and result.expires_at == claims["exp"]
    # Kept until exp plus the skew: after that the token is refused anyway.
    assert result.valid_until == claims["exp"] + 60


def test_without_exp_a_token_is_remembered_until_max_token_age() -> None:
    claims = payload()
    del claims["exp"]
    result = check(claims)
    assert result.expires_at is None
    assert result.valid_until == claims["iat"] + 600 + 60


def test_a_long_lived_token_is_remembered_until_max_token_age_only() -> None:
    claims = payload()
    claims["exp"] = claims["iat"] + 86400
    assert check(claims).valid_until == claims["iat"] + 600 + 60


def test_lookup_is_the_sid_first_else_the_sub() -> None:
    both = check(payload())
    assert both.lookup == ("oidc_sid", f"{ISSUER} op-session-1")
    sub_only = payload()
    del sub_only["sid"]
    assert check(sub_only).lookup == ("oidc_sub", f"{ISSUER} user-1")
    sid_only = payload()
    del sid_only["sub"]
    assert check(sid_only).lookup == ("oidc_sid", f"{ISSUER} op-session-1")


@pytest.mark.parametrize("skew", [0, 5, 60, 300])
def test_the_clock_skew_bounds_exp_both_ways(skew: int) -> None:
    now = time.time()
    claims = payload()
    claims["exp"] = now - skew + 2  # still inside the allowance
    check_claims(claims, issuer=ISSUER, client_id="app", now=now, skew=skew, max_age=600)
    claims["exp"] = now - skew - 1
    with pytest.raises(InvalidLogoutToken, match="expired"):
        check_claims(claims, issuer=ISSUER, client_id="app", now=now, skew=skew, max_age=600)


def test_descriptions_are_safe_to_send_back_as_json() -> None:
    for breach in BREACHES:
        claims = payload()
        breach.change(claims)
        try:
            check(claims)
        except InvalidLogoutToken as exc:
            assert json.loads(json.dumps({"error_description": exc.description}))
            assert exc.description.isprintable()
