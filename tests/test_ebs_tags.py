"""EC2 tags on EBS volumes and snapshots: TagSpecifications, CreateTags, DeleteTags."""

from __future__ import annotations

import pytest

from simulator import Simulation
from simulator.ebs import Tag
from simulator.errors import (
    InvalidID,
    InvalidParameterValue,
    InvalidSnapshotNotFound,
    InvalidTagKeyMalformed,
    InvalidVolumeNotFound,
    MissingParameter,
    TagLimitExceeded,
)


def spec(kind: str, **tags: str) -> list[dict[str, object]]:
    return [{"resource_type": kind, "tags": [{"key": k, "value": v} for k, v in tags.items()]}]


@pytest.fixture
def sim() -> Simulation:
    return Simulation(seed=4)


def test_tag_specifications_tag_a_new_volume_and_describe_shows_them(sim):
    vol = sim.ebs.create_volume(size=1, tag_specifications=spec("volume", Name="data", team="a"))
    assert vol.tags == (Tag("Name", "data"), Tag("team", "a"))
    assert sim.ebs.describe_volumes(volume_ids=[vol.volume_id]).volumes[0].tags == vol.tags


def test_snapshots_and_copies_take_their_own_tag_specifications(sim):
    vol = sim.ebs.create_volume(size=1, tag_specifications=spec("volume", Name="v"))
    sim.run_until_idle()
    snap = sim.ebs.create_snapshot(volume_id=vol.volume_id,
                                   tag_specifications=spec("snapshot", Name="s"))
    assert snap.tags == (Tag("Name", "s"),)  # a snapshot does not inherit the volume's tags
    sim.run_until_idle()
    copy = sim.ebs.copy_snapshot(source_region=sim.region, source_snapshot_id=snap.snapshot_id,
                                 tag_specifications=spec("snapshot", Name="c"))
    got = sim.ebs.describe_snapshots(snapshot_ids=[copy.snapshot_id]).snapshots[0]
    assert got.tags == (Tag("Name", "c"),)


@pytest.mark.parametrize("specs, error", [
    (spec("snapshot", Name="x"), InvalidParameterValue),
    ([{"resource_type": "volume", "tags": [{"key": "", "value": "x"}]}], InvalidTagKeyMalformed),
    ([{"resource_type": "volume", "tags": [{"key": "k" * 129, "value": "x"}]}],
     InvalidTagKeyMalformed),
    (spec("volume", **{"aws:x": "y"}), InvalidParameterValue),
    ([{"resource_type": "volume", "tags": [{"key": "k", "value": "v" * 257}]}],
     InvalidParameterValue),
    (spec("volume", a="1") + spec("volume", a="2"), InvalidParameterValue),
    (spec("volume", **{f"k{i}": "v" for i in range(51)}), TagLimitExceeded),
    ("volume", InvalidParameterValue),
    ([{"ResourceType": "volume"}], InvalidParameterValue),
    ([{"resource_type": "volume", "tags": [("k", "v")]}], InvalidParameterValue),
])
def test_bad_tag_specifications_create_nothing(sim, specs, error):
    with pytest.raises(error):
        sim.ebs.create_volume(size=1, tag_specifications=specs)
    assert sim.ebs.describe_volumes().volumes == ()


def test_create_tags_adds_and_overwrites_on_several_resources(sim):
    v1 = sim.ebs.create_volume(size=1, tag_specifications=spec("volume", Name="one"))
    v2 = sim.ebs.create_volume(size=1)
    sim.ebs.create_tags(resources=[v1.volume_id, v2.volume_id],
                        tags=[{"key": "Name", "value": "both"}, {"key": "env", "value": ""}])
    for v in sim.ebs.describe_volumes().volumes:
        assert v.tags == (Tag("Name", "both"), Tag("env", ""))


def test_create_tags_is_all_or_nothing(sim):
    v = sim.ebs.create_volume(size=1)
    with pytest.raises(InvalidVolumeNotFound):
        sim.ebs.create_tags(resources=[v.volume_id, "vol-0123456789abcdef0"],
                            tags=[{"key": "a", "value": "b"}])
    with pytest.raises(InvalidSnapshotNotFound):
        sim.ebs.create_tags(resources=[v.volume_id, "snap-0123456789abcdef0"],
                            tags=[{"key": "a", "value": "b"}])
    with pytest.raises(InvalidID):
        sim.ebs.create_tags(resources=[v.volume_id, "i-0123456789abcdef0"],
                            tags=[{"key": "a", "value": "b"}])
    sim.ebs.create_tags(resources=[v.volume_id],
                        tags=[{"key": f"k{i}", "value": ""} for i in range(50)])
    with pytest.raises(TagLimitExceeded):
        sim.ebs.create_tags(resources=[v.volume_id], tags=[{"key": "one-more", "value": ""}])
    assert len(sim.ebs.describe_volumes().volumes[0].tags) == 50
    with pytest.raises(MissingParameter):
        sim.ebs.create_tags(resources=[], tags=[{"key": "a", "value": "b"}])
    with pytest.raises(MissingParameter):
        sim.ebs.create_tags(resources=[v.volume_id], tags=[])


def test_delete_tags_by_key_by_key_and_value_and_all(sim):
    v = sim.ebs.create_volume(size=1, tag_specifications=spec("volume", a="1", b="2", c="3"))
    sim.ebs.delete_tags(resources=[v.volume_id], tags=[{"key": "a"}, {"key": "b", "value": "x"},
                                                       {"key": "missing"}])
    assert sim.ebs.describe_volumes().volumes[0].tags == (Tag("b", "2"), Tag("c", "3"))
    sim.ebs.delete_tags(resources=[v.volume_id], tags=[{"key": "b", "value": "2"}])
    assert sim.ebs.describe_volumes().volumes[0].tags == (Tag("c", "3"),)
    sim.ebs.delete_tags(resources=[v.volume_id])
    assert sim.ebs.describe_volumes().volumes[0].tags == ()
