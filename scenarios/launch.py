"""Launch an encrypted WorkSpace with a customer managed key: the nine steps, narrated.

Alice, the WorkSpaces administrator, launches a WorkSpace for jdoe with root and user volume
encryption under her own KMS key. Watch WorkSpaces take a grant (step 1); EBS create each
volume and take a narrower grant (2); ask KMS for a data key bound to an encryption context
(3, 4); decrypt it at attach (5, 6); encrypt every block with it (7) and keep only the
encrypted copy with the volume (8). At terminate the grants are retired (9).
"""

from __future__ import annotations

from typing import Any

from simulator.present import Narrator, ScenarioResult
from simulator.present.explain import show_audit, show_grants, show_volumes
from simulator.present.scenario import event_mentions
from simulator.present.world import build_world

ORDER = 1

DATA = b"Q3 figures: revenue up 12%, do not share"


def run(sim: Any, out: Narrator) -> ScenarioResult:
    result = ScenarioResult("launch")
    world = build_world(sim, out)

    out.section("Alice launches an encrypted WorkSpace for jdoe")
    out.say("She names the key, the user and the directory, and turns on root and user volume "
            "encryption. CreateWorkspaces answers at once (PENDING); the work happens as "
            "virtual time passes.")
    ws = world.launch(out, "jdoe")
    result.workspace_ids.append(ws)
    state = result.record("state_after_launch", world.state(ws), out)
    result.expect(out, "the WorkSpace is AVAILABLE after provisioning", state == "AVAILABLE")

    out.section("What exists now")
    vols = show_volumes(out, sim, ws)
    result.record("volumes_encrypted", {k: v.encrypted for k, v in vols.items()})
    result.expect(out, "both volumes are encrypted under Alice's key",
                  all(v.encrypted and v.kms_key_id == world.key_arn for v in vols.values()))
    out.say("The grants on the key: one for WorkSpaces (this user@directory only) and one per "
            "volume for EBS (this user@directory and this volume only).")
    grants = show_grants(out, sim, world.key_arn)
    result.record("grants_while_running", len(grants), out)

    out.section("jdoe saves a file")
    volume_id = world.write(ws, DATA)
    read = world.read(ws, len(DATA))
    result.record("data_read_back", read)
    result.expect(out, "reading through the attached volume returns the plaintext", read == DATA)
    on_disk = b"".join(sim.ebs.raw_blocks(volume_id).values())
    result.record("plaintext_on_disk", DATA in on_disk)
    result.expect(out, "what sits on disk is ciphertext: the plaintext appears nowhere",
                  DATA not in on_disk)

    out.section("What CloudTrail recorded for the data keys")
    out.say("Every KMS call is audited with its encryption context, never with a key: the "
            "context names the user@directory and the volume, so the log says whose data "
            "each call was for (ctx #n: the contexts printed above).")
    records = [r for r in sim.audit.events(key_arn=world.key_arn)
               if r["eventName"] in ("GenerateDataKeyWithoutPlaintext", "Decrypt")]
    show_audit(out, records)
    result.record("data_key_calls", [r["eventName"] for r in records])

    out.section("Step 9: Alice terminates the WorkSpace")
    changed = world.admin.workspaces.terminate_workspaces(workspace_ids=[ws])
    result.expect(out, "TerminateWorkspaces accepted the request", not changed.failed_requests)
    sim.advance(seconds=sim.settings.terminate_seconds + 30)
    remaining = show_grants(out, sim, world.key_arn)
    result.record("grants_after_terminate", len(remaining), out)
    result.expect(out, "every grant for this WorkSpace was retired", not remaining)
    result.record("state_after_terminate", world.state(ws), out)
    out.say("A TERMINATED WorkSpace stays listed only briefly, then disappears from "
            "DescribeWorkspaces.")
    sim.run_until_idle()
    result.record("listed_later", world.state(ws) != "GONE")

    steps = sorted({e.step for e in sim.trace.events(workspace_id=ws) if e.step is not None})
    result.record("steps_traced", steps)
    # The diagram follows the user volume; the root volume repeats steps 2 to 8.
    root_ids = {vols["root"].volume_id} if "root" in vols else set()
    root_ids |= {str(e.detail["grant_id"]) for e in sim.trace.events(workspace_id=ws)
                 if "grant_id" in e.detail and any(event_mentions(e, r) for r in root_ids)}
    result.diagram_filter = lambda e: e.workspace_id == ws and not any(
        event_mentions(e, r) for r in root_ids)
    result.diagram_aliases = {"Alice": "Admin"}
    result.diagram_title = "Encrypted WorkSpace launch, user volume (the root volume repeats 2-8)"
    return result


if __name__ == "__main__":
    from simulator.cli import run_script

    raise SystemExit(run_script(__file__))
