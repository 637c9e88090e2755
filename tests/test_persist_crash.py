"""Crash safety: a child process runs a seeded random workload on a state file and is killed
with SIGKILL at a random moment; the reopen must succeed with every acknowledged call present,
nothing half-applied, and every block written before its volume's last flush (or detach, or
snapshot) readable (gcm volumes: a torn block would fail authentication).

The default suite kills a few runs; ``HYPOTHESIS_PROFILE=long`` kills 100.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from persist_support import attach, attached_volume, pattern, recovered

from simulator import Simulation
from simulator.persist import FLUSH_SECONDS

HERE = Path(__file__).parent
CHILD = HERE / "persist_crash_child.py"
BLOCK = 32 * 1024
CALLS = 60
KILLS = 100 if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 4


def _child(path: Path, seed: int, calls: int, sleep_after: float = 0.0) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.Popen([sys.executable, str(CHILD), str(path), str(seed), str(calls),
                             str(sleep_after)], stdout=subprocess.PIPE, text=True, env=env)


def _acks(proc: subprocess.Popen[str], first: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the child acknowledged: lines read before the kill and what was left in the pipe
    (a line cut by the kill was never acknowledged)."""
    assert proc.stdout is not None
    acks = list(first)
    with proc.stdout:
        rest = proc.stdout.read()
    for line in rest.splitlines():
        try:
            acks.append(json.loads(line))
        except ValueError:
            break
    return acks


def _check(path: Path, acks: list[dict[str, Any]]) -> None:
    sim = Simulation(state=path)  # every reopen succeeds
    kms, ebs = sim.kms, sim.ebs
    keys = {k.key_id for k in kms.list_keys().keys}
    arns = {kms.describe_key(key_id=k).arn for k in keys}
    aliases = {a.alias_name for a in kms.list_aliases().aliases}
    grants = {g.grant_id for k in keys for g in kms.list_grants(key_id=k).grants}
    volumes = {v.volume_id: v for v in ebs.describe_volumes().volumes}
    for a in acks:
        if a["op"] == "key":
            assert a["key"] in arns
        elif a["op"] == "alias":
            assert a["alias"] in aliases
        elif a["op"] == "grant":
            assert a["grant"] in grants
        elif a["op"] == "volume":
            assert a["volume"] in volumes
    # Nothing half-applied: every volume has its key, data key and grant; every alias a key.
    for alias in kms.list_aliases().aliases:
        assert alias.target_key_id is None or alias.target_key_id in keys
    for record in sim._ebs_state.volumes.values():
        assert record.kms_key_arn in arns
        assert record.encrypted_data_key is not None and record.grant_id is not None
    # Blocks: durable up to each volume's last flush; never torn.
    last_flush: dict[str, int] = {}
    for position, a in enumerate(acks):
        if a["op"] == "flush":
            last_flush[a["volume"]] = position
    # The reopen's re-attaches and the detaches cut short by the kill complete on the clock.
    recovered(sim)
    for number, vol in enumerate(sorted(volumes)):
        if ebs.describe_volumes(volume_ids=[vol]).volumes[0].state == "available":
            # detached before the crash: attach to read it back
            attach(sim, vol, instance_id=f"i-{number:017x}", device="/dev/sdz")
    for position, a in enumerate(acks):
        if a["op"] != "write":
            continue
        got = ebs.block_device(a["volume"]).read(a["index"] * BLOCK, BLOCK)
        if position < last_flush.get(a["volume"], -1):
            assert got == pattern(a["n"], BLOCK)
        else:
            assert got in (pattern(a["n"], BLOCK), bytes(BLOCK))
    sim.close()


def test_sigkill_at_random_moments_loses_nothing_acknowledged(tmp_path: Path) -> None:
    rng = random.Random(2026)
    for run in range(KILLS):
        path = tmp_path / f"crash{run}.db"
        proc = _child(path, seed=run, calls=CALLS)
        assert proc.stdout is not None
        target = rng.randint(1, CALLS)
        seen: list[dict[str, Any]] = []
        while len(seen) < target:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(json.loads(line))
        time.sleep(rng.random() * 0.01)  # land anywhere: inside a call, between calls
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _check(path, _acks(proc, seen))


def test_unflushed_writes_are_durable_within_the_flush_interval(tmp_path: Path) -> None:
    # A workload that ends on writes without a flush, then idles: the timer commits them.
    path = tmp_path / "idle.db"
    proc = _child(path, seed=7, calls=30, sleep_after=60)
    assert proc.stdout is not None
    acks = [json.loads(proc.stdout.readline()) for _ in range(30)]
    time.sleep(FLUSH_SECONDS + 0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    writes = [a for a in acks if a["op"] == "write"]
    assert writes  # the seeded workload writes
    acks.extend({"op": "flush", "volume": v} for v in {a["volume"] for a in writes})
    _check(path, acks)


@pytest.mark.parametrize("cut", ["write", "flush"])
def test_a_write_is_durable_once_flush_returns(tmp_path: Path, cut: str) -> None:
    # In-process: without a flush, a write is in the file only after the commit interval;
    # once flush() returns it is committed (a second reader would see it after a crash).
    path = tmp_path / "sim.db"
    sim = Simulation(seed=1, state=path)
    _key, vol = attached_volume(sim)
    device = sim.ebs.block_device(vol)
    device.write(0, b"durable?")
    journal = sim.runtime.lock
    assert journal._file.pending == 1  # type: ignore[attr-defined]
    if cut == "flush":
        device.flush()
        assert journal._file.pending == 0  # type: ignore[attr-defined]
    sim.close()
