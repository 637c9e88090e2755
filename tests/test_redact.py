"""The redaction step: secrets masked by type and by field name, everything else copied as is.

``redact`` must give exactly what the rules give, which the reference below spells out
independently.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from simulator.redact import MAX_DEPTH, SECRET_FIELDS, redact


def reference(value: Any) -> Any:
    """The redaction rules, written plainly."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            k = k if isinstance(k, str) else reference(k)
            out[k] = mask(v) if k in SECRET_FIELDS and v is not None else reference(v)
        return out
    if isinstance(value, bytes | bytearray | memoryview):
        return mask(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [reference(v) for v in value]
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"<{type(value).__name__}>"


def mask(value: object) -> str:
    if isinstance(value, bytes | bytearray | memoryview | str):
        return f"<redacted {len(value)}>"
    return "<redacted>"


class Name(str):
    """A str subclass: not the exact type the fast path looks for."""


keys = st.one_of(
    st.sampled_from(sorted(SECRET_FIELDS)),
    st.sampled_from(["keyId", "encryptionContext", "caller", "aws:ebs:id", "grantId"]),
    st.text(max_size=8),
    st.builds(Name, st.sampled_from(["plaintext", "keyId"])),
    st.integers(-3, 3),
    st.binary(max_size=4),
    st.none(),
)
leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12),
    st.binary(max_size=40), st.builds(bytearray, st.binary(max_size=8)),
    st.builds(Name, st.text(max_size=4)),
    st.just(datetime(2026, 1, 5, 9, 0, tzinfo=UTC)), st.builds(object),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.dictionaries(keys, inner, max_size=5),
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(keys, inner, max_size=3).map(MappingProxyType),
    ),
    max_leaves=12,
)


@given(values)
def test_redaction_follows_the_rules_for_any_value(value: Any) -> None:
    assert redact(value) == reference(value)


@given(st.dictionaries(keys, values, max_size=6))
def test_a_redacted_dict_is_a_new_dict_and_the_input_is_untouched(value: dict[Any, Any]) -> None:
    before = repr(value)
    out = redact(value)
    assert out is not value and type(out) is dict
    assert out == reference(value)
    assert repr(value) == before


def test_secret_names_are_masked_at_any_depth_and_none_is_kept() -> None:
    params = {"keyId": "k", "encryptionContext": {"plaintext": "abc", "a": "b"},
              "grantTokens": ["t1", "t2"], "plaintext": None, "nested": [{"dataKey": b"12345678"}]}
    assert redact(params) == {
        "keyId": "k", "encryptionContext": {"plaintext": "<redacted 3>", "a": "b"},
        "grantTokens": "<redacted>", "plaintext": None,
        "nested": [{"dataKey": "<redacted 8>"}]}


def test_a_secret_key_after_a_nested_value_still_masks() -> None:
    # The fast path copies first and patches nested values; a secret name seen later must
    # still produce the general result, not a half-patched copy.
    value = {"encryptionContext": {"a": b"xx"}, "ciphertextBlob": b"abcd"}
    assert redact(value) == {"encryptionContext": {"a": "<redacted 2>"},
                             "ciphertextBlob": "<redacted 4>"}


def test_nested_dicts_are_copied_not_shared() -> None:
    ctx = {"aws:ebs:id": "vol-1"}
    out = redact({"encryptionContext": ctx})
    assert out["encryptionContext"] == ctx and out["encryptionContext"] is not ctx


def test_a_structure_nested_far_deeper_than_the_limit_is_redacted_without_recursion_error() -> None:
    deep: Any = "key"
    for _ in range(100_000):
        deep = [deep]
    level = redact(deep)
    for _ in range(MAX_DEPTH - 1):
        assert isinstance(level, list) and len(level) == 1
        level = level[0]
    assert level == ["<nested too deep>"]


def test_nesting_up_to_the_limit_is_kept_whole() -> None:
    deep: Any = b"secret"
    for _ in range(MAX_DEPTH):
        deep = {"a": deep}
    out = redact(deep)
    for _ in range(MAX_DEPTH):
        out = out["a"]
    assert out == "<redacted 6>"
