"""Simulation(...) and sim.advance(...): bad input is a ValidationException up front, not a
bare exception later inside a KMS or EBS call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simulator import Simulation
from simulator.errors import ValidationException


@pytest.mark.parametrize("start_time", ["2026-01-05T09:00:00Z", datetime(2026, 1, 5), 0])
def test_start_time_must_be_a_timezone_aware_datetime(start_time: Any) -> None:
    with pytest.raises(ValidationException, match="start_time"):
        Simulation(seed=1, start_time=start_time)


def test_a_timezone_aware_start_time_is_the_first_instant() -> None:
    when = datetime(2030, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert Simulation(seed=1, start_time=when).clock.now() == when


@pytest.mark.parametrize(("name", "value"), [
    ("grant_propagation_seconds", "5"),
    ("grant_propagation_seconds", -1),
    ("grant_propagation_seconds", float("nan")),
    ("provisioning_seconds", float("inf")),
    ("max_retries", 1.5),
    ("max_retries", True),
    ("on_demand_rotation_limit", None),
    ("snapshot_interval_hours", 0),
    ("aws_managed_rotation_days", 0),
])
def test_numeric_settings_refuse_values_that_would_fail_later(name: str, value: Any) -> None:
    with pytest.raises(ValidationException, match=name):
        Simulation(seed=1, **{name: value})


def test_numeric_settings_accept_ints_for_floats_and_zero_where_it_means_instantly() -> None:
    sim = Simulation(seed=1, grant_propagation_seconds=5, provisioning_seconds=0, max_retries=0)
    assert sim.settings.grant_propagation_seconds == 5 and sim.settings.max_retries == 0


@pytest.mark.parametrize("seconds", [float("nan"), float("inf"), 1e12, -1, "10", True])
def test_advance_refuses_what_the_virtual_clock_cannot_reach(seconds: Any) -> None:
    sim = Simulation(seed=1)
    before = sim.clock.now()
    with pytest.raises(ValidationException):
        sim.advance(seconds)
    assert sim.clock.now() == before


def test_advance_moves_the_clock_by_the_seconds_given() -> None:
    sim = Simulation(seed=1)
    before = sim.clock.now()
    sim.advance(90.5)
    assert (sim.clock.now() - before).total_seconds() == 90.5


@pytest.mark.parametrize("seed", [-1, -5])
def test_a_negative_seed_is_refused_rather_than_replaying_its_positive_twin(seed: int) -> None:
    with pytest.raises(ValidationException, match="0 or more"):
        Simulation(seed=seed)


def test_advance_accepts_a_timedelta() -> None:
    sim = Simulation(seed=1)
    before = sim.clock.now()
    sim.advance(timedelta(hours=1))
    sim.advance(seconds=timedelta(minutes=30))
    assert sim.clock.now() - before == timedelta(hours=1, minutes=30)


def test_advance_names_the_wrong_type() -> None:
    with pytest.raises(ValidationException, match=r"number of seconds or a datetime\.timedelta, not str"):
        Simulation(seed=1).advance("10")  # type: ignore[arg-type]


def test_advance_refuses_a_negative_timedelta() -> None:
    with pytest.raises(ValidationException, match="0 seconds or more"):
        Simulation(seed=1).advance(timedelta(seconds=-1))
