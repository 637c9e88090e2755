"""The AWS managed key aws/workspaces: created on first use, usable only through WorkSpaces.

Alice launches a WorkSpace with alias/aws/workspaces instead of her own key. KMS creates the
AWS managed key the first time WorkSpaces asks for it. Its key policy lets everyone in the
account use it, but only through WorkSpaces (kms:ViaService) -- so when Alice calls KMS
directly, even Decrypt of a data key made under it, she is denied. Nobody can disable it or
change its rotation; KMS rotates it every year.
"""

from __future__ import annotations

from typing import Any

from simulator.errors import AwsError
from simulator.iam.principals import workspaces_identity_arn
from simulator.present import Narrator, ScenarioResult
from simulator.present.explain import show_policy, show_volumes
from simulator.present.world import build_world

ORDER = 2

ALIAS = "alias/aws/workspaces"
DATA = b"jdoe's notes"


def _alias_target(sim: Any) -> str | None:
    for alias in sim.kms.list_aliases().aliases:
        if alias.alias_name == ALIAS:
            return str(alias.target_key_id) if alias.target_key_id else None
    return None


def run(sim: Any, out: Narrator) -> ScenarioResult:
    result = ScenarioResult("aws-managed-key")
    out.brief("cast", "launch", "terminate")
    world = build_world(sim, out)

    out.section("Before the first launch")
    before = result.record("aws_key_before_launch", _alias_target(sim), out)
    result.expect(out, f"{ALIAS} does not point at a key yet", before is None)

    out.section(f"Alice launches a WorkSpace with {ALIAS}")
    out.say("WorkSpaces resolves the alias; KMS creates the AWS managed key on this first use "
            "(DescribeKey of an aws/ alias creates it).")
    ws = world.launch(out, "jdoe", key=ALIAS)
    result.workspace_ids.append(ws)
    result.record("state", world.state(ws), out)
    target = _alias_target(sim)
    result.expect(out, f"{ALIAS} now points at a key", target is not None)
    meta = sim.kms.describe_key(key_id=ALIAS)
    result.record("key_manager", meta.key_manager, out)
    result.expect(out, "the key is AWS managed (KeyManager AWS)", meta.key_manager == "AWS")
    vols = show_volumes(out, sim, ws)
    result.expect(out, "the WorkSpace's volumes are encrypted under the AWS managed key",
                  all(v.kms_key_id == meta.arn for v in vols.values()))
    world.write(ws, DATA)
    result.record("data_read_back", world.read(ws, len(DATA)))
    result.expect(out, "the WorkSpace reads and writes as usual",
                  result.outcomes["data_read_back"] == DATA)

    out.section("Its key policy: the account, but only through WorkSpaces")
    text = sim.kms.get_key_policy(key_id=meta.key_id).policy
    show_policy(out, text)
    via = text.count("kms:ViaService")
    result.expect(out, "the policy's conditions use kms:ViaService", via > 0)

    out.section("Alice tries the key directly")
    alice = world.admin.kms
    err = out.attempt("Alice asks KMS for a data key under aws/workspaces (no service between)",
                      lambda: alice.generate_data_key(key_id=ALIAS, key_spec="AES_256"),
                      expect="AccessDeniedException")
    result.error("direct_generate_data_key", err)
    out.say("WorkSpaces itself may use the key for jdoe's WorkSpace, through its grant. We let "
            "the WorkSpaces identity make one data key exactly as EBS's volumes get theirs, so "
            "that Alice has a real encrypted data key to try:")
    service = sim.as_principal(workspaces_identity_arn(sim.account_id)).kms
    context = world.context_of("jdoe", "vol-0123456789abcdef0")
    made = service.generate_data_key_without_plaintext(
        key_id=meta.arn, number_of_bytes=64, encryption_context=context)
    err = out.attempt("Alice calls Decrypt on it, with the right encryption context",
                      lambda: alice.decrypt(ciphertext_blob=made.ciphertext_blob,
                                            encryption_context=context),
                      expect="AccessDeniedException")
    result.error("direct_decrypt", err)
    result.expect(out, "Alice's direct Decrypt is denied (AccessDeniedException)",
                  isinstance(err, AwsError) and err.code == "AccessDeniedException")
    err = out.attempt("The account root tries to disable the AWS managed key",
                      lambda: sim.kms.disable_key(key_id=meta.key_id),
                      expect="AccessDeniedException")
    result.error("disable", err)
    result.expect(out, "nobody can disable an AWS managed key", isinstance(err, AwsError))
    result.record("key_state", sim.kms.describe_key(key_id=meta.key_id).key_state, out)

    out.section("Rotation is KMS's business")
    status = sim.kms.get_key_rotation_status(key_id=meta.key_id)
    result.record("rotation_enabled", status.key_rotation_enabled, out)
    result.record("rotation_period_in_days", status.rotation_period_in_days, out)
    result.expect(out, "automatic rotation is on for AWS managed keys",
                  status.key_rotation_enabled)

    result.diagram_filter = lambda e: e.workspace_id == ws or (
        e.workspace_id is None and e.action in ("CreateKey", "Decrypt", "GenerateDataKey",
                                                "DisableKey"))
    result.diagram_aliases = {"Alice": "Admin"}
    return result


if __name__ == "__main__":
    from simulator.cli import run_script

    raise SystemExit(run_script(__file__))
