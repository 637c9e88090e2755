"""The testing kit users import: strategies give valid, replayable, shrinking examples."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from simulator import Simulation
from simulator.errors import AwsError, InvalidCiphertextException
from simulator.faults import Fault, FaultPlan
from simulator.iam.policy import default_key_policy
from simulator.kms.keys import usages_for_spec
from simulator.testing.strategies import (
    POLICY_USERS,
    data_key_specs,
    encryption_contexts,
    fault_plans,
    grant_constraints,
    key_policies,
    key_specs,
    kms_operation_sequences,
    principals,
    run_operations,
    simulations,
)
from simulator.testing.world import LaunchRefused, WorkspacesWorld

_FIND = settings(max_examples=20, database=None)
_ARN = re.compile(r"arn:aws:iam::123456789012:(root|user/[a-z0-9-]+|role/[a-z0-9-]+)")


@given(simulations(), encryption_contexts(), encryption_contexts())
def test_contexts_are_accepted_by_kms_and_bind_the_data(sim: Simulation, context, other) -> None:
    key = sim.kms.create_key().arn
    blob = sim.kms.encrypt(key_id=key, plaintext=b"x", encryption_context=context).ciphertext_blob
    assert sim.kms.decrypt(ciphertext_blob=blob, encryption_context=dict(reversed(context.items()))
                           ).plaintext == b"x"
    if other != context:
        with pytest.raises(InvalidCiphertextException):
            sim.kms.decrypt(ciphertext_blob=blob, encryption_context=other)


@settings(max_examples=25)
@given(simulations(), key_specs(), data_key_specs())
def test_key_specs_are_all_accepted_by_create_key(sim: Simulation, spec: str, data_spec: str) -> None:
    md = sim.kms.create_key(key_spec=spec, key_usage=usages_for_spec(spec)[0])
    assert md.key_spec == spec
    if spec == "SYMMETRIC_DEFAULT":
        dk = sim.kms.generate_data_key(key_id=md.arn, key_spec=data_spec)
        assert len(dk.plaintext) == {"AES_256": 32, "AES_128": 16}[data_spec]


@given(principals())
def test_principals_are_arns_of_the_account(arn: str) -> None:
    assert _ARN.fullmatch(arn)


@given(principals(users=["Alice"], roles=()))
def test_principals_can_be_limited_to_given_names(arn: str) -> None:
    assert arn in ("arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:user/Alice")


@settings(max_examples=30)
@given(simulations(), key_policies())
def test_key_policies_are_accepted_and_keep_the_root_administrator(sim: Simulation, policy: str) -> None:
    for name in POLICY_USERS:
        sim.iam.create_user(user_name=name)
    key = sim.kms.create_key(policy=policy)
    sim.kms.disable_key(key_id=key.arn)  # the root can still administer the key
    sim.kms.put_key_policy(key_id=key.arn, policy=default_key_policy(sim.account_id),
                           policy_name="default")


@settings(max_examples=30)
@given(simulations(), grant_constraints(), encryption_contexts())
def test_grant_constraints_are_accepted_and_enforced(sim: Simulation, constraints, context) -> None:
    key = sim.kms.create_key().arn
    bob = sim.iam.create_user(user_name="Bob").arn
    grant = sim.kms.create_grant(key_id=key, grantee_principal=bob, operations=["Decrypt"],
                                 constraints=constraints)
    blob = sim.kms.encrypt(key_id=key, plaintext=b"x", encryption_context=context).ciphertext_blob
    pairs = {(k.lower(), v) for k, v in context.items()}
    if constraints is None:
        allowed = True
    elif "encryption_context_subset" in constraints:
        allowed = {(k.lower(), v) for k, v in constraints["encryption_context_subset"].items()} <= pairs
    else:
        allowed = {(k.lower(), v) for k, v in constraints["encryption_context_equals"].items()} == pairs
    try:
        sim.as_principal(bob).kms.decrypt(ciphertext_blob=blob, encryption_context=context,
                                          grant_tokens=[grant.grant_token])
        assert allowed
    except AwsError as err:
        assert not allowed and err.code == "AccessDeniedException"


# A generated fault may find its target gone when it fires (a skip, warned about).
@pytest.mark.filterwarnings("ignore::simulator.faults.FaultSkippedWarning")
@settings(max_examples=25)
@given(st.data())
def test_generated_fault_plans_inject_into_a_running_lifecycle(data: st.DataObject) -> None:
    world = WorkspacesWorld.build(Simulation(seed=data.draw(st.integers(0, 100))))
    plan = data.draw(fault_plans(key_ids=[world.key_arn]))
    sim = world.sim
    sim.faults.inject_plan(plan)
    try:
        ws = world.launch("jdoe")
    except LaunchRefused:
        return  # a fault made KMS refuse the key at step 1
    assert world.state(ws) in ("AVAILABLE", "ERROR", "PENDING")
    assert len(sim.faults.active) == len(plan)
    # Whatever the faults did is on record, as trace events and audit records.
    records = sim.faults.records()
    assert len(sim.audit.events("FaultInjected")) == len(records)
    assert len([e for e in sim.trace.events() if e.actor == "Faults" and e.action != "Armed"]) == len(records)


@settings(max_examples=30)
@given(simulations(), kms_operation_sequences())
def test_operation_sequences_run_and_decrypt_what_they_made(sim: Simulation, operations) -> None:
    keys = [sim.kms.create_key().arn, sim.kms.create_key().arn]
    result = run_operations(sim, keys, operations)
    assert len(result.outcomes) <= len(operations)
    for op, outcome in result.outcomes:
        assert outcome == "ok" or re.fullmatch(r"[A-Za-z]+Exception", outcome), (op, outcome)
    assert "plaintext" not in repr(result) or "blobs" not in repr(result)


def test_simulations_are_seeded_by_hypothesis_and_replay() -> None:
    seen: list[str] = []

    @settings(max_examples=5, database=None, derandomize=True)
    @given(simulations())
    def run(sim: Simulation) -> None:
        seen.append(sim.kms.create_key().key_id)

    run()
    first = list(seen)
    seen.clear()
    run()
    assert seen == first


def test_strategies_shrink_toward_small_readable_examples() -> None:
    assert find(key_specs(), lambda _: True, settings=_FIND) == "SYMMETRIC_DEFAULT"
    assert find(principals(), lambda _: True, settings=_FIND) == "arn:aws:iam::123456789012:root"
    assert find(grant_constraints(), lambda _: True, settings=_FIND) is None
    assert json.loads(find(key_policies(), lambda _: True, settings=_FIND)) == json.loads(default_key_policy("123456789012"))
    smallest = find(encryption_contexts(), lambda c: len(c) >= 1, settings=_FIND)
    assert len(smallest) == 1 and all(len(k) <= 1 and len(v) <= 1 for k, v in smallest.items())
    plan = find(fault_plans(), lambda _: True, settings=_FIND)
    assert isinstance(plan, FaultPlan) and len(plan) == 1 and isinstance(plan.faults[0], Fault)


def test_the_world_helper_refuses_loudly_when_the_key_is_unusable() -> None:
    world = WorkspacesWorld.build(Simulation(seed=1))
    world.sim.kms.disable_key(key_id=world.key_arn)
    with pytest.raises(LaunchRefused) as refused:
        world.launch("jdoe")
    assert refused.value.code == "DisabledException"
