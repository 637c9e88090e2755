"""A fleet of encrypted WorkSpaces: launch N, reboot all, terminate all, for growing N.

Every WorkSpace has both volumes encrypted under one customer managed key, so N WorkSpaces
means 2N volumes, 2N EBS grants and N WorkSpaces grants on that key. For each N the bench
prints the cost per WorkSpace of each phase and the peak memory (tracemalloc), then checks:

* scaling: the cost per WorkSpace at the largest N is at most 1.5x the cost at the smallest N
  (the baseline measured in the same run), so no phase hides an O(N) scan per WorkSpace;
* nothing left behind: after terminate, no WorkSpace, volume, snapshot, grant or scheduled call
  remains, and tracemalloc's current size is back to what it was before the launch (within a
  small tolerance for interpreter caches).

The audit trail and the trace grow by design (one record per KMS call / event), so the bench
turns the trace off (``sim.trace.enabled = False``) and clears the audit trail after every
batch; both are part of neither the timings' bars nor the memory check.

    python bench/fleet_bench.py            # N = 100, 1,000, 10,000
    python bench/fleet_bench.py --quick    # N = 50, 200, 1,000

Exit status 1 if a bar is missed.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulator import Simulation

BATCH = 25


class _AttachClock:
    """Time spent inside EBS AttachVolume (attribution only; behaviour unchanged)."""

    seconds = 0.0

    @classmethod
    def install(cls) -> None:
        from simulator.ebs.service import ElasticBlockStore

        original = ElasticBlockStore.attach_volume
        if getattr(original, "_timed", False):
            return

        def attach_volume(self: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(self, **kwargs)
            finally:
                cls.seconds += time.perf_counter() - start

        attach_volume._timed = True  # type: ignore[attr-defined]
        ElasticBlockStore.attach_volume = attach_volume  # type: ignore[method-assign]
SCALING_BAR = 1.5
#: Allowed tracemalloc residue after terminate, per WorkSpace launched (bytes). What may stay
#: is the hash tables of emptied dicts (CPython never shrinks a dict on deletion: measured
#: ~350 B per WorkSpace across KMS's and EBS's indexes) and interpreter caches; one leaked
#: WorkSpace (its record, volumes, grants, jobs) would be several KiB.
RESIDUE_BYTES_PER_WORKSPACE = 1024
RESIDUE_FLOOR_BYTES = 256 * 1024


@dataclass
class Result:
    n: int
    seconds: dict[str, float]
    peak_bytes: int
    residue_bytes: int
    leftovers: dict[str, int]

    def per_workspace_ms(self, phase: str) -> float:
        return self.seconds[phase] / self.n * 1000


def _setup(n: int) -> tuple[Simulation, str, str, str, list[str]]:
    sim = Simulation(seed=2026)
    sim.trace.enabled = False
    key = sim.kms.create_key(description="fleet key").arn
    directory = sim.directory.create_directory(name="fleet.example.com").directory_id
    users = [f"u{i:05d}" for i in range(n)]
    for name in users:
        sim.directory.create_user(directory_id=directory, user_name=name)
    bundle = sim.workspaces.describe_workspace_bundles().bundles[0].bundle_id
    sim.audit.clear()
    return sim, key, directory, bundle, users


def _batched(items: list[Any], fn: Callable[[list[Any]], None], sim: Simulation) -> None:
    for i in range(0, len(items), BATCH):
        fn(items[i:i + BATCH])
        sim.audit.clear()


def _live_state(sim: Simulation, key: str) -> dict[str, int]:
    ws_state = sim.workspaces.state
    ebs = sim.ebs
    grants = list(sim.kms.grants.list(key))  # the grant store itself: no audit record
    return {
        "workspaces": len(ws_state.workspaces),
        "user index": len(ws_state.by_user),
        "directory index": len(ws_state.by_directory),
        "volumes": len(ebs.describe_volumes().volumes),
        "snapshots": len(ebs.describe_snapshots().snapshots),
        "grants on the key": len(grants),
        "scheduled calls": len(sim.clock.pending()),
    }


def run(n: int, *, measure_memory: bool) -> Result:
    sim, key, directory, bundle, users = _setup(n)
    ws = sim.workspaces
    ids: list[str] = []
    gc.collect()
    if measure_memory:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
    seconds: dict[str, float] = {}
    attach_before = _AttachClock.seconds

    def launch(chunk: list[str]) -> None:
        result = ws.create_workspaces(workspaces=[
            {"directory_id": directory, "user_name": u, "bundle_id": bundle,
             "volume_encryption_key": key, "root_volume_encryption_enabled": True,
             "user_volume_encryption_enabled": True} for u in chunk])
        if result.failed_requests:
            raise SystemExit(f"launch failed: {result.failed_requests[0]}")
        ids.extend(w.workspace_id for w in result.pending_requests)

    start = time.perf_counter()
    _batched(users, launch, sim)
    sim.run_until_idle()
    sim.audit.clear()
    seconds["launch"] = time.perf_counter() - start
    _expect_all(sim, ids, "AVAILABLE")

    start = time.perf_counter()
    _batched(ids, lambda chunk: _no_failures(ws.reboot_workspaces(workspace_ids=chunk)), sim)
    sim.run_until_idle()
    sim.audit.clear()
    seconds["reboot"] = time.perf_counter() - start
    _expect_all(sim, ids, "AVAILABLE")

    start = time.perf_counter()
    _batched(ids, lambda chunk: _no_failures(ws.terminate_workspaces(workspace_ids=chunk)), sim)
    sim.run_until_idle()
    sim.audit.clear()
    seconds["terminate"] = time.perf_counter() - start
    seconds["total"] = seconds["launch"] + seconds["reboot"] + seconds["terminate"]
    seconds["in EBS AttachVolume"] = _AttachClock.seconds - attach_before

    peak = residue = 0
    leftovers = _live_state(sim, key)
    if measure_memory:
        ids.clear()
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
        residue = current - before
        peak -= before
        tracemalloc.stop()
    return Result(n, seconds, peak, residue, leftovers)


def _no_failures(result: Any) -> None:
    if result.failed_requests:
        raise SystemExit(f"batch call failed: {result.failed_requests[0]}")


def _expect_all(sim: Simulation, ids: list[str], state: str) -> None:
    by_id = sim.workspaces.state.workspaces
    wrong = [i for i in ids if by_id[i].state != state]
    if wrong:
        first = by_id[wrong[0]]
        raise SystemExit(f"{len(wrong)} WorkSpaces not {state}; e.g. {first.workspace_id} "
                         f"{first.state} {first.error_message}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 50, 200, 1,000")
    args = parser.parse_args(argv)
    sizes = (50, 200, 1_000) if args.quick else (100, 1_000, 10_000)
    _AttachClock.install()

    print(f"{'N':>7} {'launch ms/ws':>13} {'reboot ms/ws':>13} {'terminate ms/ws':>16} "
          f"{'total ms/ws':>12} {'peak MiB':>9} {'residue KiB':>12}")
    results: list[Result] = []
    for n in sizes:
        timed = run(n, measure_memory=False)
        memory = run(n, measure_memory=True)
        timed.peak_bytes, timed.residue_bytes = memory.peak_bytes, memory.residue_bytes
        timed.leftovers = memory.leftovers
        results.append(timed)
        print(f"{n:>7,} {timed.per_workspace_ms('launch'):>13.3f} "
              f"{timed.per_workspace_ms('reboot'):>13.3f} "
              f"{timed.per_workspace_ms('terminate'):>16.3f} "
              f"{timed.per_workspace_ms('total'):>12.3f} {timed.peak_bytes / 2**20:>9.1f} "
              f"{timed.residue_bytes / 1024:>12.1f}", flush=True)

    ok = True
    base, top = results[0], results[-1]
    ratio = top.per_workspace_ms("total") / base.per_workspace_ms("total")
    verdict = "ok" if ratio <= SCALING_BAR else "MISSED"
    ok &= ratio <= SCALING_BAR
    print(f"\nscaling: cost per WorkSpace at N={top.n:,} is {ratio:.2f}x that at N={base.n:,} "
          f"(bar {SCALING_BAR}x): {verdict}")
    for phase in ("launch", "reboot", "terminate"):
        print(f"  {phase:<9} {top.per_workspace_ms(phase) / base.per_workspace_ms(phase):.2f}x")
    for r in results:
        inside = r.per_workspace_ms("in EBS AttachVolume")
        print(f"  N={r.n:,}: {inside:.3f} ms per WorkSpace inside EBS AttachVolume; "
              f"{r.per_workspace_ms('total') - inside:.3f} ms everywhere else")
    for r in results:
        left = {k: v for k, v in r.leftovers.items() if v}
        allowed = max(RESIDUE_FLOOR_BYTES, RESIDUE_BYTES_PER_WORKSPACE * r.n)
        clean = not left and r.residue_bytes <= allowed
        ok &= clean
        print(f"after terminate, N={r.n:,}: live state {left or 'empty'}, tracemalloc residue "
              f"{r.residue_bytes / 1024:.1f} KiB (allowed {allowed / 1024:.0f} KiB): "
              f"{'ok' if clean else 'MISSED'}")
    print(f"peak memory per WorkSpace at N={top.n:,}: {top.peak_bytes / top.n / 1024:.1f} KiB "
          "(trace off, audit cleared per batch)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
