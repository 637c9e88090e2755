"""Faults against KMS alone: each trigger kind and each KMS effect, its effect and the recovery."""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta

import pytest

from simulator import Simulation
from simulator.errors import (
    AccessDeniedException,
    DependencyTimeoutException,
    DisabledException,
    KMSInternalException,
    KMSInvalidStateException,
    ThrottlingException,
    ValidationException,
)
from simulator.faults import (
    AtTime,
    Chance,
    DisableKey,
    Fault,
    FaultPlan,
    FaultSkippedWarning,
    OnCall,
    PutKeyPolicy,
    RaiseError,
    RetireGrant,
    RevokeGrant,
    ScheduleKeyDeletion,
    SetGrantPropagation,
)

CTX = {"purpose": "faults"}


def _world(seed: int = 11):
    # Grants take effect at once here: these tests are about the faults, not propagation.
    sim = Simulation(seed=seed, grant_propagation_seconds=0)
    key = sim.kms.create_key(description="fault target")
    blob = sim.kms.generate_data_key(key_id=key.arn, encryption_context=CTX,
                                     key_spec="AES_256").ciphertext_blob
    return sim, key, blob


def _decrypt(sim: Simulation, blob: bytes, kms=None) -> bytes:
    return bytes((kms or sim.kms).decrypt(ciphertext_blob=blob, encryption_context=CTX).plaintext)


def _bob(sim: Simulation, key_arn: str) -> tuple[str, object, str]:
    bob = sim.iam.create_user(user_name="Bob").arn
    grant = sim.kms.create_grant(key_id=key_arn, grantee_principal=bob, operations=["Decrypt"])
    return bob, sim.as_principal(bob).kms, grant.grant_id


# --- triggers -------------------------------------------------------------------------------


def test_nth_call_raises_the_error_for_k_calls_then_calls_succeed_again() -> None:
    sim, _key, blob = _world()
    expected = _decrypt(sim, blob)
    sim.faults.inject(Fault(OnCall("kms:Decrypt", nth=2), RaiseError("KMSInternalException", 2)))
    assert _decrypt(sim, blob) == expected  # call 1
    for _ in range(2):  # calls 2 and 3
        with pytest.raises(KMSInternalException, match="injected by fault-1") as caught:
            _decrypt(sim, blob)
        assert caught.value.retryable
    assert _decrypt(sim, blob) == expected  # recovered
    failed = sim.audit.events("Decrypt", error_code="KMSInternalException")
    assert len(failed) == 2
    assert [r.action for r in sim.faults.records()] == ["ArmError", "InjectError", "InjectError"]


def test_an_injected_error_is_a_trace_event_and_an_audit_record_before_the_failed_call() -> None:
    sim, _key, blob = _world()
    sim.faults.inject(Fault(OnCall("kms:Decrypt"), RaiseError("DependencyTimeoutException"),
                            name="flaky"))
    with pytest.raises(DependencyTimeoutException):
        _decrypt(sim, blob)
    names = [(r["eventName"], r["eventSource"], r.get("errorCode")) for r in sim.audit.events()[-3:]]
    assert names == [("FaultInjected", "envelope-sim.faults", None),
                     ("FaultInjected", "envelope-sim.faults", None),
                     ("Decrypt", "kms.amazonaws.com", "DependencyTimeoutException")]
    injected = sim.audit.events("FaultInjected", event_source="envelope-sim.faults")[-1]
    assert injected["requestParameters"]["action"] == "InjectError"
    assert injected["requestParameters"]["fault"]["effect"]["error"] == "DependencyTimeoutException"
    assert injected["userIdentity"]["invokedBy"] == "envelope-sim.faults"
    faults_events = [e for e in sim.trace.events() if e.actor == "Faults"]
    assert [e.action for e in faults_events] == ["Armed", "ArmError", "InjectError"]
    assert faults_events[-1].outcome == "DependencyTimeoutException"
    assert "[flaky]" in faults_events[-1].detail["fault"]


