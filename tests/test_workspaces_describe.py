"""DescribeWorkspaces filters and paging, bundles, volumes(), tags, and the key forms accepted."""

from __future__ import annotations

import re

import pytest
from workspaces_support import alice_world

from simulator.errors import (
    InvalidParameterValuesException,
    ResourceNotFoundException,
    ValidationException,
)
from simulator.testing.world import WorkspacesWorld

USERS = tuple(f"user{i:02d}" for i in range(30))


@pytest.fixture(scope="module")
def many() -> WorkspacesWorld:
    fleet = alice_world(users=USERS)
    for start in (0, 25):
        result = fleet.admin.workspaces.create_workspaces(
            workspaces=[fleet.request(u) for u in USERS[start:start + 25]])
        assert result.failed_requests == ()
    fleet.sim.run_until_idle()
    return fleet


def test_bundles_are_amazon_owned_with_wsb_ids_and_images() -> None:
    fleet = alice_world()
    bundles = fleet.sim.workspaces.describe_workspace_bundles().bundles
    assert len(bundles) >= 3
    for b in bundles:
        assert re.fullmatch(r"wsb-[0-9a-z]{9}", b.bundle_id)
        assert re.fullmatch(r"wsi-[0-9a-z]{9}", b.image_id)
        assert b.owner == "AMAZON" and b.state == "AVAILABLE"
        assert b.root_volume_size_gib >= 80 and b.user_volume_size_gib >= 10
    assert fleet.sim.workspaces.describe_workspace_bundles(
        bundle_ids=[bundles[1].bundle_id]).bundles == (bundles[1],)
    assert fleet.sim.workspaces.describe_workspace_bundles(owner="AMAZON").bundles == bundles
    with pytest.raises(InvalidParameterValuesException):
        fleet.sim.workspaces.describe_workspace_bundles(bundle_ids=[], owner="AMAZON")


def test_describe_by_ids_returns_known_ones_in_order(many: WorkspacesWorld) -> None:
    everything = _all(many)
    ids = [w.workspace_id for w in everything[:3]]
    found = many.sim.workspaces.describe_workspaces(
        workspace_ids=[ids[2], "ws-000000000", ids[0]]).workspaces
    assert [w.workspace_id for w in found] == [ids[2], ids[0]]


def _all(fleet: WorkspacesWorld, **filters: object) -> list[object]:
    out: list[object] = []
    token = None
    while True:
        page = fleet.sim.workspaces.describe_workspaces(next_token=token, **filters)
        assert len(page.workspaces) <= 25
        out.extend(page.workspaces)
        token = page.next_token
        if token is None:
            return out


def test_describe_pages_by_25_and_the_token_walks_everything_once(many: WorkspacesWorld) -> None:
    first = many.sim.workspaces.describe_workspaces()
    assert len(first.workspaces) == 25 and first.next_token is not None
    everything = _all(many)
    assert [w.user_name for w in everything] == list(USERS)
    small = _all(many, limit=7)
    assert [w.workspace_id for w in small] == [w.workspace_id for w in everything]


def test_describe_by_directory_user_and_bundle(many: WorkspacesWorld) -> None:
    by_dir = _all(many, directory_id=many.directory_id)
    assert len(by_dir) == len(USERS)
    (one,) = many.sim.workspaces.describe_workspaces(directory_id=many.directory_id,
                                                     user_name="USER07").workspaces
    assert one.user_name == "user07"
    assert len(_all(many, bundle_id=many.bundle_id)) == len(USERS)
    assert many.sim.workspaces.describe_workspaces(directory_id="d-0000000000").workspaces == ()


@pytest.mark.parametrize("kwargs, error", [
    ({"workspace_ids": ["ws-000000001"], "directory_id": "d-0123456789"},
     InvalidParameterValuesException),
    ({"user_name": "jdoe"}, InvalidParameterValuesException),
    ({"limit": 0}, InvalidParameterValuesException),
    ({"limit": 26}, InvalidParameterValuesException),
    ({"limit": "5"}, ValidationException),
    ({"next_token": "abc"}, InvalidParameterValuesException),
    ({"workspace_ids": []}, InvalidParameterValuesException),
    ({"workspace_ids": "ws-000000001"}, ValidationException),
    ({"workspace_ids": ["nope"]}, ValidationException),
    ({"directory_id": 5}, ValidationException),
])
def test_describe_rejects_bad_filters(kwargs: dict[str, object],
                                      error: type[Exception]) -> None:
    with pytest.raises(error):
        alice_world().sim.workspaces.describe_workspaces(**kwargs)  # type: ignore[arg-type]


