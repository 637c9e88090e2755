"""The block arena: 2 MiB chunks mapped on first write, reused after deletion, shared by snapshots."""

from __future__ import annotations

import hashlib

import pytest
from ebs_support import DEVICE, INSTANCE, attach, attached, detach

from simulator import Simulation
from simulator.ebs import BLOCK_SIZE
from simulator.ebs.store import CHUNK_SIZE, BlockStore, ChunkPool, PlainCodec
from simulator.errors import InvalidBlockCiphertext, InvalidParameterValue

MiB = 1 << 20
#: Blocks per chunk: 64 for xts and unencrypted volumes, 63 for gcm (32 KiB + 28 bytes each).
EDGES = (62 * BLOCK_SIZE, 63 * BLOCK_SIZE, 64 * BLOCK_SIZE, 126 * BLOCK_SIZE, 128 * BLOCK_SIZE)


def noise(n: int, seed: int) -> bytes:
    return hashlib.shake_256(seed.to_bytes(4, "big")).digest(n)


def store_of(sim: Simulation, volume_id: str) -> BlockStore:
    store = sim.ebs._volume(volume_id).store
    assert store is not None
    return store


@pytest.mark.parametrize("create", [{"volume_cipher": "xts"}, {"volume_cipher": "gcm"},
                                    {"encrypted": False}])
def test_io_across_chunk_boundaries_matches_a_bytearray(sim: Simulation,
                                                        create: dict[str, object]) -> None:
    _, dev = attached(sim, **create)
    model = bytearray(6 * MiB)
    writes = [(edge + delta, length) for edge in EDGES for delta, length in
              ((-3, 7), (-BLOCK_SIZE, 2 * BLOCK_SIZE), (-100, 3 * BLOCK_SIZE + 200), (0, MiB))]
    writes.append((0, 5 * MiB - 1))
    for seed, (offset, length) in enumerate(writes):
        data = noise(length, seed)
        dev.write(offset, data)
        model[offset:offset + length] = data
        for start, size in ((offset - 5, length + 10), (max(0, offset - MiB), 3 * MiB)):
            start = max(0, start)
            assert dev.read(start, size) == bytes(model[start:start + size])
    assert dev.read(0, 6 * MiB) == bytes(model)


@pytest.mark.parametrize("cipher", ["xts", "gcm"])
def test_unwritten_gaps_inside_written_chunks_read_as_zeros(sim: Simulation, cipher: str) -> None:
    _, dev = attached(sim, volume_cipher=cipher)
    dev.write(0, b"a" * BLOCK_SIZE)
    dev.write(3 * BLOCK_SIZE, b"b" * BLOCK_SIZE)
    expected = b"a" * BLOCK_SIZE + bytes(2 * BLOCK_SIZE) + b"b" * BLOCK_SIZE + bytes(BLOCK_SIZE)
    assert dev.read(0, 5 * BLOCK_SIZE) == expected


def test_a_deleted_volumes_chunks_are_reused_without_its_data(sim: Simulation) -> None:
    old_id, dev = attached(sim, volume_cipher="xts")
    dev.write(0, noise(4 * MiB, 1))
    assert store_of(sim, old_id).arena_bytes == 2 * CHUNK_SIZE
    detach(sim, old_id)
    sim.ebs.delete_volume(volume_id=old_id)
    sim.run_until_idle()
    pool = sim._ebs_state.chunk_pool
    assert len(pool) == 2
    new_id, dev = attached(sim, volume_cipher="xts")
    dev.write(BLOCK_SIZE, b"fresh")
    assert len(pool) == 1  # one chunk taken back from the pool
    assert dict(sim.ebs.raw_blocks(new_id)).keys() == {1}
    assert dev.read(0, 2 * MiB) == bytes(BLOCK_SIZE) + b"fresh" + bytes(2 * MiB - BLOCK_SIZE - 5)


def test_the_pool_keeps_at_most_its_limit() -> None:
    pool = ChunkPool(limit=1)
    codec = PlainCodec()
    for _ in range(2):
        store = BlockStore(16 * MiB, pool)
        store.write(codec, 0, memoryview(bytes(4 * MiB)))
        del store
    assert len(pool) == 1


