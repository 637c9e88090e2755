"""Reboot and rebuild: where the data key comes from each time, and what rebuild restores.

A reboot detaches the volumes (EBS wipes the plaintext data keys from memory) and attaches them
again: steps 5 to 7 run again, decrypting the same encrypted data keys stored with the volumes
(step 8). No new data key is made. A rebuild makes new volumes: the root volume from the
bundle image with a brand-new data key, the user volume from the latest snapshot (taken every
12 hours), whose data key KMS re-encrypts for the new volume's context. Whatever was written
after that snapshot is lost.
"""

from __future__ import annotations

from typing import Any

from simulator.present import Narrator, ScenarioResult
from simulator.present.explain import show_volumes
from simulator.present.world import build_world

ORDER = 3

BEFORE = b"written before the snapshot"
AFTER = b"written after the snapshot"


def _kms_calls(sim: Any, key_arn: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for rec in sim.audit.events(key_arn=key_arn):
        if rec["eventName"] in ("GenerateDataKeyWithoutPlaintext", "Decrypt", "ReEncrypt"):
            counts[rec["eventName"]] = counts.get(rec["eventName"], 0) + 1
    return counts


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    names = ("GenerateDataKeyWithoutPlaintext", "Decrypt", "ReEncrypt")
    return {n: after.get(n, 0) - before.get(n, 0) for n in names}


def run(sim: Any, out: Narrator) -> ScenarioResult:
    result = ScenarioResult("reboot-rebuild")
    out.brief("cast", "launch", "terminate")
    world = build_world(sim, out)
    out.section("jdoe's encrypted WorkSpace")
    ws = world.launch(out, "jdoe")
    result.workspace_ids.append(ws)
    world.write(ws, BEFORE)
    first = show_volumes(out, sim, ws)

    out.section("Reboot: the same encrypted data keys, decrypted again")
    out.say("Detach wipes each plaintext data key from EBS's memory; attach sends the stored "
            "encrypted copy back to KMS (steps 5-7 again).")
    calls = _kms_calls(sim, world.key_arn)
    failed = world.reboot(ws)
    result.expect(out, "RebootWorkspaces accepted the request", not failed)
    reboot_calls = result.record("kms_calls_at_reboot", _delta(calls, _kms_calls(sim, world.key_arn)),
                                 out)
    result.expect(out, "the reboot decrypted one data key per volume and made none",
                  reboot_calls["Decrypt"] == 2 and reboot_calls["GenerateDataKeyWithoutPlaintext"]
                  == 0)
    same = {k: v.volume_id for k, v in show_volumes(out, sim, ws).items()}
    result.expect(out, "the volumes are the same ones",
                  same == {k: v.volume_id for k, v in first.items()})
    result.record("read_after_reboot", world.read(ws, len(BEFORE)))
    result.expect(out, "jdoe's data is there after the reboot",
                  result.outcomes["read_after_reboot"] == BEFORE)

    out.section("Snapshots: WorkSpaces snapshots the user volume every 12 hours")
    sim.advance(seconds=12 * 3600 + 600)
    taken = sim.workspaces.describe_workspace_snapshots(workspace_id=ws).rebuild_snapshots
    result.record("rebuild_snapshots", len(taken), out)
    out.say("A snapshot keeps the volume's blocks as they were, still encrypted, and its own "
            "copy of the encrypted data key. jdoe writes something more after it.")
    world.write(ws, AFTER, offset=4096)

    out.section("Rebuild: new volumes, and where their data keys come from")
    old_ip = world.describe(ws).ip_address
    calls = _kms_calls(sim, world.key_arn)
    failed = world.rebuild(ws)
    result.expect(out, "RebuildWorkspaces accepted the request", not failed)
    result.record("state_after_rebuild", world.state(ws), out)
    rebuild_calls = result.record("kms_calls_at_rebuild",
                                  _delta(calls, _kms_calls(sim, world.key_arn)), out)
    out.say("Both volumes start with GenerateDataKeyWithoutPlaintext. The root volume comes "
            "from the bundle image: a new data key. The user volume comes from the snapshot "
            "under the same KMS key: KMS encrypts the snapshot's data key again for the new "
            "volume's context (no ReEncrypt), so the snapshot's blocks stay readable. The old "
            "volumes are then deleted and EBS retires their grants, as at terminate -- but the "
            "WorkSpace lives on under its own grant, so this is not the guide's terminate step.")
    result.expect(out, "the rebuild asked KMS for both volumes' data keys",
                  rebuild_calls["GenerateDataKeyWithoutPlaintext"] == 2)
    result.expect(out, "the snapshot's data key was reused without a ReEncrypt call",
                  rebuild_calls["ReEncrypt"] == 0)
    now = show_volumes(out, sim, ws)
    result.record("new_volumes", {k: v.volume_id != first[k].volume_id for k, v in now.items()})
    result.expect(out, "both volumes are new", all(result.outcomes["new_volumes"].values()))
    result.record("read_before_snapshot", world.read(ws, len(BEFORE)))
    result.record("read_after_snapshot", world.read(ws, len(AFTER), offset=4096))
    result.expect(out, "what was written before the last snapshot is back",
                  result.outcomes["read_before_snapshot"] == BEFORE)
    result.expect(out, "what was written after the last snapshot is gone",
                  result.outcomes["read_after_snapshot"] == bytes(len(AFTER)))
    result.record("new_ip_address", world.describe(ws).ip_address != old_ip, out)
    result.diagram_filter = lambda e: e.workspace_id == ws
    result.diagram_aliases = {"Alice": "Admin"}
    return result


if __name__ == "__main__":
    from simulator.cli import run_script

    raise SystemExit(run_script(__file__))
