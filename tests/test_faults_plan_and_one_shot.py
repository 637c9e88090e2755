"""A fault plan takes any sequence of faults; a one-shot fault leaves no handler behind."""

from __future__ import annotations

import pytest

from simulator import Simulation
from simulator.errors import DisabledException, KMSInternalException
from simulator.faults import AtStep, Chance, DisableKey, Fault, FaultPlan, OnCall, RaiseError


def test_a_fault_plan_accepts_a_list_of_faults_and_keeps_a_tuple() -> None:
    faults = [Fault(AtStep(5), DisableKey("k")), Fault(OnCall("kms:Decrypt"), RaiseError())]
    plan = FaultPlan(faults)
    assert plan.faults == tuple(faults)
    assert plan == FaultPlan(tuple(faults))
    assert FaultPlan.from_json(plan.to_json()) == plan


def test_an_on_call_fault_handler_is_unregistered_after_it_fires(sim: Simulation) -> None:
    key = sim.kms.create_key()
    blob = sim.kms.encrypt(key_id=key.key_id, plaintext=b"x").ciphertext_blob
    sim.faults.inject(Fault(OnCall("kms:Decrypt"), DisableKey(key.arn)))
    assert "before-call.kms.Decrypt" in sim.runtime.hooks
    with pytest.raises(DisabledException):  # the key is disabled before the call runs
        sim.kms.decrypt(ciphertext_blob=blob)
    assert "before-call.kms.Decrypt" not in sim.runtime.hooks
    assert sim.kms.describe_key(key_id=key.arn).key_state == "Disabled"


def test_an_injected_error_stays_registered_until_its_last_error_is_raised(sim: Simulation) -> None:
    key = sim.kms.create_key()
    sim.faults.inject(Fault(OnCall("kms:DescribeKey"), RaiseError(count=2)))
    for _ in range(2):
        assert "before-call.kms.DescribeKey" in sim.runtime.hooks
        with pytest.raises(KMSInternalException):
            sim.kms.describe_key(key_id=key.arn)
    assert "before-call.kms.DescribeKey" not in sim.runtime.hooks
    sim.kms.describe_key(key_id=key.arn)


def test_a_chance_fault_leaves_the_hooks_once_it_reached_max_fires(sim: Simulation) -> None:
    key = sim.kms.create_key()
    sim.faults.inject(Fault(Chance(1.0, "kms:DescribeKey", max_fires=1), DisableKey(key.arn)))
    sim.kms.describe_key(key_id=key.arn)
    assert "before-call.kms.DescribeKey" not in sim.runtime.hooks
