"""What sits on disk is ciphertext; gcm detects tampering, xts silently returns changed data."""

from __future__ import annotations

import pytest
from ebs_support import attach, attached, detach

from simulator import Simulation
from simulator.ebs import BLOCK_SIZE
from simulator.errors import InvalidBlockCiphertext, InvalidParameterValue


def plaintext_runs(data: bytes) -> set[bytes]:
    return {data[i:i + 16] for i in range(len(data) - 15)}


@pytest.mark.parametrize("cipher", ["xts", "gcm"])
def test_no_16_byte_run_of_written_plaintext_appears_on_disk(sim: Simulation, cipher: str) -> None:
    vol_id, dev = attached(sim, volume_cipher=cipher)
    data = bytes(range(256)) * 300 + b"The quick brown fox jumps over the lazy dog." * 50
    dev.write(12345, data)
    runs = plaintext_runs(data)
    for stored in sim.ebs.raw_blocks(vol_id).values():
        assert not any(stored[i:i + 16] in runs for i in range(len(stored) - 15))


@pytest.mark.parametrize("cipher", ["xts", "gcm"])
def test_same_data_on_two_volumes_and_two_blocks_is_stored_differently(sim: Simulation,
                                                                       cipher: str) -> None:
    block = b"\x42" * BLOCK_SIZE
    vol_a, dev_a = attached(sim, volume_cipher=cipher)
    dev_a.write(0, block + block)
    vol = sim.ebs.create_volume(size=1, encrypted=True, volume_cipher=cipher)
    sim.run_until_idle()
    attach(sim, vol.volume_id, 'i-0123456789abcdef1', '/dev/sdg')
    sim.ebs.block_device(vol.volume_id).write(0, block)
    raw_a, raw_b = sim.ebs.raw_blocks(vol_a), sim.ebs.raw_blocks(vol.volume_id)
    assert raw_a[0] != raw_a[1]
    assert raw_a[0] != raw_b[0]


def test_unencrypted_volume_stores_plaintext(sim: Simulation) -> None:
    vol_id, dev = attached(sim, encrypted=False)
    dev.write(0, b"visible on disk")
    assert sim.ebs.raw_blocks(vol_id)[0].startswith(b"visible on disk")


def test_gcm_flipped_bit_anywhere_in_a_block_fails_naming_volume_and_block(sim: Simulation) -> None:
    vol_id, dev = attached(sim, volume_cipher="gcm")
    dev.write(0, b"A" * BLOCK_SIZE + b"B" * BLOCK_SIZE)
    stored_len = len(sim.ebs.raw_blocks(vol_id)[1])
    for bit in (0, 95, 96, 8 * 1000 + 3, 8 * stored_len - 1):  # nonce, body, tag
        original = sim.ebs.raw_blocks(vol_id)[1]
        sim.ebs.tamper.flip_block_bit(vol_id, 1, bit)
        with pytest.raises(InvalidBlockCiphertext) as err:
            dev.read(BLOCK_SIZE, 10)
        assert vol_id in err.value.message and "Block 1" in err.value.message
        assert dev.read(0, 4) == b"AAAA"  # other blocks still read
        sim.ebs.tamper.put_raw_block(vol_id, 1, original)
    assert dev.read(BLOCK_SIZE, 4) == b"BBBB"


def test_gcm_swapped_blocks_fail(sim: Simulation) -> None:
    vol_id, dev = attached(sim, volume_cipher="gcm")
    dev.write(0, b"A" * BLOCK_SIZE + b"B" * BLOCK_SIZE)
    raw = sim.ebs.raw_blocks(vol_id)
    first, second = raw[0], raw[1]
    sim.ebs.tamper.put_raw_block(vol_id, 0, second)
    sim.ebs.tamper.put_raw_block(vol_id, 1, first)
    with pytest.raises(InvalidBlockCiphertext):
        dev.read(0, 1)
    with pytest.raises(InvalidBlockCiphertext):
        dev.read(BLOCK_SIZE, 1)


def test_gcm_replayed_old_block_fails(sim: Simulation) -> None:
    vol_id, dev = attached(sim, volume_cipher="gcm")
    dev.write(0, b"old!")
    old = sim.ebs.raw_blocks(vol_id)[0]
    dev.write(0, b"new!")
    sim.ebs.tamper.put_raw_block(vol_id, 0, old)
    with pytest.raises(InvalidBlockCiphertext):
        dev.read(0, 4)
    with pytest.raises(InvalidBlockCiphertext):
        dev.write(1, b"x")  # a partial write reads the block first: it fails, nothing changes


def test_gcm_block_moved_from_another_volume_with_the_same_data_key_fails(sim: Simulation) -> None:
    vol_id, dev = attached(sim, volume_cipher="gcm")
    dev.write(0, b"original")
    snap = sim.ebs.create_snapshot(volume_id=vol_id)
    sim.run_until_idle()
    restored = sim.ebs.create_volume(snapshot_id=snap.snapshot_id, volume_cipher="gcm")
    sim.run_until_idle()
    attach(sim, restored.volume_id, 'i-0123456789abcdef1', '/dev/sdg')
    other = sim.ebs.block_device(restored.volume_id)
    other.write(0, b"restored")  # same data key (same lineage), another volume
    sim.ebs.tamper.put_raw_block(vol_id, 0, sim.ebs.raw_blocks(restored.volume_id)[0])
    with pytest.raises(InvalidBlockCiphertext):
        dev.read(0, 8)


