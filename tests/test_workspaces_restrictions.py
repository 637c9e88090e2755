"""The seed's encryption restrictions: no encrypting an existing WorkSpace, no turning it off,
no custom image from an encrypted WorkSpace."""

from __future__ import annotations

import pytest

from simulator.errors import (
    InvalidParameterValuesException,
    InvalidResourceStateException,
    OperationNotSupportedException,
    ResourceNotFoundException,
    ValidationException,
)
from simulator.testing.world import WorkspacesWorld


@pytest.mark.parametrize("field", ["root_volume_encryption_enabled",
                                   "user_volume_encryption_enabled"])
def test_an_existing_workspace_cannot_be_encrypted(fleet: WorkspacesWorld, field: str) -> None:
    ws = fleet.launch(root_volume_encryption_enabled=False, user_volume_encryption_enabled=False,
                      volume_encryption_key=None)
    with pytest.raises(OperationNotSupportedException, match="only be chosen when a WorkSpace "
                                                             "is launched"):
        fleet.admin.workspaces.modify_workspace_properties(workspace_id=ws,
                                             workspace_properties={field: True})
    described = fleet.describe(ws)
    assert not described.root_volume_encryption_enabled
    assert not described.user_volume_encryption_enabled


@pytest.mark.parametrize("field", ["root_volume_encryption_enabled",
                                   "user_volume_encryption_enabled"])
def test_encryption_cannot_be_turned_off(fleet: WorkspacesWorld, field: str) -> None:
    ws = fleet.launch()
    with pytest.raises(OperationNotSupportedException, match="cannot be turned off"):
        fleet.admin.workspaces.modify_workspace_properties(workspace_id=ws,
                                             workspace_properties={field: False})
    described = fleet.describe(ws)
    assert described.root_volume_encryption_enabled and described.user_volume_encryption_enabled


def test_the_key_of_an_encrypted_workspace_cannot_be_changed(fleet: WorkspacesWorld) -> None:
    ws = fleet.launch()
    other = fleet.sim.kms.create_key(description="new key")
    with pytest.raises(OperationNotSupportedException, match="launch a new WorkSpace"):
        fleet.admin.workspaces.modify_workspace_properties(
            workspace_id=ws, workspace_properties={"volume_encryption_key": other.arn})
    assert fleet.describe(ws).volume_encryption_key == fleet.key_arn


def test_restating_the_current_encryption_is_accepted(fleet: WorkspacesWorld) -> None:
    ws = fleet.launch()
    fleet.admin.workspaces.modify_workspace_properties(workspace_id=ws, workspace_properties={
        "root_volume_encryption_enabled": True, "user_volume_encryption_enabled": True,
        "volume_encryption_key": fleet.key_arn, "compute_type_name": "POWER"})
    assert fleet.describe(ws).workspace_properties.compute_type_name == "POWER"


def test_running_mode_can_be_modified(fleet: WorkspacesWorld) -> None:
    ws = fleet.launch()
    fleet.admin.workspaces.modify_workspace_properties(workspace_id=ws, workspace_properties={
        "running_mode": "AUTO_STOP", "running_mode_auto_stop_timeout_in_minutes": 120})
    props = fleet.describe(ws).workspace_properties
    assert (props.running_mode, props.running_mode_auto_stop_timeout_in_minutes) == (
        "AUTO_STOP", 120)
    assert fleet.admin.workspaces.stop_workspaces(workspace_ids=[ws]).failed_requests == ()
    with pytest.raises(InvalidParameterValuesException):
        fleet.admin.workspaces.modify_workspace_properties(workspace_id=ws, workspace_properties={
            "running_mode_auto_stop_timeout_in_minutes": 61})


def test_modify_needs_an_available_or_stopped_workspace(fleet: WorkspacesWorld) -> None:
    ws = fleet.launch(settle=False)
    with pytest.raises(InvalidResourceStateException, match="PENDING"):
        fleet.admin.workspaces.modify_workspace_properties(workspace_id=ws,
                                             workspace_properties={"compute_type_name": "VALUE"})


def test_modify_rejects_bad_input(fleet: WorkspacesWorld) -> None:
    ws = fleet.launch()
    with pytest.raises(ValidationException):
        fleet.admin.workspaces.modify_workspace_properties(workspace_id=ws, workspace_properties={"x": 1})
    with pytest.raises(ValidationException):
        fleet.admin.workspaces.modify_workspace_properties(workspace_id="nope", workspace_properties={})
    with pytest.raises(ResourceNotFoundException):
        fleet.admin.workspaces.modify_workspace_properties(workspace_id="ws-000000000",
                                             workspace_properties={})
    with pytest.raises(OperationNotSupportedException, match="resized"):
        fleet.admin.workspaces.modify_workspace_properties(workspace_id=ws, workspace_properties={
            "user_volume_size_gib": 100})


@pytest.mark.parametrize("volumes", [(True, False), (False, True), (True, True)])
def test_no_custom_image_from_an_encrypted_workspace(fleet: WorkspacesWorld,
                                                     volumes: tuple[bool, bool]) -> None:
    ws = fleet.launch(root_volume_encryption_enabled=volumes[0],
                      user_volume_encryption_enabled=volumes[1])
    snapshots = len(fleet.sim.ebs.describe_snapshots().snapshots)
    with pytest.raises(OperationNotSupportedException, match="encrypted WorkSpace"):
        fleet.admin.workspaces.create_workspace_image(name="golden", description="x", workspace_id=ws)
    assert fleet.state(ws) == "AVAILABLE"
    assert fleet.admin.workspaces.describe_workspace_images().images == ()
    assert len(fleet.sim.ebs.describe_snapshots().snapshots) == snapshots


def test_custom_image_from_an_unencrypted_workspace(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    ws = fleet.launch(root_volume_encryption_enabled=False, user_volume_encryption_enabled=False,
                      volume_encryption_key=None)
    image = fleet.admin.workspaces.create_workspace_image(name="golden", description="base", workspace_id=ws)
    assert image.image_id.startswith("wsi-") and image.state == "PENDING"
    assert fleet.state(ws) == "SUSPENDED"
    assert fleet.admin.workspaces.reboot_workspaces(workspace_ids=[ws]).failed_requests[0].error_code == (
        "InvalidResourceState")
    sim.run_until_idle()
    assert fleet.state(ws) == "AVAILABLE"
    (done,) = fleet.admin.workspaces.describe_workspace_images(image_ids=[image.image_id]).images
    assert done.state == "AVAILABLE" and done.source_workspace_id == ws
    fleet.admin.workspaces.delete_workspace_image(image_id=image.image_id)
    assert fleet.admin.workspaces.describe_workspace_images().images == ()
    assert sim.ebs.describe_snapshots().snapshots == ()


def test_image_needs_an_available_workspace_and_a_valid_name(fleet: WorkspacesWorld) -> None:
    ws = fleet.launch(settle=False, root_volume_encryption_enabled=False,
                      user_volume_encryption_enabled=False, volume_encryption_key=None)
    with pytest.raises(InvalidResourceStateException):
        fleet.admin.workspaces.create_workspace_image(name="golden", description="x", workspace_id=ws)
    with pytest.raises(ValidationException):
        fleet.admin.workspaces.create_workspace_image(name="bad name!", description="x", workspace_id=ws)
