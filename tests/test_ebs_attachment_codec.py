"""An attachment holds the plaintext data key from attach; its codec (cipher and key schedules)
is made on the first read or write, and an unusable key still fails the attach itself."""

from __future__ import annotations

import pytest
from ebs_support import DEVICE, INSTANCE, attached

from simulator import Simulation
from simulator.errors import InvalidParameterValue


@pytest.mark.parametrize("cipher", ["xts", "gcm"])
def test_a_codec_is_kept_from_the_second_request_on(sim: Simulation, cipher: str) -> None:
    vol_id, dev = attached(sim, volume_cipher=cipher)
    attachment = sim.ebs._state.volumes[vol_id].attachment
    assert attachment is not None and attachment.codec is None
    assert attachment.plaintext_data_key is not None and any(attachment.plaintext_data_key)
    dev.write(4096, b"first write")  # one small request (a bundle image): nothing kept
    assert attachment.codec is None
    assert sim.ebs.block_device(vol_id).read(4096, 11) == b"first write"
    assert attachment.codec is not None  # a second request: worth keeping
    assert dev.read(4090, 17) == bytes(6) + b"first write"


@pytest.mark.parametrize("cipher", ["xts", "gcm"])
def test_a_first_request_longer_than_a_block_keeps_its_codec(sim: Simulation,
                                                              cipher: str) -> None:
    vol_id, dev = attached(sim, volume_cipher=cipher)
    attachment = sim.ebs._state.volumes[vol_id].attachment
    assert attachment is not None
    dev.write(0, bytes(range(256)) * 1024)  # 256 KiB
    assert attachment.codec is not None
    assert dev.read(1000, 3) == bytes([1000 % 256, 1001 % 256, 1002 % 256])


def test_detach_without_any_io_wipes_the_key(sim: Simulation) -> None:
    vol_id, _ = attached(sim)
    attachment = sim.ebs._state.volumes[vol_id].attachment
    assert attachment is not None and attachment.plaintext_data_key is not None
    held = attachment.plaintext_data_key
    sim.ebs.detach_volume(volume_id=vol_id)
    assert held == bytearray(64)


def test_detach_closes_a_codec_made_by_io_and_wipes_the_key(sim: Simulation) -> None:
    vol_id, dev = attached(sim)
    dev.write(0, b"x" * 512)
    assert dev.read(0, 512) == b"x" * 512
    attachment = sim.ebs._state.volumes[vol_id].attachment
    assert attachment is not None and attachment.codec is not None
    cipher = attachment.codec._cipher  # type: ignore[attr-defined]
    held = attachment.plaintext_data_key
    sim.ebs.detach_volume(volume_id=vol_id)
    assert held == bytearray(64) and "open=False" in repr(cipher)


def test_an_xts_data_key_with_equal_halves_fails_the_attach_not_the_first_read(sim: Simulation) -> None:
    # A data key KMS can decrypt for this volume, but unusable for XTS (IEEE 1619 refuses
    # equal halves): the attach fails now, not at the first read.
    key = sim.kms.create_key()
    vol = sim.ebs.create_volume(size=1, encrypted=True, kms_key_id=key.arn, volume_cipher="xts")
    sim.advance(sim.settings.volume_create_seconds)
    rec = sim.ebs._state.volumes[vol.volume_id]
    assert rec.kms_key_arn is not None
    rec.encrypted_data_key = sim.kms.encrypt(
        key_id=rec.kms_key_arn, plaintext=bytes(range(32)) * 2,
        encryption_context=rec.encryption_context).ciphertext_blob
    with pytest.raises(InvalidParameterValue, match="unusable"):
        sim.ebs.attach_volume(volume_id=vol.volume_id, instance_id=INSTANCE, device=DEVICE)
    assert rec.attachment is None and rec.state == "available"