def test_xts_tampering_goes_unnoticed_and_returns_changed_data(sim: Simulation) -> None:
    """The lesson: real EBS XTS is unauthenticated. Tampered, swapped or replayed blocks read."""
    vol_id, dev = attached(sim, volume_cipher="xts")
    dev.write(0, b"A" * BLOCK_SIZE + b"B" * BLOCK_SIZE)
    raw = sim.ebs.raw_blocks(vol_id)
    first, second = raw[0], raw[1]
    sim.ebs.tamper.flip_block_bit(vol_id, 0, 3)
    garbled = dev.read(0, 16)
    assert garbled != b"A" * 16  # a whole 16-byte lane decrypts to garbage, silently
    assert dev.read(16, 16) == b"A" * 16  # the next lane is intact
    sim.ebs.tamper.put_raw_block(vol_id, 0, second)  # block moved to another index
    moved = dev.read(0, BLOCK_SIZE)
    assert moved not in (b"A" * BLOCK_SIZE, b"B" * BLOCK_SIZE)  # other tweak: garbage
    dev.write(0, b"C" * 4)
    sim.ebs.tamper.put_raw_block(vol_id, 0, first)  # replay of the old block
    assert dev.read(0, 4) == b"AAAA"  # old data comes back, no error


def test_flipped_encrypted_data_key_fails_the_next_attach(sim: Simulation) -> None:
    from simulator.errors import InvalidCiphertextException
    vol_id, _ = attached(sim)
    detach(sim, vol_id)
    sim.ebs.tamper.flip_data_key_bit(vol_id, 200)
    with pytest.raises(InvalidCiphertextException):
        sim.ebs.attach_volume(volume_id=vol_id, instance_id="i-0123456789abcdef0",
                              device="/dev/sdf")


def test_host_failure_drops_the_key_and_reattach_needs_kms(sim: Simulation) -> None:
    vol_id, dev = attached(sim)
    dev.write(0, b"kept")
    before = len(sim.audit.events(event_name="Decrypt"))
    sim.ebs.tamper.fail_host(vol_id)
    from simulator.errors import IncorrectState
    with pytest.raises(IncorrectState):
        dev.read(0, 4)
    attach(sim, vol_id, 'i-0123456789abcdef0', '/dev/sdf')
    assert len(sim.audit.events(event_name="Decrypt")) == before + 1
    assert sim.ebs.block_device(vol_id).read(0, 4) == b"kept"


def test_held_data_keys_are_the_live_buffers_and_are_wiped_on_detach(sim: Simulation) -> None:
    vol_id, dev = attached(sim)
    dev.write(0, b"data")
    held = sim.ebs.tamper.held_data_keys()
    assert list(held) == [vol_id]
    buffer = held[vol_id]
    assert type(buffer) is bytearray and any(buffer)
    sim.ebs.detach_volume(volume_id=vol_id)
    assert not any(buffer) and sim.ebs.tamper.held_data_keys() == {}


def test_the_tamper_seam_refuses_what_does_not_exist_with_ec2_errors(sim: Simulation) -> None:
    from simulator.errors import IncorrectState, InvalidParameterValue, InvalidVolumeNotFound
    vol_id, _dev = attached(sim)
    with pytest.raises(InvalidVolumeNotFound):
        sim.ebs.tamper.flip_block_bit("vol-0000000000000000f", 0)
    with pytest.raises(InvalidParameterValue, match="never written"):
        sim.ebs.tamper.flip_block_bit(vol_id, 3)
    sim.ebs.detach_volume(volume_id=vol_id)
    with pytest.raises(IncorrectState):
        sim.ebs.tamper.fail_host(vol_id)


@pytest.mark.parametrize(("act", "args"), [
    ("flip_data_key_bit", {"bit": None}), ("flip_data_key_bit", {"bit": -1}),
    ("flip_data_key_bit", {"bit": 1.5}), ("flip_block_bit", {"index": 0, "bit": "x"}),
    ("flip_block_bit", {"index": -1}), ("put_raw_block", {"index": 0, "stored": 10 ** 12}),
    ("put_raw_block", {"index": 0, "stored": "text"}), ("put_raw_block", {"index": None, "stored": b""}),
])
def test_the_tamper_seam_refuses_bad_arguments_by_name_and_changes_nothing(
        sim: Simulation, act: str, args: dict[str, object]) -> None:
    vol_id, dev = attached(sim, volume_cipher="gcm")
    dev.write(0, b"data")
    before = dict(sim.ebs.raw_blocks(vol_id))
    with pytest.raises(InvalidParameterValue):
        getattr(sim.ebs.tamper, act)(vol_id, **args)
    assert sim.ebs.raw_blocks(vol_id) == before
    assert dev.read(0, 4) == b"data"
