"""The EBS envelope flow through KMS: data key at create, Decrypt at attach, grants, key states."""

from __future__ import annotations

import pytest
from ebs_support import DEVICE, INSTANCE, attach, attached, cycle, detach

from simulator import Simulation
from simulator.errors import (
    AccessDeniedException,
    DisabledException,
    IncorrectState,
    KMSInternalException,
)
from simulator.iam.principals import ebs_identity_arn

WS_CONTEXT = {"aws:workspaces:sid-directoryid": "[S-1-5-21-1-2-3-1107]@[d-1234abcd01]"}


def test_create_generates_a_64_byte_data_key_without_plaintext_through_ec2(sim: Simulation) -> None:
    key = sim.kms.create_key()
    vol = sim.ebs.create_volume(size=8, encrypted=True, kms_key_id=key.key_id)
    assert vol.state == "creating" and vol.kms_key_id == key.arn
    [event] = sim.audit.events(event_name="GenerateDataKeyWithoutPlaintext")
    assert event["requestParameters"]["numberOfBytes"] == 64
    assert event["requestParameters"]["encryptionContext"] == {"aws:ebs:id": vol.volume_id}
    assert event["userIdentity"]["invokedBy"] == "ec2.amazonaws.com"
    assert not sim.audit.events(event_name="GenerateDataKey")
    sim.run_until_idle()
    assert sim.ebs.describe_volumes(volume_ids=[vol.volume_id]).volumes[0].state == "available"


def test_every_attach_decrypts_as_the_ebs_identity_with_the_volume_context(sim: Simulation) -> None:
    key = sim.kms.create_key()
    vol_id, _ = attached(sim, kms_key_id=key.arn, encryption_context=WS_CONTEXT)
    cycle(sim, vol_id)
    cycle(sim, vol_id)
    decrypts = sim.audit.events(event_name="Decrypt")
    assert len(decrypts) == 3
    for event in decrypts:
        assert event["userIdentity"]["arn"] == ebs_identity_arn(sim.account_id)
        assert event["userIdentity"]["type"] == "AssumedRole"
        assert event["requestParameters"]["encryptionContext"] == {
            **WS_CONTEXT, "aws:ebs:id": vol_id}
        assert event.get("errorCode") is None
    [gdk] = sim.audit.events(event_name="GenerateDataKeyWithoutPlaintext")
    assert gdk["requestParameters"]["encryptionContext"] == {**WS_CONTEXT, "aws:ebs:id": vol_id}


def test_ebs_grant_is_scoped_to_the_volume_context_and_retired_on_delete(sim: Simulation) -> None:
    key = sim.kms.create_key()
    vol_id, _ = attached(sim, kms_key_id=key.arn, encryption_context=WS_CONTEXT)
    [grant] = sim.kms.list_grants(key_id=key.arn).grants
    assert grant.grantee_principal == ebs_identity_arn(sim.account_id)
    assert set(grant.operations) == {"Decrypt", "ReEncryptFrom", "ReEncryptTo", "RetireGrant"}
    assert grant.constraints == {"encryption_context_subset": {**WS_CONTEXT, "aws:ebs:id": vol_id}}
    detach(sim, vol_id)
    sim.ebs.delete_volume(volume_id=vol_id)
    assert sim.kms.list_grants(key_id=key.arn).grants == ()
    [retire] = sim.audit.events(event_name="RetireGrant")
    assert retire["userIdentity"]["arn"] == ebs_identity_arn(sim.account_id)


def test_disabled_key_leaves_the_attached_volume_working_and_fails_the_next_attach(
        sim: Simulation) -> None:
    key = sim.kms.create_key()
    vol_id, dev = attached(sim, kms_key_id=key.arn)
    dev.write(0, b"before")
    sim.kms.disable_key(key_id=key.key_id)
    dev.write(10, b"after")  # I/O uses the in-memory data key
    assert dev.read(0, 15) == b"before\0\0\0\0after"
    detach(sim, vol_id)
    with pytest.raises(DisabledException):
        sim.ebs.attach_volume(volume_id=vol_id, instance_id=INSTANCE, device=DEVICE)
    assert sim.ebs.describe_volumes(volume_ids=[vol_id]).volumes[0].state == "available"
    sim.kms.enable_key(key_id=key.key_id)
    attach(sim, vol_id, INSTANCE, DEVICE)
    assert sim.ebs.block_device(vol_id).read(0, 15) == b"before\0\0\0\0after"