def test_a_raise_error_on_another_operation_waits_for_that_operation() -> None:
    sim, key, blob = _world()
    sim.faults.inject(Fault(OnCall("kms:Encrypt"), RaiseError(operation="kms:Decrypt")))
    sim.kms.encrypt(key_id=key.arn, plaintext=b"data")  # fires the trigger, not failed itself
    with pytest.raises(KMSInternalException):
        _decrypt(sim, blob)
    _decrypt(sim, blob)


def test_at_a_virtual_time_a_real_disable_key_runs_and_enable_key_recovers() -> None:
    sim, key, blob = _world()
    expected = _decrypt(sim, blob)
    sim.faults.inject(Fault(AtTime(sim.clock.now() + timedelta(minutes=10)), DisableKey(key.key_id)))
    sim.advance(seconds=599)
    assert _decrypt(sim, blob) == expected
    sim.advance(seconds=1)
    assert sim.kms.describe_key(key_id=key.arn).key_state == "Disabled"
    with pytest.raises(DisabledException):
        _decrypt(sim, blob)
    # The admin action is a real KMS call by the account root, audited as such.
    disable = sim.audit.events("DisableKey")[-1]
    assert disable["userIdentity"]["arn"] == "arn:aws:iam::123456789012:root"
    assert disable["eventTime"] == "2026-01-05T09:10:00Z"
    injected = sim.audit.events("FaultInjected")[-1]
    assert injected["resources"][0]["ARN"] == key.arn
    assert injected["requestParameters"]["action"] == "DisableKey"
    sim.kms.enable_key(key_id=key.key_id)
    assert _decrypt(sim, blob) == expected


def test_a_time_already_past_fires_at_the_next_clock_run() -> None:
    sim, key, _blob = _world()
    sim.advance(seconds=60)
    sim.faults.inject(Fault(AtTime(sim.clock.now() - timedelta(seconds=30)), DisableKey(key.arn)))
    sim.advance(seconds=0)
    assert sim.kms.describe_key(key_id=key.arn).key_state == "Disabled"


def test_a_probability_of_one_fails_every_call_and_zero_never() -> None:
    sim, _key, blob = _world()
    never = sim.faults.inject(Fault(Chance(0.0, "kms:Decrypt"), RaiseError()))
    for _ in range(20):
        _decrypt(sim, blob)
    never.cancel()
    always = sim.faults.inject(Fault(Chance(1.0, "kms:Decrypt", max_fires=3), RaiseError(
        "ThrottlingException")))
    for _ in range(3):
        with pytest.raises(ThrottlingException):
            _decrypt(sim, blob)
    _decrypt(sim, blob)  # max_fires reached: recovered
    assert always.fired == 3


def _chance_pattern(seed: int) -> list[bool]:
    sim, _key, blob = _world(seed)
    sim.faults.inject(Fault(Chance(0.5, "kms:Decrypt"), RaiseError()))
    pattern = []
    for _ in range(40):
        try:
            _decrypt(sim, blob)
            pattern.append(True)
        except KMSInternalException:
            pattern.append(False)
    return pattern


def test_probabilistic_faults_draw_from_the_simulation_entropy_and_replay() -> None:
    first = _chance_pattern(5)
    assert first == _chance_pattern(5)
    assert 5 < first.count(False) < 35
    assert first != _chance_pattern(6)


def test_a_wildcard_operation_counts_every_kms_call() -> None:
    sim, key, _blob = _world()
    sim.faults.inject(Fault(Chance(1.0, "kms:*", max_fires=1), RaiseError()))
    with pytest.raises(KMSInternalException):
        sim.kms.describe_key(key_id=key.arn)
    sim.kms.describe_key(key_id=key.arn)


# --- admin effects ---------------------------------------------------------------------------


def test_schedule_key_deletion_makes_the_key_unusable_and_cancel_recovers() -> None:
    sim, key, blob = _world()
    sim.faults.inject(Fault(OnCall("kms:Decrypt", nth=2), ScheduleKeyDeletion(key.arn, 7)))
    _decrypt(sim, blob)
    with pytest.raises(KMSInvalidStateException):  # the admin action races the second call
        _decrypt(sim, blob)
    md = sim.kms.describe_key(key_id=key.arn)
    assert md.key_state == "PendingDeletion" and md.deletion_date == sim.clock.now() + timedelta(days=7)
    sim.kms.cancel_key_deletion(key_id=key.arn)
    sim.kms.enable_key(key_id=key.arn)
    _decrypt(sim, blob)


