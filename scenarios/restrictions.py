"""Encryption restrictions: encrypt later, turn off, change key, custom image -- each refused.

Encryption is chosen once, at launch: the volumes' data keys are made then (steps 3-4) and
every block is written under them. WorkSpaces therefore refuses to encrypt a running
unencrypted WorkSpace, to decrypt an encrypted one, or to switch it to another key; and it
builds no custom image from an encrypted WorkSpace. What works instead: launch a new WorkSpace
with the encryption you want and move the user's data.
"""

from __future__ import annotations

from typing import Any

from simulator.errors import AwsError
from simulator.present import Narrator, ScenarioResult
from simulator.present.world import build_world

ORDER = 10


def run(sim: Any, out: Narrator) -> ScenarioResult:
    result = ScenarioResult("restrictions")
    out.brief("cast", "launch", "reboot", "rebuild", "terminate")
    world = build_world(sim, out, users=("jdoe", "asmith"))
    ws_plain = world.launch(out, "asmith", root=False, user=False)
    ws_enc = world.launch(out, "jdoe")
    result.workspace_ids.extend([ws_plain, ws_enc])
    other = sim.kms.create_key(description="another key",
                               policy=sim.kms.get_key_policy(key_id=world.key_id).policy)
    admin = world.admin.workspaces

    def modify(workspace_id: str, **props: Any) -> Any:
        return admin.modify_workspace_properties(workspace_id=workspace_id,
                                                 workspace_properties=props)

    attempts = {
        "encrypt_existing": ("Alice asks to encrypt asmith's running, unencrypted WorkSpace",
                             lambda: modify(ws_plain, user_volume_encryption_enabled=True,
                                            volume_encryption_key=world.key_arn)),
        "turn_off": ("Alice asks to turn encryption off on jdoe's WorkSpace",
                     lambda: modify(ws_enc, user_volume_encryption_enabled=False)),
        "change_key": ("Alice asks to switch jdoe's WorkSpace to another key",
                       lambda: modify(ws_enc, volume_encryption_key=other.arn)),
        "custom_image": ("Alice asks for a custom image from jdoe's encrypted WorkSpace",
                         lambda: admin.create_workspace_image(
                             name="golden", description="from an encrypted WorkSpace",
                             workspace_id=ws_enc)),
    }
    titles = {"encrypt_existing": "No encrypting an existing WorkSpace",
              "turn_off": "No turning encryption off",
              "change_key": "No changing the key",
              "custom_image": "No custom image from an encrypted WorkSpace"}
    for label, (text, fn) in attempts.items():
        out.section(titles[label])
        err = out.attempt(text, fn, expect="OperationNotSupportedException")
        result.error(label, err)
        result.expect(out, "refused", isinstance(err, AwsError))
    result.expect(out, "every refusal is OperationNotSupportedException",
                  set(result.errors.values()) == {"OperationNotSupportedException"})

    out.section("Nothing changed")
    plain, enc = world.describe(ws_plain), world.describe(ws_enc)
    result.record("plain_still_unencrypted", not (plain.root_volume_encryption_enabled
                                                  or plain.user_volume_encryption_enabled), out)
    result.record("encrypted_still_encrypted", enc.root_volume_encryption_enabled
                  and enc.user_volume_encryption_enabled
                  and enc.volume_encryption_key == world.key_arn, out)
    result.record("images", len(sim.workspaces.describe_workspace_images().images), out)
    result.record("states", (plain.state, enc.state), out)
    result.expect(out, "a refused request changes nothing",
                  result.outcomes["plain_still_unencrypted"]
                  and result.outcomes["encrypted_still_encrypted"]
                  and result.outcomes["images"] == 0)

    out.section("What works instead")
    image = admin.create_workspace_image(name="golden", description="from the unencrypted one",
                                         workspace_id=ws_plain)
    out.say(f"An image can be made from the unencrypted WorkSpace ({image.image_id}; the "
            "WorkSpace is SUSPENDED while it builds).")
    with out.quiet():
        sim.run_until_idle()
    result.record("image_from_unencrypted",
                  sim.workspaces.describe_workspace_images().images[0].state, out)
    world.write(ws_plain, b"asmith's files")
    saved = world.read(ws_plain, 14)
    assert isinstance(saved, bytes)
    data = saved
    out.say("To encrypt asmith's WorkSpace, launch a new one with encryption and move the "
            "data (one WorkSpace per user and directory, so the old one goes first).")
    world.terminate(ws_plain)
    ws_new = world.launch(out, "asmith", key=world.key_arn)
    result.workspace_ids.append(ws_new)
    world.write(ws_new, data)
    described = world.describe(ws_new)
    result.record("replacement_encrypted", described.root_volume_encryption_enabled
                  and described.user_volume_encryption_enabled, out)
    result.expect(out, "asmith now has an encrypted WorkSpace with the data",
                  result.outcomes["replacement_encrypted"]
                  and world.read(ws_new, len(data)) == data)
    return result


if __name__ == "__main__":
    from simulator.cli import run_script

    raise SystemExit(run_script(__file__))
