"""Faults against EBS: injected EC2 and KMS errors, corrupted blocks and data keys, host failure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ebs_support import DEVICE, INSTANCE, attach, attached, cycle, detach

from simulator import Simulation
from simulator.errors import (
    DependencyTimeoutException,
    IncorrectState,
    InvalidBlockCiphertext,
    InvalidCiphertextException,
    KMSInternalException,
    ThrottlingException,
    ValidationException,
)
from simulator.faults import (
    AtTime,
    DropAttachment,
    Fault,
    FaultSkippedWarning,
    FlipBlockBit,
    FlipDataKeyBit,
    OnCall,
    RaiseError,
)


@pytest.fixture
def key(sim: Simulation) -> str:
    return sim.kms.create_key(description="volumes").arn


def _now_fault(sim: Simulation, effect) -> None:
    sim.faults.inject(Fault(AtTime(sim.clock.now()), effect))
    sim.advance(seconds=0)


def test_an_injected_ec2_error_fails_attach_cleanly_and_a_retry_succeeds(sim: Simulation, key: str) -> None:
    vol = sim.ebs.create_volume(size=1, encrypted=True, kms_key_id=key)
    sim.advance(seconds=sim.settings.volume_create_seconds)
    sim.faults.inject(Fault(OnCall("ec2:AttachVolume"), RaiseError("ThrottlingException")))
    decrypts = len(sim.audit.events("Decrypt"))
    with pytest.raises(ThrottlingException):
        sim.ebs.attach_volume(volume_id=vol.volume_id, instance_id=INSTANCE, device=DEVICE)
    after = sim.ebs.describe_volumes(volume_ids=[vol.volume_id]).volumes[0]
    assert after.state == "available" and after.attachments == ()
    assert len(sim.audit.events("Decrypt")) == decrypts  # failed before anything happened
    faults = [e for e in sim.trace.events() if e.actor == "Faults" and e.action == "InjectError"]
    assert faults[-1].target == "ec2:AttachVolume" and faults[-1].outcome == "ThrottlingException"
    attach(sim, vol.volume_id, INSTANCE, DEVICE)
    assert sim.ebs.describe_volumes(volume_ids=[vol.volume_id]).volumes[0].state == "in-use"


def test_ebs_retries_retryable_kms_errors_at_attach(sim: Simulation, key: str) -> None:
    volume_id, dev = attached(sim, kms_key_id=key)
    dev.write(0, b"kept")
    detach(sim, volume_id)
    retries = sim.settings.max_retries
    sim.faults.inject(Fault(OnCall("kms:Decrypt"), RaiseError("KMSInternalException", retries)))
    attach(sim, volume_id, INSTANCE, DEVICE)
    assert sim.ebs.block_device(volume_id).read(0, 4) == b"kept"
    assert len([e for e in sim.trace.events() if e.action == "RetryKmsCall"]) == retries
    assert len(sim.audit.events("Decrypt", error_code="KMSInternalException")) == retries


def test_attach_fails_with_the_kms_error_once_retries_are_used_up_and_recovers(sim: Simulation, key: str) -> None:
    volume_id, dev = attached(sim, kms_key_id=key)
    dev.write(0, b"kept")
    detach(sim, volume_id)
    attempts = sim.settings.max_retries + 1
    sim.faults.inject(Fault(OnCall("kms:Decrypt"), RaiseError("DependencyTimeoutException", attempts)))
    with pytest.raises(DependencyTimeoutException) as caught:
        sim.ebs.attach_volume(volume_id=volume_id, instance_id=INSTANCE, device=DEVICE)
    assert caught.value.code == "DependencyTimeoutException"
    assert sim.ebs.describe_volumes(volume_ids=[volume_id]).volumes[0].state == "available"
    attach(sim, volume_id, INSTANCE, DEVICE)
    assert sim.ebs.block_device(volume_id).read(0, 4) == b"kept"


def test_create_volume_whose_data_key_cannot_be_made_ends_in_error_with_the_reason(sim: Simulation, key: str) -> None:
    attempts = sim.settings.max_retries + 1
    sim.faults.inject(Fault(OnCall("kms:GenerateDataKeyWithoutPlaintext"),
                            RaiseError("KMSInternalException", attempts)))
    vol = sim.ebs.create_volume(size=1, encrypted=True, kms_key_id=key)
    sim.advance(seconds=sim.settings.volume_create_seconds)
    failed = sim.ebs.describe_volumes(volume_ids=[vol.volume_id]).volumes[0]
    assert failed.state == "error"
    assert failed.state_reason.startswith("KMSInternalException")
    _volume_id, dev = attached(sim, kms_key_id=key)  # the fault is spent: a new volume works
    dev.write(0, b"ok")


def test_a_flipped_block_bit_is_detected_by_gcm_and_rewriting_the_block_recovers() -> None:
    sim = Simulation(seed=3, volume_cipher="gcm")
    k = sim.kms.create_key().arn
    volume_id, dev = attached(sim, kms_key_id=k)
    dev.write(0, b"A" * 100)
    _now_fault(sim, FlipBlockBit(volume_id, block_index=0, bit=200))
    with pytest.raises(InvalidBlockCiphertext, match="Block 0"):
        dev.read(0, 100)
    dev.write(0, bytes(32 * 1024))  # the whole block written again
    dev.write(0, b"A" * 100)
    assert dev.read(0, 100) == b"A" * 100
    assert sim.faults.records()[-1].detail == {"block_index": 0, "bit": 200}


def test_a_flipped_block_bit_under_xts_changes_data_silently(sim: Simulation, key: str) -> None:
    volume_id, dev = attached(sim, kms_key_id=key)
    dev.write(0, b"A" * 100)
    _now_fault(sim, FlipBlockBit(volume_id, block_index=0, bit=3))
    assert dev.read(0, 100) != b"A" * 100  # what AES-XTS does: no integrity


def test_a_flipped_data_key_bit_fails_the_next_attach_and_a_snapshot_restores_the_data(sim: Simulation, key: str) -> None:
    volume_id, dev = attached(sim, kms_key_id=key)
    dev.write(4096, b"precious")
    snap = sim.ebs.create_snapshot(volume_id=volume_id)
    sim.advance(seconds=sim.settings.snapshot_seconds)
    _now_fault(sim, FlipDataKeyBit(volume_id, bit=300))
    assert dev.read(4096, 8) == b"precious"  # the attached volume keeps its key in memory
    detach(sim, volume_id)
    with pytest.raises(InvalidCiphertextException):
        sim.ebs.attach_volume(volume_id=volume_id, instance_id=INSTANCE, device=DEVICE)
    restored = sim.ebs.create_volume(snapshot_id=snap.snapshot_id)
    sim.advance(seconds=sim.settings.volume_create_seconds)
    attach(sim, restored.volume_id, INSTANCE, '/dev/sdg')
    assert sim.ebs.block_device(restored.volume_id).read(4096, 8) == b"precious"


def test_a_dropped_attachment_wipes_the_key_and_reattaching_decrypts_again(sim: Simulation, key: str) -> None:
    volume_id, dev = attached(sim, kms_key_id=key)
    dev.write(0, b"survives")
    held = sim.ebs._state.volumes[volume_id].attachment.plaintext_data_key
    decrypts = len(sim.audit.events("Decrypt"))
    _now_fault(sim, DropAttachment(volume_id, reattach_after_seconds=None))
    assert held == bytearray(len(held))  # the plaintext key was wiped
    assert sim.ebs.describe_volumes(volume_ids=[volume_id]).volumes[0].state == "available"
    with pytest.raises(IncorrectState):
        dev.read(0, 8)
    attach(sim, volume_id, INSTANCE, DEVICE)
    assert sim.ebs.block_device(volume_id).read(0, 8) == b"survives"
    assert len(sim.audit.events("Decrypt")) == decrypts + 1


def test_a_host_failure_recovers_on_a_new_host_with_a_new_decrypt(sim: Simulation, key: str) -> None:
    volume_id, dev = attached(sim, kms_key_id=key)
    dev.write(0, b"survives")
    decrypts = len(sim.audit.events("Decrypt"))
    _now_fault(sim, DropAttachment(volume_id))
    attachment = sim.ebs.describe_volumes(volume_ids=[volume_id]).volumes[0].attachments[0]
    assert (attachment.instance_id, attachment.device, attachment.state) == (
        INSTANCE, DEVICE, "attaching")
    sim.advance(sim.settings.volume_attach_seconds)
    assert sim.ebs.block_device(volume_id).read(0, 8) == b"survives"
    assert len(sim.audit.events("Decrypt")) == decrypts + 1
    assert [r.action for r in sim.faults.records()] == ["DropAttachment", "Reattach"]


def test_a_host_failure_while_the_key_is_disabled_loses_the_volume_until_the_key_is_back(sim: Simulation, key: str) -> None:
    volume_id, dev = attached(sim, kms_key_id=key)
    dev.write(0, b"survives")
    sim.kms.disable_key(key_id=key)
    assert dev.read(0, 8) == b"survives"  # a running volume keeps working
    _now_fault(sim, DropAttachment(volume_id, reattach_after_seconds=60))
    sim.advance(seconds=60)
    failed = sim.faults.records()[-1]
    assert (failed.action, failed.outcome) == ("Reattach", "DisabledException")
    assert sim.ebs.describe_volumes(volume_ids=[volume_id]).volumes[0].state == "available"
    sim.kms.enable_key(key_id=key)
    attach(sim, volume_id, INSTANCE, DEVICE)
    assert sim.ebs.block_device(volume_id).read(0, 8) == b"survives"


def test_a_volume_fault_on_a_missing_target_is_skipped_not_raised(sim: Simulation, key: str) -> None:
    volume_id, _ = attached(sim, kms_key_id=key)
    with pytest.warns(FaultSkippedWarning) as warned:
        _now_fault(sim, FlipBlockBit(volume_id, block_index=7))  # never written
        _now_fault(sim, DropAttachment("vol-0000000000000000f"))
    assert [r.outcome for r in sim.faults.records()] == ["skipped"] * 2
    assert "never written" in sim.faults.records()[0].detail["reason"]
    assert len(warned) == 2 and "never written" in str(warned[0].message)


def test_a_workspace_volume_with_a_trigger_that_names_no_workspace_is_refused_at_inject(
        sim: Simulation) -> None:
    with pytest.raises(ValidationException, match="only an AtStep trigger names a WorkSpace"):
        sim.faults.inject(Fault(AtTime(sim.clock.now()), DropAttachment("user")))
    with pytest.raises(ValidationException, match="only an AtStep trigger names a WorkSpace"):
        sim.faults.inject(Fault(OnCall("ec2:AttachVolume"), FlipDataKeyBit("root")))
    assert sim.faults.active == [] and not sim.faults.records()


def test_an_ec2_wildcard_error_hits_the_next_ebs_call_whatever_it_is(sim: Simulation, key: str) -> None:
    volume_id, _ = attached(sim, kms_key_id=key)
    sim.faults.inject(Fault(AtTime(sim.clock.now() + timedelta(seconds=1)),
                            RaiseError("ThrottlingException", 1, "ec2:*")))
    sim.advance(seconds=1)
    with pytest.raises(ThrottlingException):
        sim.ebs.detach_volume(volume_id=volume_id)
    assert cycle(sim, volume_id)


def test_kms_errors_during_attach_are_traced_with_the_fault_before_the_failure(sim: Simulation, key: str) -> None:
    volume_id, _ = attached(sim, kms_key_id=key)
    detach(sim, volume_id)
    sim.faults.inject(Fault(OnCall("kms:Decrypt"), RaiseError(count=99)))
    with pytest.raises(KMSInternalException):
        sim.ebs.attach_volume(volume_id=volume_id, instance_id=INSTANCE, device=DEVICE)
    actions = [(e.actor, e.action) for e in sim.trace.events()]
    first = actions.index(("Faults", "InjectError"))
    assert ("KMS", "Decrypt") in actions[first:]
    assert actions[-1] == ("EBS", "AttachVolume")
    assert sim.trace.events()[-1].outcome == "KMSInternalException"
