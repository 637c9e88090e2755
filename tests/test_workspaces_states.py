"""The state rules of reboot, rebuild, stop, start and terminate, and their per-item failures."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from workspaces_support import alice_world

from simulator.errors import (
    AccessDeniedException,
    IncorrectState,
    InvalidParameterValuesException,
    ValidationException,
)
from simulator.faults import Fault, OnCall, RaiseError
from simulator.testing.world import WorkspacesWorld


def test_launch_is_pending_for_the_provisioning_time_then_available(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    start = sim.clock.now()
    ws = fleet.launch(settle=False)
    sim.advance(sim.settings.workspace_visible_after_seconds)
    assert fleet.state(ws) == "PENDING"
    sim.advance(sim.settings.encrypted_root_provisioning_seconds - 1
                - sim.settings.workspace_visible_after_seconds)
    assert fleet.state(ws) == "PENDING"
    sim.run_until_idle()
    assert fleet.state(ws) == "AVAILABLE"
    # Provisioning, then the root and the user volume each attaching.
    assert sim.clock.now() - start == timedelta(
        seconds=sim.settings.encrypted_root_provisioning_seconds
        + 2 * sim.settings.volume_attach_seconds)
    described = fleet.describe(ws)
    assert described.ip_address and described.computer_name


def test_describe_right_after_create_returns_nothing_for_the_new_id(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    ws = fleet.launch(settle=False)
    assert sim.settings.workspace_visible_after_seconds > 0
    for described in (fleet.admin.workspaces.describe_workspaces(workspace_ids=[ws]),
                      fleet.admin.workspaces.describe_workspaces(directory_id=fleet.directory_id),
                      fleet.admin.workspaces.describe_workspaces()):
        assert described.workspaces == ()
    sim.advance(sim.settings.workspace_visible_after_seconds)
    [shown] = fleet.admin.workspaces.describe_workspaces(workspace_ids=[ws]).workspaces
    assert (shown.workspace_id, shown.state) == (ws, "PENDING")


def test_without_root_encryption_provisioning_takes_the_shorter_time(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    start = sim.clock.now()
    fleet.launch(root_volume_encryption_enabled=False, settle=False)
    sim.run_until_idle()
    assert sim.clock.now() - start == timedelta(
        seconds=sim.settings.provisioning_seconds + 2 * sim.settings.volume_attach_seconds)


def test_reboot_is_refused_while_pending(fleet: WorkspacesWorld) -> None:
    ws = fleet.launch(settle=False)
    result = fleet.admin.workspaces.reboot_workspaces(workspace_ids=[ws])
    assert len(result.failed_requests) == 1
    failure = result.failed_requests[0]
    assert (failure.workspace_id, failure.error_code) == (ws, "InvalidResourceState")
    assert "PENDING" in failure.error_message


def test_unknown_workspace_fails_the_item_not_the_batch(fleet: WorkspacesWorld) -> None:
    ws = fleet.launch()
    result = fleet.admin.workspaces.reboot_workspaces(workspace_ids=["ws-000000000", ws])
    assert [(f.workspace_id, f.error_code) for f in result.failed_requests] == [
        ("ws-000000000", "ResourceNotFound.Workspace")]
    assert fleet.state(ws) == "REBOOTING"


def test_reboot_while_rebooting_is_refused_until_stuck_for_20_minutes(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    sim.settings.reboot_seconds = 3 * 3600  # a reboot that hangs
    ws = fleet.launch()
    fleet.admin.workspaces.reboot_workspaces(workspace_ids=[ws])
    sim.advance(60)
    again = fleet.admin.workspaces.reboot_workspaces(workspace_ids=[ws])
    assert [f.error_code for f in again.failed_requests] == ["InvalidResourceState"]
    assert "REBOOTING" in again.failed_requests[0].error_message
    sim.advance(20 * 60)
    assert fleet.admin.workspaces.reboot_workspaces(workspace_ids=[ws]).failed_requests == ()
    sim.settings.reboot_seconds = 60
    sim.run_until_idle()
    assert fleet.state(ws) == "AVAILABLE"


def test_reboot_is_refused_from_impaired(fleet: WorkspacesWorld) -> None:
    # RebootWorkspaces lists AVAILABLE, UNHEALTHY and (stuck) REBOOTING only.
    ws = fleet.launch()
    fleet.sim.workspaces.state.workspaces[ws].state = "IMPAIRED"
    result = fleet.admin.workspaces.reboot_workspaces(workspace_ids=[ws])
    assert [f.error_code for f in result.failed_requests] == ["InvalidResourceState"]
    assert "IMPAIRED" in result.failed_requests[0].error_message


def test_terminated_is_visible_only_briefly_by_default(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    assert sim.settings.terminated_visible_seconds <= 60
    ws = fleet.launch()
    fleet.admin.workspaces.terminate_workspaces(workspace_ids=[ws])
    sim.advance(sim.settings.volume_attach_seconds + sim.settings.terminate_seconds + 60)
    assert fleet.state(ws) == "GONE"


def test_rebuild_takes_exactly_one_workspace(fleet: WorkspacesWorld) -> None:
    with pytest.raises(InvalidParameterValuesException, match="between 1 and 1"):
        fleet.admin.workspaces.rebuild_workspaces(workspace_ids=["ws-000000001", "ws-000000002"])


def test_stop_and_start_need_auto_stop(fleet: WorkspacesWorld) -> None:
    always_on = fleet.launch("jdoe")
    auto = fleet.launch("asmith", workspace_properties={"running_mode": "AUTO_STOP"})
    result = fleet.admin.workspaces.stop_workspaces(workspace_ids=[always_on, auto])
    assert [(f.workspace_id, f.error_code) for f in result.failed_requests] == [
        (always_on, "OperationNotSupported")]
    assert "ALWAYS_ON" in result.failed_requests[0].error_message
    assert fleet.state(auto) == "STOPPING"
    fleet.sim.run_until_idle()
    assert fleet.state(auto) == "STOPPED"
    assert fleet.describe(auto).workspace_properties.running_mode_auto_stop_timeout_in_minutes \
        == 60


def test_stop_drops_the_keys_and_start_brings_the_data_back(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    ws = fleet.launch(workspace_properties={"running_mode": "AUTO_STOP"})
    fleet.write(ws, b"kept across stop and start")
    fleet.admin.workspaces.stop_workspaces(stop_workspace_requests=[{"workspace_id": ws}])
    sim.run_until_idle()
    decrypts = len(sim.audit.events(event_name="Decrypt"))
    with pytest.raises(IncorrectState):  # the volume is detached: no block device
        fleet.read(ws, 26)
    again = fleet.admin.workspaces.stop_workspaces(workspace_ids=[ws])
    assert [f.error_code for f in again.failed_requests] == ["InvalidResourceState"]
    fleet.admin.workspaces.start_workspaces(start_workspace_requests=[{"workspace_id": ws}])
    assert fleet.state(ws) == "STARTING"
    sim.run_until_idle()
    assert fleet.state(ws) == "AVAILABLE"
    assert fleet.read(ws, 26) == b"kept across stop and start"
    assert len(sim.audit.events(event_name="Decrypt")) == decrypts + 2  # steps 5-6 again


def test_start_needs_a_stopped_workspace(fleet: WorkspacesWorld) -> None:
    ws = fleet.launch(workspace_properties={"running_mode": "AUTO_STOP"})
    result = fleet.admin.workspaces.start_workspaces(workspace_ids=[ws])
    assert [f.error_code for f in result.failed_requests] == ["InvalidResourceState"]
    assert "AVAILABLE" in result.failed_requests[0].error_message


def test_terminate_goes_terminating_terminated_then_gone(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    ws = fleet.launch()
    fleet.admin.workspaces.terminate_workspaces(terminate_workspace_requests=[{"workspace_id": ws}])
    assert fleet.state(ws) == "TERMINATING"
    # Detaching the volumes, then terminating.
    sim.advance(sim.settings.volume_attach_seconds + sim.settings.terminate_seconds)
    assert fleet.state(ws) == "TERMINATED"
    sim.advance(sim.settings.terminated_visible_seconds - 1)
    assert fleet.state(ws) == "TERMINATED"
    sim.advance(1)
    assert fleet.state(ws) == "GONE"
    assert sim.ebs.describe_volumes().volumes == ()
    assert list(sim.kms.grants.list(fleet.key_arn)) == []
    # The user may have a new WorkSpace now.
    assert fleet.launch() != ws


def test_terminate_twice_is_harmless(fleet: WorkspacesWorld) -> None:
    ws = fleet.launch()
    assert fleet.admin.workspaces.terminate_workspaces(workspace_ids=[ws]).failed_requests == ()
    assert fleet.admin.workspaces.terminate_workspaces(workspace_ids=[ws]).failed_requests == ()
    fleet.sim.run_until_idle()
    assert fleet.state(ws) == "GONE"


def test_terminate_while_pending_cancels_provisioning_and_cleans_up(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    ws = fleet.launch(settle=False)
    sim.advance(60)  # the volumes exist, not yet attached
    assert len(sim.ebs.describe_volumes().volumes) == 2
    fleet.admin.workspaces.terminate_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    assert fleet.state(ws) == "GONE"
    assert sim.ebs.describe_volumes().volumes == ()
    assert list(sim.kms.grants.list(fleet.key_arn)) == []


def test_terminate_is_refused_while_suspended_for_an_image() -> None:
    fleet = alice_world()
    ws = fleet.launch(root_volume_encryption_enabled=False, user_volume_encryption_enabled=False)
    fleet.admin.workspaces.create_workspace_image(name="golden", description="base image", workspace_id=ws)
    assert fleet.state(ws) == "SUSPENDED"
    result = fleet.admin.workspaces.terminate_workspaces(workspace_ids=[ws])
    assert [f.error_code for f in result.failed_requests] == ["InvalidResourceState"]
    assert "SUSPENDED" in result.failed_requests[0].error_message
    fleet.sim.run_until_idle()
    assert fleet.state(ws) == "AVAILABLE"
    assert fleet.admin.workspaces.terminate_workspaces(workspace_ids=[ws]).failed_requests == ()


def test_shorthand_and_aws_shaped_requests_are_exclusive(fleet: WorkspacesWorld) -> None:
    with pytest.raises(ValidationException, match="not both"):
        fleet.admin.workspaces.reboot_workspaces(reboot_workspace_requests=[{"workspace_id": "ws-000000001"}],
                                   workspace_ids=["ws-000000001"])
    with pytest.raises(ValidationException, match="missing"):
        fleet.admin.workspaces.terminate_workspaces()


@pytest.mark.parametrize("requests", [
    [{"workspace_id": "bad"}], [{"workspaceid": "ws-000000001"}], ["ws-000000001"], [{}],
])
def test_malformed_change_requests_are_validation_errors(fleet: WorkspacesWorld, requests: object) -> None:
    with pytest.raises(ValidationException):
        fleet.admin.workspaces.reboot_workspaces(reboot_workspace_requests=requests)  # type: ignore[arg-type]


@pytest.mark.parametrize("count", [0, 26])
def test_change_batches_hold_1_to_25(fleet: WorkspacesWorld, count: int) -> None:
    with pytest.raises(InvalidParameterValuesException):
        fleet.admin.workspaces.terminate_workspaces(workspace_ids=["ws-000000001"] * count)


def test_a_caller_without_permission_is_denied_for_the_whole_call(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    ws = fleet.launch()
    sim.iam.create_user(user_name="Mallory")
    sim.iam.put_user_policy(user_name="Mallory", policy_name="DescribeOnly",
                            policy_document=json.dumps({"Version": "2012-10-17", "Statement": [
                                {"Effect": "Allow", "Action": "workspaces:Describe*",
                                 "Resource": "*"}]}))
    mallory = sim.as_principal("arn:aws:iam::123456789012:user/Mallory").workspaces
    assert [w.workspace_id for w in mallory.describe_workspaces().workspaces] == [ws]
    for call in (mallory.reboot_workspaces, mallory.terminate_workspaces,
                 mallory.rebuild_workspaces):
        with pytest.raises(AccessDeniedException, match="Mallory"):
            call(workspace_ids=[ws])
    assert fleet.state(ws) == "AVAILABLE"


def test_policy_naming_one_workspace_allows_only_that_one(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    first = fleet.launch("jdoe")
    second = fleet.launch("asmith")
    arn = f"arn:aws:workspaces:us-west-2:123456789012:workspace/{first}"
    sim.iam.create_user(user_name="Helpdesk")
    sim.iam.put_user_policy(user_name="Helpdesk", policy_name="RebootOne",
                            policy_document=json.dumps({"Version": "2012-10-17", "Statement": [
                                {"Effect": "Allow", "Action": "workspaces:RebootWorkspaces",
                                 "Resource": arn}]}))
    helpdesk = sim.as_principal("arn:aws:iam::123456789012:user/Helpdesk").workspaces
    with pytest.raises(AccessDeniedException):
        helpdesk.reboot_workspaces(workspace_ids=[first, second])
    assert fleet.state(first) == fleet.state(second) == "AVAILABLE"
    assert helpdesk.reboot_workspaces(workspace_ids=[first]).failed_requests == ()


def test_a_workspace_whose_launch_failed_before_its_volumes_cannot_start(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    sim.faults.inject(Fault(OnCall("ec2:CreateVolume"), RaiseError("ThrottlingException", 100)))
    ws = fleet.launch(workspace_properties={"running_mode": "AUTO_STOP"})
    sim.faults.clear()
    assert fleet.state(ws) == "ERROR"
    fleet.admin.workspaces.stop_workspaces(workspace_ids=[ws])  # AWS allows a stop from ERROR
    sim.run_until_idle()
    fleet.admin.workspaces.start_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    assert fleet.state(ws) != "AVAILABLE"  # no volumes to attach: never available
    assert sim.workspaces.volumes(ws).root_volume_id is None


@pytest.mark.parametrize("token", ["\u00b2", "9" * 5000, "-1", "1.5", ""])
def test_describe_refuses_next_tokens_that_are_not_our_offsets(fleet: WorkspacesWorld, token: str) -> None:
    with pytest.raises(InvalidParameterValuesException):
        fleet.admin.workspaces.describe_workspaces(next_token=token)
