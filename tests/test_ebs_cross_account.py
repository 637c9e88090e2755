"""An EBS volume of one account encrypted under another account's customer managed key: made
when both sides allow it (the EBS grant is created on the key, in the key's account), and
refused with the KMS error, surfaced through EC2, when either does not."""

from __future__ import annotations

import pytest
from accounts_support import DEV_ARN, WORKLOAD, two_accounts

from simulator.errors import AccessDeniedException
from simulator.iam.principals import ebs_identity_arn


def _volume(sim, ebs, key_arn):
    vol = ebs.create_volume(size=1, encrypted=True, kms_key_id=key_arn)
    sim.advance(60)
    return ebs.describe_volumes(volume_ids=[vol.volume_id]).volumes[0]


def test_a_volume_under_another_accounts_key_works_when_both_sides_allow():
    sim, security, key_arn = two_accounts()
    ebs = sim.as_principal(DEV_ARN).ebs
    vol = _volume(sim, ebs, key_arn)
    assert vol.state == "available" and vol.kms_key_id == key_arn
    # The EBS grant lives on the key, in the security account, for the workload's EBS identity.
    (grant,) = security.kms.list_grants(key_id=key_arn).grants
    assert grant.grantee_principal == ebs_identity_arn(WORKLOAD)
    ebs.attach_volume(volume_id=vol.volume_id, instance_id="i-0123456789abcdef0",
                      device="/dev/sdf")
    sim.advance(seconds=sim.settings.volume_attach_seconds)  # attaching -> attached
    dev = ebs.block_device(vol.volume_id)
    dev.write(0, b"payroll")
    assert dev.read(0, 7) == b"payroll"
    # Both accounts see the EBS identity's Decrypt at attach.
    assert sim.view().audit.events("Decrypt") and security.audit.events("Decrypt")


def test_a_volume_under_another_accounts_key_fails_without_the_callers_iam_policy():
    sim, security, key_arn = two_accounts(dev_iam=False)
    vol = _volume(sim, sim.as_principal(DEV_ARN).ebs, key_arn)
    assert vol.state == "error"
    assert vol.state_reason is not None and "AccessDeniedException" in vol.state_reason
    assert "no identity-based policy allows the kms:GenerateDataKeyWithoutPlaintext" in \
        vol.state_reason
    assert security.kms.list_grants(key_id=key_arn).grants == ()


def test_a_volume_under_another_accounts_key_fails_without_the_key_policy():
    sim, _, key_arn = two_accounts(key_policy_names=())
    vol = _volume(sim, sim.as_principal(DEV_ARN).ebs, key_arn)
    assert vol.state == "error"
    assert vol.state_reason is not None
    assert "no resource-based policy allows the kms:GenerateDataKeyWithoutPlaintext" in \
        vol.state_reason


def test_revoking_the_ebs_grant_in_the_key_account_stops_the_next_attach():
    sim, security, key_arn = two_accounts()
    ebs = sim.as_principal(DEV_ARN).ebs
    vol = _volume(sim, ebs, key_arn)
    (grant,) = security.kms.list_grants(key_id=key_arn).grants
    security.kms.revoke_grant(key_id=key_arn, grant_id=grant.grant_id)
    sim.advance(seconds=sim.settings.grant_propagation_seconds)  # the revocation propagates
    with pytest.raises(AccessDeniedException):
        ebs.attach_volume(volume_id=vol.volume_id, instance_id="i-0123456789abcdef0",
                          device="/dev/sdf")


def test_deleting_the_volume_retires_the_grant_in_the_key_account():
    sim, security, key_arn = two_accounts()
    ebs = sim.as_principal(DEV_ARN).ebs
    vol = _volume(sim, ebs, key_arn)
    ebs.delete_volume(volume_id=vol.volume_id)
    sim.run_until_idle()
    assert security.kms.list_grants(key_id=key_arn).grants == ()
