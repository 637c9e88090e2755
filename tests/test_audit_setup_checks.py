"""Bad arguments to the audit trail's set-up calls are refused with ValidationException, changing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator import Simulation
from simulator.errors import ValidationException


@pytest.mark.parametrize("limit", [-1, 1.5, "3", True])
def test_keep_last_refuses_a_limit_that_is_not_a_non_negative_int_and_keeps_every_record(
    limit: object,
) -> None:
    sim = Simulation(seed=1)
    with pytest.raises(ValidationException, match="keep_last"):
        sim.audit.keep_last(limit)  # type: ignore[arg-type]
    for i in range(3):
        sim.kms.create_key(description=f"k{i}")
    assert len(sim.audit) == 3


@pytest.mark.parametrize("path", [None, 3, b"audit.jsonl"])
def test_write_jsonl_refuses_a_path_that_is_not_a_str_or_path_and_adds_no_sink(
    path: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sim = Simulation(seed=1)
    with pytest.raises(ValidationException, match="write_jsonl"):
        sim.audit.write_jsonl(path)  # type: ignore[arg-type]
    sim.kms.create_key(description="k")
    assert list(tmp_path.iterdir()) == []
