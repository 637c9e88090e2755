"""Faults in the WorkSpaces lifecycle: step triggers, what breaks, and how it recovers."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from simulator import Simulation
from simulator.errors import AccessDeniedException, IncorrectState, InvalidVolumeNotFound
from simulator.faults import (
    AtStep,
    AtTime,
    Chance,
    DisableKey,
    DropAttachment,
    Fault,
    FlipDataKeyBit,
    OnCall,
    PutKeyPolicy,
    RaiseError,
    RetireGrant,
    RevokeGrant,
    ScheduleKeyDeletion,
    SetGrantPropagation,
)
from simulator.iam.principals import ebs_identity_arn, workspaces_identity_arn
from simulator.testing.world import LaunchRefused, WorkspacesWorld


@pytest.fixture
def world() -> WorkspacesWorld:
    return WorkspacesWorld.build(Simulation(seed=21), users=("jdoe", "asmith"))


def _relaunch(world: WorkspacesWorld, workspace_id: str, user: str = "jdoe") -> str:
    """The documented way out of ERROR with no snapshot: terminate, launch again."""
    world.sim.workspaces.terminate_workspaces(workspace_ids=[workspace_id])
    world.settle()
    fresh = world.launch(user)
    assert world.state(fresh) == "AVAILABLE"
    return fresh


def _reboot(world: WorkspacesWorld, workspace_id: str) -> None:
    world.sim.workspaces.reboot_workspaces(workspace_ids=[workspace_id])
    world.settle()


def _fault_events(world: WorkspacesWorld):
    return [e for e in world.sim.trace.events() if e.actor == "Faults" and e.action != "Armed"]


# --- step triggers ------------------------------------------------------------------------


def test_disable_key_at_step_1_acts_on_the_key_in_play_before_the_workspace_is_listed(
        world: WorkspacesWorld) -> None:
    sim = world.sim
    sim.faults.inject(Fault(AtStep(1), DisableKey()))
    with pytest.raises(LaunchRefused):
        world.launch("jdoe")
    record = sim.faults.records()[0]
    assert record.outcome == "ok", record.detail
    assert sim.kms.describe_key(key_id=world.key_arn).key_state == "Disabled"


def test_disable_key_before_step_5_fails_the_launch_with_the_cause_in_the_trace(world: WorkspacesWorld) -> None:
    sim = world.sim
    sim.faults.inject(Fault(AtStep(5), DisableKey(), name="disable at 5"))
    ws = world.launch("jdoe")
    described = world.workspace(ws)
    assert (described.state, described.error_code) == ("ERROR", "DisabledException")
    assert "attaching the root volume" in described.error_message
    # Cause, then effect, in one WorkSpace's trace: the fault at step 5, KMS refusing at step 6.
    events = sim.trace.events(workspace_id=ws)
    cause = next(i for i, e in enumerate(events) if e.actor == "Faults")
    assert (events[cause].action, events[cause].step) == ("DisableKey", 5)
    refused = next(e for e in events[cause:] if e.actor == "KMS" and e.action == "Decrypt")
    assert (refused.outcome, refused.step) == ("DisabledException", 6)
    # In the audit: the root's DisableKey, the fault's record of it, then the refused Decrypt.
    names = [(r["eventName"], r.get("errorCode")) for r in sim.audit.events()]
    disable = names.index(("DisableKey", None))
    assert names[disable + 1] == ("FaultInjected", None)
    assert names.index(("Decrypt", "DisabledException")) > disable + 1
    # Recovery: the key back, a new WorkSpace for the user.
    sim.kms.enable_key(key_id=world.key_arn)
    _relaunch(world, ws)


def test_disable_key_before_step_5_of_a_reboot_leaves_it_unhealthy_until_enable_and_reboot(world: WorkspacesWorld) -> None:
    sim = world.sim
    ws = world.launch("jdoe")
    world.user_device(ws).write(0, b"my documents")
    sim.faults.inject(Fault(AtStep(5, workspace_id=ws), DisableKey()))  # the reboot's first attach
    _reboot(world, ws)
    assert (world.state(ws), world.workspace(ws).error_code) == ("UNHEALTHY", "DisabledException")
    sim.kms.enable_key(key_id=world.key_arn)
    _reboot(world, ws)
    assert world.state(ws) == "AVAILABLE"
    assert world.user_device(ws).read(0, 12) == b"my documents"


def test_a_step_trigger_for_one_workspace_and_occurrence_leaves_the_others_alone(world: WorkspacesWorld) -> None:
    sim = world.sim
    first = world.launch("jdoe")
    second = world.launch("asmith", settle=False)
    # Steps 2-4 and 8 run once per volume: occurrence 2 is the user volume.
    sim.faults.inject(Fault(AtStep(8, "after", workspace_id=second, occurrence=2), FlipDataKeyBit("user")))
    world.settle()
    assert world.state(first) == "AVAILABLE"
    failed = world.workspace(second)
    assert (failed.state, failed.error_code) == ("ERROR", "InvalidCiphertextException")
    assert "attaching the user volume" in failed.error_message
    flipped = sim.faults.records()[-1]
    assert (flipped.action, flipped.workspace_id) == ("FlipDataKeyBit", second)
    assert flipped.target == sim.workspaces.volumes(second).user_volume_id
    _relaunch(world, second, "asmith")


def test_after_step_9_fires_once_the_workspace_is_terminated(world: WorkspacesWorld) -> None:
    sim = world.sim
    ws = world.launch("jdoe")
    sim.faults.inject(Fault(AtStep(9, "after"), ScheduleKeyDeletion(world.key_arn, 7)))
    sim.workspaces.terminate_workspaces(workspace_ids=[ws])
    sim.advance(seconds=60)
    assert sim.kms.describe_key(key_id=world.key_arn).key_state == "Enabled"  # still terminating
    world.settle()
    assert sim.kms.describe_key(key_id=world.key_arn).key_state == "PendingDeletion"
    assert sim.kms.list_grants(key_id=world.key_arn).grants == ()  # step 9 retired them first
    sim.kms.cancel_key_deletion(key_id=world.key_arn)
    sim.kms.enable_key(key_id=world.key_arn)
    assert world.state(world.launch("jdoe")) == "AVAILABLE"


# --- errors and retries -------------------------------------------------------------------


def test_a_retryable_error_at_step_1_is_retried_with_backoff_and_the_launch_succeeds(world: WorkspacesWorld) -> None:
    sim = world.sim
    sim.faults.inject(Fault(OnCall("kms:CreateGrant"), RaiseError("ThrottlingException")))
    ws = world.launch("jdoe")
    assert world.state(ws) == "AVAILABLE"
    retry = next(e for e in sim.trace.events(workspace_id=ws) if e.action == "Retry")
    assert retry.outcome == "ThrottlingException"
    assert retry.detail["delay_seconds"] == sim.settings.retry_base_seconds


def test_throttled_attaches_are_retried_by_the_lifecycle(world: WorkspacesWorld) -> None:
    sim = world.sim
    sim.faults.inject(Fault(Chance(1.0, "ec2:AttachVolume", max_fires=2), RaiseError("ThrottlingException")))
    ws = world.launch("jdoe")
    assert world.state(ws) == "AVAILABLE"
    assert len([e for e in sim.trace.events(workspace_id=ws) if e.action == "Retry"]) == 2


def test_errors_outlasting_every_retry_fail_the_launch_with_the_kms_error_then_it_recovers(world: WorkspacesWorld) -> None:
    sim = world.sim
    fault = sim.faults.inject(Fault(OnCall("kms:Decrypt"), RaiseError("KMSInternalException", 1000)))
    ws = world.launch("jdoe")
    described = world.workspace(ws)
    assert (described.state, described.error_code) == ("ERROR", "KMSInternalException")
    retries = [e for e in sim.trace.events(workspace_id=ws) if e.action == "Retry"]
    assert len(retries) == sim.settings.max_retries
    assert [e.detail["delay_seconds"] for e in retries] == [
        sim.settings.retry_base_seconds * 2 ** i for i in range(sim.settings.max_retries)]
    injected = 1000 - fault.pending_errors
    assert injected == len(sim.audit.events("Decrypt", error_code="KMSInternalException"))
    fault.cancel()
    _relaunch(world, ws)


def test_schedule_key_deletion_during_provisioning_fails_the_launch_until_cancelled(world: WorkspacesWorld) -> None:
    sim = world.sim
    sim.faults.inject(Fault(AtTime(sim.clock.now() + timedelta(minutes=10)), ScheduleKeyDeletion(world.key_arn)))
    ws = world.launch("jdoe")
    assert (world.state(ws), world.workspace(ws).error_code) == ("ERROR", "KMSInvalidStateException")
    sim.kms.cancel_key_deletion(key_id=world.key_arn)
    sim.kms.enable_key(key_id=world.key_arn)
    _relaunch(world, ws)


# --- grants and policies --------------------------------------------------------------------


@pytest.mark.parametrize("effect", [RevokeGrant, RetireGrant])
def test_ended_grants_spare_the_running_workspace_and_fail_its_next_reboot(world: WorkspacesWorld, effect) -> None:
    sim = world.sim
    ws = world.launch("jdoe")
    world.user_device(ws).write(0, b"still here")
    sim.faults.inject(Fault(AtTime(sim.clock.now()), effect(world.key_arn,
                                                            grantee_principal=ebs_identity_arn(sim.account_id))))
    sim.advance(seconds=0)
    assert [r.outcome for r in sim.faults.records()] == ["ok", "ok"]  # both EBS grants
    assert world.user_device(ws).read(0, 10) == b"still here"  # running: key in memory
    _reboot(world, ws)
    assert (world.state(ws), world.workspace(ws).error_code) == ("UNHEALTHY", "AccessDeniedException")
    # Terminate still cleans up everything; the user gets a working WorkSpace again.
    volumes = sim.workspaces.volumes(ws)
    fresh = _relaunch(world, ws)
    assert all(g.grant_id for g in sim.kms.list_grants(key_id=world.key_arn).grants)
    with pytest.raises(InvalidVolumeNotFound):
        sim.ebs.describe_volumes(volume_ids=[volumes.root_volume_id])
    assert fresh != ws


def test_a_key_policy_put_while_creategrant_runs_refuses_the_request_and_restoring_it_recovers(world: WorkspacesWorld) -> None:
    sim = world.sim
    original = sim.kms.get_key_policy(key_id=world.key_arn).policy
    deny = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:CreateGrant", "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": "workspaces.us-west-2.amazonaws.com"}}}]})
    sim.faults.inject(Fault(OnCall("kms:CreateGrant"), PutKeyPolicy(deny)))
    result = sim.workspaces.create_workspaces(workspaces=[world.request("jdoe")])
    assert result.failed_requests[0].error_code == "AccessDeniedException"
    assert "explicit deny in a resource-based policy" in result.failed_requests[0].error_message
    sim.kms.put_key_policy(key_id=world.key_arn, policy=original, policy_name="default")
    assert world.state(world.launch("jdoe")) == "AVAILABLE"


def test_with_slow_grant_propagation_the_lifecycle_still_works_through_grant_tokens(world: WorkspacesWorld) -> None:
    sim = world.sim
    sim.faults.inject(Fault(AtStep(1), SetGrantPropagation(4 * 3600)))
    ws = world.launch("jdoe", settle=False)
    assert sim.settings.grant_propagation_seconds == 4 * 3600
    sim.advance(seconds=60 * 60 + 60)  # the encrypted launch: before the grants propagate
    assert world.state(ws) == "AVAILABLE"
    # The delay is real: without the token, the WorkSpaces grant is not usable yet.
    context = {"aws:workspaces:sid-directoryid": next(
        g.constraints.encryption_context_subset for g in sim.kms.grants.list(world.key_arn)
        if g.grantee_principal == workspaces_identity_arn(sim.account_id)
    )["aws:workspaces:sid-directoryid"]}
    blob = sim.kms.encrypt(key_id=world.key_arn, plaintext=b"x", encryption_context=context).ciphertext_blob
    as_workspaces = sim.as_principal(workspaces_identity_arn(sim.account_id)).kms
    with pytest.raises(AccessDeniedException):
        as_workspaces.decrypt(ciphertext_blob=blob, encryption_context=context)
    sim.advance(seconds=3 * 3600)
    assert as_workspaces.decrypt(ciphertext_blob=blob, encryption_context=context).plaintext == b"x"


# --- host failure ---------------------------------------------------------------------------


def test_a_host_failure_moves_the_workspace_to_a_new_host_with_a_new_decrypt(world: WorkspacesWorld) -> None:
    sim = world.sim
    ws = world.launch("jdoe")
    world.user_device(ws).write(0, b"kept")
    decrypts = len(sim.audit.events("Decrypt"))
    sim.faults.inject(Fault(AtTime(sim.clock.now()), DropAttachment(sim.workspaces.volumes(ws).user_volume_id)))
    sim.advance(seconds=sim.settings.volume_attach_seconds)  # the new host's attach completes
    assert world.user_device(ws).read(0, 4) == b"kept"
    assert len(sim.audit.events("Decrypt")) == decrypts + 1
    _reboot(world, ws)  # and the WorkSpace reboots normally afterwards
    assert world.state(ws) == "AVAILABLE"


def test_a_host_failure_after_step_7_with_the_key_disabled_loses_the_user_volume(world: WorkspacesWorld) -> None:
    sim = world.sim
    ws = world.launch("jdoe")
    sim.kms.disable_key(key_id=world.key_arn)
    sim.faults.inject(Fault(AtTime(sim.clock.now()), DropAttachment(sim.workspaces.volumes(ws).user_volume_id,
                                                                     reattach_after_seconds=30)))
    sim.advance(seconds=30)
    reattach = _fault_events(world)[-1]
    assert (reattach.action, reattach.outcome) == ("Reattach", "DisabledException")
    with pytest.raises(IncorrectState):
        world.user_device(ws)
    sim.kms.enable_key(key_id=world.key_arn)
    _relaunch(world, ws)


def test_terminate_after_a_failed_host_recovery_deletes_every_volume(world: WorkspacesWorld) -> None:
    sim = world.sim
    ws = world.launch("jdoe")
    volumes = sim.workspaces.volumes(ws)
    sim.kms.disable_key(key_id=world.key_arn)
    sim.faults.inject(Fault(AtTime(sim.clock.now()), DropAttachment(volumes.user_volume_id)))
    sim.advance(seconds=0)
    sim.workspaces.terminate_workspaces(workspace_ids=[ws])
    world.settle()
    left = {v.volume_id for v in sim.ebs.describe_volumes().volumes}
    assert not left & {volumes.root_volume_id, volumes.user_volume_id}