def test_an_effect_without_a_key_acts_on_the_key_of_the_triggering_call() -> None:
    sim, key, _blob = _world()
    sim.faults.inject(Fault(OnCall("kms:Encrypt"), DisableKey()))
    with pytest.raises(DisabledException):
        sim.kms.encrypt(key_id=key.key_id, plaintext=b"x")
    assert sim.faults.records()[-1].target == key.arn


def test_revoke_grant_cuts_off_the_grantee_and_a_new_grant_recovers() -> None:
    sim, key, blob = _world()
    bob, bob_kms, _ = _bob(sim, key.arn)
    expected = _decrypt(sim, blob, bob_kms)
    sim.faults.inject(Fault(OnCall("kms:Decrypt", nth=1),
                            RevokeGrant(key.arn, grantee_principal=bob)))
    with pytest.raises(AccessDeniedException):
        _decrypt(sim, blob, bob_kms)
    assert sim.kms.list_grants(key_id=key.arn).grants == ()
    assert sim.audit.events("RevokeGrant")[-1]["userIdentity"]["arn"].endswith(":root")
    sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["Decrypt"])
    assert _decrypt(sim, blob, bob_kms) == expected


def test_retire_grant_by_id_ends_only_that_grant() -> None:
    sim, key, blob = _world()
    bob, bob_kms, grant_id = _bob(sim, key.arn)
    other = sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["Encrypt"])
    sim.faults.inject(Fault(AtTime(sim.clock.now()), RetireGrant(key.arn, grant_id=grant_id)))
    sim.advance(seconds=0)
    assert [g.grant_id for g in sim.kms.list_grants(key_id=key.arn).grants] == [other.grant_id]
    with pytest.raises(AccessDeniedException):
        _decrypt(sim, blob, bob_kms)
    assert sim.audit.events("RetireGrant")[-1]["additionalEventData"] == {"grantId": grant_id}


def test_put_key_policy_installs_the_given_policy_and_restoring_it_recovers() -> None:
    sim, key, blob = _world()
    bob = sim.iam.create_user(user_name="Bob").arn
    allow_bob = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": bob}, "Action": "kms:Decrypt", "Resource": "*"}]})
    original = sim.kms.get_key_policy(key_id=key.arn).policy
    bob_kms = sim.as_principal(bob).kms
    with pytest.raises(AccessDeniedException):
        _decrypt(sim, blob, bob_kms)
    sim.faults.inject(Fault(AtTime(sim.clock.now()), PutKeyPolicy(allow_bob, key.arn)))
    sim.advance(seconds=0)
    assert json.loads(sim.kms.get_key_policy(key_id=key.arn).policy) == json.loads(allow_bob)
    _decrypt(sim, blob, bob_kms)
    sim.kms.put_key_policy(key_id=key.arn, policy=original, policy_name="default")
    with pytest.raises(AccessDeniedException):
        _decrypt(sim, blob, bob_kms)


def test_grant_propagation_delay_makes_a_new_grant_wait_until_it_propagates() -> None:
    sim, key, blob = _world()
    sim.faults.inject(Fault(AtTime(sim.clock.now()), SetGrantPropagation(300)))
    sim.advance(seconds=0)
    assert sim.settings.grant_propagation_seconds == 300
    _, bob_kms, _ = _bob(sim, key.arn)
    with pytest.raises(AccessDeniedException):  # without the grant token: not yet propagated
        _decrypt(sim, blob, bob_kms)
    sim.advance(seconds=300)
    _decrypt(sim, blob, bob_kms)
    record = sim.faults.records()[-1]
    assert record.detail == {"from_seconds": 0.0, "to_seconds": 300.0}


