"""Signed session ids (logout_middleware.signing): every itsdangerous option is passed
on, and a value that is not a signed UTF-8 id names no session."""

from __future__ import annotations

import hashlib

import pytest
from itsdangerous import Signer

from logout_middleware.signing import signed_session_id

KEY = "k3y"


def sign(value: bytes, **options: object) -> str:
    signer = Signer(KEY.encode(), salt="flask-session", key_derivation="hmac",
                    **options)  # type: ignore[arg-type]
    return signer.sign(value).decode("utf-8")


def test_a_digest_method_is_used() -> None:
    signed = sign(b"sid", digest_method=hashlib.sha256)
    assert signed_session_id(KEY, digest_method=hashlib.sha256)(signed) == "sid"
    assert signed_session_id(KEY)(signed) is None


def test_a_separator_is_used() -> None:
    signed = sign(b"sid", sep="|")
    assert signed_session_id(KEY, sep="|")(signed) == "sid"
    assert signed_session_id(KEY)(signed) is None


def test_a_key_derivation_is_used() -> None:
    signed = Signer(KEY, salt="flask-session", key_derivation="concat").sign(b"sid").decode()
    assert signed_session_id(KEY, key_derivation="concat")(signed) == "sid"
    assert signed_session_id(KEY)(signed) is None


def test_an_id_that_is_not_utf8_or_is_empty_names_no_session() -> None:
    extract = signed_session_id(KEY)
    assert extract(sign(b"")) is None
    assert extract(sign("caf\u00e9".encode())) == "caf\u00e9"


def test_a_non_ascii_str_key_is_encoded_as_utf8() -> None:
    key = "cl\u00e9"
    signed = Signer(key.encode("utf-8"), salt="flask-session",
                    key_derivation="hmac").sign(b"sid").decode()
    assert signed_session_id(key)(signed) == "sid"


@pytest.mark.parametrize("key", [42, None, [""], [b""], ["ok", 5], []])
def test_keys_that_are_not_non_empty_strings_are_refused(key: object) -> None:
    with pytest.raises(ValueError, match="secret_key must be the application's non-empty"):
        signed_session_id(key)  # type: ignore[arg-type]


def test_keys_may_be_any_iterable() -> None:
    signed = sign(b"sid")
    assert signed_session_id(iter(["old", KEY]))(signed) == "sid"
    assert signed_session_id((KEY,))(signed) == "sid"
