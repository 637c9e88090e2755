"""The AAD encoding of encryption contexts is injective and order-independent."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from simulator.crypto import encode_context

contexts = st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=4)


def test_concatenation_collisions_of_other_fakes_do_not_collide_here() -> None:
    # moto/LocalStack-style "sorted keys+values concatenated" makes these equal.
    assert encode_context({"ab": "c"}) != encode_context({"a": "bc"})
    assert encode_context({"a": "b", "c": "d"}) != encode_context({"a": "bc", "": "d"})


def test_empty_and_none_are_the_same_no_context() -> None:
    assert encode_context(None) == encode_context({}) == b""


@given(contexts, contexts)
def test_different_contexts_never_encode_the_same(a: dict[str, str], b: dict[str, str]) -> None:
    if a != b:
        assert encode_context(a) != encode_context(b)


@given(contexts, st.randoms())
def test_pair_order_does_not_matter(a: dict[str, str], rnd: object) -> None:
    items = list(a.items())
    rnd.shuffle(items)  # type: ignore[attr-defined]
    assert encode_context(dict(items)) == encode_context(a)