def test_describe_shows_what_the_workspace_was_launched_with(many: WorkspacesWorld) -> None:
    w = _all(many)[0]
    assert w.state == "AVAILABLE"
    assert w.directory_id == many.directory_id and w.bundle_id == many.bundle_id
    assert w.volume_encryption_key == many.key_arn
    assert w.root_volume_encryption_enabled and w.user_volume_encryption_enabled
    assert re.fullmatch(r"ws-[0-9a-z]{9}", w.workspace_id)
    assert re.fullmatch(r"10\.0\.\d+\.\d+", w.ip_address)
    assert w.subnet_id.startswith("subnet-")
    assert w.workspace_properties.running_mode == "ALWAYS_ON"


def test_volumes_names_both_ebs_volumes_and_the_key(many: WorkspacesWorld) -> None:
    w = _all(many)[0]
    volumes = many.sim.workspaces.volumes(w.workspace_id)
    described = many.sim.ebs.describe_volumes(
        volume_ids=[volumes.root_volume_id, volumes.user_volume_id]).volumes
    assert [v.size for v in described] == [80, 50]
    assert {v.state for v in described} == {"in-use"}
    assert {v.kms_key_id for v in described} == {many.key_arn}
    assert volumes.kms_key_arn == many.key_arn
    with pytest.raises(ResourceNotFoundException):
        many.sim.workspaces.volumes("ws-000000000")


def test_on_disk_blocks_are_ciphertext(many: WorkspacesWorld) -> None:
    w = _all(many)[0]
    secret = b"top secret payroll " * 30
    many.write(w.workspace_id, secret)
    raw = b"".join(many.sim.ebs.raw_blocks(many.user_volume(w.workspace_id)).values())
    assert b"top secret payroll" not in raw
    assert many.read(w.workspace_id, len(secret)) == secret


def test_tags_are_kept() -> None:
    fleet = alice_world()
    ws = fleet.launch(tags=[{"key": "team", "value": "finance"}])
    assert [(t.key, t.value) for t in fleet.admin.workspaces.describe_tags(resource_id=ws).tag_list] == [
        ("team", "finance")]


@pytest.mark.parametrize("form", ["key_id", "arn", "alias_name", "alias_arn"])
def test_every_key_form_aws_accepts_launches(form: str) -> None:
    fleet = alice_world()
    sim = fleet.sim
    sim.kms.create_alias(alias_name="alias/ws-volumes", target_key_id=fleet.key_id)
    key = {"key_id": fleet.key_id, "arn": fleet.key_arn, "alias_name": "alias/ws-volumes",
           "alias_arn": "arn:aws:kms:us-west-2:123456789012:alias/ws-volumes"}[form]
    ws = fleet.launch(volume_encryption_key=key)
    assert fleet.state(ws) == "AVAILABLE"
    assert fleet.describe(ws).volume_encryption_key == fleet.key_arn  # the ARN, as AWS reports
    assert sim.workspaces.volumes(ws).kms_key_arn == fleet.key_arn
    volumes = sim.ebs.describe_volumes(volume_ids=[fleet.user_volume(ws)]).volumes
    assert volumes[0].kms_key_id == fleet.key_arn


def test_alias_aws_workspaces_creates_the_aws_managed_key_on_first_use() -> None:
    fleet = alice_world()
    sim = fleet.sim
    assert all(a.alias_name != "alias/aws/workspaces" or a.target_key_id is None
               for a in sim.kms.list_aliases().aliases)
    ws = fleet.launch(volume_encryption_key="alias/aws/workspaces")
    assert fleet.state(ws) == "AVAILABLE"
    managed = sim.kms.describe_key(key_id="alias/aws/workspaces")
    assert managed.key_manager == "AWS"
    assert sim.workspaces.volumes(ws).kms_key_arn == managed.arn
    assert fleet.describe(ws).volume_encryption_key == managed.arn
    # The second WorkSpace uses the same managed key.
    other = fleet.launch("asmith", volume_encryption_key="alias/aws/workspaces")
    assert sim.workspaces.volumes(other).kms_key_arn == managed.arn
    # Step 1 resolved the alias through WorkSpaces, as Alice.
    (describe,) = [r for r in sim.audit.events(event_name="DescribeKey")
                   if r["userIdentity"].get("invokedBy") == "workspaces.amazonaws.com"][:1]
    assert describe["userIdentity"]["arn"] == fleet.admin_arn
