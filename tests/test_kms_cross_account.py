"""Cross-account KMS: another account's key is used by its ARN, and only when both its key
policy and the caller's own IAM policy allow (KMS Developer Guide, "Allowing users in other
accounts to use a KMS key")."""

from __future__ import annotations

import base64
import json

import pytest
from accounts_support import (
    DEV_ARN,
    REGION,
    SECURITY,
    WORKLOAD,
    iam_policy,
    key_policy,
    two_accounts,
)
from hypothesis import given
from hypothesis import strategies as st

from simulator import Simulation
from simulator.errors import AccessDeniedException, NotFoundException


def _denied(action: str, key_arn: str, kind: str) -> str:
    return (f"User: {DEV_ARN} is not authorized to perform: {action} on resource: {key_arn} "
            f"because no {kind} policy allows the {action} action")


def test_key_policy_and_iam_policy_both_allowing_lets_the_other_account_use_the_key():
    sim, _, key_arn = two_accounts()
    dev = sim.as_principal(DEV_ARN).kms
    made = dev.generate_data_key(key_id=key_arn, key_spec="AES_256",
                                 encryption_context={"app": "x"})
    assert made.key_id == key_arn
    back = dev.decrypt(ciphertext_blob=made.ciphertext_blob, encryption_context={"app": "x"})
    assert back.plaintext == made.plaintext and back.key_id == key_arn


def test_key_policy_allowing_the_account_but_no_iam_policy_is_denied_by_identity_policy():
    sim, _, key_arn = two_accounts(dev_iam=False)
    with pytest.raises(AccessDeniedException) as err:
        sim.as_principal(DEV_ARN).kms.encrypt(key_id=key_arn, plaintext=b"x")
    assert err.value.message == _denied("kms:Encrypt", key_arn, "identity-based")


def test_iam_policy_allowing_but_key_policy_silent_is_denied_by_resource_policy():
    sim, _, key_arn = two_accounts(key_policy_names=())
    with pytest.raises(AccessDeniedException) as err:
        sim.as_principal(DEV_ARN).kms.encrypt(key_id=key_arn, plaintext=b"x")
    assert err.value.message == _denied("kms:Encrypt", key_arn, "resource-based")


def test_key_policy_naming_the_external_user_still_needs_its_iam_policy():
    sim, _, key_arn = two_accounts(key_policy_names=(DEV_ARN,), dev_iam=False)
    dev = sim.as_principal(DEV_ARN).kms
    with pytest.raises(AccessDeniedException) as err:
        dev.encrypt(key_id=key_arn, plaintext=b"x")
    assert err.value.message == _denied("kms:Encrypt", key_arn, "identity-based")
    sim.iam.put_user_policy(user_name="dev", policy_name="p", policy_document=iam_policy(key_arn))
    assert dev.encrypt(key_id=key_arn, plaintext=b"x").key_id == key_arn


def test_iam_policy_on_another_key_arn_does_not_allow_this_key():
    sim, _, key_arn = two_accounts(dev_iam=False)
    other = key_arn.rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000"
    sim.iam.put_user_policy(user_name="dev", policy_name="p", policy_document=iam_policy(other))
    with pytest.raises(AccessDeniedException):
        sim.as_principal(DEV_ARN).kms.encrypt(key_id=key_arn, plaintext=b"x")


def test_the_other_accounts_root_needs_only_the_key_policy():
    sim, _, key_arn = two_accounts(dev_iam=False)
    assert sim.kms.encrypt(key_id=key_arn, plaintext=b"x").key_id == key_arn


def test_alias_names_and_key_ids_resolve_in_the_callers_own_account():
    sim, security, key_arn = two_accounts()
    dev = sim.as_principal(DEV_ARN).kms
    with pytest.raises(NotFoundException, match="alias/central"):
        dev.encrypt(key_id="alias/central", plaintext=b"x")
    key_id = key_arn.rsplit("/", 1)[1]
    with pytest.raises(NotFoundException):
        dev.encrypt(key_id=key_id, plaintext=b"x")
    alias_arn = f"arn:aws:kms:{REGION}:{SECURITY}:alias/central"
    assert dev.encrypt(key_id=alias_arn, plaintext=b"x").key_id == key_arn
    assert security.kms.encrypt(key_id="alias/central", plaintext=b"x").key_id == key_arn


def test_key_management_is_not_available_across_accounts():
    sim, _, key_arn = two_accounts()
    sim.iam.put_user_policy(user_name="dev", policy_name="all",
                            policy_document=iam_policy(key_arn, ["kms:*"]))
    with pytest.raises(NotFoundException, match="does not exist"):
        sim.kms.disable_key(key_id=key_arn)
    with pytest.raises(NotFoundException):
        sim.kms.put_key_policy(key_id=key_arn, policy="{}")


