"""CreateWorkspaces: each bad item fails alone, with its reason, and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from workspaces_support import alice_world

from simulator.errors import InvalidParameterValuesException, ValidationException
from simulator.testing.world import WorkspacesWorld
from simulator.workspaces.service import KEY_NOT_FOUND_MESSAGE


def _fingerprint(fleet: WorkspacesWorld) -> Any:
    """What a refused item must not change: WorkSpaces, volumes, grants, scheduled work."""
    sim = fleet.sim
    return (
        len(sim.workspaces.state.workspaces),
        len(sim.ebs.describe_volumes().volumes),
        tuple(g.grant_id for g in sim.kms.grants.list(fleet.key_arn)),
        len(sim.clock.pending()),
    )


def _refused(fleet: WorkspacesWorld, request: dict[str, Any]) -> Any:
    before = _fingerprint(fleet)
    result = fleet.admin.workspaces.create_workspaces(workspaces=[request])
    assert result.pending_requests == ()
    assert len(result.failed_requests) == 1
    assert _fingerprint(fleet) == before
    failure = result.failed_requests[0]
    assert dict(failure.workspace_request) == request  # the request is echoed back
    return failure


def test_unknown_directory_fails_the_item(fleet: WorkspacesWorld) -> None:
    failure = _refused(fleet, fleet.request(directory_id="d-0123456789"))
    assert failure.error_code == "ResourceNotFound.Directory"
    assert "directory could not be found" in failure.error_message


def test_unknown_user_fails_the_item(fleet: WorkspacesWorld) -> None:
    failure = _refused(fleet, fleet.request("nobody"))
    assert failure.error_code == "InvalidUserConfiguration.Workspace"
    assert "The user was either not found or is misconfigured" in failure.error_message


def test_unknown_bundle_fails_the_item(fleet: WorkspacesWorld) -> None:
    failure = _refused(fleet, fleet.request(bundle_id="wsb-000000000"))
    assert failure.error_code == "ResourceNotFound.Bundle"
    assert "wsb-000000000" in failure.error_message


@pytest.mark.parametrize("volumes", [(True, False), (False, True), (True, True)])
def test_encryption_without_a_key_fails_the_item(fleet: WorkspacesWorld,
                                                 volumes: tuple[bool, bool]) -> None:
    failure = _refused(fleet, fleet.request(volume_encryption_key=None,
                                            root_volume_encryption_enabled=volumes[0],
                                            user_volume_encryption_enabled=volumes[1]))
    assert failure.error_code == "InvalidParameterValuesException"
    assert "VolumeEncryptionKey is required" in failure.error_message


@pytest.mark.parametrize("key", [
    "arn:aws:kms:us-west-2:123456789012:key/11111111-2222-4333-8444-555555555555",
    "11111111-2222-4333-8444-555555555555",
    "alias/no-such-alias",
    "arn:aws:kms:us-west-2:123456789012:alias/no-such-alias",
    "not-a-key",
])
def test_unknown_key_fails_with_the_key_not_found_message(fleet: WorkspacesWorld, key: str) -> None:
    failure = _refused(fleet, fleet.request(volume_encryption_key=key))
    assert failure.error_code == "NotFoundException"
    assert failure.error_message == KEY_NOT_FOUND_MESSAGE
    assert failure.error_message == (
        "The specified key could not be found. Please provide a valid key for encryption.")


def test_disabled_key_fails_naming_the_kms_error(fleet: WorkspacesWorld) -> None:
    fleet.sim.kms.disable_key(key_id=fleet.key_id)
    failure = _refused(fleet, fleet.request())
    assert failure.error_code == "DisabledException"
    assert f"{fleet.key_arn} is disabled." in failure.error_message


def test_key_pending_deletion_fails_naming_the_kms_error(fleet: WorkspacesWorld) -> None:
    fleet.sim.kms.schedule_key_deletion(key_id=fleet.key_id, pending_window_in_days=7)
    failure = _refused(fleet, fleet.request())
    assert failure.error_code == "KMSInvalidStateException"
    assert f"{fleet.key_arn} is pending deletion." in failure.error_message


@pytest.mark.parametrize("by_alias", [False, True])
def test_asymmetric_key_fails_the_item(fleet: WorkspacesWorld, by_alias: bool) -> None:
    rsa = fleet.sim.kms.create_key(key_spec="RSA_2048", key_usage="ENCRYPT_DECRYPT",
                                   policy=fleet.sim.kms.get_key_policy(
                                       key_id=fleet.key_id).policy)
    key = rsa.arn
    if by_alias:
        fleet.sim.kms.create_alias(alias_name="alias/rsa", target_key_id=rsa.key_id)
        key = "alias/rsa"
    before = len(fleet.sim.kms.grants.list(rsa.arn))
    failure = _refused(fleet, fleet.request(volume_encryption_key=key))
    assert failure.error_code in ("ValidationException", "InvalidKeyUsageException")
    assert "symmetric" in failure.error_message
    assert len(fleet.sim.kms.grants.list(rsa.arn)) == before


def test_key_whose_policy_does_not_let_the_admin_create_grants_fails(fleet: WorkspacesWorld) -> None:
    # A key with only the default policy: Alice's IAM policy alone does not reach it... unless
    # the account statement delegates to IAM. Take CreateGrant away from her IAM policy too.
    sim = fleet.sim
    sim.iam.put_user_policy(user_name="Alice", policy_name="KmsForWorkSpaces",
                            policy_document=json.dumps({"Version": "2012-10-17", "Statement": [
                                {"Effect": "Allow", "Action": ["kms:Describe*", "kms:List*"],
                                 "Resource": "*"}]}))
    other = sim.kms.create_key(description="root-only policy")
    failure = _refused(fleet, fleet.request(volume_encryption_key=other.arn))
    assert failure.error_code == "AccessDeniedException"
    assert "kms:CreateGrant" in failure.error_message
    assert fleet.admin_arn in failure.error_message


def test_caller_without_workspaces_permission_fails_the_item() -> None:
    fleet = alice_world(iam_policies=False)
    failure = _refused(fleet, fleet.request())
    assert failure.error_code == "AccessDeniedException"
    assert "workspaces:CreateWorkspaces" in failure.error_message
    # No KMS call was made for a request IAM refused.
    assert fleet.sim.audit.events(event_name="CreateGrant") == []


def test_second_workspace_for_the_same_user_fails(fleet: WorkspacesWorld) -> None:
    first = fleet.launch("jdoe")
    failure = _refused(fleet, fleet.request("JDOE"))
    assert failure.error_code == "ResourceExists.Workspace"
    assert first in failure.error_message


def test_same_user_twice_in_one_batch_fails_the_second_only(fleet: WorkspacesWorld) -> None:
    result = fleet.admin.workspaces.create_workspaces(workspaces=[fleet.request("jdoe"),
                                                    fleet.request("jdoe")])
    assert len(result.pending_requests) == 1
    assert [f.error_code for f in result.failed_requests] == ["ResourceExists.Workspace"]


def test_bad_items_fail_alone_and_good_ones_launch(fleet: WorkspacesWorld) -> None:
    fleet.sim.kms.create_key(description="spare")
    result = fleet.admin.workspaces.create_workspaces(workspaces=[
        fleet.request("jdoe"),
        fleet.request("nobody"),
        fleet.request("asmith", volume_encryption_key="alias/missing"),
        fleet.request("bwong"),
    ])
    assert [w.user_name for w in result.pending_requests] == ["jdoe", "bwong"]
    assert [w.state for w in result.pending_requests] == ["PENDING", "PENDING"]
    assert [f.workspace_request["user_name"] for f in result.failed_requests] == [
        "nobody", "asmith"]
    fleet.sim.run_until_idle()
    assert {fleet.state(w.workspace_id) for w in result.pending_requests} == {"AVAILABLE"}


@pytest.mark.parametrize("props, text", [
    ({"root_volume_size_gib": 10}, "root_volume_size_gib"),
    ({"user_volume_size_gib": 5000}, "user_volume_size_gib"),
    ({"running_mode": "ALWAYS_ON", "running_mode_auto_stop_timeout_in_minutes": 60},
     "applies only to AUTO_STOP"),
    ({"running_mode": "AUTO_STOP", "running_mode_auto_stop_timeout_in_minutes": 90},
     "multiple of 60"),
])
def test_bad_property_values_fail_the_item(fleet: WorkspacesWorld, props: dict[str, Any],
                                           text: str) -> None:
    failure = _refused(fleet, fleet.request(workspace_properties=props))
    assert failure.error_code == "InvalidParameterValuesException"
    assert text in failure.error_message


@pytest.mark.parametrize("count", [0, 26])
def test_batch_of_wrong_size_is_invalid_parameter_values(fleet: WorkspacesWorld, count: int) -> None:
    with pytest.raises(InvalidParameterValuesException, match="between 1 and 25"):
        fleet.admin.workspaces.create_workspaces(workspaces=[fleet.request()] * count)
    assert fleet.sim.workspaces.state.workspaces == {}


@pytest.mark.parametrize("bad", [
    {"directory_id": 5},
    {"directory_id": "not-a-directory"},
    {"bundle_id": "bundle"},
    {"user_name": ""},
    {"user_name": "x" * 64},
    {"root_volume_encryption_enabled": "yes"},
    {"volume_encryption_key": 12},
    {"workspace_properties": {"running_mode": "SOMETIMES"}},
    {"workspace_properties": {"compute_type_name": "HUGE"}},
    {"workspace_properties": {"root_volume_size_gib": "80"}},
    {"workspace_properties": {"colour": "blue"}},
    {"workspace_properties": []},
    {"tags": [{"key": "aws:reserved", "value": "x"}]},
    {"tags": "owner=me"},
    {"favourite_colour": "blue"},
])
def test_malformed_request_is_a_validation_error_for_the_whole_call(
        fleet: WorkspacesWorld, bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationException):
        fleet.admin.workspaces.create_workspaces(workspaces=[fleet.request("asmith"), {**fleet.request(),
                                                                         **bad}])
    assert fleet.sim.workspaces.state.workspaces == {}
    assert fleet.sim.audit.events(event_name="CreateGrant") == []


@pytest.mark.parametrize("workspaces", ["jdoe", None, 7, [None], ["x"]])
def test_workspaces_of_the_wrong_type_is_a_validation_error(fleet: WorkspacesWorld,
                                                            workspaces: Any) -> None:
    with pytest.raises(ValidationException):
        fleet.admin.workspaces.create_workspaces(workspaces=workspaces)


def test_missing_required_field_is_a_validation_error(fleet: WorkspacesWorld) -> None:
    request = fleet.request()
    del request["bundle_id"]
    with pytest.raises(ValidationException, match="bundle_id"):
        fleet.admin.workspaces.create_workspaces(workspaces=[request])


def test_key_without_encryption_flags_launches_unencrypted(fleet: WorkspacesWorld) -> None:
    workspace_id = fleet.launch(root_volume_encryption_enabled=False,
                                user_volume_encryption_enabled=False)
    assert fleet.state(workspace_id) == "AVAILABLE"
    assert fleet.sim.audit.events(event_name="CreateGrant") == []
    volumes = fleet.sim.ebs.describe_volumes(volume_ids=[fleet.user_volume(workspace_id)])
    assert volumes.volumes[0].encrypted is False
