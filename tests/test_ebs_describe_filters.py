"""DescribeVolumes / DescribeSnapshots: Filters on the common fields, MaxResults/NextToken."""

from __future__ import annotations

import pytest
from ebs_support import DEVICE, INSTANCE
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import Simulation
from simulator.errors import (
    InvalidPaginationToken,
    InvalidParameterCombination,
    InvalidParameterValue,
)


def f(name: str, *values: str) -> dict[str, object]:
    return {"name": name, "values": list(values)}


@pytest.fixture
def world():
    sim = Simulation(seed=9)
    key = sim.kms.create_key()
    plain = sim.ebs.create_volume(size=2, tag_specifications=[
        {"resource_type": "volume", "tags": [{"key": "team", "value": "data-eng"}]}])
    enc = sim.ebs.create_volume(size=8, encrypted=True, kms_key_id=key.arn,
                                availability_zone=f"{sim.region}b", tag_specifications=[
        {"resource_type": "volume", "tags": [{"key": "team", "value": "web"},
                                             {"key": "Name", "value": "db"}]}])
    sim.run_until_idle()
    sim.ebs.attach_volume(volume_id=enc.volume_id, instance_id=INSTANCE, device=DEVICE)
    sim.run_until_idle()
    return sim, key, plain.volume_id, enc.volume_id


def ids(result) -> list[str]:
    return [v.volume_id for v in result.volumes]


def test_each_common_volume_filter(world):
    sim, key, plain, enc = world
    cases = [
        ([f("volume-id", plain)], [plain]),
        ([f("encrypted", "true")], [enc]),
        ([f("encrypted", "false")], [plain]),
        ([f("size", "8")], [enc]),
        ([f("availability-zone", f"{sim.region}b")], [enc]),
        ([f("kms-key-id", key.arn)], [enc]),
        ([f("attachment.instance-id", INSTANCE)], [enc]),
        ([f("attachment.device", DEVICE)], [enc]),
        ([f("status", "in-use")], [enc]),
        ([f("status", "available", "in-use")], [plain, enc]),
        ([f("tag:team", "data-*")], [plain]),
        ([f("tag:team", "we?")], [enc]),
        ([f("tag-key", "Name")], [enc]),
        ([f("tag:team", "*"), f("encrypted", "true")], [enc]),
        ([f("tag:nothing", "*")], []),
        ([f("volume-type", "gp3")], [plain, enc]),
    ]
    for filters, expected in cases:
        assert ids(sim.ebs.describe_volumes(filters=filters)) == expected, filters


def test_filter_values_are_case_sensitive_and_literal_apart_from_wildcards(world):
    sim, _, plain, _ = world
    assert ids(sim.ebs.describe_volumes(filters=[f("tag:team", "DATA-ENG")])) == []
    assert ids(sim.ebs.describe_volumes(filters=[f("tag:team", "data.eng")])) == []
    assert ids(sim.ebs.describe_volumes(filters=[f("tag:team", "data-eng")])) == [plain]


def test_filters_combine_with_explicit_ids(world):
    sim, _, plain, enc = world
    got = sim.ebs.describe_volumes(volume_ids=[plain, enc], filters=[f("encrypted", "false")])
    assert ids(got) == [plain]


@pytest.mark.parametrize("filters", [
    [f("no-such-filter", "x")], [{"name": "size"}], [f("size")], [{"Name": "size", "Values": ["1"]}],
    "size", [f("tag:", "x")], [{"name": "size", "values": [1]}],
])
def test_bad_filters_are_invalid_parameter_value(world, filters):
    with pytest.raises(InvalidParameterValue):
        world[0].ebs.describe_volumes(filters=filters)


def test_snapshot_filters(world):
    sim, key, plain, enc = world
    s1 = sim.ebs.create_snapshot(volume_id=enc,
                                 description="nightly", tag_specifications=[
        {"resource_type": "snapshot", "tags": [{"key": "kind", "value": "nightly"}]}])
    s2 = sim.ebs.create_snapshot(volume_id=plain)
    sim.run_until_idle()
    def snaps(**kw):
        return [s.snapshot_id for s in sim.ebs.describe_snapshots(**kw).snapshots]
    assert snaps(filters=[f("encrypted", "true")]) == [s1.snapshot_id]
    assert snaps(filters=[f("volume-id", plain)]) == [s2.snapshot_id]
    assert snaps(filters=[f("tag:kind", "night*")]) == [s1.snapshot_id]
    assert snaps(filters=[f("kms-key-id", key.arn)]) == [s1.snapshot_id]
    assert snaps(filters=[f("description", "nightly")]) == [s1.snapshot_id]
    assert snaps(filters=[f("status", "completed")]) == [s1.snapshot_id, s2.snapshot_id]
    assert snaps(filters=[f("owner-id", sim.account_id)]) == [s1.snapshot_id, s2.snapshot_id]
    assert snaps(owner_ids=["self"]) == [s1.snapshot_id, s2.snapshot_id]
    assert snaps(owner_ids=["210987654321"]) == []


@settings(max_examples=15, deadline=None)
@given(n=st.integers(0, 13), size=st.integers(5, 7))
def test_pages_cover_every_volume_once_in_order(n, size):
    sim = Simulation(seed=2)
    made = [sim.ebs.create_volume(size=1).volume_id for _ in range(n)]
    seen, token, pages = [], None, 0
    while True:
        got = sim.ebs.describe_volumes(max_results=size, next_token=token)
        seen += ids(got)
        pages += 1
        token = got.next_token
        if token is None:
            break
    assert seen == made and pages == max(1, -(-n // size))


def test_paging_rules(world):
    sim, _, plain, _ = world
    with pytest.raises(InvalidParameterCombination):
        sim.ebs.describe_volumes(volume_ids=[plain], max_results=5)
    for bad in (4, 501, True, "5"):
        with pytest.raises(InvalidParameterValue):
            sim.ebs.describe_volumes(max_results=bad)
    for token in ("", "!!", "dm9sLTAwMDAwMDAw", 7):
        with pytest.raises(InvalidPaginationToken):
            sim.ebs.describe_volumes(max_results=5, next_token=token)
    with pytest.raises(InvalidParameterValue):
        sim.ebs.describe_snapshots(max_results=1001)