def test_a_key_of_an_account_never_used_is_not_found():
    sim = Simulation(seed=1)
    arn = f"arn:aws:kms:{REGION}:999999999999:key/00000000-0000-4000-8000-000000000000"
    with pytest.raises(NotFoundException, match="does not exist"):
        sim.kms.encrypt(key_id=arn, plaintext=b"x")


def test_a_blob_of_another_accounts_key_decrypts_without_naming_the_key():
    sim, security, key_arn = two_accounts()
    blob = security.kms.encrypt(key_id=key_arn, plaintext=b"secret").ciphertext_blob
    out = sim.as_principal(DEV_ARN).kms.decrypt(ciphertext_blob=blob)
    assert out.plaintext == b"secret" and out.key_id == key_arn


def test_a_blob_of_another_accounts_key_needs_both_sides_to_decrypt():
    sim, security, key_arn = two_accounts(dev_iam=False)
    blob = security.kms.encrypt(key_id=key_arn, plaintext=b"secret").ciphertext_blob
    with pytest.raises(AccessDeniedException) as err:
        sim.as_principal(DEV_ARN).kms.decrypt(ciphertext_blob=blob)
    assert err.value.message == _denied("kms:Decrypt", key_arn, "identity-based")


def test_grants_may_name_principals_of_other_accounts_and_need_no_policy():
    sim, security, key_arn = two_accounts(key_policy_names=(), dev_iam=False)
    grant = security.kms.create_grant(key_id=key_arn, grantee_principal=DEV_ARN,
                                      operations=["Encrypt", "Decrypt"])
    sim.advance(seconds=sim.settings.grant_propagation_seconds)  # the grant propagates
    dev = sim.as_principal(DEV_ARN).kms
    blob = dev.encrypt(key_id=key_arn, plaintext=b"x").ciphertext_blob
    assert dev.decrypt(ciphertext_blob=blob).plaintext == b"x"
    listed = security.kms.list_grants(key_id=key_arn).grants
    assert [g.grantee_principal for g in listed] == [DEV_ARN]
    assert listed[0].issuing_account == f"arn:aws:iam::{SECURITY}:root"
    security.kms.revoke_grant(key_id=key_arn, grant_id=grant.grant_id)
    sim.advance(seconds=sim.settings.grant_propagation_seconds)  # the revocation propagates
    with pytest.raises(AccessDeniedException):
        dev.encrypt(key_id=key_arn, plaintext=b"x")


def test_the_other_account_may_create_grants_on_the_key_when_both_sides_allow():
    sim, security, key_arn = two_accounts()
    dev = sim.as_principal(DEV_ARN).kms
    made = dev.create_grant(key_id=key_arn, grantee_principal=f"arn:aws:iam::{WORKLOAD}:root",
                            operations=["Decrypt"])
    # The grant lives with the key, in the key's account.
    assert [g.grant_id for g in security.kms.list_grants(key_id=key_arn).grants] == [made.grant_id]
    assert [g.grant_id for g in dev.list_grants(key_id=key_arn).grants] == [made.grant_id]


def test_aws_managed_keys_are_never_usable_from_another_account():
    sim, security, _ = two_accounts()
    managed = security.kms.describe_key(key_id="alias/aws/ebs").arn
    sim.iam.put_user_policy(user_name="dev", policy_name="all",
                            policy_document=iam_policy("*", ["kms:*"]))
    for kms in (sim.kms, sim.as_principal(DEV_ARN).kms):
        with pytest.raises(AccessDeniedException, match="no resource-based policy"):
            kms.generate_data_key(key_id=managed, key_spec="AES_256")


def test_a_cross_account_call_is_in_both_accounts_trails_once_each():
    sim, security, key_arn = two_accounts()
    sim.as_principal(DEV_ARN).kms.encrypt(key_id=key_arn, plaintext=b"x")
    mine = sim.view().audit.events("Encrypt")
    theirs = security.audit.events("Encrypt")
    assert len(mine) == len(theirs) == 1
    assert mine[0]["recipientAccountId"] == WORKLOAD
    assert theirs[0]["recipientAccountId"] == SECURITY
    assert mine[0]["sharedEventID"] == theirs[0]["sharedEventID"]
    assert mine[0]["userIdentity"]["arn"] == theirs[0]["userIdentity"]["arn"] == DEV_ARN
    assert mine[0]["resources"][0]["accountId"] == SECURITY
    # the simulation's own trail keeps everything: both copies
    assert len(sim.audit.events("Encrypt")) == 2


def test_a_refused_cross_account_call_is_in_both_trails_with_its_error():
    sim, security, key_arn = two_accounts(dev_iam=False)
    with pytest.raises(AccessDeniedException):
        sim.as_principal(DEV_ARN).kms.encrypt(key_id=key_arn, plaintext=b"x")
    for audit in (sim.view().audit, security.audit):
        (rec,) = audit.events("Encrypt")
        assert rec["errorCode"] == "AccessDeniedException"


