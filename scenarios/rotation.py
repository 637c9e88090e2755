"""Rotation: automatic (nothing re-encrypted, old data keys still decrypt) vs a switch to a new key.

Manual rotation means a new key: keep the old key enabled, or recreate the WorkSpaces under the
new key.

Automatic rotation gives the KMS key new backing material on a schedule; the key ARN, policy,
aliases and grants stay the same. New data keys are encrypted under the new material, and KMS
keeps every old material to decrypt what was encrypted before -- so rotation re-encrypts
nothing and a WorkSpace never notices. Manual rotation means a different key: existing
WorkSpaces keep using the old one (their data keys are encrypted under it), so it must stay
enabled until every WorkSpace has been recreated under the new key.
"""

from __future__ import annotations

import json
from typing import Any

from simulator.present import Narrator, ScenarioResult
from simulator.present.explain import show_audit
from simulator.present.world import build_world

ORDER = 6

DAY = 24 * 3600
DATA = b"design doc v1"


def _materials_used(sim: Any, key_arn: str, event_name: str, since: int) -> list[str]:
    return [str(e.detail.get("key_material_id")) for e in sim.trace.events()[since:]
            if e.actor == "KMS" and e.action == event_name and e.target == key_arn
            and e.outcome == "ok"]


def run(sim: Any, out: Narrator) -> ScenarioResult:
    result = ScenarioResult("rotation")
    out.brief("cast", "launch", "reboot", "rebuild", "terminate")
    world = build_world(sim, out, users=("jdoe", "asmith", "bwu"))
    kms = world.admin.kms

    out.section("Part 1: automatic rotation")
    ws = world.launch(out, "jdoe")
    result.workspace_ids.append(ws)
    world.write(ws, DATA)
    first_material = sim.kms.describe_key(key_id=world.key_arn).current_key_material_id
    kms.enable_key_rotation(key_id=world.key_arn, rotation_period_in_days=90)
    out.say("Alice turns on automatic rotation every 90 days; 91 virtual days pass.")
    with out.quiet():
        sim.advance(seconds=91 * DAY)
    rotations = sim.kms.list_key_rotations(key_id=world.key_arn).rotations
    result.record("rotations", len(rotations), out)
    for r in rotations:
        out.note(f"{r.rotation_date:%Y-%m-%d} {r.rotation_type}: material "
                 f"{r.key_material_id[:8]}... now {r.key_material_state}")
    out.say(f"The launch's material {first_material[:8]}... is no longer current but is kept: "
            "KMS keeps every version of a key's material for as long as the key exists and "
            "destroys them only with the key, so data keys encrypted years ago still decrypt.")
    meta = sim.kms.describe_key(key_id=world.key_arn)
    result.record("material_changed", meta.current_key_material_id != first_material, out)
    result.expect(out, "the key ARN is unchanged, its material is new",
                  meta.arn == world.key_arn and meta.current_key_material_id != first_material)

    mark = len(sim.trace)
    world.reboot(ws)
    used = _materials_used(sim, world.key_arn, "Decrypt", mark)
    result.record("reboot_decrypted_with_old_material", bool(used) and all(
        m == first_material for m in used), out)
    result.expect(out, "the reboot decrypted the old data keys with the old material",
                  result.outcomes["reboot_decrypted_with_old_material"])
    result.record("read_after_rotation", world.read(ws, len(DATA)))
    result.expect(out, "jdoe's data reads back", result.outcomes["read_after_rotation"] == DATA)
    re_encrypts = len(sim.audit.events(event_name="ReEncrypt"))
    result.record("re_encrypt_calls", re_encrypts, out)
    result.expect(out, "rotation re-encrypted nothing", re_encrypts == 0)
    mark = len(sim.trace)
    ws_new = world.launch(out, "asmith")
    result.workspace_ids.append(ws_new)
    made = _materials_used(sim, world.key_arn, "GenerateDataKeyWithoutPlaintext", mark)
    result.record("new_workspace_uses_new_material", bool(made) and all(
        m == meta.current_key_material_id for m in made), out)
    result.expect(out, "a WorkSpace launched now gets data keys under the new material",
                  result.outcomes["new_workspace_uses_new_material"])

    out.section("Part 2: manual rotation to a new key")
    new_key = sim.kms.create_key(description="WorkSpaces volumes, 2026",
                                 policy=sim.kms.get_key_policy(key_id=world.key_id).policy)
    # UpdateAlias needs kms:UpdateAlias on the alias itself too, which only IAM grants.
    alias_arn = f"arn:aws:kms:{sim.region}:{sim.account_id}:{world.alias_name}"
    sim.iam.put_user_policy(user_name="Alice", policy_name="AliasAdmin", policy_document=json.dumps(
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "kms:UpdateAlias", "Resource": alias_arn}]}))
    kms.update_alias(alias_name=world.alias_name, target_key_id=new_key.key_id)
    out.say(f"The account root (the security team) makes a new key with the same policy, and "
            f"Alice points {world.alias_name} at it; CloudTrail has the alias update:")
    show_audit(out, sim.audit.events(event_name="UpdateAlias"))
    out.say("Existing WorkSpaces still name the old key: their data keys are encrypted under "
            "it.")
    result.record("existing_workspace_key", world.describe(ws).volume_encryption_key ==
                  world.key_arn, out)
    out.say("Mistake: Alice disables the old key right away.")
    kms.disable_key(key_id=world.key_arn)
    world.reboot(ws)
    result.record("reboot_with_old_key_disabled", world.state(ws), out)
    result.expect(out, "the next reboot of an old WorkSpace fails",
                  world.state(ws) == "UNHEALTHY")
    out.say("Option 1, as the guide says: keep the old key enabled. She enables it again.")
    kms.enable_key(key_id=world.key_arn)
    world.reboot(ws)
    result.record("reboot_with_old_key_enabled", world.state(ws), out)
    result.expect(out, "with the old key enabled, the old WorkSpace works",
                  world.state(ws) == "AVAILABLE")

    out.section("Option 2: recreate the WorkSpace under the new key")
    saved = world.read(ws, len(DATA))
    assert isinstance(saved, bytes)
    world.terminate(ws)
    replacement = world.launch(out, "jdoe", key=new_key.arn)
    result.workspace_ids.append(replacement)
    world.write(replacement, saved)
    out.say("jdoe's files are copied to a new WorkSpace under the new key (a real migration "
            "copies the user volume's contents).")
    result.record("replacement_key", world.describe(replacement).volume_encryption_key ==
                  new_key.arn, out)
    still_old = [w.workspace_id for w in sim.workspaces.describe_workspaces().workspaces
                 if w.volume_encryption_key == world.key_arn and w.state != "TERMINATED"]
    result.record("workspaces_on_old_key", len(still_old), out)
    out.say("asmith's WorkSpace still uses the old key, so it must stay enabled until that one "
            "is recreated too.")
    result.record("read_on_new_key", world.read(replacement, len(DATA)))
    result.expect(out, "the recreated WorkSpace has jdoe's data under the new key",
                  result.outcomes["read_on_new_key"] == DATA)
    result.diagram_filter = lambda e: e.workspace_id == ws or e.action in (
        "RotateKey", "EnableKeyRotation", "UpdateAlias", "DisableKey", "EnableKey")
    result.diagram_aliases = {"Alice": "Admin"}
    return result


if __name__ == "__main__":
    from simulator.cli import run_script

    raise SystemExit(run_script(__file__))
