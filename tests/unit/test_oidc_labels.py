"""The session index labels of OIDC sessions, and the RP-initiated logout URL built
from them (with the end-session endpoint configured: nothing is fetched)."""

from __future__ import annotations

import string
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logout_middleware.backends import MemorySessionIndex, SQLiteSessionIndex
from logout_middleware.oidc import ID_TOKEN, ISS, SID, SUB, OIDCLogout
from logout_middleware.oidc.labels import (
    MAX_ID_TOKEN,
    PART,
    id_token_labels,
    id_token_of,
    label_value,
)

ISSUER = "https://idp.example/realms/main"
END = "https://idp.example/realms/main/protocol/openid-connect/logout"


def make(**settings: Any) -> OIDCLogout:
    return OIDCLogout(ISSUER, "app", end_session_endpoint=END, **settings)


def claims(**changes: Any) -> dict[str, Any]:
    found = {"iss": ISSUER, "sub": "user-1", "sid": "op-session-1", "aud": "app"}
    found.update(changes)
    return {k: v for k, v in found.items() if v is not None}


def test_label_names_are_the_documented_contract() -> None:
    assert (SID, SUB, ISS, ID_TOKEN) == ("oidc_sid", "oidc_sub", "oidc_iss", "oidc_id_token")


def test_both_label_kinds_from_an_id_token_with_a_sid() -> None:
    assert make().session_labels(claims()) == {
        "oidc_iss": ISSUER,
        "oidc_sub": f"{ISSUER} user-1",
        "oidc_sid": f"{ISSUER} op-session-1",
    }


def test_only_the_sub_label_without_a_sid() -> None:
    assert make().session_labels(claims(sid=None)) == {
        "oidc_iss": ISSUER, "oidc_sub": f"{ISSUER} user-1"
    }


def test_labels_pass_the_index_stores_checks(tmp_path: Any) -> None:
    labels = make().session_labels(claims(), id_token="h.p.s" * 100)
    for index in (MemorySessionIndex(), SQLiteSessionIndex(str(tmp_path / "i.sqlite3"))):
        index.add("session-1", user="ada", **labels)
        assert index.labels("session-1") == {"user": "ada", **labels}
        assert index.find("oidc_sid", f"{ISSUER} op-session-1") == {"session-1"}
        assert index.find("oidc_sub", f"{ISSUER} user-1") == {"session-1"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"iss": "https://other.example"}, "iss must be this OIDCLogout's issuer"),
        ({"iss": ISSUER + "/"}, "iss must be this OIDCLogout's issuer"),
        ({"iss": None}, "iss must be"),
        ({"sub": None}, "sub must be a non-empty string"),
        ({"sub": ""}, "sub must be a non-empty string"),
        ({"sub": 42}, "sub must be a non-empty string"),
        ({"sid": ""}, "sid must be a non-empty string"),
        ({"sid": 42}, "sid must be a non-empty string"),
    ],
)
def test_claims_that_cannot_label_a_session_are_refused(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make().session_labels(claims(**changes))


def test_an_id_token_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(ValueError, match="id_token must be"):
        make().session_labels(claims(), id_token=b"a.b.c")  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [1, 254, 255, 256, 510, 511, 1200, 4000, MAX_ID_TOKEN])
def test_the_id_token_is_kept_in_parts_that_fit_the_sql_index(size: int) -> None:
    token = (string.ascii_letters * (size // 52 + 1))[:size]
    labels = make().session_labels(claims(), id_token=token)
    parts = {k: v for k, v in labels.items() if k.startswith(ID_TOKEN)}
    assert len(parts) == -(-size // PART)
    assert all(len(v) <= PART for v in labels.values())
    assert ID_TOKEN in parts and id_token_of(labels) == token


def test_an_id_token_over_the_limit_is_not_kept() -> None:
    labels = make().session_labels(claims(), id_token="x" * (MAX_ID_TOKEN + 1))
    assert set(labels) == {"oidc_iss", "oidc_sub", "oidc_sid"}
    assert id_token_labels("") == {} and id_token_of({}) is None


def test_a_missing_part_ends_the_token() -> None:
    labels = id_token_labels("y" * 600)
    del labels["oidc_id_token_2"]
    assert id_token_of(labels) == "y" * 255


@given(st.text(min_size=1, max_size=400))
def test_a_long_value_is_hashed_the_same_way_at_login_and_logout(value: str) -> None:
    label = label_value(ISSUER, value)
    assert len(label) <= PART
    assert label == label_value(ISSUER, value)
    if len(ISSUER) + 1 + len(value) <= PART:
        assert label == f"{ISSUER} {value}"
    else:
        assert label.startswith("sha256:") and len(label) == 71


# --- the RP-initiated logout URL ----------------------------------------------------


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def test_the_logout_url_carries_every_parameter() -> None:
    oidc = make(post_logout_redirect_uri="https://app.example/bye?x=1&y=2")
    labels = oidc.session_labels(claims(), id_token="hdr.payload.sig" * 30)
    url = oidc.logout_url(labels, state="s-123")
    assert url is not None
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == END
    assert query(url) == {
        "client_id": ["app"],
        "post_logout_redirect_uri": ["https://app.example/bye?x=1&y=2"],
        "id_token_hint": ["hdr.payload.sig" * 30],
        "state": ["s-123"],
    }


def test_without_redirect_or_id_token_only_client_id_and_state() -> None:
    oidc = make()
    url = oidc.logout_url(oidc.session_labels(claims(sid=None)))
    assert url is not None
    found = query(url)
    assert set(found) == {"client_id", "state"}
    assert len(found["state"][0]) >= 16


def test_each_logout_url_gets_a_new_state() -> None:
    oidc = make()
    labels = oidc.session_labels(claims())
    states = {query(oidc.logout_url(labels) or "")["state"][0] for _ in range(50)}
    assert len(states) == 50


def test_the_endpoints_own_query_is_kept_and_ours_is_not_doubled() -> None:
    oidc = OIDCLogout(
        ISSUER, "app", end_session_endpoint="https://idp.example/logout?tenant=a&client_id=z"
    )
    url = oidc.logout_url(oidc.session_labels(claims()), state="s")
    assert url is not None
    assert query(url) == {"tenant": ["a"], "client_id": ["app"], "state": ["s"]}


@pytest.mark.parametrize(
    "labels",
    [
        {},
        {"user": "ada"},
        {"oidc_sub": "https://other.example user-1"},
        {"oidc_sid": "https://idp.example/realms/mainX op-session-1"},
        {"oidc_id_token": "a.b.c"},
    ],
)
def test_no_logout_url_for_a_session_without_oidc_labels_of_this_issuer(
    labels: dict[str, str],
) -> None:
    assert make().logout_url(labels) is None


def test_a_hashed_label_is_still_this_issuers() -> None:
    oidc = make()
    labels = oidc.session_labels(claims(sub="u" * 300))
    assert labels["oidc_sub"].startswith("sha256:")
    assert oidc.logout_url(labels) is not None