def test_same_account_calls_have_one_record_and_no_shared_event_id():
    sim, security, key_arn = two_accounts()
    security.kms.encrypt(key_id=key_arn, plaintext=b"x")
    (rec,) = sim.audit.events("Encrypt")
    assert "sharedEventID" not in rec and rec["recipientAccountId"] == SECURITY
    assert sim.view().audit.events("Encrypt") == []


def test_no_plaintext_reaches_either_trail_of_a_cross_account_call():
    sim, _, key_arn = two_accounts()
    made = sim.as_principal(DEV_ARN).kms.generate_data_key(key_id=key_arn, key_spec="AES_256")
    text = sim.audit.to_jsonl()
    assert made.plaintext.hex() not in text
    assert base64.b64encode(bytes(made.plaintext)).decode() not in text


def test_macs_and_signatures_work_across_accounts_when_both_sides_allow():
    sim, security, _ = two_accounts()
    policy = key_policy(f"arn:aws:iam::{WORKLOAD}:root")
    hmac_arn = security.kms.create_key(key_spec="HMAC_256", key_usage="GENERATE_VERIFY_MAC",
                                       policy=policy).arn
    ecc_arn = security.kms.create_key(key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY",
                                      policy=policy).arn
    dev = sim.as_principal(DEV_ARN).kms
    with pytest.raises(AccessDeniedException, match="no resource-based policy"):
        dev.generate_mac(key_id=hmac_arn, message=b"m", mac_algorithm="HMAC_SHA_256")
    sim.iam.put_user_policy(user_name="dev", policy_name="macs", policy_document=iam_policy(
        "*", ["kms:GenerateMac", "kms:VerifyMac", "kms:Sign", "kms:Verify"]))
    with pytest.raises(AccessDeniedException, match="no resource-based policy"):
        dev.generate_mac(key_id=hmac_arn, message=b"m", mac_algorithm="HMAC_SHA_256")
    both = key_policy(f"arn:aws:iam::{WORKLOAD}:root").replace(
        '"kms:GetKeyRotationStatus"]', '"kms:GetKeyRotationStatus", "kms:GenerateMac", '
        '"kms:VerifyMac", "kms:Sign", "kms:Verify"]')
    for arn in (hmac_arn, ecc_arn):
        security.kms.put_key_policy(key_id=arn, policy=both)
    mac = dev.generate_mac(key_id=hmac_arn, message=b"m", mac_algorithm="HMAC_SHA_256").mac
    assert dev.verify_mac(key_id=hmac_arn, message=b"m", mac=mac,
                          mac_algorithm="HMAC_SHA_256").mac_valid
    sig = dev.sign(key_id=ecc_arn, message=b"m", signing_algorithm="ECDSA_SHA_256").signature
    assert security.kms.verify(key_id=ecc_arn, message=b"m", signature=sig,
                               signing_algorithm="ECDSA_SHA_256").signature_valid


@given(key_side=st.sampled_from(["none", "account", "user", "deny-user"]),
       iam_side=st.sampled_from(["none", "allow", "deny"]),
       caller=st.sampled_from(["dev", "root"]))
def test_a_cross_account_decision_needs_both_sides_and_no_deny(key_side, iam_side, caller):
    names = {"none": (), "account": (f"arn:aws:iam::{WORKLOAD}:root",),
             "user": (DEV_ARN,), "deny-user": (f"arn:aws:iam::{WORKLOAD}:root",)}[key_side]
    sim, security, key_arn = two_accounts(key_policy_names=names, dev_iam=False)
    if key_side == "deny-user":
        doc = json.loads(security.kms.get_key_policy(key_id=key_arn).policy)
        doc["Statement"].append({"Effect": "Deny", "Principal": {"AWS": DEV_ARN},
                                 "Action": "kms:Encrypt", "Resource": "*"})
        security.kms.put_key_policy(key_id=key_arn, policy=json.dumps(doc))
    if iam_side != "none":
        sim.iam.put_user_policy(user_name="dev", policy_name="p", policy_document=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow" if iam_side == "allow" else "Deny",
                "Action": "kms:Encrypt", "Resource": key_arn}]}))
    kms = sim.kms if caller == "root" else sim.as_principal(DEV_ARN).kms
    key_allows = key_side == "account" or (key_side == "user" and caller == "dev") or (
        key_side == "deny-user")
    denied_explicitly = caller == "dev" and (key_side == "deny-user" or iam_side == "deny")
    iam_allows = caller == "root" or iam_side == "allow"
    expected = key_allows and iam_allows and not denied_explicitly
    before = len(security.kms.list_grants(key_id=key_arn).grants)
    try:
        kms.encrypt(key_id=key_arn, plaintext=b"x")
        allowed = True
    except AccessDeniedException:
        allowed = False
    assert allowed == expected
    assert len(security.kms.list_grants(key_id=key_arn).grants) == before
