"""Grants: what WorkSpaces and EBS may do and why; a grant revoked; retirement at terminate.

Neither WorkSpaces nor EBS appears in Alice's key policy. They use the key through grants:
WorkSpaces' grant (step 1) lets its identity make and decrypt data keys, and create grants, but
only for contexts naming this user@directory; EBS's grant (step 2), created with WorkSpaces'
grant, lets EBS only decrypt, and only for this user@directory and this volume. Grants only ever
allow. Revoke one and the next reboot cannot decrypt; terminate retires them all.
"""

from __future__ import annotations

from typing import Any

from simulator.errors import AwsError
from simulator.iam.principals import ebs_identity_arn, workspaces_identity_arn
from simulator.present import Narrator, ScenarioResult
from simulator.present.explain import show_grants
from simulator.present.participants import short_id
from simulator.present.world import build_world

ORDER = 8

DATA = b"jdoe's mailbox archive"


def _code(value: object) -> str:
    return value.code if isinstance(value, AwsError) else "ok"


def run(sim: Any, out: Narrator) -> ScenarioResult:
    result = ScenarioResult("grants")
    out.brief("cast", "launch", "reboot", "rebuild", "terminate")
    world = build_world(sim, out, users=("jdoe", "asmith"))
    ws = world.launch(out, "jdoe")
    result.workspace_ids.append(ws)
    world.write(ws, DATA)
    user_volume = world.user_volume(ws)

    out.section("The grants behind jdoe's WorkSpace")
    out.say("Why two levels: Alice's permission reaches WorkSpaces only, through the grant "
            "WorkSpaces creates for itself at step 1 (with Alice's kms:CreateGrant, on her "
            "behalf: kms:GrantIsForAWSResource holds). That grant includes CreateGrant, so "
            "WorkSpaces can pass a narrower grant to EBS for each volume (step 2) without Alice "
            "ever granting EBS anything. Each level can only narrow what it was given: EBS may "
            "only decrypt, and only its own volume's context. (seed-policies shows what "
            "kms:GrantIsForAWSResource refuses: an admin creating a grant directly.)")
    grants = show_grants(out, sim, world.key_arn)
    result.record("grants", len(grants), out)
    wsid = workspaces_identity_arn(sim.account_id)
    ebsid = ebs_identity_arn(sim.account_id)
    ws_grants = [g for g in grants if g.grantee_principal == wsid]
    ebs_grants = [g for g in grants if g.grantee_principal == ebsid]
    result.expect(out, "one grant for WorkSpaces, one per volume for EBS",
                  len(ws_grants) == 1 and len(ebs_grants) == 2)
    result.expect(out, "EBS's grants allow Decrypt but never GenerateDataKey*",
                  all("Decrypt" in g.operations and not any(
                      op.startswith("GenerateDataKey") for op in g.operations)
                      for g in ebs_grants))

    out.section("What each grant allows, tried")
    wsk = sim.as_principal(wsid).kms
    ebsk = sim.as_principal(ebsid).kms
    jdoe_ctx = world.context_of("jdoe", user_volume)
    asmith_ctx = world.context_of("asmith", "vol-0123456789abcdef0")
    tries = {
        "WorkSpaces: data key for jdoe's WorkSpace": lambda: wsk.generate_data_key_without_plaintext(
            key_id=world.key_arn, number_of_bytes=64, encryption_context=jdoe_ctx),
        "WorkSpaces: data key for asmith (no WorkSpace, no grant)":
            lambda: wsk.generate_data_key_without_plaintext(
                key_id=world.key_arn, number_of_bytes=64, encryption_context=asmith_ctx),
        "WorkSpaces: Encrypt (not a granted operation)": lambda: wsk.encrypt(
            key_id=world.key_arn, plaintext=b"x", encryption_context=jdoe_ctx),
        "EBS: data key for jdoe's volume (EBS may only decrypt)":
            lambda: ebsk.generate_data_key_without_plaintext(
                key_id=world.key_arn, number_of_bytes=64, encryption_context=jdoe_ctx),
    }
    codes = {label: _code(out.attempt(label, fn, expect=None if n == 0 else
                                      "AccessDeniedException"))
             for n, (label, fn) in enumerate(tries.items())}
    result.record("tries", codes)
    result.expect(out, "only the call the grant covers succeeds",
                  list(codes.values()) == ["ok"] + ["AccessDeniedException"] * 3)

    out.section("A grant revoked mid-lifecycle")
    sim.advance(seconds=12 * 3600 + 600)
    (volume_grant,) = world.grants_for(user_volume)
    world.admin.kms.revoke_grant(key_id=world.key_arn, grant_id=volume_grant.grant_id)
    out.say(f"Alice revokes EBS's grant {short_id(volume_grant.grant_id)} for the user volume "
            f"{user_volume}.")
    result.record("read_after_revoke", world.read(ws, len(DATA)))
    result.expect(out, "the running WorkSpace keeps working (the key is in EBS's memory)",
                  result.outcomes["read_after_revoke"] == DATA)
    world.reboot(ws)
    described = world.describe(ws)
    result.record("state_after_reboot", described.state, out)
    result.record("error_after_reboot", described.error_code, out)
    result.expect(out, "the reboot fails: EBS may no longer decrypt the user volume's data key",
                  described.state == "UNHEALTHY"
                  and described.error_code == "AccessDeniedException")
    out.say("Recovery: a rebuild makes new volumes, and EBS gets a new grant for each (through "
            "WorkSpaces' grant, which still stands). The user volume comes back from the last "
            "snapshot; jdoe's file was written before it. When EBS then retires the old "
            "volumes' grants, KMS no longer has the revoked one:")
    world.rebuild(ws)
    result.record("state_after_rebuild", world.state(ws), out)
    result.record("read_after_rebuild", world.read(ws, len(DATA)))
    result.expect(out, "after the rebuild the WorkSpace is back, with what was written before "
                       "the last snapshot", world.state(ws) == "AVAILABLE"
                  and result.outcomes["read_after_rebuild"] == DATA)

    out.section("Terminate: the grants are retired (step 9)")
    show_grants(out, sim, world.key_arn)
    world.terminate(ws)
    left = sim.kms.list_grants(key_id=world.key_arn).grants
    result.record("grants_after_terminate", len(left), out)
    retirable = sim.kms.list_retirable_grants(retiring_principal=wsid).grants
    result.record("retirable_by_workspaces", len(retirable), out)
    result.expect(out, "no grant is left on the key", not left)
    result.diagram_filter = lambda e: e.workspace_id == ws or e.action == "RevokeGrant"
    result.diagram_aliases = {"Alice": "Admin"}
    return result


if __name__ == "__main__":
    from simulator.cli import run_script

    raise SystemExit(run_script(__file__))
