"""Edges of the shared setting checks (logout_middleware._validation): each accepts
exactly what its docstring says, and refuses the rest naming the setting."""

from __future__ import annotations

import math
from typing import Any

import pytest

from logout_middleware import _validation as v


@pytest.mark.parametrize("value", [1, 0.5, 86400, 1e-9])
def test_positive_seconds_accepts_positive_finite_numbers_as_float(value: float) -> None:
    result = v.positive_seconds(value, "ttl")
    assert result == value and type(result) is float


@pytest.mark.parametrize("value", [0, -1, 0.0, math.nan, math.inf, -math.inf, True, "5", None])
def test_positive_seconds_refuses_the_rest(value: Any) -> None:
    with pytest.raises(ValueError, match="ttl must be a positive, finite number of seconds"):
        v.positive_seconds(value, "ttl")


@pytest.mark.parametrize("value", [0, 1, 8192])
def test_byte_count_accepts_zero_and_more(value: int) -> None:
    assert v.byte_count(value, "size") == value


@pytest.mark.parametrize("value", [-1, True, False, 1.0, "8", None])
def test_byte_count_refuses_the_rest(value: Any) -> None:
    with pytest.raises(ValueError, match="size must be a byte count"):
        v.byte_count(value, "size")


@pytest.mark.parametrize("value", [True, False])
def test_flag_accepts_booleans(value: bool) -> None:
    assert v.flag(value, "f") is value


@pytest.mark.parametrize("value", [0, 1, "true", None])
def test_flag_refuses_truthy_lookalikes(value: Any) -> None:
    with pytest.raises(ValueError, match="f must be True or False"):
        v.flag(value, "f")


def test_strings_takes_one_string_or_a_list_without_duplicates() -> None:
    assert v.strings("a", "s") == ("a",)
    assert v.strings(["b", "a", "b"], "s") == ("b", "a")
    assert v.strings(iter(["x"]), "s") == ("x",)


@pytest.mark.parametrize("value", [[], (), [1], ["a", None], 5])
def test_strings_refuses_empty_lists_and_non_strings(value: Any) -> None:
    with pytest.raises(ValueError, match="s must be a string"):
        v.strings(value, "s")


def test_optional_strings_allows_an_empty_list() -> None:
    assert v.optional_strings([], "o") == ()
    assert v.optional_strings("a", "o") == ("a",)
    assert v.optional_strings(["a", "a"], "o") == ("a",)


@pytest.mark.parametrize("value", [5, None, [b"a"]])
def test_optional_strings_refuses_non_strings(value: Any) -> None:
    with pytest.raises(ValueError, match="o must be a string or a list of strings"):
        v.optional_strings(value, "o")


def test_callables_takes_one_callable_or_a_list() -> None:
    assert v.callables(print, "c") == (print,)
    assert v.callables([print, len], "c") == (print, len)
    assert v.callables((), "c") == ()


def test_callables_refuses_a_non_callable_item() -> None:
    with pytest.raises(ValueError, match="c must hold callables; got 42"):
        v.callables([print, 42], "c")  # type: ignore[list-item]


@pytest.mark.parametrize("value", ["", "session:", "a b", "\u00e9:", "x" * 300])
def test_key_prefix_accepts_strings_without_control_characters(value: str) -> None:
    assert v.key_prefix(value) == value


@pytest.mark.parametrize("value", ["a\x00", "\x1f", "a\x7f", "\n", None, b"x"])
def test_key_prefix_refuses_control_characters(value: Any) -> None:
    with pytest.raises(ValueError, match=r"^key_prefix must be a string without control"):
        v.key_prefix(value)


def test_key_prefix_names_the_setting_given() -> None:
    with pytest.raises(ValueError, match=r"^backend\.prefix must"):
        v.key_prefix("\x01", "backend.prefix")


@pytest.mark.parametrize("value", ["sessions", "_t", "T9_x", "a" * 63])
def test_identifier_accepts_plain_sql_names(value: str) -> None:
    assert v.identifier(value, "table") == value


@pytest.mark.parametrize("value", ["", "9t", "a-b", "a b", "a" * 64, "t;drop", None, "t\u00e9"])
def test_identifier_refuses_the_rest(value: Any) -> None:
    with pytest.raises(ValueError, match="table must be a plain SQL identifier"):
        v.identifier(value, "table")


@pytest.mark.parametrize("value", ["/", "/a/b", "/~x-y_z.html", "/ space"])
def test_printable_path_accepts_printable_paths(value: str) -> None:
    assert v.printable_path(value, "path") == value


@pytest.mark.parametrize("value", ["a", "", None, 5])
def test_printable_path_must_start_with_a_slash(value: Any) -> None:
    with pytest.raises(ValueError, match="path must be a string starting with '/'"):
        v.printable_path(value, "path")


@pytest.mark.parametrize("value", ["/a;b", "/\x1f", "/\x7f", "/\u00e9", "/a\nb"])
def test_printable_path_refuses_separators_and_non_printables(value: str) -> None:
    with pytest.raises(ValueError, match="path must be printable ASCII without ';'"):
        v.printable_path(value, "path")
