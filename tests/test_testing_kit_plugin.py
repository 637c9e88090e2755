"""The pytest plugin users get by installing envelope-sim (entry point ``pytest11``)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = '''
from simulator.faults import AtStep, DisableKey, Fault

def test_seeded_sim_replays(seeded_sim):
    assert seeded_sim.seed == 0
    assert seeded_sim.kms.create_key().key_id == "{key_id}"

def test_sim_is_unseeded(sim):
    assert sim.seed is None

def test_audit_capture_sees_the_calls(seeded_sim, audit_capture):
    audit_capture.attach(seeded_sim)
    key = seeded_sim.kms.create_key()
    seeded_sim.kms.disable_key(key_id=key.arn)
    try:
        seeded_sim.kms.encrypt(key_id=key.arn, plaintext=b"x")
    except Exception:
        pass
    assert audit_capture.names() == ["CreateKey", "DisableKey", "Encrypt"]
    assert [r["errorCode"] for r in audit_capture.errors()] == ["DisabledException"]

def test_audit_capture_attaches_to_the_sim_fixture_by_itself(sim, audit_capture):
    sim.kms.create_key()
    assert audit_capture.names() == ["CreateKey"]

def test_audit_capture_attached_to_nothing_fails_loudly(audit_capture):
    import pytest
    from simulator.testing.plugin import CaptureNotAttached
    with pytest.raises(CaptureNotAttached, match="attach"):
        audit_capture.names()

def test_workspaces_world_and_fault_records(workspaces_world, fault_records):
    sim = workspaces_world.sim
    sim.faults.inject(Fault(AtStep(5), DisableKey()))
    ws = workspaces_world.launch("jdoe")
    assert workspaces_world.state(ws) == "ERROR"
    assert fault_records(sim) == ["fault-1 DisableKey " + workspaces_world.key_arn + " ok"]
'''


def test_the_plugin_gives_users_its_fixtures(pytester: pytest.Pytester) -> None:
    from simulator import Simulation

    key_id = Simulation(seed=0).kms.create_key().key_id
    pytester.makepyfile(test_user=USER_TESTS.replace("{key_id}", key_id))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)


def test_the_projects_tests_get_the_plugins_unseeded_sim(sim: object) -> None:
    # tests/conftest.py once redefined ``sim`` with seed 7: the project's tests saw another
    # fixture than the one its users get.
    assert getattr(sim, "seed", "missing") is None