def test_revoked_grant_fails_the_next_attach_with_access_denied(sim: Simulation) -> None:
    key = sim.kms.create_key()
    vol_id, dev = attached(sim, kms_key_id=key.arn)
    [grant] = sim.kms.list_grants(key_id=key.arn).grants
    sim.kms.revoke_grant(key_id=key.arn, grant_id=grant.grant_id)
    dev.write(0, b"still fine")
    detach(sim, vol_id)
    sim.advance(seconds=sim.settings.grant_propagation_seconds)  # the revocation propagates
    with pytest.raises(AccessDeniedException):
        sim.ebs.attach_volume(volume_id=vol_id, instance_id=INSTANCE, device=DEVICE)


def test_detach_wipes_the_plaintext_key_and_the_device_stops_working(sim: Simulation) -> None:
    key = sim.kms.create_key()
    vol_id, dev = attached(sim, kms_key_id=key.arn)
    rec = sim.ebs._state.volumes[vol_id]
    assert rec.attachment is not None and rec.attachment.plaintext_data_key is not None
    held = rec.attachment.plaintext_data_key
    assert len(held) == 64 and any(held)
    detach(sim, vol_id)
    assert held == bytearray(64)
    with pytest.raises(IncorrectState):
        dev.read(0, 1)
    with pytest.raises(IncorrectState):
        sim.ebs.block_device(vol_id)


def test_unusable_key_lets_create_return_and_the_volume_fails_later(sim: Simulation) -> None:
    key = sim.kms.create_key()
    sim.kms.disable_key(key_id=key.key_id)
    vol = sim.ebs.create_volume(size=1, encrypted=True, kms_key_id=key.arn)
    assert vol.state == "creating"
    sim.run_until_idle()
    shown = sim.ebs.describe_volumes(volume_ids=[vol.volume_id]).volumes[0]
    assert shown.state == "error"
    assert shown.state_reason is not None and "DisabledException" in shown.state_reason
    assert key.arn in shown.state_reason
    with pytest.raises(IncorrectState):
        sim.ebs.attach_volume(volume_id=vol.volume_id, instance_id=INSTANCE, device=DEVICE)
    sim.ebs.delete_volume(volume_id=vol.volume_id)


def test_unknown_key_fails_asynchronously_too(sim: Simulation) -> None:
    vol = sim.ebs.create_volume(size=1, encrypted=True,
                                kms_key_id="arn:aws:kms:us-west-2:123456789012:key/"
                                           "00000000-0000-4000-8000-000000000000")
    sim.run_until_idle()
    assert sim.ebs.describe_volumes(volume_ids=[vol.volume_id]).volumes[0].state == "error"


def test_default_key_is_the_aws_managed_aws_ebs_key(sim: Simulation) -> None:
    vol = sim.ebs.create_volume(size=1, encrypted=True)
    managed = sim.kms.describe_key(key_id="alias/aws/ebs")
    assert vol.kms_key_id == managed.arn and managed.key_manager == "AWS"
    assert sim.ebs.get_ebs_default_kms_key_id().kms_key_id == "alias/aws/ebs"


def test_encryption_by_default_encrypts_new_volumes_with_the_default_key(sim: Simulation) -> None:
    key = sim.kms.create_key()
    plain = sim.ebs.create_volume(size=1)
    assert not plain.encrypted and plain.kms_key_id is None
    sim.ebs.enable_ebs_encryption_by_default()
    sim.ebs.modify_ebs_default_kms_key_id(kms_key_id=key.arn)
    assert sim.ebs.get_ebs_encryption_by_default().ebs_encryption_by_default
    vol = sim.ebs.create_volume(size=1, encrypted=False)
    assert vol.encrypted and vol.kms_key_id == key.arn
    assert sim.ebs.reset_ebs_default_kms_key_id().kms_key_id == "alias/aws/ebs"
    sim.ebs.disable_ebs_encryption_by_default()
    assert not sim.ebs.create_volume(size=1).encrypted
    assert not sim.ebs.describe_volumes(volume_ids=[plain.volume_id]).volumes[0].encrypted


