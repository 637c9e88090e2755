"""One Simulation called from several threads: one attached volume shared by four threads keeps
every thread's data, and the trace stays one sequence (what the lock in simulator/boundary.py
makes true)."""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Iterator

import pytest
from ebs_support import attached

from simulator import Simulation

BLOCK = 32 * 1024
THREADS = 4
ROUNDS = 40


@pytest.fixture
def busy_switching() -> Iterator[None]:
    """Switch threads as often as CPython allows, so interleavings show up in a short run."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


@pytest.mark.parametrize("cipher", ["xts", "gcm"])
def test_threads_sharing_one_attached_volume_read_back_their_own_writes(
        cipher: str, busy_switching: None) -> None:
    sim = Simulation(seed=21, volume_cipher=cipher)
    key_id = sim.kms.create_key(description="threads").key_id
    volume_id, dev = attached(sim, volume_cipher=cipher)
    problems: list[str] = []
    last: dict[int, bytes] = {}
    start = threading.Barrier(THREADS)

    def worker(n: int) -> None:
        rng = random.Random(n)
        mine = [n + THREADS * k for k in range(4)]  # blocks no other thread touches
        start.wait()
        try:
            for _ in range(ROUNDS):
                block = rng.choice(mine)
                data = rng.randbytes(BLOCK)
                dev.write(block * BLOCK, data)
                at = rng.randrange(BLOCK - 100)  # a partial-block write: read, merge, rewrite
                piece = rng.randbytes(rng.randrange(1, 100))
                dev.write(block * BLOCK + at, piece)
                expected = data[:at] + piece + data[at + len(piece):]
                if dev.read(block * BLOCK, BLOCK) != expected:
                    problems.append(f"thread {n}: block {block} read back differs")
                last[block] = expected
                sim.kms.generate_data_key(key_id=key_id, number_of_bytes=32)  # trace events too
        except Exception as exc:
            problems.append(f"thread {n}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert problems == []
    for block, expected in last.items():
        assert dev.read(block * BLOCK, BLOCK) == expected, f"block {block} ended wrong"
    seqs = [event.seq for event in sim.trace]
    assert len(seqs) == len(set(seqs)), "duplicate trace sequence numbers"
    assert sorted(seqs) == seqs
    assert volume_id in {v.volume_id for v in sim.ebs.describe_volumes().volumes}
