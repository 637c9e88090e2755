"""Rebuild: root volume from the bundle image, user volume from the latest 12-hourly snapshot."""

from __future__ import annotations

from datetime import timedelta

from workspaces_support import alice_world

from simulator.testing.world import WorkspacesWorld

HOURS = 3600
#: Long enough for a snapshot started at a tick to complete.
SETTLE = 600


def _image_marker(fleet: WorkspacesWorld, workspace_id: str) -> bytes:
    bundle = fleet.sim.workspaces.describe_workspace_bundles(
        bundle_ids=[fleet.bundle_id]).bundles[0]
    return f"envelope-sim bundle image {bundle.image_id}\n".encode()


def test_rebuild_loses_exactly_what_was_written_after_the_last_snapshot(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    interval = sim.settings.snapshot_interval_hours * HOURS
    ws = fleet.launch()
    fleet.write(ws, b"A" * 512)           # before the first snapshot
    sim.advance(interval + SETTLE)           # snapshot 1 (contains A), completed
    fleet.write(ws, b"B" * 512, 512)         # after snapshot 1
    sim.advance(interval)                    # snapshot 2 (contains A and B), completed
    fleet.write(ws, b"C" * 512, 1024)        # after the last snapshot: lost by the rebuild
    fleet.write(ws, b"a" * 16)            # an overwrite after the snapshot: undone
    taken = fleet.admin.workspaces.describe_workspace_snapshots(workspace_id=ws).rebuild_snapshots
    assert len(taken) >= 1
    old_ip = fleet.describe(ws).ip_address
    old_volumes = (fleet.root_volume(ws), fleet.user_volume(ws))

    assert fleet.admin.workspaces.rebuild_workspaces(
        rebuild_workspace_requests=[{"workspace_id": ws}]).failed_requests == ()
    assert fleet.state(ws) == "REBUILDING"
    sim.run_until_idle()
    assert fleet.state(ws) == "AVAILABLE"

    assert fleet.read(ws, 512) == b"A" * 512
    assert fleet.read(ws, 512, 512) == b"B" * 512
    assert fleet.read(ws, 512, 1024) == bytes(512)
    new_volumes = (fleet.root_volume(ws), fleet.user_volume(ws))
    assert set(new_volumes).isdisjoint(old_volumes)
    assert fleet.describe(ws).ip_address != old_ip
    # The old volumes are gone, and the new ones are encrypted under the same key.
    live = {v.volume_id: v for v in sim.ebs.describe_volumes().volumes}
    assert set(live) == set(new_volumes)
    assert {v.kms_key_id for v in live.values()} == {fleet.key_arn}
    assert all(v.encrypted for v in live.values())


def test_rebuild_restores_the_root_volume_to_the_bundle_image(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    ws = fleet.launch()
    marker = _image_marker(fleet, ws)
    assert fleet.read(ws, len(marker), root=True) == marker
    fleet.write(ws, b"installed an app" + bytes(len(marker)), 0, root=True)
    sim.advance(sim.settings.snapshot_interval_hours * HOURS + SETTLE)
    fleet.admin.workspaces.rebuild_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    assert fleet.read(ws, len(marker), root=True) == marker


def test_rebuild_before_the_first_snapshot_is_refused(fleet: WorkspacesWorld) -> None:
    ws = fleet.launch()
    result = fleet.admin.workspaces.rebuild_workspaces(workspace_ids=[ws])
    assert [f.error_code for f in result.failed_requests] == ["InvalidResourceState"]
    assert "snapshot" in result.failed_requests[0].error_message
    assert fleet.state(ws) == "AVAILABLE"


def test_rebuild_is_refused_while_pending_or_suspended(fleet: WorkspacesWorld) -> None:
    ws = fleet.launch(settle=False)
    result = fleet.admin.workspaces.rebuild_workspaces(workspace_ids=[ws])
    assert [f.error_code for f in result.failed_requests] == ["InvalidResourceState"]
    assert "PENDING" in result.failed_requests[0].error_message


def test_rebuild_runs_the_encrypted_volume_steps_again(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    ws = fleet.launch()
    sim.advance(sim.settings.snapshot_interval_hours * HOURS + SETTLE)
    generated = len(sim.audit.events(event_name="GenerateDataKeyWithoutPlaintext"))
    decrypts = len(sim.audit.events(event_name="Decrypt"))
    fleet.admin.workspaces.rebuild_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    steps = {e.step for e in sim.trace.events(workspace_id=ws)[-200:] if e.step is not None}
    assert {2, 3, 4, 5, 6, 7, 8} <= steps
    assert len(sim.audit.events(event_name="GenerateDataKeyWithoutPlaintext")) > generated
    assert len(sim.audit.events(event_name="Decrypt")) >= decrypts + 2


def test_a_fresh_snapshot_follows_a_rebuild(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    ws = fleet.launch()
    sim.advance(sim.settings.snapshot_interval_hours * HOURS + SETTLE)
    fleet.admin.workspaces.rebuild_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    fleet.write(ws, b"after the rebuild")
    sim.advance(45 * 60)  # the post-rebuild snapshot (~30 minutes) has completed
    fleet.write(ws, b"AFTER THE REBUILD, later")
    fleet.admin.workspaces.rebuild_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    assert fleet.read(ws, 17) == b"after the rebuild"


def test_snapshots_are_pruned_to_the_latest(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    ws = fleet.launch(settle=False)
    sim.run_until_idle()
    available_at = sim.clock.now()
    interval = sim.settings.snapshot_interval_hours * HOURS
    sim.advance(5 * interval + SETTLE)
    taken = fleet.admin.workspaces.describe_workspace_snapshots(workspace_id=ws).rebuild_snapshots
    # Newest first: the fifth tick's snapshot, and the one before it until the next tick
    # prunes it; never the whole history.
    assert taken[0].snapshot_time == available_at + timedelta(seconds=5 * interval)
    assert len(taken) <= 2
    assert len(sim.ebs.describe_snapshots().snapshots) <= 2


def test_no_snapshots_while_stopped_and_none_left_after_terminate() -> None:
    fleet = alice_world()
    sim = fleet.sim
    ws = fleet.launch(workspace_properties={"running_mode": "AUTO_STOP"})
    fleet.admin.workspaces.stop_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    sim.advance(3 * sim.settings.snapshot_interval_hours * HOURS)
    assert sim.ebs.describe_snapshots().snapshots == ()
    fleet.admin.workspaces.start_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    sim.advance(sim.settings.snapshot_interval_hours * HOURS)
    assert len(sim.ebs.describe_snapshots().snapshots) == 1
    fleet.admin.workspaces.terminate_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    assert sim.ebs.describe_snapshots().snapshots == ()
    assert sim.clock.pending() == []


def test_a_snapshot_deleted_behind_workspaces_back_is_skipped(fleet: WorkspacesWorld) -> None:
    sim = fleet.sim
    ws = fleet.launch()
    fleet.write(ws, b"first")
    sim.advance(sim.settings.snapshot_interval_hours * HOURS + SETTLE)
    (only,) = sim.ebs.describe_snapshots().snapshots
    sim.ebs.delete_snapshot(snapshot_id=only.snapshot_id)
    result = fleet.admin.workspaces.rebuild_workspaces(workspace_ids=[ws])
    assert [f.error_code for f in result.failed_requests] == ["InvalidResourceState"]
    sim.advance(sim.settings.snapshot_interval_hours * HOURS + SETTLE)  # the next one is fine
    assert fleet.admin.workspaces.rebuild_workspaces(workspace_ids=[ws]).failed_requests == ()
    sim.run_until_idle()
    assert fleet.read(ws, 5) == b"first"
