"""A central security account's key used by a workload account's EBS volumes: both sides must allow.

Sam, in the security account (111122223333), owns the KMS key; Dev, in the workload account
(the simulation's own, 123456789012), creates encrypted EBS volumes under it. KMS decides such
a request with two policies from two accounts: the key policy (Sam's side) must allow the
workload account, *and* the workload account's IAM policy (its own side) must allow Dev to use
that key ARN. Watch each side refuse alone, then allow together; see the EBS grant land on the
key in the security account; see alias names stay in their own account; and see CloudTrail
record each call in both accounts' trails.
"""

from __future__ import annotations

import json
from typing import Any

from simulator.errors import AwsError
from simulator.present import Narrator, ScenarioResult
from simulator.present.explain import show_grants, show_policy

ORDER = 13

SECURITY = "111122223333"
DATA = b"payroll run 2026-01: 4,211 employees"
INSTANCE = "i-0123456789abcdef0"
USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]


def _key_policy(workload: str, *, share: bool) -> str:
    statements: list[dict[str, Any]] = [{
        "Sid": "SecurityAccountAdministers", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{SECURITY}:root"}, "Action": "kms:*",
        "Resource": "*"}]
    if share:
        statements += [
            {"Sid": "WorkloadAccountMayUse", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{workload}:root"}, "Action": USE,
             "Resource": "*"},
            {"Sid": "WorkloadAccountMayGrantToAwsServices", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{workload}:root"}, "Action": "kms:CreateGrant",
             "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _volume(sim: Any, ebs: Any, key_arn: str) -> Any:
    vol = ebs.create_volume(size=1, encrypted=True, kms_key_id=key_arn)
    sim.advance(sim.settings.volume_create_seconds)
    return ebs.describe_volumes(volume_ids=[vol.volume_id]).volumes[0]


def run(sim: Any, out: Narrator) -> ScenarioResult:
    result = ScenarioResult("cross-account")
    workload = sim.account_id
    security = sim.view(account_id=SECURITY)

    out.section("The security account makes the central key")
    security.iam.create_user(user_name="Sam")
    security.iam.put_user_policy(user_name="Sam", policy_name="KeyAdmin", policy_document=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*",'
        '"Resource":"*"}]}'))
    sam = security.as_principal(f"arn:aws:iam::{SECURITY}:user/Sam")
    key_arn = sam.kms.create_key(description="central payroll key",
                                 policy=_key_policy(workload, share=False)).arn
    sam.kms.create_alias(alias_name="alias/payroll", target_key_id=key_arn)
    out.say(f"Sam, in the security account {SECURITY}, creates the key and the alias "
            f"alias/payroll there. Its key policy names only the security account for now:")
    show_policy(out, sam.kms.get_key_policy(key_id=key_arn).policy)

    out.section("Dev, in the workload account, names the key by its ARN")
    sim.iam.create_user(user_name="Dev")
    sim.iam.put_user_policy(user_name="Dev", policy_name="RunWorkload", policy_document=json.dumps(
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["ec2:*", "ssm:StartSession"], "Resource": "*"}]}))
    dev = sim.as_principal(f"arn:aws:iam::{workload}:user/Dev")
    out.say("Dev's IAM policy lets Dev run the workload's volumes and instances (ec2:*, and a "
            "session on its instances to reach their disks); EBS checks it on every call.")
    out.say("Another account's key is found only by its key ARN (or alias ARN): a key id or "
            "an alias name is looked up in the caller's own account and Region.")
    try:
        dev.kms.describe_key(key_id="alias/payroll")
        result.record("alias_name_from_workload", "found")
    except AwsError as err:
        result.error("alias_name_from_workload", err)
    result.expect(out, "alias/payroll is not found from the workload account",
                  result.errors.get("alias_name_from_workload") == "NotFoundException")

    out.section("Side 1 missing: the key policy does not allow the workload account")
    dev_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": [*USE, "kms:CreateGrant"], "Resource": key_arn}]})
    sim.iam.put_user_policy(user_name="Dev", policy_name="UsePayrollKey",
                            policy_document=dev_policy)
    out.say("The workload account's IAM policy lets Dev use the key ARN -- but an IAM policy "
            "cannot reach into another account: the key policy has the last word on its key.")
    vol = _volume(sim, dev.ebs, key_arn)
    result.record("volume_without_key_policy", vol.state, out)
    out.note(f"state reason: {vol.state_reason}")
    result.expect(out, "the volume fails: no resource-based policy allows it",
                  vol.state == "error" and "no resource-based policy" in (vol.state_reason or ""))

    out.section("Side 2 missing: the key policy allows, the caller's IAM policy does not")
    sam.kms.put_key_policy(key_id=key_arn, policy=_key_policy(workload, share=True))
    out.say("Sam adds two statements naming the workload account (its root: the account, which "
            "then decides through its own IAM policies who inside it may use the key):")
    show_policy(out, sam.kms.get_key_policy(key_id=key_arn).policy)
    sim.iam.delete_user_policy(user_name="Dev", policy_name="UsePayrollKey")
    out.say("Meanwhile the workload account removes Dev's IAM policy. A key policy naming an "
            "external account delegates to that account's IAM; it allows nobody by itself.")
    vol = _volume(sim, dev.ebs, key_arn)
    result.record("volume_without_iam_policy", vol.state, out)
    out.note(f"state reason: {vol.state_reason}")
    result.expect(out, "the volume fails: no identity-based policy allows it",
                  vol.state == "error" and "no identity-based policy" in (vol.state_reason or ""))

    out.section("Both sides allow: the volume is made")
    sim.iam.put_user_policy(user_name="Dev", policy_name="UsePayrollKey",
                            policy_document=dev_policy)
    vol = _volume(sim, dev.ebs, key_arn)
    result.record("volume_with_both", vol.state, out)
    result.expect(out, "the volume is available, encrypted under the security account's key",
                  vol.state == "available" and vol.kms_key_id == key_arn)
    out.say("EBS took its grant on the key -- so the grant lives in the security account, "
            "with the key, for the workload account's EBS identity:")
    grants = show_grants(out, security, key_arn)
    result.record("grants_in_security_account", len(grants), out)
    dev.ebs.attach_volume(volume_id=vol.volume_id, instance_id=INSTANCE, device="/dev/sdf")
    sim.advance(seconds=sim.settings.volume_attach_seconds)  # the attachment change completes
    device = dev.ebs.block_device(vol.volume_id)
    device.write(0, DATA)
    read = device.read(0, len(DATA))
    result.expect(out, "data written through the volume reads back", read == DATA)

    out.section("Each account's CloudTrail")
    out.say("A call on another account's key is recorded twice: in the caller's trail and in "
            "the key owner's, with one sharedEventID tying the two.")
    mine = sim.view().audit.events("GenerateDataKeyWithoutPlaintext", key_arn=key_arn)
    theirs = security.audit.events("GenerateDataKeyWithoutPlaintext", key_arn=key_arn)
    result.record("workload_trail_records", len(mine), out)
    result.record("security_trail_records", len(theirs), out)
    shared = {r.get("sharedEventID") for r in mine} == {r.get("sharedEventID") for r in theirs}
    result.expect(out, "both accounts hold the same events (same sharedEventIDs)",
                  len(mine) == len(theirs) == 3 and shared)

    out.section("Sam takes the workload account out of the key policy")
    sam.kms.put_key_policy(key_id=key_arn, policy=_key_policy(workload, share=False))
    vol2 = _volume(sim, dev.ebs, key_arn)
    result.record("new_volume_after_unsharing", vol2.state, out)
    result.expect(out, "new volumes fail at once", vol2.state == "error")
    out.say("The existing volume keeps working: EBS decrypts its data key with its grant, and "
            "grants do not depend on the key policy. Detach and attach again:")
    dev.ebs.detach_volume(volume_id=vol.volume_id)
    sim.advance(seconds=sim.settings.volume_attach_seconds)  # the attachment change completes
    dev.ebs.attach_volume(volume_id=vol.volume_id, instance_id=INSTANCE, device="/dev/sdf")
    sim.advance(seconds=sim.settings.volume_attach_seconds)  # the attachment change completes
    again = dev.ebs.block_device(vol.volume_id).read(0, len(DATA))
    result.expect(out, "the grant still lets EBS decrypt the existing volume's key",
                  again == DATA)
    out.say("To cut the workload off completely, Sam also revokes the grant:")
    for grant in grants:
        sam.kms.revoke_grant(key_id=key_arn, grant_id=grant.grant_id)
    sim.advance(seconds=sim.settings.grant_propagation_seconds)  # the revocation propagates
    dev.ebs.detach_volume(volume_id=vol.volume_id)
    sim.advance(seconds=sim.settings.volume_attach_seconds)  # the attachment change completes
    try:
        dev.ebs.attach_volume(volume_id=vol.volume_id, instance_id=INSTANCE, device="/dev/sdf")
        result.record("attach_after_revoke", "attached")
    except AwsError as err:
        result.error("attach_after_revoke", err)
    result.expect(out, "without key policy or grant the volume cannot be attached",
                  result.errors.get("attach_after_revoke") == "AccessDeniedException")
    return result


if __name__ == "__main__":
    from simulator.cli import run_script

    raise SystemExit(run_script(__file__))
