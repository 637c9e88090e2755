"""Ids come from one named entropy stream per kind: replayable, independent, never shared."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.entropy import Entropy
from simulator.ids import Ids

KINDS = ("key_id", "grant_id", "key_material_id", "volume_id", "snapshot_id", "instance_id",
         "workspace_id", "directory_id", "uuid", "bundle_id", "image_id", "subnet_id")


def _body(value: str) -> str:
    """The random part of an id, without its kind prefix or punctuation."""
    return re.sub(r"^[a-z]+-", "", value).replace("-", "")


def test_a_named_stream_replays_for_a_seed_and_is_the_same_object_each_time() -> None:
    first, second = Entropy(1), Entropy(1)
    assert first.stream("id:grant") is first.stream("id:grant")
    assert first.stream("id:grant").token_hex(8) == second.stream("id:grant").token_hex(8)
    assert first.stream("id:grant").token_hex(8) != first.stream("id:volume").token_hex(8)


def test_an_unseeded_stream_is_the_operating_system_source_itself() -> None:
    entropy = Entropy(None)
    assert entropy.stream("id:grant") is entropy
    assert not entropy.stream("id:grant").seeded


def test_the_nth_id_of_a_kind_does_not_depend_on_what_else_was_drawn() -> None:
    quiet, busy = Ids(Entropy(1)), Ids(Entropy(1))
    for _ in range(5):
        busy.volume_id(), busy.key_id(), busy.workspace_id()
    busy._e.token_bytes(64)  # data keys and nonces come from the main stream
    assert [quiet.grant_id() for _ in range(3)] == [busy.grant_id() for _ in range(3)]


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_ids_of_different_kinds_never_share_their_random_part(seed: int) -> None:
    ids = Ids(Entropy(seed))
    owner: dict[str, str] = {}
    for kind in KINDS:
        for _ in range(4):
            body = _body(getattr(ids, kind)())
            for short in (body, body[:8]):  # narration shows the first 8 characters
                assert owner.setdefault(short, kind) == kind, (short, kind, owner[short])
