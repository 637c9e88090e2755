"""Key deletion: scheduled then cancelled (recoverable), and a key deleted (the data is gone).

KMS never deletes a key at once: ScheduleKeyDeletion puts it in PendingDeletion for a waiting
period (7 to 30 days). During that time the key refuses every cryptographic operation, so a
rebooted WorkSpace cannot attach its volumes -- but CancelKeyDeletion brings the key back (as
Disabled; enable it, then reboot). Once the waiting period ends, the key material is destroyed:
every data key encrypted under it, and every block encrypted with those, is unreadable forever.
"""

from __future__ import annotations

from typing import Any

from simulator.errors import AwsError
from simulator.present import Narrator, ScenarioResult
from simulator.present.explain import show_audit, show_policy
from simulator.present.participants import short_id
from simulator.present.world import build_world
from simulator.trace import TraceEvent

ORDER = 5

DAY = 24 * 3600
DATA = b"payroll 2026"
#: The names the guide gives the seed key policy's four statements, in order.
SEED_STATEMENTS = ("account statement", "key administrators", "key users",
                   "CreateGrant for AWS resources")


def _minutes_taken(events: list[TraceEvent], workspace_id: str) -> int:
    """Virtual minutes from the WorkSpace's first to its last state change in ``events``."""
    times = [e.time for e in events if e.workspace_id == workspace_id
             and e.action == "StateChange"]
    return int((times[-1] - times[0]).total_seconds() // 60) if times else 0


def run(sim: Any, out: Narrator) -> ScenarioResult:
    result = ScenarioResult("key-deletion")
    out.brief("cast", "launch", "reboot", "rebuild", "terminate")
    world = build_world(sim, out, users=("jdoe", "asmith"))
    kms = sim.kms
    out.say("The seed's key policy, statement by statement:")
    show_policy(out, sim.kms.get_key_policy(key_id=world.key_id).policy, SEED_STATEMENTS)
    out.say("The key administrators statement gives Alice kms:Delete*, which matches no "
            "deletion operation (KMS calls them ScheduleKeyDeletion and CancelKeyDeletion): "
            "only the account statement's kms:* covers them, so here the account root (the "
            "security team) acts on the key.")

    out.section("Part 1: deletion scheduled, then cancelled")
    ws = world.launch(out, "jdoe")
    result.workspace_ids.append(ws)
    world.write(ws, DATA)
    scheduled = kms.schedule_key_deletion(key_id=world.key_arn, pending_window_in_days=7)
    meta = sim.kms.describe_key(key_id=world.key_arn)
    result.record("key_state_scheduled", meta.key_state, out)
    out.note(f"deletion date: {scheduled.deletion_date:%Y-%m-%d %H:%M} UTC")
    result.record("read_while_pending", world.read(ws, len(DATA)))
    result.expect(out, "the running WorkSpace still works while deletion is pending",
                  result.outcomes["read_while_pending"] == DATA)
    mark = len(sim.trace)
    world.reboot(ws, wait=3600)
    minutes = _minutes_taken(sim.trace.events()[mark:], ws)
    out.say(f"A reboot now: it took {minutes} virtual minutes, and the deletion date is still "
            "days away.")
    described = world.describe(ws)
    result.record("state_after_reboot_pending", described.state, out)
    result.record("error_after_reboot_pending", described.error_code, out)
    result.expect(out, "a reboot fails: KMSInvalidStateException (pending deletion)",
                  described.error_code == "KMSInvalidStateException")
    out.say("The deletion is cancelled. The key comes back Disabled, not Enabled.")
    kms.cancel_key_deletion(key_id=world.key_arn)
    result.record("key_state_cancelled", sim.kms.describe_key(key_id=world.key_arn).key_state,
                  out)
    world.admin.kms.enable_key(key_id=world.key_arn)
    world.reboot(ws, wait=3600)
    result.record("state_after_cancel_and_reboot", world.state(ws), out)
    result.record("read_after_cancel", world.read(ws, len(DATA)))
    result.expect(out, "after cancel + enable + reboot, the data is back",
                  result.outcomes["read_after_cancel"] == DATA)

    out.section("Part 2: a key really deleted")
    other = sim.kms.create_key(description="short-lived key", policy=sim.kms.get_key_policy(
        key_id=world.key_id).policy)
    out.say(f"The account root makes a second key ({short_id(other.arn)}), Alice gives asmith a "
            "WorkSpace under it, and the root schedules that key for deletion with the "
            "shortest waiting period, 7 days. Nobody cancels.")
    ws2 = world.launch(out, "asmith", key=other.arn)
    result.workspace_ids.append(ws2)
    world.write(ws2, DATA)
    kms.schedule_key_deletion(key_id=other.arn, pending_window_in_days=7)
    with out.quiet():
        sim.advance(seconds=8 * DAY)
    out.say("Eight virtual days later the waiting period is over (KMS logged DeleteKey as an "
            "AwsServiceEvent). The key material is destroyed, and with it every version of it "
            "rotation ever made.")
    deleted = show_audit(out, sim.audit.events(event_name="DeleteKey", key_arn=other.arn))
    result.record("delete_key_events", len(deleted), out)
    err = out.attempt("DescribeKey on the deleted key",
                      lambda: sim.kms.describe_key(key_id=other.arn),
                      expect="NotFoundException")
    result.record("deleted_key_state", err.key_state if not isinstance(err, AwsError)
                  else err.code, out)
    result.record("read_before_reboot", world.read(ws2, len(DATA)))
    result.expect(out, "even now, the running WorkSpace works: its keys are in EBS's memory",
                  result.outcomes["read_before_reboot"] == DATA)
    world.reboot(ws2)
    described = world.describe(ws2)
    result.record("state_after_reboot_deleted", described.state, out)
    result.record("error_after_reboot_deleted", described.error_code, out)
    result.expect(out, "the reboot fails and nothing can fix it",
                  described.state == "UNHEALTHY")
    out.say("Rebuild needs KMS too: the snapshot's data key is encrypted under the deleted key.")
    world.rebuild(ws2)
    result.record("state_after_rebuild_deleted", world.state(ws2), out)
    result.expect(out, "the rebuild fails as well: the data is gone for good",
                  world.state(ws2) != "AVAILABLE")
    user_volume = world.user_volume(ws2)
    blocks = sim.ebs.raw_blocks(user_volume)
    result.record("ciphertext_blocks_left", len(blocks), out)
    out.say("The ciphertext is still on disk, but no key in the world can decrypt it.")
    result.diagram_filter = lambda e: e.workspace_id == ws2 or e.action in (
        "ScheduleKeyDeletion", "DeleteKey")
    result.diagram_aliases = {"Alice": "Admin"}
    return result


if __name__ == "__main__":
    from simulator.cli import run_script

    raise SystemExit(run_script(__file__))
