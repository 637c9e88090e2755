"""A key disabled mid-lifecycle: the running WorkSpace keeps working, the reboot fails, recovery.

While a WorkSpace runs, EBS holds each volume's plaintext data key in memory, so disabling the
KMS key changes nothing for it: jdoe keeps reading and writing. The next reboot detaches the
volumes (the keys are wiped) and must ask KMS to decrypt them again -- KMS refuses with
DisabledException and the WorkSpace is left UNHEALTHY, unusable. Enabling the key and rebooting
brings everything back, including what was written while the key was disabled.
"""

from __future__ import annotations

from typing import Any

from simulator.errors import AwsError
from simulator.present import Narrator, ScenarioResult
from simulator.present.world import build_world

ORDER = 4

DATA = b"jdoe's thesis, chapter 1"
LATER = b"chapter 2, written while the key was disabled"


def run(sim: Any, out: Narrator) -> ScenarioResult:
    result = ScenarioResult("key-disabled")
    out.brief("cast", "launch", "reboot", "rebuild", "terminate")
    world = build_world(sim, out)
    out.section("jdoe works on an encrypted WorkSpace")
    ws = world.launch(out, "jdoe")
    result.workspace_ids.append(ws)
    world.write(ws, DATA)

    out.section("Alice disables the key")
    world.admin.kms.disable_key(key_id=world.key_arn)
    state = sim.kms.describe_key(key_id=world.key_arn).key_state
    result.record("key_state", state, out)
    out.say("EBS still holds the plaintext data keys of the attached volumes in memory, so the "
            "running WorkSpace does not notice.")
    world.write(ws, LATER, offset=8192)
    read = world.read(ws, len(LATER), offset=8192)
    result.record("read_while_disabled", read)
    result.expect(out, "the running WorkSpace keeps reading and writing", read == LATER)
    result.record("state_while_disabled", world.state(ws), out)

    out.section("jdoe's WorkSpace is rebooted")
    out.say("Reboot detaches the volumes (the plaintext keys are wiped) and attaches them "
            "again: EBS must ask KMS to decrypt the stored data keys (step 5).")
    world.reboot(ws)
    described = world.describe(ws)
    result.record("state_after_reboot", described.state, out)
    result.record("error_code", described.error_code, out)
    out.note(f"ErrorMessage: {described.error_message}")
    result.expect(out, "the reboot leaves the WorkSpace unusable (UNHEALTHY, DisabledException)",
                  described.state == "UNHEALTHY" and described.error_code == "DisabledException")
    read_failed = world.read(ws, len(DATA))
    result.error("read_after_failed_reboot", read_failed)
    result.expect(out, "no block device: the data cannot be read",
                  isinstance(read_failed, AwsError))
    denied = sim.audit.events(event_name="Decrypt", error_code="DisabledException")
    result.record("failed_decrypts_in_audit", len(denied), out)

    out.section("Recovery: enable the key, reboot again")
    world.admin.kms.enable_key(key_id=world.key_arn)
    world.reboot(ws)
    described = world.describe(ws)
    result.record("state_after_recovery", described.state, out)
    result.expect(out, "the WorkSpace is AVAILABLE again", described.state == "AVAILABLE")
    back = (world.read(ws, len(DATA)), world.read(ws, len(LATER), offset=8192))
    result.record("data_after_recovery", back)
    result.expect(out, "all the data is back, including what was written while disabled",
                  back == (DATA, LATER))
    result.diagram_filter = lambda e: e.workspace_id == ws or e.action in ("DisableKey",
                                                                           "EnableKey")
    result.diagram_aliases = {"Alice": "Admin"}
    return result


if __name__ == "__main__":
    from simulator.cli import run_script

    raise SystemExit(run_script(__file__))
