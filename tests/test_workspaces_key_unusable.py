"""An unusable key leaves a running WorkSpace working; the next reboot, rebuild or start fails
(UNHEALTHY, naming the KMS error); fixing the key and rebooting brings the data back."""

from __future__ import annotations

import pytest
from workspaces_support import alice_world

from simulator.errors import IncorrectState, error_for_code
from simulator.testing.world import WorkspacesWorld

DATA = b"quarterly-report: the numbers are fine" * 10


def test_user_data_survives_a_reboot(fleet: WorkspacesWorld) -> None:
    ws = fleet.launch()
    fleet.write(ws, DATA, 4096)
    assert fleet.admin.workspaces.reboot_workspaces(
        reboot_workspace_requests=[{"workspace_id": ws}]).failed_requests == ()
    assert fleet.state(ws) == "REBOOTING"
    fleet.sim.run_until_idle()
    assert fleet.state(ws) == "AVAILABLE"
    assert fleet.read(ws, len(DATA), 4096) == DATA


def test_disabled_key_walkthrough_keeps_running_then_fails_reboot_then_recovers(
        fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    ws = fleet.launch()
    fleet.write(ws, DATA)
    fleet.admin.workspaces.reboot_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    assert fleet.read(ws, len(DATA)) == DATA

    # Disable the key: the running WorkSpace keeps working (EBS holds the key in memory).
    sim.kms.disable_key(key_id=fleet.key_id)
    fleet.write(ws, b"written while the key was disabled", 8192)
    assert fleet.read(ws, len(DATA)) == DATA
    assert fleet.state(ws) == "AVAILABLE"

    # The next reboot cannot decrypt the data keys: the WorkSpace becomes unusable.
    fleet.admin.workspaces.reboot_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    described = fleet.describe(ws)
    assert described.state == "UNHEALTHY"
    assert described.error_code == "DisabledException"
    assert f"{fleet.key_arn} is disabled." in described.error_message
    with pytest.raises(IncorrectState):  # the volume is detached: no block device
        fleet.read(ws, len(DATA))

    # Fix the cause and reboot: everything is back, including what was written while disabled.
    sim.kms.enable_key(key_id=fleet.key_id)
    fleet.admin.workspaces.reboot_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    described = fleet.describe(ws)
    assert described.state == "AVAILABLE"
    assert described.error_code is None and described.error_message is None
    assert fleet.read(ws, len(DATA)) == DATA
    assert fleet.read(ws, 34, 8192) == b"written while the key was disabled"


def test_key_pending_deletion_fails_the_reboot_and_cancelling_it_recovers(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    ws = fleet.launch()
    fleet.write(ws, DATA)
    sim.kms.schedule_key_deletion(key_id=fleet.key_id, pending_window_in_days=7)
    assert fleet.read(ws, len(DATA)) == DATA  # still running
    fleet.admin.workspaces.reboot_workspaces(workspace_ids=[ws])
    sim.advance(3600)
    described = fleet.describe(ws)
    assert described.state == "UNHEALTHY"
    assert described.error_code == "KMSInvalidStateException"
    assert f"{fleet.key_arn} is pending deletion." in described.error_message
    sim.kms.cancel_key_deletion(key_id=fleet.key_id)  # back to Disabled, not Enabled
    fleet.admin.workspaces.reboot_workspaces(workspace_ids=[ws])
    sim.advance(3600)
    assert fleet.describe(ws).error_code == "DisabledException"
    sim.kms.enable_key(key_id=fleet.key_id)
    fleet.admin.workspaces.reboot_workspaces(workspace_ids=[ws])
    sim.advance(3600)
    assert fleet.state(ws) == "AVAILABLE"
    assert fleet.read(ws, len(DATA)) == DATA


def test_start_after_the_key_was_disabled_fails_and_reboot_recovers() -> None:
    fleet = alice_world()
    sim = fleet.sim
    ws = fleet.launch(workspace_properties={"running_mode": "AUTO_STOP"})
    fleet.write(ws, DATA)
    assert fleet.admin.workspaces.stop_workspaces(workspace_ids=[ws]).failed_requests == ()
    sim.run_until_idle()
    assert fleet.state(ws) == "STOPPED"
    sim.kms.disable_key(key_id=fleet.key_id)
    fleet.admin.workspaces.start_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    assert fleet.state(ws) == "UNHEALTHY"
    assert fleet.describe(ws).error_code == "DisabledException"
    sim.kms.enable_key(key_id=fleet.key_id)
    fleet.admin.workspaces.reboot_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    assert fleet.state(ws) == "AVAILABLE"
    assert fleet.read(ws, len(DATA)) == DATA


def test_failed_rebuild_keeps_the_volumes_so_a_reboot_recovers_all_data() -> None:
    fleet = alice_world()
    sim = fleet.sim
    ws = fleet.launch()
    fleet.write(ws, b"before the snapshot")
    sim.advance(sim.settings.snapshot_interval_hours * 3600 + 600)  # one snapshot taken
    fleet.write(ws, b"after the snapshot", 4096)
    sim.kms.disable_key(key_id=fleet.key_id)
    assert fleet.admin.workspaces.rebuild_workspaces(workspace_ids=[ws]).failed_requests == ()
    sim.run_until_idle()
    assert fleet.state(ws) == "UNHEALTHY"
    assert fleet.describe(ws).error_code == "DisabledException"
    sim.kms.enable_key(key_id=fleet.key_id)
    fleet.admin.workspaces.reboot_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    assert fleet.state(ws) == "AVAILABLE"
    assert fleet.read(ws, 19) == b"before the snapshot"
    assert fleet.read(ws, 18, 4096) == b"after the snapshot"


def test_disabling_the_key_during_provisioning_leaves_the_launch_in_error(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    ws = fleet.launch(settle=False)
    sim.advance(60)  # volumes created (steps 2-4, 8); not yet attached
    assert fleet.state(ws) == "PENDING"
    sim.kms.disable_key(key_id=fleet.key_id)
    sim.run_until_idle()
    described = fleet.describe(ws)
    assert described.state == "ERROR"
    assert described.error_code == "DisabledException"
    assert f"{fleet.key_arn} is disabled." in described.error_message
    # An ERROR WorkSpace can still be terminated, and terminate cleans everything up.
    assert fleet.admin.workspaces.terminate_workspaces(workspace_ids=[ws]).failed_requests == ()
    sim.run_until_idle()
    assert fleet.state(ws) == "GONE"
    assert sim.ebs.describe_volumes().volumes == ()


def test_revoked_ebs_grant_fails_the_next_reboot_with_access_denied(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    ws = fleet.launch()
    fleet.write(ws, DATA)
    user_volume = fleet.user_volume(ws)
    ebs_grant = sim._ebs_state.volumes[user_volume].grant_id
    sim.kms.revoke_grant(key_id=fleet.key_arn, grant_id=ebs_grant)
    assert fleet.read(ws, len(DATA)) == DATA  # still attached: still working
    fleet.admin.workspaces.reboot_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    described = fleet.describe(ws)
    assert described.state == "UNHEALTHY"
    assert described.error_code == "AccessDeniedException"
    assert "kms:Decrypt" in described.error_message
    assert "user volume" in described.error_message


def test_deleted_key_makes_the_workspace_unrecoverable_but_terminate_still_cleans_up(
        fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    ws = fleet.launch()
    fleet.write(ws, DATA)
    sim.kms.schedule_key_deletion(key_id=fleet.key_id, pending_window_in_days=7)
    sim.advance(8 * 24 * 3600)  # the waiting period ends: the key is gone
    assert fleet.read(ws, len(DATA)) == DATA  # the running WorkSpace still has its keys
    fleet.admin.workspaces.reboot_workspaces(workspace_ids=[ws])
    sim.advance(3600)
    described = fleet.describe(ws)
    assert described.state == "UNHEALTHY"
    # Whichever KMS error KMS gives for a deleted key (the data key's key, or the grant token
    # naming it, no longer exists), WorkSpaces reports it.
    assert error_for_code(described.error_code).service == "kms"
    assert described.error_code in described.error_message
    fleet.admin.workspaces.rebuild_workspaces(workspace_ids=[ws])
    sim.advance(3 * 3600)
    assert fleet.describe(ws).state == "UNHEALTHY"  # nothing can decrypt the data any more
    fleet.admin.workspaces.terminate_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    assert fleet.state(ws) == "GONE"
    assert sim.ebs.describe_volumes().volumes == ()
    assert sim.ebs.describe_snapshots().snapshots == ()
