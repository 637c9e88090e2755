"""pytest fixtures shipped with envelope-sim (loaded through the ``pytest11`` entry point).

``sim`` (unseeded), ``seeded_sim`` (seed 0), ``audit_capture`` (attached by itself to the test's
``sim``, ``seeded_sim`` or ``workspaces_world``), ``workspaces_world`` (a seeded simulation with
a directory, a user and a key), ``fault_records`` (a function: what injected faults did in a
simulation) and ``aws`` (a simulation with boto3 routed to it in process, see
:func:`simulator.wire.mock_aws`). For property tests draw simulations from
:func:`simulator.testing.strategies.simulations` instead: a function-scoped fixture is shared by
every example of a ``@given`` test (hypothesis refuses it), while the strategy gives each example
its own simulation with a seed hypothesis controls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

__all__ = ["AuditCapture", "CaptureNotAttached", "audit_capture", "aws", "fault_records",
           "seeded_sim", "sim",
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
    """Audit records produced while the capture is attached to a simulation.

    The ``audit_capture`` fixture attaches itself to the test's ``sim``, ``seeded_sim`` or
    ``workspaces_world``; attach it to any other simulation with :meth:`attach`. Reading a
    capture attached to nothing raises :class:`CaptureNotAttached`, so a forgotten ``attach``
    cannot pass as "no calls were made".
    """

    def __init__(self) -> None:
        self._records: list[dict[str, Any]] = []
        self._attached: dict[int, Any] = {}  # id(simulation) -> unsubscribe
        self._ever_attached = False

    def attach(self, simulation: Any) -> Any:
        """Start capturing ``simulation``'s audit records (once per simulation); returns it."""
        if id(simulation) not in self._attached:
            self._attached[id(simulation)] = simulation.audit.subscribe(self._records.append)
            self._ever_attached = True
        return simulation

    @property
    def records(self) -> list[dict[str, Any]]:
        """The captured CloudTrail-shaped records, in order."""
        if not self._ever_attached:
            raise CaptureNotAttached(
                "audit_capture is attached to no simulation: use it with the sim, seeded_sim or "
                "workspaces_world fixture, or call audit_capture.attach(your_simulation) first")
        return self._records

    def names(self) -> list[str]:
        """The eventName of every captured record, in order."""
        return [r["eventName"] for r in self.records]

    def errors(self) -> list[dict[str, Any]]:
        """Captured records of failed calls."""
        return [r for r in self.records if "errorCode" in r]

    def close(self) -> None:
        """Stop capturing (the records stay readable)."""
        for detach in self._attached.values():
            detach()
        self._attached.clear()


class CaptureNotAttached(RuntimeError):
    """An :class:`AuditCapture` was read before it was attached to any simulation."""


#: Fixtures whose simulation ``audit_capture`` attaches to when a test uses them.
_SIMULATION_FIXTURES: dict[str, Callable[[Any], Any]] = {
    "sim": lambda value: value, "seeded_sim": lambda value: value,
    "workspaces_world": lambda value: value.sim}


@pytest.fixture
def audit_capture(request: pytest.FixtureRequest) -> Iterator[AuditCapture]:
    """An :class:`AuditCapture` already attached to the test's ``sim``, ``seeded_sim`` or
    ``workspaces_world`` (``audit_capture.attach(other)`` adds another simulation)."""
    capture = AuditCapture()
    for name, simulation_of in _SIMULATION_FIXTURES.items():
        if name in request.fixturenames:
            capture.attach(simulation_of(request.getfixturevalue(name)))
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


@pytest.fixture
def aws() -> Iterator[Any]:
    """A fresh simulation with every boto3/botocore client created in the test routed to it
    in process (``mock_aws``): KMS, WorkSpaces and Directory Service, no network."""
    from simulator.wire import mock_aws

    with mock_aws() as simulation:
        yield simulation
