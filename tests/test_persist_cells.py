"""Several accounts and Regions in one state file: calls on another cell are saved with the
cell they were made on, and the cells are made again at the same point of the run (a new
cell draws from the shared entropy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from persist_support import BLOCK, attach, pattern, recovered

from simulator import Simulation

OTHER = "210987654321"


def _run(sim: Simulation) -> dict[str, Any]:
    other = sim.view(OTHER)  # made now, used after a call in the home cell
    home = sim.kms.create_key(description="home").key_id
    away = other.kms.create_key(description="other account").key_id
    east = sim.view(region="us-east-1")
    east_key = east.kms.create_key(description="east").arn
    vol = east.ebs.create_volume(size=1, encrypted=True, kms_key_id=east_key,
                                 availability_zone="us-east-1a").volume_id
    sim.advance(10)
    attach(sim, vol, ebs=east.ebs)
    east.ebs.block_device(vol).write(0, pattern(4, BLOCK))
    east.ebs.block_device(vol).flush()
    other.iam.create_user(user_name="Dana")
    after = sim.kms.create_key(description="after the cells").key_id
    return {"home": home, "away": away, "east": east_key, "volume": vol, "after": after}


def _seen(sim: Simulation, ids: dict[str, Any]) -> list[Any]:
    other, east = sim.view(OTHER), sim.view(region="us-east-1")
    return [sim.kms.describe_key(key_id=ids["home"]), other.kms.describe_key(key_id=ids["away"]),
            east.kms.describe_key(key_id=ids["east"]), other.iam.list_users(),
            east.ebs.describe_volumes(), sim.kms.describe_key(key_id=ids["after"]),
            sim.kms.generate_random(number_of_bytes=16).plaintext,
            east.ebs.block_device(ids["volume"]).read(0, BLOCK), sim.audit.events()]


def test_calls_on_other_accounts_and_regions_come_back_in_their_cells(tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    saved = Simulation(seed=21, state=path)
    ids = _run(saved)
    saved.close()
    reopened = recovered(Simulation(state=path))
    reference = Simulation(seed=21)
    assert _run(reference) == ids
    reference.recover_attachments()  # what the reopen did
    recovered(reference)
    assert _seen(reopened, ids) == _seen(reference, ids)
    assert reopened.view(OTHER).kms.describe_key(key_id=ids["away"]).description == \
        "other account"
    assert reopened.view(region="us-east-1").ebs.block_device(ids["volume"]).read(0, BLOCK) == \
        pattern(4, BLOCK)
