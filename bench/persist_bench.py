"""A simulation with a state file (``Simulation(state=...)``) beside the same one in memory.

Measured in one run, each figure against its in-memory baseline from the same run:

1. KMS pair (GenerateDataKey + Decrypt, audit and trace on): pairs per wall-clock second, best
   of 7 interleaved rounds, in memory and with a state file (each call committed before it
   returns). Bar: the state file's pair costs at most 3x the in-memory pair.
2. EBS sequential write: 1 MiB writes to an attached encrypted volume (xts), one ``flush()`` at
   the end, MiB per second, best of 3, in memory and with a state file. Bar: at least 50% of
   the in-memory throughput.
3. Reopen: a state file holding N encrypted WorkSpaces (launched and AVAILABLE), reopened by
   ``Simulation(state=...)``; the seconds it takes are printed beside the seconds the same
   launch took in memory. Bar: N = 10,000 reopens in under 10 seconds.

Wall-clock figures on a shared machine are noisy; the ratios are what to read. Exit status 1
if a bar is missed.

    python bench/persist_bench.py [--workspaces N] [--pairs N] [--mib N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from simulator import Simulation

PAIR_BAR = 3.0
WRITE_BAR = 0.5
REOPEN_BAR_SECONDS = 10.0
REOPEN_BAR_AT = 10_000


def _pair(sim: Simulation) -> Callable[[], object]:
    kms = sim.kms
    key = kms.create_key(description="bench").arn
    context = {"purpose": "bench"}

    def pair() -> object:
        dk = kms.generate_data_key(key_id=key, encryption_context=context, key_spec="AES_256")
        if len(sim.audit) > 10_000:  # bounded, as a long-running user would keep it
            sim.audit.clear()
        return kms.decrypt(ciphertext_blob=dk.ciphertext_blob, encryption_context=context)

    return pair


def kms_pairs(folder: Path, pairs: int) -> dict[str, float]:
    """Seconds per pair (best of 7 interleaved rounds), in memory and with a state file."""
    memory = Simulation(seed=1)
    saved = Simulation(seed=1, state=folder / "kms.db")
    fns = {"memory": _pair(memory), "state": _pair(saved)}
    best = {name: float("inf") for name in fns}
    for _ in range(7):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(pairs):
                fn()
            best[name] = min(best[name], (time.perf_counter() - start) / pairs)
    saved.close()
    return best


def _volume(sim: Simulation) -> object:
    key = sim.kms.create_key(description="volumes").arn
    vol = sim.ebs.create_volume(size=1, encrypted=True, kms_key_id=key,
                                availability_zone=f"{sim.region}a").volume_id
    sim.advance(10)
    sim.ebs.attach_volume(volume_id=vol, instance_id="i-0123456789abcdef0", device="/dev/sdf")
    sim.advance(sim.settings.volume_attach_seconds)  # the device exists once attached
    return sim.ebs.block_device(vol)


def sequential_write(folder: Path, mib: int) -> dict[str, float]:
    """MiB per second writing ``mib`` MiB in 1 MiB writes, then one flush (best of 3)."""
    data = os.urandom(1 << 20)
    best = {"memory": 0.0, "state": 0.0}
    for _ in range(3):
        for name in best:
            state = folder / "ebs.db" if name == "state" else None
            sim = Simulation(seed=2, state=state)
            device = _volume(sim)
            start = time.perf_counter()
            for i in range(mib):
                device.write(i << 20, data)  # type: ignore[attr-defined]
            device.flush()  # type: ignore[attr-defined]
            best[name] = max(best[name], mib / (time.perf_counter() - start))
            sim.close()
            if state is not None:  # its pages go back to the kernel for the next round
                for path in folder.glob(state.name + "*"):
                    path.unlink()
    return best


def _launch(sim: Simulation, n: int) -> None:
    key = sim.kms.create_key(description="fleet").arn
    directory = sim.directory.create_directory(name="fleet.example.com").directory_id
    bundle = sim.workspaces.describe_workspace_bundles().bundles[0].bundle_id
    users = [f"u{i:05d}" for i in range(n)]
    for name in users:
        sim.directory.create_user(directory_id=directory, user_name=name)
    for i in range(0, n, 25):
        result = sim.workspaces.create_workspaces(workspaces=[
            {"directory_id": directory, "user_name": u, "bundle_id": bundle,
             "volume_encryption_key": key, "root_volume_encryption_enabled": True,
             "user_volume_encryption_enabled": True} for u in users[i:i + 25]])
        if result.failed_requests:
            raise SystemExit(f"launch failed: {result.failed_requests[0]}")
    sim.run_until_idle()


def reopen(folder: Path, n: int) -> dict[str, float]:
    """Seconds: the launch in memory, the launch with a state file, and the reopen."""
    out: dict[str, float] = {}
    start = time.perf_counter()
    _launch(Simulation(seed=3), n)
    out["launch in memory"] = time.perf_counter() - start
    path = folder / "fleet.db"
    start = time.perf_counter()
    sim = Simulation(seed=3, state=path)
    _launch(sim, n)
    sim.close()
    out["launch with state"] = time.perf_counter() - start
    start = time.perf_counter()
    again = Simulation(state=path)
    out["reopen"] = time.perf_counter() - start
    count = sum(1 for w in again.workspaces.state.workspaces.values() if w.state == "AVAILABLE")
    if count != n:
        raise SystemExit(f"reopen found {count} AVAILABLE WorkSpaces, expected {n}")
    out["file MiB"] = path.stat().st_size / (1 << 20)
    again.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspaces", type=int, default=REOPEN_BAR_AT)
    parser.add_argument("--pairs", type=int, default=500)
    parser.add_argument("--mib", type=int, default=64)
    args = parser.parse_args()
    missed = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pair = kms_pairs(folder, args.pairs)
        ratio = pair["state"] / pair["memory"]
        print(f"KMS pair: in memory {pair['memory'] * 1e6:.1f} us, with state file "
              f"{pair['state'] * 1e6:.1f} us: x{ratio:.2f} (bar: at most x{PAIR_BAR})")
        if ratio > PAIR_BAR:
            missed.append("KMS pair")
        write = sequential_write(folder, args.mib)
        share = write["state"] / write["memory"]
        print(f"EBS sequential write ({args.mib} MiB, one flush): in memory "
              f"{write['memory']:.0f} MiB/s, with state file {write['state']:.0f} MiB/s: "
              f"{share:.0%} (bar: at least {WRITE_BAR:.0%})")
        if share < WRITE_BAR:
            missed.append("EBS write")
        times = reopen(folder, args.workspaces)
        print(f"{args.workspaces} WorkSpaces: launch in memory {times['launch in memory']:.1f} s, "
              f"with state file {times['launch with state']:.1f} s "
              f"({times['file MiB']:.1f} MiB); reopen {times['reopen']:.1f} s "
              f"(bar at {REOPEN_BAR_AT}: under {REOPEN_BAR_SECONDS:.0f} s)")
        if args.workspaces >= REOPEN_BAR_AT and times["reopen"] >= REOPEN_BAR_SECONDS:
            missed.append("reopen")
    print("shared machine: wall-clock figures are noisy; compare the ratios")
    if missed:
        print("missed: " + ", ".join(missed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