def test_trace_marks_the_ebs_phases_with_non_secret_detail(sim: Simulation) -> None:
    key = sim.kms.create_key()
    steps = {"ebs.create_volume": 2, "ebs.grant": 2, "ebs.generate_data_key": 3,
             "kms.GenerateDataKeyWithoutPlaintext": 4, "ebs.attach": 5, "ebs.decrypt": 5,
             "kms.Decrypt": 6, "ebs.io_ready": 7, "ebs.store_encrypted_key": 8,
             "ebs.retire_grant": 9, "kms.RetireGrant": 9}
    with sim.trace.scope(workspace_id="ws-test", steps=steps):
        vol_id, _ = attached(sim, kms_key_id=key.arn)
        held = sim.ebs._state.volumes[vol_id].attachment.plaintext_data_key  # type: ignore[union-attr]
        secret = bytes(held or b"")
        detach(sim, vol_id)
        sim.ebs.delete_volume(volume_id=vol_id)
    by_action = {(e.actor, e.action): e for e in sim.trace.events(workspace_id="ws-test")}
    assert by_action[("KMS", "GenerateDataKeyWithoutPlaintext")].step == 4
    assert by_action[("KMS", "Decrypt")].step == 6
    assert by_action[("EBS", "VolumeIoReady")].step == 7
    assert by_action[("EBS", "StoreEncryptedDataKey")].step == 8
    assert by_action[("EBS", "RetireGrant")].step == 9
    assert by_action[("EBS", "CreateGrant")].step == 2
    store = by_action[("EBS", "StoreEncryptedDataKey")].detail
    assert store["kms_key"] == key.arn and store["encryption_context"] == {"aws:ebs:id": vol_id}
    assert len(secret) == 64
    for text in (sim.trace.to_json(), repr(sim.audit.events()), repr(sim.ebs._state.volumes)):
        assert secret.hex() not in text and repr(secret) not in text


def test_retryable_kms_errors_are_retried_at_attach(sim: Simulation,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    key = sim.kms.create_key()
    vol = sim.ebs.create_volume(size=1, encrypted=True, kms_key_id=key.arn)
    sim.run_until_idle()
    from simulator.kms.service import KeyManagementService
    real = KeyManagementService.decrypt
    failures = iter([True, True])

    def flaky(self: KeyManagementService, **kw: object) -> object:
        if next(failures, False):
            raise KMSInternalException("injected")
        return real(self, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(KeyManagementService, "decrypt", flaky)
    attach(sim, vol.volume_id, INSTANCE, DEVICE)
    assert [e.action for e in sim.trace.events()].count("RetryKmsCall") == 2


def test_principal_view_calls_kms_as_that_principal(sim: Simulation) -> None:
    key = sim.kms.create_key()
    alice = sim.iam.create_user(user_name="Alice")
    sim.iam.put_user_policy(user_name="Alice", policy_name="ec2", policy_document=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*",'
        '"Resource":"*"}]}'))
    vol = sim.as_principal(alice.arn).ebs.create_volume(size=1, encrypted=True,
                                                        kms_key_id=key.arn)
    sim.run_until_idle()
    # Alice has no KMS permissions: the key check fails asynchronously, as in AWS.
    shown = sim.ebs.describe_volumes(volume_ids=[vol.volume_id]).volumes[0]
    assert shown.state == "error" and "AccessDeniedException" in (shown.state_reason or "")
    [event] = sim.audit.events(event_name="GenerateDataKeyWithoutPlaintext")
    assert event["userIdentity"]["arn"] == alice.arn
