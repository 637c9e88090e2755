"""pytest fixtures shipped with envelope-sim (loaded through the ``pytest11`` entry point).

``sim`` (unseeded), ``seeded_sim`` (seed 0), ``audit_capture``, ``workspaces_world`` (a seeded
simulation with a directory, users and a key) and ``fault_records`` (what injected faults did).
For property tests draw simulations from :func:`simulator.testing.strategies.simulations`
instead: a function-scoped fixture is shared by every example of a ``@given`` test, while the
strategy gives each example its own simulation with a seed hypothesis controls.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["AuditCapture", "audit_capture", "fault_records", "seeded_sim", "sim",
           "workspaces_world"]


@pytest.fixture
def sim() -> Any:
    """A fresh simulation drawing randomness from the OS (unseeded)."""
    from simulator import Simulation

    return Simulation()


@pytest.fixture
def seeded_sim() -> Any:
    """A fresh simulation with ``seed=0``: replayable ids, keys and nonces."""
    from simulator import Simulation

    return Simulation(seed=0)


class AuditCapture:
    """Audit records produced while the capture is attached to a simulation."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self._detach: list[Any] = []

    def attach(self, simulation: Any) -> Any:
        """Start capturing ``simulation``'s audit records; returns the simulation."""
        self._detach.append(simulation.audit.subscribe(self.records.append))
        return simulation

    def names(self) -> list[str]:
        """The eventName of every captured record, in order."""
        return [r["eventName"] for r in self.records]

    def errors(self) -> list[dict[str, Any]]:
        """Captured records of failed calls."""
        return [r for r in self.records if "errorCode" in r]

    def close(self) -> None:
        for detach in self._detach:
            detach()
        self._detach.clear()


@pytest.fixture
def audit_capture() -> Iterator[AuditCapture]:
    """An :class:`AuditCapture`; call ``audit_capture.attach(sim)`` to start capturing."""
    capture = AuditCapture()
    yield capture
    capture.close()


@pytest.fixture
def workspaces_world() -> Any:
    """A :class:`~simulator.testing.world.WorkspacesWorld` on ``Simulation(seed=0)``: directory
    ``corp.example.com`` with user ``jdoe``, a customer managed key, the first bundle."""
    from simulator import Simulation
    from simulator.testing.world import WorkspacesWorld

    return WorkspacesWorld.build(Simulation(seed=0))


@pytest.fixture
def fault_records() -> Any:
    """A function returning what injected faults did in a simulation, as readable lines:
    ``fault_records(sim)`` -> ``["fault-1 DisableKey arn:...:key/... ok", ...]``."""

    def lines(simulation: Any) -> list[str]:
        return [f"{r.fault_id} {r.action} {r.target} {r.outcome}"
                for r in simulation.faults.records()]

    return lines
