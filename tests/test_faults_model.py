"""Faults are data: printable, comparable, JSON round-trip, and bad input is refused clearly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given

from simulator import Simulation
from simulator.errors import ValidationException
from simulator.faults import (
    AtStep,
    AtTime,
    Chance,
    DisableKey,
    DropAttachment,
    Fault,
    FaultPlan,
    FlipBlockBit,
    FlipDataKeyBit,
    OnCall,
    PutKeyPolicy,
    RaiseError,
    RetireGrant,
    RevokeGrant,
    ScheduleKeyDeletion,
    SetGrantPropagation,
)
from simulator.testing.strategies import fault_plans, faults

ONE_OF_EACH = [
    Fault(AtStep(5), DisableKey("1234abcd-12ab-34cd-56ef-1234567890ab"), name="disable at 5"),
    Fault(AtStep(8, "after", workspace_id="ws-abc123def", occurrence=2), FlipDataKeyBit("user", 9)),
    Fault(OnCall("kms:Decrypt", nth=3), RaiseError("DependencyTimeoutException", count=2)),
    Fault(OnCall("ec2:AttachVolume"), RaiseError("ThrottlingException", operation="ec2:*")),
    Fault(AtTime(datetime(2026, 1, 5, 10, tzinfo=UTC)), ScheduleKeyDeletion(None, 9)),
    Fault(Chance(0.25, "kms:*", max_fires=3), RaiseError("KeyUnavailableException")),
    Fault(AtStep(1), RevokeGrant(grantee_principal="arn:aws:iam::123456789012:user/Bob")),
    Fault(AtStep(9, "after"), RetireGrant(key_id="alias/ws", grant_id="g" * 64)),
    Fault(AtStep(2), PutKeyPolicy('{"Version": "2012-10-17", "Statement": []}')),
    Fault(AtStep(7, "after"), FlipBlockBit("vol-0123456789abcdef0", block_index=3, bit=17)),
    Fault(AtStep(4), SetGrantPropagation(120)),
    Fault(AtStep(7, "after"), DropAttachment("root")),
]


@pytest.mark.parametrize("fault", ONE_OF_EACH, ids=lambda f: type(f.effect).__name__)
def test_every_fault_kind_round_trips_through_json(fault: Fault) -> None:
    text = fault.to_json()
    json.loads(text)  # plain JSON
    assert Fault.from_json(text) == fault
    assert hash(Fault.from_json(text)) == hash(fault)


def test_a_fault_prints_as_one_readable_line() -> None:
    assert str(ONE_OF_EACH[0]) == (
        "[disable at 5] before step 5 of any WorkSpace: DisableKey "
        "1234abcd-12ab-34cd-56ef-1234567890ab")
    assert str(ONE_OF_EACH[2]) == (
        "call #3 of kms:Decrypt: raise DependencyTimeoutException on the next 2 calls of the operation")
    assert "AtStep(step=5, when='before'" in repr(ONE_OF_EACH[0])


def test_faults_compare_by_value() -> None:
    assert Fault(AtStep(5), DisableKey("k")) == Fault(AtStep(5), DisableKey("k"))
    assert Fault(AtStep(5), DisableKey("k")) != Fault(AtStep(6), DisableKey("k"))
    assert len({Fault(AtStep(5), DisableKey("k")), Fault(AtStep(5), DisableKey("k"))}) == 1


def test_faults_are_frozen() -> None:
    f = Fault(AtStep(5), DisableKey("k"))
    with pytest.raises(AttributeError):
        f.trigger = AtStep(6)  # type: ignore[misc]


def test_virtual_times_round_trip_in_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    f = Fault(AtTime(datetime(2026, 1, 5, 19, tzinfo=tokyo)), DisableKey("k"))
    data = json.loads(f.to_json())
    assert data["trigger"]["at"] == "2026-01-05T10:00:00Z"
    assert Fault.from_json(f.to_json()) == f  # same instant


def test_a_plan_round_trips_and_describes_each_fault() -> None:
    plan = FaultPlan(tuple(ONE_OF_EACH))
    assert FaultPlan.from_json(plan.to_json()) == plan
    assert plan.describe().count("\n") == len(ONE_OF_EACH) - 1
    assert FaultPlan().describe() == "(no faults)"


@given(fault_plans(key_ids=["1234abcd-12ab-34cd-56ef-1234567890ab"]))
def test_generated_plans_round_trip(plan: FaultPlan) -> None:
    assert FaultPlan.from_json(plan.to_json()) == plan


@given(faults())
def test_generated_faults_print_and_round_trip(fault: Fault) -> None:
    assert Fault.from_json(fault.to_json()) == fault
    assert str(fault)


@pytest.mark.parametrize("make, words", [
    (lambda: AtStep(0), "step must be an integer from 1 to 9"),
    (lambda: AtStep(10), "step must be an integer from 1 to 9"),
    (lambda: AtStep(True), "step must be an integer"),
    (lambda: AtStep(5, "during"), "when must be 'before' or 'after'"),
    (lambda: AtStep(5, occurrence=0), "occurrence must be an integer"),
    (lambda: OnCall("Decrypt"), "unknown operation 'Decrypt'"),
    (lambda: OnCall("kms:Dcrypt"), "unknown operation 'kms:Dcrypt'"),
    (lambda: OnCall("kms:*"), "unknown operation 'kms:*'"),
    (lambda: OnCall("kms:Decrypt", nth=0), "nth must be an integer from 1"),
    (lambda: AtTime(datetime(2026, 1, 5)), "timezone-aware"),
    (lambda: AtTime("2026-01-05"), "timezone-aware"),
    (lambda: Chance(1.5, "kms:Decrypt"), "probability must be a number from 0.0 to 1.0"),
    (lambda: Chance(float("nan"), "kms:Decrypt"), "probability must be a number"),
    (lambda: Chance(0.5, "kms:Decrypt", max_fires=0), "max_fires"),
    (lambda: RaiseError("DisabledException"), "error must be one of KMSInternalException"),
    (lambda: RaiseError(count=0), "count must be an integer from 1"),
    (lambda: RaiseError(operation="s3:GetObject"), "unknown operation"),
    (lambda: DisableKey(""), "key_id must be a non-empty string"),
    (lambda: DisableKey(42), "key_id must be a non-empty string"),
    (lambda: ScheduleKeyDeletion("k", 3), "pending_window_in_days must be an integer from 7 to 30"),
    (lambda: PutKeyPolicy(""), "policy must be a non-empty string"),
    (lambda: FlipBlockBit("volume-1"), "volume_id must be 'vol-...', 'root' or 'user'"),
    (lambda: FlipBlockBit("user", block_index=-1), "block_index"),
    (lambda: FlipDataKeyBit("user", bit=-1), "bit must be an integer"),
    (lambda: SetGrantPropagation(-1), "seconds must be a number from 0.0"),
    (lambda: DropAttachment(None), "volume_id"),
    (lambda: Fault(DisableKey("k"), AtStep(5)), "trigger must be one of"),
    (lambda: Fault(AtStep(5), "DisableKey"), "effect must be one of"),
    (lambda: Fault(AtStep(5), DisableKey("k"), name=""), "name must be a non-empty string"),
    (lambda: FaultPlan([Fault(AtStep(5), DisableKey("k")), "DisableKey"]),
     "faults must be a sequence of Fault, not str"),
    (lambda: FaultPlan(Fault(AtStep(5), DisableKey("k"))), "faults must be a sequence of Fault"),
    (lambda: FaultPlan("faults"), "faults must be a sequence of Fault"),
])
def test_bad_faults_are_a_validation_error_naming_the_field(make, words) -> None:
    with pytest.raises(ValidationException) as caught:
        make()
    assert words in caught.value.message


@pytest.mark.parametrize("text, words", [
    ("not json", "Not valid JSON"),
    ("[]", "A fault must be an object"),
    ('{"trigger": {"type": "AtStep", "step": 5}}', "must be an object with a 'type'"),
    ('{"trigger": {"type": "Never"}, "effect": {"type": "DisableKey"}}', "Unknown fault trigger type 'Never'"),
    ('{"trigger": {"type": "AtStep"}, "effect": {"type": "DisableKey"}}', "AtStep:"),
    ('{"trigger": {"type": "AtStep", "step": 5, "stp": 1}, "effect": {"type": "DisableKey"}}',
     "unknown field(s) ['stp']"),
    ('{"trigger": {"type": "AtTime", "at": "yesterday"}, "effect": {"type": "DisableKey"}}',
     "ISO-8601"),
    ('{"trigger": {"type": "AtStep", "step": 5}, "effect": {"type": "DisableKey"}, "x": 1}',
     "unknown field(s) ['x']"),
])
def test_bad_fault_json_is_a_validation_error(text: str, words: str) -> None:
    with pytest.raises(ValidationException) as caught:
        Fault.from_json(text)
    assert words in caught.value.message


def test_bad_plan_json_is_a_validation_error() -> None:
    with pytest.raises(ValidationException, match="fault plan must be an object"):
        FaultPlan.from_json('{"faults": 3}')
    with pytest.raises(ValidationException):
        FaultPlan.from_json(b"\xff")
    with pytest.raises(ValidationException, match="JSON string"):
        FaultPlan.from_json(42)  # type: ignore[arg-type]


def test_unknown_fields_of_mixed_key_types_are_named_not_a_type_error() -> None:
    data = {"trigger": {"type": "AtStep", "step": 5}, "effect": {"type": "DisableKey"}, 1: 2, "x": 3}
    with pytest.raises(ValidationException, match="unknown field"):
        Fault.from_dict(data)
    with pytest.raises(ValidationException, match="unknown field"):
        Fault.from_dict({"trigger": {"type": "AtStep", "step": 5, 7: 1, "y": 2},
                         "effect": {"type": "DisableKey"}})


def test_absurdly_nested_json_is_not_valid_json() -> None:
    with pytest.raises(ValidationException, match="Not valid JSON"):
        Fault.from_json("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize("plan", [5, None])
def test_inject_plan_of_something_that_is_not_faults_is_a_validation_error(plan: object) -> None:
    with pytest.raises(ValidationException):
        Simulation(seed=1).faults.inject_plan(plan)  # type: ignore[arg-type]
