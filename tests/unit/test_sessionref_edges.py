"""Edges of the one cookie reader and the canonical identities
(logout_middleware.sessionref): quoting and escapes, malformed pairs, the rewrite, the
lenient base64 that itsdangerous applies, and tokens that stay the same across
versions (stores keep them for weeks)."""

from __future__ import annotations

import hashlib
import random

import pytest
from itsdangerous.encoding import base64_decode
from itsdangerous.exc import BadData

from logout_middleware.sessionref import (
    _lenient_base64,
    decode_value,
    read_cookie,
    session_tokens,
)


@pytest.mark.parametrize(
    ("header", "values", "rewritten"),
    [
        ("a=1; session=v; b=2", ["v"], "a=1; b=2"),
        ("session=a=b", ["a=b"], ""),  # the value runs to the end of the pair
        ("session =v", ["v"], ""),
        (" ; session=v ;; ", ["v"], ""),
        ('session=""', [""], ""),
        ('session="\\073x"', [";x"], ""),  # an octal escape in a quoted value
        ("session=a\\073b", ["a;b", "a\\073b"], ""),  # WebOb unescapes outside quotes too
        ('session=v\\"', ['v"', 'v\\"'], ""),
        ('session="q;x"; a=1', ['"q', "q;x"], "a=1"),  # split at ';' and quoted
        ('x="a;session=R;b"; theme=dark', ["R"], "theme=dark"),  # hidden: goes with x
        ("bad pair; session=v; c", ["v"], "bad pair; c"),
        ("session; session=v", ["v"], "session"),  # a name without '=' is no pair
        ('a="x\\"y"; session=v', ["v"], 'a="x\\"y"'),
        ('"session"=v', [], '"session"=v'),
        ("sessionx=1; xsession=2", [], "sessionx=1; xsession=2"),
    ],
)
def test_readings_and_rewrites(header: str, values: list[str], rewritten: str) -> None:
    reading = read_cookie(header, "session")
    assert reading.values == values
    assert reading.without(set(values)) == rewritten


def test_a_rewrite_keeps_every_other_byte_and_the_order() -> None:
    header = 'p="a;b";session=R; q=\xe9 ;session=L'
    assert read_cookie(header, "session").without({"R"}) == 'p="a;b"; q=\xe9 ;session=L'


def test_a_rewrite_removing_nothing_keeps_the_header() -> None:
    header = "a=1; session=v"
    assert read_cookie(header, "session").without(set()) == header


def test_a_quoted_value_spanning_several_segments_goes_as_one() -> None:
    header = 'x="1;2;session=R;3;4"; session=L; y=2'
    reading = read_cookie(header, "session")
    assert reading.without({"R"}) == "session=L; y=2"
    assert reading.without({"L"}) == 'x="1;2;session=R;3;4"; y=2'


def test_two_quoted_values_next_to_each_other_stay_apart() -> None:
    header = 'a="1;2"; b="3;session=R;4"; c="5;6"'
    assert read_cookie(header, "session").without({"R"}) == 'a="1;2"; c="5;6"'


def test_unicode_whitespace_around_the_name_is_ignored() -> None:
    header = "a=1;\xc2\xa0session\xc2\xa0=V\xc2\xa0; b=2"
    assert "V" in read_cookie(header, "session").values


def test_a_malformed_start_is_skipped_to_the_next_pair() -> None:
    assert read_cookie('"";session=v', "session").values == ["v"]
    assert read_cookie(";;;", "session").values == []
    assert read_cookie("", "session").values == []


def test_decode_value_reads_the_bytes_as_utf8_and_replaces_the_rest() -> None:
    assert decode_value("caf\xc3\xa9") == "caf\u00e9"
    assert decode_value("\xff") == "\ufffd"
    assert decode_value("plain") == "plain"
    assert decode_value("\u20ac") == "?"  # not a latin-1 character: replaced


def test_lenient_base64_decodes_whatever_itsdangerous_decodes() -> None:
    rng = random.Random(20261127)
    alphabet = "AZaz09-_=+/"
    checked = 0
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        try:
            expected = base64_decode(text)
        except BadData:
            continue
        assert _lenient_base64(text) == expected, text
        checked += 1
    assert checked > 1000


@pytest.mark.parametrize(
    ("text", "decoded"),
    [
        ("Zm9v", b"foo"), ("Zm9v=", b"foo"), ("Zm9", b"fo"), ("Zm9=", b"fo"),
        ("Zm9==", b"fo"), ("Zm9===x", b"fo"), ("Zg=", b"f"), ("Zg==x", b"f"),
        ("Zm=9v", b"foo"), ("Zm==9v", b"f"), ("Zm9v$", b"foo"), ("-_-_", b"\xfb\xff\xbf"),
        ("+/+/", b"\xfb\xff\xbf"), ("Z", None), ("Zm9vY", None), ("", b""),
        ("=Zm9v", b"foo"), ("Z=m9v", b"foo"),
    ],
)
def test_lenient_base64_cases(text: str, decoded: bytes | None) -> None:
    assert _lenient_base64(text) == decoded


def token(kind: bytes, *parts: bytes) -> str:
    digest = hashlib.sha256(b"logout-middleware/session/" + kind)
    for part in parts:
        digest.update(len(part).to_bytes(4, "big") + part)
    return digest.hexdigest()


def test_tokens_are_stable_across_versions() -> None:
    # Revocation stores keep tokens for weeks: the recipe must not drift.
    assert session_tokens("Zm9v") == (token(b"base64", b"foo"),)
    assert session_tokens("ab$cde") == (token(b"text", b"ab$cde"),)  # 5 base64 digits
    assert session_tokens("abcde.Zm9v") == (
        token(b"text", b"abcde.Zm9v"), token(b"signed", b"abcde", b"foo"))
    assert session_tokens("Zm9v.YmFy") == (
        token(b"base64", b"foobar"), token(b"signed", b"Zm9v", b"bar"))


def test_a_signed_value_is_named_by_its_payload_and_decoded_signature() -> None:
    padded = session_tokens("payload.time.Zm9v=")
    plain = session_tokens("payload.time.Zm9v")
    assert padded[-1] == plain[-1] == token(b"signed", b"payload.time", b"foo")
    assert session_tokens("payload.other.Zm9v")[-1] != plain[-1]


def test_a_signature_that_cannot_decode_adds_no_signed_token() -> None:
    assert session_tokens("abcd.Z") == (token(b"text", b"abcd.Z"),)


def test_quotes_backslashes_and_non_printables_are_not_part_of_the_identity() -> None:
    assert session_tokens('"Zm9v"') == session_tokens("Zm9v")
    assert session_tokens("Zm\\9v") == session_tokens("Zm9v")
    assert session_tokens("Zm9v\xa0") == session_tokens("Zm9v")
    assert session_tokens("Zm9v ") == session_tokens("Zm9v")


def test_distinct_sessions_have_distinct_tokens() -> None:
    assert set(session_tokens("Zm9v")).isdisjoint(session_tokens("YmFy"))
    assert set(session_tokens("abcde")).isdisjoint(session_tokens("abcdf"))