@pytest.mark.parametrize("cipher", ["xts", "gcm"])
def test_snapshots_share_chunks_until_a_write_copies_them(sim: Simulation, cipher: str) -> None:
    vol_id, dev = attached(sim, volume_cipher=cipher)
    before = noise(3 * BLOCK_SIZE, 2)
    dev.write(0, before)
    snap = sim.ebs.create_snapshot(volume_id=vol_id)
    sim.run_until_idle()
    shared = dict(sim.ebs.raw_blocks(vol_id))
    snap_store = sim.ebs._snapshot(snap.snapshot_id).store
    assert snap_store is not None and snap_store._chunks == store_of(sim, vol_id)._chunks
    dev.write(BLOCK_SIZE, b"changed after the snapshot")
    sim.ebs.tamper.flip_block_bit(vol_id, 2, 77)
    assert dict(snap_store.blocks) == shared  # the snapshot's disk did not move
    restored = sim.ebs.create_volume(snapshot_id=snap.snapshot_id, volume_cipher=cipher)
    sim.run_until_idle()
    attach(sim, restored.volume_id, 'i-0123456789abcdef1', '/dev/sdg')
    assert sim.ebs.block_device(restored.volume_id).read(0, 3 * BLOCK_SIZE) == before


def test_an_unwritten_tib_volume_maps_no_memory(sim: Simulation) -> None:
    vol = sim.ebs.create_volume(size=1024, encrypted=True)
    sim.run_until_idle()
    attach(sim, vol.volume_id, INSTANCE, DEVICE)
    dev = sim.ebs.block_device(vol.volume_id)
    assert dev.read((1 << 40) - MiB, MiB) == bytes(MiB)
    assert store_of(sim, vol.volume_id).arena_bytes == 0


@pytest.mark.parametrize(("cipher", "chunks"), [("xts", 2), ("gcm", 3)])
def test_a_written_region_maps_whole_chunks_only_where_written(sim: Simulation, cipher: str,
                                                               chunks: int) -> None:
    vol_id, dev = attached(sim, volume_cipher=cipher)
    dev.write(0, bytes(4 * MiB))  # 128 blocks: 2 chunks of 64 (xts) or 3 of 63 (gcm)
    assert store_of(sim, vol_id).arena_bytes == chunks * CHUNK_SIZE
    assert len(sim.ebs.raw_blocks(vol_id)) == 128


def test_a_raw_block_of_the_wrong_size_is_refused_and_changes_nothing(sim: Simulation) -> None:
    vol_id, dev = attached(sim, volume_cipher="gcm")
    dev.write(0, b"kept")
    with pytest.raises(InvalidParameterValue):
        sim.ebs.tamper.put_raw_block(vol_id, 0, bytes(BLOCK_SIZE))
    assert dev.read(0, 4) == b"kept"


def test_a_raw_block_sized_for_the_other_cipher_is_refused_on_a_never_written_volume(
        sim: Simulation) -> None:
    vol_id, dev = attached(sim, volume_cipher="xts")
    with pytest.raises(InvalidParameterValue):
        sim.ebs.tamper.put_raw_block(vol_id, 0, bytes(BLOCK_SIZE + 28))  # a gcm slot
    dev.write(0, b"still writable")
    assert dev.read(0, 14) == b"still writable"


def test_gcm_block_appearing_where_none_was_written_fails(sim: Simulation) -> None:
    vol_id, dev = attached(sim, volume_cipher="gcm")
    dev.write(0, b"only block 0")
    sim.ebs.tamper.put_raw_block(vol_id, 5, sim.ebs.raw_blocks(vol_id)[0])
    with pytest.raises(InvalidBlockCiphertext) as err:
        dev.read(5 * BLOCK_SIZE, 1)
    assert "Block 5" in err.value.message
    assert dev.read(0, 12) == b"only block 0"


def test_disk_view_is_a_live_read_only_mapping_of_copies(sim: Simulation) -> None:
    vol_id, dev = attached(sim, volume_cipher="xts")
    raw = sim.ebs.raw_blocks(vol_id)
    assert len(raw) == 0 and 0 not in raw
    dev.write(BLOCK_SIZE, b"x")
    assert list(raw) == [1] and len(raw[1]) == BLOCK_SIZE and isinstance(raw[1], bytes)
    with pytest.raises(KeyError):
        raw[0]
    with pytest.raises(TypeError):
        raw[1] = b""  # type: ignore[index]
