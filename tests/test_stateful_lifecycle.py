"""The whole system against a simple model (simulator.testing.machines.LifecycleMachine).

CI runs a bounded budget; ``HYPOTHESIS_PROFILE=long`` explores much further (see README).
The planted-bug tests show the machine catches real mistakes: each one breaks a single rule of
a service (a mutation) and the machine must fail.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from simulator.ebs import service as ebs_service
from simulator.kms.service import KeyManagementService
from simulator.testing.machines import LifecycleMachine, ModelMismatch
from simulator.workspaces.service import WorkSpacesService

# The machine draws faults whose targets may be gone by the time they fire (a grant already
# revoked, a block never written) and checks their records itself.
pytestmark = pytest.mark.filterwarnings("ignore::simulator.faults.FaultSkippedWarning")

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"

TestLifecycle = LifecycleMachine.TestCase
TestLifecycle.settings = settings(
    max_examples=2000 if LONG else 200,
    stateful_step_count=80 if LONG else 40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Finding a planted bug needs no shrinking; derandomized so that the tests are deterministic.
_HUNT = settings(max_examples=60, stateful_step_count=30, deadline=None, database=None,
                 derandomize=True, phases=[Phase.generate], report_multiple_bugs=False,
                 suppress_health_check=list(HealthCheck))


def _caught(monkeypatch: pytest.MonkeyPatch, owner: object, name: str, mutant: object) -> str:
    monkeypatch.setattr(owner, name, mutant)
    with pytest.raises(ModelMismatch) as caught:
        run_state_machine_as_test(LifecycleMachine, settings=_HUNT)
    return str(caught.value)


def test_the_machine_catches_kms_ignoring_the_key_state(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _caught(monkeypatch, KeyManagementService, "_require_usable",
                      staticmethod(lambda key: None))
    assert "key" in message


def test_the_machine_catches_ebs_keeping_a_data_key_after_detach(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _caught(monkeypatch, ebs_service, "wipe", lambda buffer: None)
    assert message == "a detached volume's plaintext data key was not wiped"


def test_the_machine_catches_terminate_forgetting_the_workspaces_grant(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _caught(monkeypatch, WorkSpacesService, "_retire", lambda self, ws: None)
    assert "left its grant" in message


def test_the_unmutated_system_passes_the_same_hunt() -> None:
    run_state_machine_as_test(LifecycleMachine, settings=_HUNT)
