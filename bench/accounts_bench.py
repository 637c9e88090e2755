"""A KMS pair and a fleet launch in one account, alone and beside 10 accounts x 5 Regions.

Two simulations with the same seed: ``alone`` has only its own account and Region; ``crowded``
also has 10 other accounts in 5 Regions each (50 cells, plus the default account's cells in the
4 other Regions), every cell populated: a customer managed key with an alias and a grant, data
keys, an encrypted EBS volume, a directory and a launched, encrypted WorkSpace. Then, in the
default account of each simulation, measured interleaved (round by round, best of the rounds,
CPU time, so that a noisy spell hits both alike):

* a GenerateDataKey + Decrypt pair (audit trail and trace on);
* a fleet launch: CreateWorkspaces for a batch of users with encrypted volumes, then the clock
  runs until every WorkSpace is AVAILABLE.

Bar (issue 15): each costs the same within 10% in ``crowded`` as in ``alone`` (no call scans
accounts or Regions). Exit status 1 if the bar is missed.

    python bench/accounts_bench.py [--rounds N] [--fleet N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from simulator import Simulation

ACCOUNTS = [f"{100000000000 + i * 1111:012d}" for i in range(10)]
REGIONS = ["us-west-2", "us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"]
BAR = 1.10


def _populate(sim: Simulation, cell: Any) -> None:
    key = cell.kms.create_key(description="cell key").arn
    cell.kms.create_alias(alias_name="alias/cell", target_key_id=key)
    cell.kms.create_grant(key_id=key, grantee_principal=f"arn:aws:iam::{cell.account_id}:root",
                          operations=["Decrypt"])
    for _ in range(3):
        cell.kms.generate_data_key(key_id=key, key_spec="AES_256")
    cell.ebs.create_volume(size=1, encrypted=True, kms_key_id=key)
    _launch(sim, cell, key, ["resident"])


def _launch(sim: Simulation, cell: Any, key: str, users: list[str]) -> None:
    directory = cell.directory.describe_directories().directory_descriptions
    if directory:
        directory_id = directory[0].directory_id
    else:
        directory_id = cell.directory.create_directory(name="corp.example.com").directory_id
    for name in users:
        cell.directory.create_user(directory_id=directory_id, user_name=name)
    bundle = cell.workspaces.describe_workspace_bundles().bundles[0].bundle_id
    ids: list[str] = []
    for i in range(0, len(users), 25):  # CreateWorkspaces takes at most 25
        result = cell.workspaces.create_workspaces(workspaces=[
            {"directory_id": directory_id, "user_name": u, "bundle_id": bundle,
             "volume_encryption_key": key, "root_volume_encryption_enabled": True,
             "user_volume_encryption_enabled": True} for u in users[i:i + 25]])
        if result.failed_requests:
            raise SystemExit(f"launch failed: {result.failed_requests[0]}")
        ids.extend(w.workspace_id for w in result.pending_requests)
    sim.run_until_idle()
    states = {w.state for i in range(0, len(ids), 25)
              for w in cell.workspaces.describe_workspaces(workspace_ids=ids[i:i + 25]).workspaces}
    if states != {"AVAILABLE"}:
        raise SystemExit(f"fleet did not settle: {states}")


def build(crowded: bool) -> tuple[Simulation, str]:
    sim = Simulation(seed=15)
    if crowded:
        for account in [*ACCOUNTS, sim.account_id]:
            for region in REGIONS:
                if (account, region) != (sim.account_id, sim.region):
                    _populate(sim, sim.view(account_id=account, region=region))
    key = sim.kms.create_key(description="measured key").arn
    sim.audit.clear()
    return sim, key


def pair_fn(sim: Simulation, key: str) -> Callable[[], object]:
    kms, audit = sim.kms, sim.audit
    ctx = {"aws:ebs:id": "vol-0123456789abcdef0"}

    def pair() -> object:
        dk = kms.generate_data_key(key_id=key, encryption_context=ctx, key_spec="AES_256")
        out = kms.decrypt(ciphertext_blob=dk.ciphertext_blob, encryption_context=ctx)
        if len(audit) > 10_000:
            audit.clear()
        return out

    return pair


def fleet_fn(sim: Simulation, key: str, size: int) -> Callable[[], object]:
    batch = iter(range(1_000_000))

    def fleet() -> object:
        n = next(batch)
        _launch(sim, sim.view(), key, [f"u{n:04d}-{i:03d}" for i in range(size)])
        sim.audit.clear()
        return n

    return fleet


def measure(fns: dict[str, tuple[Callable[[], object], int]], rounds: int) -> dict[str, float]:
    """Best-of-``rounds`` CPU seconds per call of each function, measured interleaved (the
    order alternates each round)."""
    best = {name: float("inf") for name in fns}
    order = list(fns)
    for r in range(rounds):
        for name in (order if r % 2 == 0 else order[::-1]):
            fn, n = fns[name]
            start = time.process_time()
            for _ in range(n):
                fn()
            best[name] = min(best[name], (time.process_time() - start) / n)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--pairs", type=int, default=2000, help="pairs per round")
    parser.add_argument("--fleet", type=int, default=20, help="WorkSpaces per fleet launch")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    alone, alone_key = build(crowded=False)
    crowded, crowded_key = build(crowded=True)
    cells = len(crowded.cells)
    print(f"crowded simulation: {cells} account/Region cells "
          f"(built in {time.perf_counter() - start:.1f} s)")
    timings = measure({
        "pair alone": (pair_fn(alone, alone_key), args.pairs),
        "pair crowded": (pair_fn(crowded, crowded_key), args.pairs),
        "fleet alone": (fleet_fn(alone, alone_key, args.fleet), 1),
        "fleet crowded": (fleet_fn(crowded, crowded_key, args.fleet), 1),
    }, args.rounds)
    ok = True
    for what, unit, scale in (("pair", "us", 1e6), ("fleet", "ms", 1e3)):
        a, c = timings[f"{what} alone"], timings[f"{what} crowded"]
        ratio = c / a
        verdict = "ok" if ratio <= BAR else "MISSED"
        ok &= ratio <= BAR
        label = "KMS pair" if what == "pair" else f"fleet launch of {args.fleet}"
        print(f"{label:>22}: alone {a * scale:9.1f} {unit}   crowded {c * scale:9.1f} {unit}"
              f"   crowded/alone {ratio:.3f}  (bar {BAR:.2f}: {verdict})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