def test_an_admin_action_kms_refuses_is_recorded_and_does_not_fail_the_triggering_call() -> None:
    sim, key, _blob = _world()
    sim.kms.schedule_key_deletion(key_id=key.arn, pending_window_in_days=7)
    sim.kms.cancel_key_deletion(key_id=key.arn)  # Disabled now
    sim.kms.enable_key(key_id=key.arn)
    sim.kms.schedule_key_deletion(key_id=key.arn, pending_window_in_days=30)
    sim.faults.inject(Fault(OnCall("kms:DescribeKey"), ScheduleKeyDeletion(key.arn)))
    assert sim.kms.describe_key(key_id=key.arn).key_state == "PendingDeletion"
    record = sim.faults.records()[-1]
    assert record.outcome == "KMSInvalidStateException"
    assert sim.audit.events("FaultInjected")[-1]["additionalEventData"] == {
        "outcome": "KMSInvalidStateException"}


def test_an_effect_whose_target_is_missing_is_recorded_as_skipped_and_warned() -> None:
    sim, key, _blob = _world()
    sim.faults.inject(Fault(AtTime(sim.clock.now()), RevokeGrant(key.arn)))
    with pytest.warns(FaultSkippedWarning, match="no current grant matches"):
        sim.advance(seconds=0)
    skipped = sim.faults.records()
    assert [r.outcome for r in skipped] == ["skipped"]
    assert skipped[0].detail["reason"] == "no current grant matches"
    assert [(e.action, e.outcome) for e in sim.trace.events() if e.actor == "Faults"][-1] == (
        "RevokeGrant", "skipped")
    assert sim.audit.events("FaultInjected")[-1]["additionalEventData"] == {"outcome": "skipped"}


# --- handles ------------------------------------------------------------------------------


def test_cancel_removes_every_hook_and_the_scheduled_time() -> None:
    sim, key, blob = _world()
    before = len(sim.clock.pending())
    a = sim.faults.inject(Fault(AtTime(sim.clock.now() + timedelta(hours=1)), DisableKey(key.arn)))
    b = sim.faults.inject(Fault(Chance(1.0, "kms:*"), RaiseError(operation="kms:*")))
    a.cancel()
    b.cancel()
    assert "before-call.kms.Decrypt" not in sim.runtime.hooks
    assert len(sim.clock.pending()) == before
    sim.advance(seconds=7200)
    _decrypt(sim, blob)
    assert sim.faults.active == []


def test_faults_are_suspended_inside_suspended() -> None:
    sim, _key, blob = _world()
    sim.faults.inject(Fault(OnCall("kms:Decrypt"), RaiseError()))
    with sim.faults.suspended():
        _decrypt(sim, blob)  # not counted
    with pytest.raises(KMSInternalException):
        _decrypt(sim, blob)


def test_clear_cancels_all_and_keeps_the_records() -> None:
    sim, _key, blob = _world()
    sim.faults.inject_plan(FaultPlan((Fault(OnCall("kms:Decrypt"), RaiseError(count=5)),)))
    with pytest.raises(KMSInternalException):
        _decrypt(sim, blob)
    sim.faults.clear()
    _decrypt(sim, blob)
    assert len(sim.faults.records()) == 2


def test_inject_refuses_what_is_not_a_fault() -> None:
    sim, _, _ = _world()
    with pytest.raises(ValidationException, match="inject needs a Fault"):
        sim.faults.inject("DisableKey")  # type: ignore[arg-type]
    with pytest.raises(ValidationException, match="holds Faults"):
        sim.faults.inject_plan([DisableKey("k")])  # type: ignore[list-item]
    assert sim.faults.active == []


def _run_with_plan(seed: int) -> str:
    sim, key, blob = _world(seed)
    plan = FaultPlan((Fault(Chance(0.3, "kms:Decrypt"), RaiseError()),
                      Fault(AtTime(sim.clock.now() + timedelta(seconds=50)), DisableKey(key.arn))))
    sim.faults.inject_plan(FaultPlan.from_json(plan.to_json()))
    for _ in range(10):
        with contextlib.suppress(Exception):
            _decrypt(sim, blob)
        sim.advance(seconds=10)
    return sim.audit.to_jsonl() + sim.trace.to_json()


def test_a_seeded_run_with_a_plan_replays_byte_for_byte() -> None:
    assert _run_with_plan(3) == _run_with_plan(3)
