"""EBS throughput and memory, as ratios against raw cryptography AES-256-GCM in the same run.

Sequential write then read of 64 MiB in 1 MiB requests through ``sim.ebs`` block devices, for
the ``xts`` and ``gcm`` volume ciphers, beside the raw AES-256-GCM encrypt throughput of the
installed ``cryptography`` on 1 MiB buffers (``encrypt_into`` when available).

Each repeat creates a volume in the same simulation, writes and reads it, then detaches and
deletes it: the best repeat is the steady state of a simulation that creates and deletes
volumes (a deleted volume's memory is reused by the next one). The first repeat writes into
memory the process has never touched and is printed too: on some virtual machines first-touch
page faults alone cap it (the "keeping new blocks" baseline shows that cap).

Memory: a fully written 64 MiB volume's arena (every mapped 2 MiB chunk counted in full,
whether or not all its pages were touched; tracemalloc cannot see mmap memory) plus the Python
objects tracemalloc sees; and an unwritten 1 TiB volume, attached, after one read.

The xts cipher is cryptography's ``modes.XTS``, one cipher per 32 KiB data unit; the cipher
alone is measured too (warm buffers, no store), and so is the same XTS with smaller data units,
to show why the data unit is the 32 KiB block.

Minimums (exit status 1 if missed): gcm >= 30 % and xts >= 20 % of the raw ceiling (the slower
of write and read counts, best repeat); written volume <= 1.15 x its data; unwritten 1 TiB
volume < 1 MiB.

    python bench/ebs_bench.py [--mib 64] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from simulator import Simulation
from simulator.crypto.volume import XTS_DATA_UNIT, XtsVolumeCipher
from simulator.ebs.store import BlockStore

MiB = 1 << 20


def raw_gcm_ceiling(total_mib: int, repeat: int) -> tuple[float, str]:
    aead = AESGCM(os.urandom(32))
    nonce = os.urandom(12)
    buf = os.urandom(MiB)
    into = hasattr(aead, "encrypt_into")
    out = bytearray(MiB + 16)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(total_mib):
            if into:
                aead.encrypt_into(nonce, buf, None, out)  # type: ignore[attr-defined]
            else:
                aead.encrypt(nonce, buf, None)
        best = min(best, time.perf_counter() - start)
    return total_mib / best, "encrypt_into" if into else "encrypt"


def retain_baseline(total_mib: int) -> float:
    """MB/s of merely keeping ``total_mib`` of new 32 KiB bytes objects (no crypto at all).

    Any store that keeps what is written pays this: on some virtual machines first-touch page
    faults make it a ceiling well below the raw GCM rate.
    """
    block = os.urandom(32 * 1024)
    start = time.perf_counter()
    kept = [bytes(bytearray(block)) for _ in range(total_mib * 32)]
    elapsed = time.perf_counter() - start
    del kept
    return total_mib / elapsed


def xts_alone(total_mib: int, repeat: int) -> dict[str, float]:
    """MB/s of XTS on warm 1 MiB buffers (no store): the volume cipher, and the same library
    XTS with smaller data units (one cipher per unit), to show what the data unit costs."""
    key = os.urandom(64)
    cipher = XtsVolumeCipher(key)
    src, dst = memoryview(os.urandom(MiB)), memoryview(bytearray(MiB))
    aes = algorithms.AES(key)

    def units_of(size: int) -> Any:
        def step(i: int) -> None:
            for u in range(MiB // size):
                ctx = Cipher(aes, modes.XTS((i * MiB // size + u).to_bytes(16, "little"))).encryptor()
                ctx.update_into(src[u * size:(u + 1) * size], dst[u * size:(u + 1) * size])
        return step

    parts = {
        f"XtsVolumeCipher.encrypt_into ({XTS_DATA_UNIT // 1024} KiB data units)":
            lambda i: cipher.encrypt_into(i * (MiB // XTS_DATA_UNIT), src, dst),
        "library XTS, 4 KiB data units": units_of(4096),
        "library XTS, 512-byte data units": units_of(512),
    }
    rates = {}
    for name, step in parts.items():
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            for i in range(total_mib):
                step(i)
            best = min(best, time.perf_counter() - start)
        rates[name] = total_mib / best
    return rates


def _attached_volume(sim: Simulation, cipher: str, size_gib: int = 1) -> tuple[str, Any]:
    vol = sim.ebs.create_volume(size=size_gib, encrypted=True, volume_cipher=cipher)
    sim.run_until_idle()
    sim.ebs.attach_volume(volume_id=vol.volume_id, instance_id="i-0123456789abcdef0",
                          device="/dev/sdf")
    sim.advance(seconds=sim.settings.volume_attach_seconds)  # attaching -> attached
    return vol.volume_id, sim.ebs.block_device(vol.volume_id)


def volume_throughput(cipher: str, total_mib: int, repeat: int) -> tuple[list[float], list[float]]:
    """MB/s of every repeat: (writes, reads). Each repeat uses a new volume, deleted after."""
    writes, reads = [], []
    chunks = [os.urandom(MiB) for _ in range(8)]
    sim = Simulation(seed=1, volume_cipher=cipher)
    for _ in range(repeat):
        volume_id, dev = _attached_volume(sim, cipher)
        start = time.perf_counter()
        for i in range(total_mib):
            dev.write(i * MiB, chunks[i % 8])
        writes.append(total_mib / (time.perf_counter() - start))
        start = time.perf_counter()
        for i in range(total_mib):
            dev.read(i * MiB, MiB)
        reads.append(total_mib / (time.perf_counter() - start))
        for i in range(total_mib):  # checked outside the timed loop: a compare is not EBS work
            if dev.read(i * MiB, MiB) != chunks[i % 8]:
                raise SystemExit(f"{cipher}: read back differs at MiB {i}")
        sim.ebs.detach_volume(volume_id=volume_id)
        sim.advance(seconds=sim.settings.volume_attach_seconds)  # detaching -> available
        sim.ebs.delete_volume(volume_id=volume_id)
        sim.run_until_idle()
    return writes, reads


def _store(sim: Simulation, volume_id: str) -> BlockStore:
    store = sim.ebs._volume(volume_id).store
    assert store is not None
    return store


def written_volume_memory(cipher: str, total_mib: int) -> tuple[float, int, int]:
    """(factor of the data, arena bytes, Python bytes) of a fully written volume, after detach."""
    sim = Simulation(seed=2, volume_cipher=cipher)
    volume_id, dev = _attached_volume(sim, cipher)
    data = os.urandom(MiB)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for i in range(total_mib):
        dev.write(i * MiB, data)
    sim.ebs.detach_volume(volume_id=volume_id)  # drops the attachment's cipher and buffers
    python_bytes = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    arena = _store(sim, volume_id).arena_bytes
    return (arena + python_bytes) / (total_mib * MiB), arena, python_bytes


def unwritten_tib_memory() -> tuple[int, int]:
    """(Python bytes, arena bytes) of an unwritten 1 TiB volume, attached, after one read."""
    sim = Simulation(seed=3)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    volume_id, dev = _attached_volume(sim, "xts", 1024)
    assert dev.read(1 << 39, 16) == bytes(16)
    used: int = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return used, _store(sim, volume_id).arena_bytes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    ceiling, how = raw_gcm_ceiling(args.mib, args.repeat)
    print(f"raw cryptography AES-256-GCM ({how}, 1 MiB buffers): {ceiling:8.0f} MB/s")
    kept = retain_baseline(args.mib)
    print(f"baseline, keeping {args.mib} MiB of new 32 KiB blocks (no crypto): {kept:8.0f} MB/s "
          f"({kept / ceiling:5.1%} of raw GCM)")
    failures = []
    for cipher, minimum in (("gcm", 0.30), ("xts", 0.20)):
        writes, reads = volume_throughput(cipher, args.mib, args.repeat)
        w, r = max(writes), max(reads)
        ratio = min(w, r) / ceiling
        ok = ratio >= minimum
        print(f"ebs {cipher}: write {w:7.0f} MB/s ({w / ceiling:5.1%})  read {r:7.0f} MB/s "
              f"({r / ceiling:5.1%})  minimum {minimum:.0%}: {'ok' if ok else 'MISSED'}")
        print(f"    first repeat, on never-touched memory: write {writes[0]:7.0f} MB/s "
              f"({writes[0] / ceiling:5.1%})  read {reads[0]:7.0f} MB/s ({reads[0] / ceiling:5.1%})")
        if not ok:
            failures.append(f"{cipher} throughput {ratio:.1%} < {minimum:.0%}")
    print("xts cipher alone, warm 1 MiB buffers (no store, no page faults):")
    for name, rate in xts_alone(min(args.mib, 16), args.repeat).items():
        print(f"    {name}: {rate:7.0f} MB/s ({rate / ceiling:5.1%}; {1e6 / rate:4.0f} us per MiB)")
    for cipher in ("xts", "gcm"):
        factor, arena, python_bytes = written_volume_memory(cipher, args.mib)
        ok = factor <= 1.15
        print(f"memory, fully written {args.mib} MiB {cipher} volume: {factor:.3f} x data "
              f"(arena {arena / MiB:.1f} MiB + Python objects {python_bytes / MiB:.2f} MiB; "
              f"max 1.15): {'ok' if ok else 'MISSED'}")
        if not ok:
            failures.append(f"{cipher} memory {factor:.3f}x")
    tib, tib_arena = unwritten_tib_memory()
    ok = tib + tib_arena < MiB
    print(f"memory, unwritten 1 TiB volume (attached, one read): {tib + tib_arena} bytes "
          f"(arena {tib_arena}; max 1 MiB): {'ok' if ok else 'MISSED'}")
    if not ok:
        failures.append(f"1 TiB volume {tib + tib_arena} bytes")
    for f in failures:
        print("MISSED:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
